/**
 * Workers given up on because a request ran past `--act-timeout-ms`. A thread stuck inside
 * native code (an ONNX `Loop` with a huge trip count) cannot be interrupted: it is asked to stop
 * and leaves when the runtime returns to JavaScript. Until then the thread keeps its memory
 * and a core, so they are counted process-wide, and past `max` the process gives up (the
 * supervisor restarts it) rather than piling threads up until the machine stalls.
 */
import type { Worker } from 'node:worker_threads';
import type { Slot } from '../contract/index.js';
import { requestStop } from './worker-stop.js';

export interface AbandonedWorkersOptions {
  /** Abandoned workers still alive at once before `onLimit` is called. Default 4. */
  max?: number;
  /** Called once per abandonment (the metric). */
  onAbandon?: (slot: Slot) => void;
  /** Called when more than `max` are alive at once (the serve command exits). */
  onLimit?: (alive: number, max: number) => void;
}

export class AbandonedWorkers {
  private aliveCount = 0;
  private totalCount = 0;
  readonly max: number;

  constructor(private readonly opts: AbandonedWorkersOptions = {}) {
    this.max = opts.max ?? 4;
  }

  /** Abandoned workers whose threads have not exited yet. */
  get alive(): number {
    return this.aliveCount;
  }

  get total(): number {
    return this.totalCount;
  }

  /** Records `w` as abandoned and asks it to stop; it is counted until its thread exits. */
  add(w: Worker, slot: Slot): void {
    this.aliveCount++;
    this.totalCount++;
    w.once('exit', () => {
      this.aliveCount--;
    });
    this.opts.onAbandon?.(slot);
    if (this.aliveCount > this.max) this.opts.onLimit?.(this.aliveCount, this.max);
    // Not terminate(): that aborts the process when the stuck ONNX call returns (worker-stop.ts).
    requestStop(w);
  }
}
