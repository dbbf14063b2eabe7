import { AsyncLocalStorage } from 'node:async_hooks';
import { performance } from 'node:perf_hooks';
import { sql } from 'drizzle-orm';
import type { PgTransactionConfig } from 'drizzle-orm/pg-core';
import { AppError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { Database, DbClient } from './client.ts';
import type { TxMetrics } from './metrics.ts';
import { describeError, isTimeout, sqlstateOf } from './tx-errors.ts';

export type IsolationLevel = 'read committed' | 'repeatable read' | 'serializable';

export interface TxOptions {
  isolationLevel?: IsolationLevel;
  readOnly?: boolean;
  /**
   * Postgres only: `statement_timeout` and `idle_in_transaction_session_timeout` for this
   * transaction (SET LOCAL semantics). PGlite cannot interrupt a statement; use `timeoutMs`.
   */
  statementTimeoutMs?: number;
  /** Deadline for the whole callback, on both backends: past it the transaction rolls back with a timeout error. */
  timeoutMs?: number;
  /** Shown in logs. */
  name?: string;
}

/** The transaction the current async context runs in (the outermost one, or a savepoint inside it). */
export interface TxScope {
  /** Id of the outermost transaction (shared by its savepoints), for logs. */
  readonly id: number;
  /** 0 for the outermost transaction, 1 and up for savepoints. */
  readonly depth: number;
  /** Runs inside the transaction once the callback resolved, before this scope commits or releases its savepoint. */
  beforeCommit(fn: () => Promise<void>): void;
  /** Runs after the outermost transaction commits; dropped when this scope or an enclosing one rolls back. */
  afterCommit(fn: () => unknown): void;
}

export interface UnitOfWork {
  /**
   * The handle repositories use: the ambient transaction when there is one, the root database
   * otherwise. It resolves on every call, so it may be captured once. `db.transaction(fn)` is `run(fn)`.
   */
  readonly db: Database;
  /**
   * Runs `fn` in a transaction: commit when it resolves, rollback when it throws (the error
   * propagates unchanged, except database timeouts, which become `AppError('timeout')`).
   * Inside another `run` it becomes a savepoint; the options then do not apply.
   */
  run<T>(fn: (tx: Database) => Promise<T>, options?: TxOptions): Promise<T>;
  inTransaction(): boolean;
  /** The current transaction scope, or undefined outside one. */
  current(): TxScope | undefined;
}

export interface UnitOfWorkOptions {
  metrics?: TxMetrics;
  /**
   * The `statement_timeout` / `idle_in_transaction_session_timeout` every Postgres connection
   * already has (postgres.js `connection` parameters). Transactions asking for this value skip
   * their `SET LOCAL`, one statement less per transaction.
   */
  connectionStatementTimeoutMs?: number;
}

type ScopeState = 'open' | 'closing' | 'committed' | 'rolled_back';

class Scope implements TxScope {
  state: ScopeState = 'open';
  /** Set once the driver opened the transaction or savepoint. */
  tx!: Database;
  childActive = false;
  readonly beforeCommitHooks: (() => Promise<void>)[] = [];
  readonly afterCommitHooks: (() => unknown)[] = [];

  constructor(
    readonly id: number,
    readonly depth: number,
    readonly parent: Scope | undefined,
  ) {}

  beforeCommit(fn: () => Promise<void>): void {
    this.assertOpen('beforeCommit');
    this.beforeCommitHooks.push(fn);
  }

  afterCommit(fn: () => unknown): void {
    this.assertOpen('afterCommit');
    this.afterCommitHooks.push(fn);
  }

  private assertOpen(what: string): void {
    if (this.state !== 'open') {
      throw new AppError('internal', `${what}() called on a transaction that is already ${this.state}`);
    }
  }
}

const rootMisuse = () =>
  new AppError(
    'internal',
    'The root database was used inside a transaction: use uow.db (it joins the ambient transaction). ' +
      'On PGlite, which has one connection, this would wait forever.',
  );

/**
 * The unit of work over drizzle: an AsyncLocalStorage holds the current transaction so that
 * repositories join it through `uow.db` without threading `tx` by hand.
 *
 * The root handle (`client.db`, and the PGlite instance) is guarded: used while the current
 * async context holds an open transaction, it throws instead of silently deadlocking PGlite
 * (whose single connection the transaction holds) or silently running outside the transaction.
 */
export function createUnitOfWork(client: DbClient, logger: Logger, options: UnitOfWorkOptions = {}): UnitOfWork {
  const als = new AsyncLocalStorage<Scope>();
  const root = client.db;
  const metrics = options.metrics;
  let seq = 0;

  /** The innermost open scope; throws for the stray continuation of a transaction that is finishing or rolled back. */
  function currentScope(): Scope | undefined {
    for (let s = als.getStore(); s; s = s.parent) {
      if (s.state === 'open') return s;
      if (s.state !== 'committed') {
        throw new AppError(
          'internal',
          `The transaction of this async context is ${s.state === 'closing' ? 'finishing' : 'rolled back'}: ` +
            'work started inside it cannot use the database any more',
        );
      }
    }
    return undefined;
  }

  function holdsTransaction(): boolean {
    for (let s = als.getStore(); s; s = s.parent) {
      if (s.state === 'open' || s.state === 'closing') return true;
    }
    return false;
  }

  guardRoot(client, () => {
    if (holdsTransaction()) throw rootMisuse();
  });

  async function runBody<T>(scope: Scope, tx: Database, fn: (tx: Database) => Promise<T>, opts: TxOptions) {
    // Pipelined with the callback's first statement (postgres.js sends it without waiting), so it costs no round trip.
    const timeoutsApplied =
      scope.depth === 0 &&
      client.kind === 'postgres' &&
      opts.statementTimeoutMs &&
      opts.statementTimeoutMs !== options.connectionStatementTimeoutMs
        ? applyTimeouts(tx, opts.statementTimeoutMs)
        : undefined;
    const work = (async () => {
      const result = await fn(tx);
      for (const hook of scope.beforeCommitHooks) await hook();
      const failed = await timeoutsApplied;
      if (failed) throw failed;
      return result;
    })();
    if (scope.depth > 0 || !opts.timeoutMs) {
      try {
        return await work;
      } finally {
        scope.state = 'closing';
      }
    }
    return raceDeadline(scope, work, opts.timeoutMs);
  }

  async function runOutermost<T>(fn: (tx: Database) => Promise<T>, opts: TxOptions): Promise<T> {
    const scope = new Scope(++seq, 0, undefined);
    const started = performance.now();
    const log = { txId: scope.id, name: opts.name };
    logger.debug({ ...log, isolationLevel: opts.isolationLevel, readOnly: opts.readOnly }, 'transaction begin');
    let result: T;
    try {
      result = await root.transaction(async (tx) => {
        scope.tx = tx as unknown as Database;
        return als.run(scope, () => runBody(scope, scope.tx, fn, opts));
      }, toDrizzleConfig(opts));
    } catch (err) {
      scope.state = 'rolled_back';
      const seconds = (performance.now() - started) / 1000;
      metrics?.rollbacks.inc();
      metrics?.duration.observe({ outcome: 'rollback' }, seconds);
      logger.debug({ ...log, durationMs: seconds * 1000, cause: describeError(err) }, 'transaction rollback');
      throw toTimeoutError(err, opts);
    }
    scope.state = 'committed';
    const seconds = (performance.now() - started) / 1000;
    metrics?.commits.inc();
    metrics?.duration.observe({ outcome: 'commit' }, seconds);
    logger.debug(
      { ...log, durationMs: seconds * 1000, afterCommit: scope.afterCommitHooks.length },
      'transaction commit',
    );
    await runAfterCommit(scope);
    return result;
  }

  async function runNested<T>(parent: Scope, fn: (tx: Database) => Promise<T>, opts: TxOptions): Promise<T> {
    if (parent.childActive) {
      throw new AppError('internal', 'Nested transactions of one transaction cannot run concurrently');
    }
    const scope = new Scope(parent.id, parent.depth + 1, parent);
    const log = { txId: scope.id, depth: scope.depth, name: opts.name };
    parent.childActive = true;
    try {
      const result = await parent.tx.transaction(async (sp) => {
        scope.tx = sp as unknown as Database;
        return als.run(scope, () => runBody(scope, scope.tx, fn, opts));
      });
      scope.state = 'committed';
      parent.afterCommitHooks.push(...scope.afterCommitHooks);
      logger.debug(log, 'savepoint released');
      return result;
    } catch (err) {
      scope.state = 'rolled_back';
      logger.debug({ ...log, cause: describeError(err) }, 'savepoint rolled back');
      throw err;
    } finally {
      parent.childActive = false;
    }
  }

  async function runAfterCommit(scope: Scope): Promise<void> {
    for (const hook of scope.afterCommitHooks) {
      try {
        await hook();
      } catch (err) {
        // The transaction is committed: a failing hook must not make the caller believe otherwise.
        logger.error({ txId: scope.id, cause: describeError(err) }, 'after-commit hook failed');
      }
    }
  }

  async function run<T>(fn: (tx: Database) => Promise<T>, opts: TxOptions = {}): Promise<T> {
    const parent = currentScope();
    return parent ? runNested(parent, fn, opts) : runOutermost(fn, opts);
  }

  const db = new Proxy(root, {
    get(_target, prop) {
      if (prop === 'transaction') {
        return <T>(fn: (tx: Database) => Promise<T>, config?: PgTransactionConfig) =>
          run(fn, fromDrizzleConfig(config));
      }
      const handle = currentScope()?.tx ?? root;
      const value: unknown = Reflect.get(handle, prop, handle);
      return typeof value === 'function' && prop !== 'constructor' ? value.bind(handle) : value;
    },
  });

  return {
    db,
    run,
    inTransaction: () => currentScope() !== undefined,
    current: currentScope,
  };
}

function applyTimeouts(tx: Database, ms: number): Promise<unknown> {
  const value = Math.max(1, Math.round(ms));
  // Literals, not parameters: postgres.js then sends one simple-protocol message (a parameterized
  // statement would first wait for the server to describe it), and SET needs no planning.
  // drizzle queries are lazy: then() sends it now. The error, if any, is checked before commit.
  return tx
    .execute(
      sql.raw(`set local statement_timeout = ${value}; set local idle_in_transaction_session_timeout = ${value}`),
    )
    .then(
      () => undefined,
      (err: unknown) => err,
    );
}

async function raceDeadline<T>(scope: Scope, work: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      // Stop the callback's stray continuations from using the transaction while it rolls back.
      scope.state = 'closing';
      reject(new AppError('timeout', `Transaction rolled back: it ran longer than its ${timeoutMs} ms timeout`));
    }, timeoutMs);
  });
  work.catch(() => {}); // it may settle after the deadline won
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
    scope.state = 'closing';
  }
}

