/**
 * How long the serving thread may busy-wait for a policy worker's answer instead of going back
 * to its event loop, shared by the serving runners of one process.
 *
 * Why: a request that finds the serving thread idle crosses three threads (HTTP thread, policy
 * worker, HTTP thread again). Waiting for the answer on the event loop (`Atomics.waitAsync`)
 * lets the serving thread's CPU go idle, and waking it again costs a wake-up across CPUs: on this
 * project's nested VM ~60 µs of a ~70 µs round trip (bench/wake-cost-bench.ts), against ~8 µs
 * spinning. A small model answers within tens of µs, so one robot's request is answered sooner if
 * the thread keeps checking the answer word for that long.
 *
 * When: only while every act outstanding in the process (in every runner that joined) is in the
 * batch just sent, so the thread has nothing else it knows of to do; and only for a runner whose
 * recent answers came within the budget (an exponential average of send → answer), so a slow
 * (e.g. GPU-sized) model never burns the budget. The spin is bounded by `budgetUs`; past it the
 * runner waits on the event loop as before, and a request that arrived meanwhile waited at most
 * that long.
 */
import { availableParallelism } from 'node:os';

export interface SpinRunner {
  /** Acts and batches this runner has been asked for and has not settled (queued, sent or running). */
  readonly inFlight: number;
}

export class AnswerSpin {
  private readonly runners = new Set<SpinRunner>();
  private cpusCheckedAt = -Infinity;
  private manyCpus = true;

  /**
   * `budgetUs` 0 turns spinning off. `cpus` says how many CPUs the process may run on (its
   * affinity mask): with one, the worker the thread spins for could only run once the spinner is
   * preempted, so there is no spinning then (`--cpu-affinity 1`). Asked at most once a second.
   */
  constructor(
    readonly budgetUs: number,
    private readonly cpus: () => number = availableParallelism,
    private readonly nowMs: () => number = () => performance.now(),
  ) {
    if (!(budgetUs >= 0 && budgetUs <= 10_000)) throw new RangeError(`answer spin budget must be 0..10000 µs, got ${budgetUs}`);
  }

  /** Whether a spin may run now: a budget, and more than one CPU to run on. */
  get active(): boolean {
    if (this.budgetUs === 0) return false;
    const now = this.nowMs();
    if (now - this.cpusCheckedAt >= 1000) {
      this.cpusCheckedAt = now;
      this.manyCpus = this.cpus() > 1;
    }
    return this.manyCpus;
  }

  join(r: SpinRunner): void {
    this.runners.add(r);
  }

  leave(r: SpinRunner): void {
    this.runners.delete(r);
  }

  /** True when the `n` acts just sent are everything outstanding in every joined runner. */
  onlyThese(n: number): boolean {
    let total = 0;
    for (const r of this.runners) total += r.inFlight;
    return total <= n;
  }
}

/**
 * One runner's turns at spinning: after a spin that missed (the worker had no CPU, e.g. the
 * machine was busy, or the model was slower than usual) the next eligible batches do not spin,
 * 1, 2, 4 … up to 64 of them for misses in a row; a spin that catches its answer resets it. So a
 * busy machine loses at most one budget in 65 requests to spinning, and a quiet one spins again
 * as soon as it can.
 */
export class SpinTurns {
  private backoff = 0;
  private skip = 0;

  /** Whether this eligible batch may spin (a skipped one is counted off). */
  take(): boolean {
    if (this.skip === 0) return true;
    this.skip--;
    return false;
  }

  caught(): void {
    this.backoff = 0;
  }

  missed(): void {
    this.backoff = Math.min(64, Math.max(1, this.backoff * 2));
    this.skip = this.backoff;
  }
}

/** `--answer-spin-us` when not given: about twice a small model's hop on an idle 2-core VM. */
export const DEFAULT_ANSWER_SPIN_US = 150;
