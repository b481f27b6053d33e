/**
 * Swapping a slot's runner without dropping a request: which runner each request in flight is
 * on (a replaced runner is closed only once it is idle), the hidden warm standby of
 * single-policy mode (the version a rollback restores), and the swap itself. The lifecycle
 * drives these through the serving port; the controller adds the event and the state push.
 */
import type { SlotSpec } from '../lifecycle/serving-port.js';
import type { SlotRunner } from '../runtime/types.js';
import type { ServingMetrics } from './metrics.js';
import type { SlotRuntime } from './slot-stats.js';

export class RunnerHandover {
  /** Requests in flight per runner, so a replaced runner is closed only once it is idle. */
  private readonly load = new Map<SlotRunner, number>();
  private readonly idleWaiters = new Map<SlotRunner, (() => void)[]>();
  /** The hidden warm standby of single-policy mode: loaded, not routed. */
  standby: SlotSpec | null = null;

  /** A request starts on `runner`. */
  up(runner: SlotRunner): void {
    this.load.set(runner, (this.load.get(runner) ?? 0) + 1);
  }

  /** A request on `runner` ended; the last one wakes whoever waits for it to be idle. */
  down(runner: SlotRunner): void {
    const n = (this.load.get(runner) ?? 1) - 1;
    if (n > 0) return void this.load.set(runner, n);
    this.load.delete(runner);
    const waiters = this.idleWaiters.get(runner);
    this.idleWaiters.delete(runner);
    for (const w of waiters ?? []) w();
  }

  /** Resolves once no request is in flight on `runner` (at once when none is). */
  whenIdle(runner: SlotRunner): Promise<void> {
    if (!this.load.has(runner)) return Promise.resolve();
    return new Promise((resolve) => {
      const list = this.idleWaiters.get(runner) ?? [];
      list.push(resolve);
      this.idleWaiters.set(runner, list);
    });
  }

  /**
   * Puts `spec` in place of slot `s`'s runner: requests routed from now on go to the new runner,
   * requests in flight finish on the old one (`idle`). The slot's failure count and drain are reset.
   */
  swap(s: SlotRuntime, spec: Omit<SlotSpec, 'slot'>, metrics: ServingMetrics): { previous: SlotSpec; idle: Promise<void> } {
    const previous = s.spec;
    s.spec = { ...spec, slot: previous.slot };
    s.consecutiveFailures = 0;
    if (s.drained) {
      s.drained = false;
      metrics.drained.labels(s.metricSlot).set(0);
    }
    return { previous, idle: this.whenIdle(previous.runner) };
  }
}