function toTimeoutError(err: unknown, opts: TxOptions): unknown {
  if (err instanceof AppError || !isTimeout(err)) return err;
  return new AppError(
    'timeout',
    `Transaction rolled back: a statement exceeded the ${opts.statementTimeoutMs ?? '?'} ms statement timeout`,
    { sqlstate: sqlstateOf(err) },
    { cause: err },
  );
}

function toDrizzleConfig(opts: TxOptions): PgTransactionConfig | undefined {
  // An empty config would make drizzle send an invalid `set transaction`.
  if (!opts.isolationLevel && !opts.readOnly) return undefined;
  return { isolationLevel: opts.isolationLevel, accessMode: opts.readOnly ? 'read only' : undefined };
}

function fromDrizzleConfig(config: PgTransactionConfig | undefined): TxOptions {
  const level = config?.isolationLevel;
  return {
    isolationLevel: level === 'read uncommitted' ? 'read committed' : level,
    readOnly: config?.accessMode === 'read only',
  };
}

type Method = (...args: unknown[]) => unknown;

/** Wraps the root drizzle session and the PGlite instance so that `check` runs before each use. */
function guardRoot(client: DbClient, check: () => void): void {
  const session = client.db._.session as unknown as Record<string, Method>;
  for (const name of ['prepareQuery', 'transaction']) wrapMethod(session, name, check);
  if (client.driver.kind === 'pglite') {
    const pglite = client.driver.pglite as unknown as Record<string, Method>;
    for (const name of ['query', 'exec', 'transaction']) wrapMethod(pglite, name, check);
  }
}

function wrapMethod(target: Record<string, Method>, name: string, check: () => void): void {
  const original = target[name];
  if (typeof original !== 'function') return;
  target[name] = function guarded(this: unknown, ...args: unknown[]) {
    check();
    return original.apply(this, args);
  };
}
