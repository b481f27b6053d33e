/**
 * Worker threads for the summary pass (`summary-worker.ts`). The main thread reads (and
 * gunzips) the file and hands out blocks of whole lines; each worker scans, summarizes and
 * verifies the chain of the blocks it gets; at the end their accumulators are merged. At most
 * `maxInFlight` blocks wait per worker, so memory stays bounded whatever the file size.
 *
 * From compiled JS the worker is `summary-worker.js` beside this file; from TypeScript source
 * (vitest, tsx) a tiny eval bootstrap registers tsx inside the worker first (the same way as
 * `PolicyRunner`: Node 20 ignores loader hooks in a worker's execArgv).
 */
import { startModuleWorker } from '../platform/worker.js';
import { Worker } from 'node:worker_threads';
import type { AccumulatorOptions, AccumulatorState, ChunkResult, ProcessorOptions } from './summary-core.js';

export interface SummaryWorkerInit {
  accumulator: AccumulatorOptions;
  processor: ProcessorOptions;
}

/** `buf[0, length)` holds the block; the buffer comes back with `chunk-done` to be read into again. */
export type ToSummaryWorker = { type: 'chunk'; chunkNo: number; buf: ArrayBuffer; length: number; final: boolean; lineBase: number } | { type: 'finish' };

export type FromSummaryWorker =
  | { type: 'ready' }
  | { type: 'chunk-done'; result: ChunkResult; buf: ArrayBuffer }
  | { type: 'state'; state: AccumulatorState }
  | { type: 'error'; message: string };

/** The worker's entry module, beside this file (see `startModuleWorker` for .ts vs .js). */
const WORKER_ENTRY = new URL('./summary-worker', import.meta.url).href;

function newWorker(workerData: SummaryWorkerInit, name: string): Worker {
  return startModuleWorker(WORKER_ENTRY, import.meta.url, workerData, name);
}

/** A worker thread failed (not the trace): a bug or an exhausted machine, never the file's fault. */
export class SummaryWorkerError extends Error {
  override name = 'SummaryWorkerError';
}

interface Slot {
  worker: Worker;
  inFlight: number;
  ready: Promise<void>;
  pendingState: ((s: AccumulatorState) => void) | null;
}

export class SummaryPool {
  private readonly slots: Slot[] = [];
  private readonly waiters: (() => void)[] = [];
  private failure: Error | null = null;
  private failListeners: ((e: Error) => void)[] = [];
  private closed = false;

  constructor(
    init: SummaryWorkerInit,
    threads: number,
    private readonly onResult: (r: ChunkResult) => void,
    private readonly maxInFlight = 3,
    /** Receives each block's buffer back once it has been processed (for reuse). */
    private readonly onBuffer: (buf: ArrayBuffer) => void = () => {},
  ) {
    for (let i = 0; i < threads; i++) {
      const worker = newWorker(init, `switchyard-replay-summary-${i}`);
      let readyResolve!: () => void;
      const slot: Slot = { worker, inFlight: 0, ready: new Promise<void>((r) => (readyResolve = r)), pendingState: null };
      worker.on('message', (m: FromSummaryWorker) => {
        switch (m.type) {
          case 'ready':
            readyResolve();
            return;
          case 'chunk-done':
            slot.inFlight--;
            this.onBuffer(m.buf);
            this.onResult(m.result);
            this.wake();
            return;
          case 'state':
            slot.pendingState?.(m.state);
            slot.pendingState = null;
            return;
          case 'error':
            this.fail(new SummaryWorkerError(`a summary worker failed: ${m.message}`));
            return;
        }
      });
      worker.on('error', (e) => this.fail(new SummaryWorkerError(`a summary worker failed: ${e.message}`)));
      worker.on('exit', (code) => {
        if (!this.closed) this.fail(new SummaryWorkerError(`a summary worker exited (code ${code})`));
      });
      this.slots.push(slot);
    }
  }

  private fail(e: Error): void {
    if (this.failure || this.closed) return;
    this.failure = e;
    for (const l of this.failListeners.splice(0)) l(e);
    this.wake();
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Resolves when every worker has loaded; rejects if one fails to. */
  async ready(): Promise<void> {
    await Promise.race([Promise.all(this.slots.map((s) => s.ready)), this.failed()]);
  }

  private failed(): Promise<never> {
    return new Promise((_, reject) => {
      if (this.failure) reject(this.failure);
      else this.failListeners.push(reject);
    });
  }

  /** Hands a block (`buf[0, length)`; the ArrayBuffer is transferred) to the least busy worker, waiting while all are full. */
  async dispatch(buf: ArrayBuffer, length: number, chunkNo: number, final: boolean, lineBase: number): Promise<void> {
    for (;;) {
      if (this.failure) throw this.failure;
      let best: Slot | null = null;
      for (const s of this.slots) if (s.inFlight < this.maxInFlight && (best === null || s.inFlight < best.inFlight)) best = s;
      if (best) {
        best.inFlight++;
        const msg: ToSummaryWorker = { type: 'chunk', chunkNo, buf, length, final, lineBase };
        best.worker.postMessage(msg, [buf]);
        return;
      }
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }

  /** Waits for every block to be done, then collects the workers' states. */
  async finish(): Promise<AccumulatorState[]> {
    while (this.slots.some((s) => s.inFlight > 0)) {
      if (this.failure) throw this.failure;
      await new Promise<void>((r) => this.waiters.push(r));
    }
    if (this.failure) throw this.failure;
    const states = this.slots.map(
      (s) =>
        new Promise<AccumulatorState>((resolve) => {
          s.pendingState = resolve;
          const msg: ToSummaryWorker = { type: 'finish' };
          s.worker.postMessage(msg);
        }),
    );
    return Promise.race([Promise.all(states), this.failed()]);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.wake();
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
