import { setTimeout as sleep } from 'node:timers/promises';
import { uuidv7 } from 'uuidv7';
import { AppError } from '../errors.ts';
import type { OutboxMetrics } from '../events/metrics.ts';
import { type ClaimedEvent, insertEvents, type NewOutboxEvent, notifyRelays } from '../events/outbox.ts';
import type { EventMap, EventType } from '../events/types.ts';
import type { Logger } from '../logger.ts';
import type { Database } from './client.ts';
import type { TxMetrics } from './metrics.ts';
import { classifyError, describeError, RETRYABLE_SQLSTATES, retryDelayMs, sqlstateOf } from './tx-errors.ts';
import type { TxOptions, TxScope, UnitOfWork } from './unit-of-work.ts';

/** Delivers committed events; the outbox relay is one. */
export interface OutboxDispatcher {
  /**
   * Called right after commit with the transaction's events, already leased to this process;
   * must not block (delivery runs in the background).
   */
  dispatch(events: readonly ClaimedEvent[]): void;
}

export interface TransactionManagerDeps {
  uow: UnitOfWork;
  logger: Logger;
  /** Delivers each transaction's events right after commit. Without one, relays pick them up. */
  dispatcher?: OutboxDispatcher;
  metrics?: TxMetrics;
  outboxMetrics?: OutboxMetrics;
  /** Re-runs after a serialization failure or deadlock (default 3). */
  maxRetries?: number;
  /** Postgres `statement_timeout` and `idle_in_transaction_session_timeout` of every transaction (default none). */
  statementTimeoutMs?: number;
  /** Deadline of a whole transaction, on both backends (default `statementTimeoutMs`). */
  timeoutMs?: number;
  /** Backoff between retries: exponential from `retryBaseDelayMs` (10), capped at `retryMaxDelayMs` (500), jittered. */
  retryBaseDelayMs?: number;
  retryMaxDelayMs?: number;
  /** NOTIFY relays on commit (default: only when there is no dispatcher). */
  notifyRelays?: boolean;
  /**
   * With a dispatcher, events are written already leased to this process for this long (default
   * 30 s): if it dies before delivering them, relays take over once the lease runs out.
   */
  dispatchLeaseMs?: number;
}

export interface TransactionalOptions extends TxOptions {
  maxRetries?: number;
}

export interface TransactionManager {
  /**
   * Runs `fn` in a transaction (a savepoint when already inside one). The outermost call re-runs
   * `fn` on serialization failure / deadlock; events and after-commit hooks of failed attempts are
   * discarded. Resolves after commit and after-commit hooks; event delivery runs in the background.
   */
  transactional<T>(fn: (tx: Database) => Promise<T>, options?: TransactionalOptions): Promise<T>;
  /** Queues an event in the current transaction (written to the outbox before commit); returns its id. */
  addEvent<K extends EventType>(type: K, payload: EventMap[K]): string;
  /** Runs `fn` after the outermost commit; dropped on rollback. Throws outside a transaction. */
  afterCommit(fn: () => unknown): void;
  /** A deferrer bound to the current transaction, or undefined outside one. */
  currentAfterCommit(): ((fn: () => unknown) => void) | undefined;
}

/** What `@Transactional()` needs from the instance whose method it wraps. */
export interface HasTransactionManager {
  readonly transactionManager: TransactionManager;
}

