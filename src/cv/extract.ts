import { type ChildProcess, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { AppError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { CvMetrics } from './metrics.ts';
import type { ExtractFailureReason, ExtractResult, ParseLimits } from './parse.ts';

export { normalizeCvText } from './normalize.ts';
export type { CvKind, ExtractFailureReason, ExtractResult } from './parse.ts';

export interface CvExtractorOptions {
  /** Largest file accepted, in bytes. */
  maxBytes: number;
  maxPages: number;
  /** Characters of text kept (the rest is cut). */
  maxChars: number;
  /** Fewer letters is refused as `scanned` (PDF) or `too_short`. Default 100. */
  minLetters?: number;
  /** A file whose parsing takes longer is refused as `timeout` (the worker is killed). Default 4000. */
  timeoutMs?: number;
  /** Memory a worker may use (V8 heap cap and, on Linux, resident size); beyond it: `too_large`. Default 320. */
  memoryMb?: number;
  /** Warm workers kept (each a Node process). Default 1. */
  poolSize?: number;
  /** A worker is replaced after this many files, so leaks cannot accumulate. Default 200. */
  maxJobsPerWorker?: number;
  logger?: Logger;
  metrics?: CvMetrics;
}

export interface CvExtractor {
  /** Never rejects for a bad file: every refusal is an `{ ok: false, reason }`. */
  extract(bytes: Buffer): Promise<ExtractResult>;
  /** Kills the workers; pending extractions reject. */
  close(): Promise<void>;
}

interface Job {
  bytes: Buffer;
  resolve(result: ExtractResult): void;
  reject(error: Error): void;
  startedAt?: number;
}

const RSS_POLL_MS = 25;

/**
 * CV text extraction in a small pool of warm child processes, one file at a time each: a parser bug or a
 * hostile file (decompression bomb, pathological structure) costs a killed child, never the service's
 * memory or event loop. The worker is the same TypeScript source, run through tsx when we run from source.
 */
export function createCvExtractor(options: CvExtractorOptions): CvExtractor {
  const limits: ParseLimits = {
    maxPages: options.maxPages,
    maxChars: options.maxChars,
    minLetters: options.minLetters ?? 100,
  };
  const timeoutMs = options.timeoutMs ?? 4_000;
  const memoryMb = options.memoryMb ?? 320;
  const poolSize = Math.max(1, options.poolSize ?? 1);
  const maxJobsPerWorker = options.maxJobsPerWorker ?? 200;
  // JSON of the longest text we accept back, with room for escapes and hidden-text excerpts.
  const maxReplyBytes = options.maxChars * 6 + 64 * 1024;
  const { logger, metrics } = options;

  const queue: Job[] = [];
  const slots: (WorkerHandle | undefined)[] = Array.from({ length: poolSize }, () => undefined);
  let closed = false;
  let nextId = 1;

  function observe(job: Job, result: ExtractResult) {
    const outcome = result.ok ? 'ok' : result.reason;
    if (job.startedAt !== undefined) {
      metrics?.extractionDuration.observe({ outcome }, (performance.now() - job.startedAt) / 1000);
    }
    job.resolve(result);
  }

  function pump() {
    for (let i = 0; i < slots.length && queue.length > 0; i++) {
      let worker = slots[i];
      if (worker?.busy) continue;
      if (!worker || worker.dead || worker.jobs >= maxJobsPerWorker) {
        worker?.kill('shutdown');
        worker = startWorker();
        slots[i] = worker;
      }
      const job = queue.shift()!;
      worker.run(job).then(
        (result) => {
          observe(job, result);
          pump();
        },
        (err: Error) => {
          job.reject(err);
          pump();
        },
      );
    }
    for (const worker of slots) worker?.setRef(worker.busy);
  }

  function startWorker(): WorkerHandle {
    return new WorkerHandle({
      heapMb: memoryMb,
      rssLimitBytes: memoryMb * 1024 * 1024,
      timeoutMs,
      maxReplyBytes,
      limits,
      nextId: () => nextId++,
      onKill: (reason) => {
        metrics?.extractionWorkerKills.inc({ reason });
        logger?.warn({ reason }, 'cv extraction worker killed');
      },
    });
  }

  // One warm worker from the start: the first CV should not pay the start-up.
  slots[0] = startWorker();
  slots[0].setRef(false);

  return {
    extract(bytes) {
      if (closed) return Promise.reject(new AppError('disabled', 'CV extractor is closed'));
      if (bytes.length > options.maxBytes) return Promise.resolve({ ok: false, reason: 'too_large' });
      if (bytes.length === 0) return Promise.resolve({ ok: false, reason: 'too_short' });
      return new Promise<ExtractResult>((resolve, reject) => {
        queue.push({ bytes, resolve, reject });
        pump();
      });
    },
    async close() {
      closed = true;
      for (const job of queue.splice(0)) job.reject(new AppError('disabled', 'CV extractor is closed'));
      await Promise.all(slots.map((w) => w?.kill('shutdown')));
    },
  };
}

interface WorkerConfig {
  heapMb: number;
  rssLimitBytes: number;
  timeoutMs: number;
  maxReplyBytes: number;
  limits: ParseLimits;
  nextId(): number;
  onKill(reason: 'timeout' | 'memory' | 'crash' | 'oversized_reply'): void;
}

type KillReason = 'timeout' | 'memory' | 'oversized_reply' | 'shutdown';
const KILL_RESULT: Record<Exclude<KillReason, 'shutdown'>, ExtractFailureReason> = {
  timeout: 'timeout',
  memory: 'too_large',
  oversized_reply: 'corrupt',
};

class WorkerHandle {
  readonly child: ChildProcess;
  busy = false;
  dead = false;
  jobs = 0;
  private readonly ready: Promise<void>;
  private current?: { id: number; finish(result: ExtractResult): void; fail(error: Error): void };
  private killedFor?: KillReason;
  private stderrTail = '';
  private pending: Buffer = Buffer.alloc(0);
  private readonly exited: Promise<void>;

  constructor(private readonly config: WorkerConfig) {
    this.child = spawn(process.execPath, workerArgs(config.heapMb), {
      stdio: ['pipe', 'ignore', 'pipe', 'pipe'],
      // The parser needs no secrets: an exploited parser finds an empty environment.
      env: { NODE_ENV: process.env.NODE_ENV ?? 'production', TMPDIR: process.env.TMPDIR ?? '/tmp' },
    });
    let markReady!: () => void;
    let failReady!: (error: Error) => void;
    this.ready = new Promise<void>((resolve, reject) => {
      markReady = resolve;
      failReady = reject;
    });
    this.ready.catch(() => {});
    this.child.stdin?.on('error', () => {});
    this.child.stderr?.on('data', (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString()).slice(-2_000);
    });
    const replies = this.child.stdio[3] as NodeJS.ReadableStream;
    replies.on('data', (chunk: Buffer) => this.onData(chunk, markReady));
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.dead = true;
        failReady(
          this.killedFor === 'shutdown'
            ? new AppError('disabled', 'CV extractor is closed')
            : new AppError('internal', `CV extraction worker exited during start-up (${code ?? signal})`),
        );
        this.onExit(code, signal);
        resolve();
      });
    });
    this.child.once('error', (err) =>
      failReady(new AppError('internal', 'CV extraction worker failed to start', undefined, { cause: err })),
    );
  }

  setRef(on: boolean) {
    const handles = [this.child, this.child.stdin, this.child.stderr, this.child.stdio[3]] as unknown as (
      | { ref?: () => void; unref?: () => void }
      | null
      | undefined
    )[];
    for (const h of handles) (on ? h?.ref : h?.unref)?.call(h);
  }

  async run(job: Job): Promise<ExtractResult> {
    this.busy = true;
    this.jobs++;
    this.setRef(true);
    try {
      await this.ready;
      job.startedAt = performance.now();
      return await new Promise<ExtractResult>((resolve, reject) => {
        const id = this.config.nextId();
        const timer = setTimeout(() => this.kill('timeout'), this.config.timeoutMs);
        const watchdog = setInterval(() => void this.checkMemory(), RSS_POLL_MS);
        const settle = () => {
          clearTimeout(timer);
          clearInterval(watchdog);
          this.current = undefined;
        };
        this.current = {
          id,
          finish: (result) => {
            settle();
            resolve(result);
          },
          fail: (error) => {
            settle();
            reject(error);
          },
        };
        const header = Buffer.from(JSON.stringify({ id, limits: this.config.limits }));
        const prefix = Buffer.alloc(8);
        prefix.writeUInt32BE(4 + header.length + job.bytes.length, 0);
        prefix.writeUInt32BE(header.length, 4);
        this.child.stdin?.write(Buffer.concat([prefix, header, job.bytes]));
      });
    } finally {
      this.busy = false;
    }
  }

  kill(reason?: KillReason): Promise<void> {
    if (!this.dead) {
      if (reason && !this.killedFor) {
        this.killedFor = reason;
        if (reason !== 'shutdown') this.config.onKill(reason);
      }
      // Referenced again so that whoever awaits the exit keeps the process alive until it comes.
      this.setRef(true);
      this.child.kill('SIGKILL');
    }
    return this.exited;
  }

  private async checkMemory() {
    const pid = this.child.pid;
    if (!pid || this.dead || process.platform !== 'linux') return;
    const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
    const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    if (kb * 1024 > this.config.rssLimitBytes) this.kill('memory');
  }

  private onData(chunk: Buffer, markReady: () => void) {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    while (this.pending.length >= 4) {
      const length = this.pending.readUInt32BE(0);
      if (length > this.config.maxReplyBytes) {
        this.kill('oversized_reply');
        return;
      }
      if (this.pending.length < 4 + length) return;
      const body = this.pending.subarray(4, 4 + length);
      this.pending = this.pending.subarray(4 + length);
      let message: { ready?: boolean; id?: number; result?: ExtractResult };
      try {
        message = JSON.parse(body.toString());
      } catch {
        this.kill('oversized_reply');
        return;
      }
      const current = this.current;
      if (message.ready) markReady();
      else if (current && message.id === current.id && message.result) current.finish(message.result);
    }
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null) {
    if (!this.current) return;
    if (this.killedFor === 'shutdown') {
      this.current.fail(new AppError('disabled', 'CV extractor is closed'));
      return;
    }
    if (this.killedFor) {
      this.current.finish({ ok: false, reason: KILL_RESULT[this.killedFor] });
      return;
    }
    // Died on its own: V8's heap limit (a file too big to parse) or a crash in a parser.
    this.config.onKill('crash');
    const outOfMemory = /heap limit|out of memory/i.test(this.stderrTail) || signal === 'SIGABRT' || code === 134;
    this.current.finish({ ok: false, reason: outOfMemory ? 'too_large' : 'corrupt' });
  }
}

/** Node arguments for the worker: run through tsx when this module is TypeScript source. */
function workerArgs(heapMb: number): string[] {
  const self = import.meta.url;
  const fromSource = self.endsWith('.ts');
  const worker = fileURLToPath(new URL(`./extract-worker.${fromSource ? 'ts' : 'js'}`, self));
  const loader = fromSource ? ['--import', pathToFileURL(createRequire(self).resolve('tsx')).href] : [];
  return [...loader, `--max-old-space-size=${heapMb}`, worker];
}