export function createTransactionManager(deps: TransactionManagerDeps): TransactionManager {
  const { uow, logger, dispatcher, metrics, outboxMetrics } = deps;
  const maxRetriesDefault = deps.maxRetries ?? 3;
  const baseDelay = deps.retryBaseDelayMs ?? 10;
  const maxDelay = deps.retryMaxDelayMs ?? 500;
  const notify = deps.notifyRelays ?? !dispatcher;
  const dispatchLeaseMs = deps.dispatchLeaseMs ?? 30_000;
  /** Events queued in each scope, flushed by one INSERT just before that scope commits. */
  const buffers = new WeakMap<TxScope, NewOutboxEvent[]>();

  function requireScope(what: string): TxScope {
    const scope = uow.current();
    if (!scope) {
      throw new AppError('internal', `${what} must be called inside a transaction: wrap the work in transactional()`);
    }
    return scope;
  }

  function bufferOf(scope: TxScope): NewOutboxEvent[] {
    let buffer = buffers.get(scope);
    if (buffer) return buffer;
    const events: NewOutboxEvent[] = [];
    buffer = events;
    buffers.set(scope, events);
    scope.beforeCommit(async () => {
      buffers.delete(scope); // later addEvent calls (from other hooks) start a new buffer
      const leased = await insertEvents(uow.db, events, dispatcher ? dispatchLeaseMs : undefined);
      if (notify) await notifyRelays(uow.db);
      scope.afterCommit(() => {
        for (const e of events) outboxMetrics?.published.inc({ type: e.type });
        if (leased.length > 0) dispatcher?.dispatch(leased);
      });
    });
    return buffer;
  }

  async function transactional<T>(fn: (tx: Database) => Promise<T>, options: TransactionalOptions = {}): Promise<T> {
    if (uow.inTransaction()) return uow.run(fn, options);
    const { maxRetries = maxRetriesDefault, ...txOptions } = options;
    const runOptions: TxOptions = {
      ...txOptions,
      statementTimeoutMs: txOptions.statementTimeoutMs ?? deps.statementTimeoutMs,
      timeoutMs: txOptions.timeoutMs ?? deps.timeoutMs ?? deps.statementTimeoutMs,
    };
    for (let attempt = 1; ; attempt++) {
      try {
        return await uow.run(fn, runOptions);
      } catch (err) {
        const sqlstate = sqlstateOf(err);
        const retryable = sqlstate !== undefined && RETRYABLE_SQLSTATES.has(sqlstate);
        if (retryable && attempt <= maxRetries) {
          const delayMs = retryDelayMs(attempt, baseDelay, maxDelay);
          metrics?.retries.inc({ sqlstate });
          logger.debug({ name: options.name, attempt, sqlstate, delayMs }, 'transaction retry');
          await sleep(delayMs);
          continue;
        }
        const type = classifyError(err);
        metrics?.errors.inc({ type });
        if (retryable) {
          logger.warn(
            { name: options.name, attempts: attempt, cause: describeError(err) },
            'transaction retries exhausted',
          );
        }
        throw err;
      }
    }
  }

  return {
    transactional,
    addEvent(type, payload) {
      const scope = requireScope(`addEvent('${type}')`);
      const id = uuidv7();
      bufferOf(scope).push({ id, type, payload });
      return id;
    },
    afterCommit(fn) {
      requireScope('afterCommit()').afterCommit(fn);
    },
    currentAfterCommit() {
      const scope = uow.current();
      return scope ? (fn) => scope.afterCommit(fn) : undefined;
    },
  };
}

/**
 * TC39 method decorator: runs the method through `this.transactionManager.transactional()`.
 *
 * ```ts
 * class ApplicationService implements HasTransactionManager {
 *   constructor(readonly transactionManager: TransactionManager) {}
 *   @Transactional({ isolationLevel: 'serializable' })
 *   async changeStatus(id: string, to: ApplicationStatus) { ... uow.db ... tm.addEvent(...) }
 * }
 * ```
 */
export function Transactional(options: TransactionalOptions = {}) {
  return <This extends HasTransactionManager, Args extends unknown[], R>(
    method: (this: This, ...args: Args) => Promise<R>,
    context: ClassMethodDecoratorContext<This, (this: This, ...args: Args) => Promise<R>>,
  ) => {
    const name = options.name ?? String(context.name);
    return function transactionalMethod(this: This, ...args: Args): Promise<R> {
      return this.transactionManager.transactional(() => method.apply(this, args), { ...options, name });
    };
  };
}
