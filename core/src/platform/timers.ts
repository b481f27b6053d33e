/**
 * Timers are passed in like the clock, so that code that waits (the canary's looks) runs in
 * virtual time under test: `createManualTimers` advances a manual clock and fires what is due.
 */
import type { Clock } from './clock.js';

export type TimerHandle = { readonly id: number };

export interface Timers {
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle | null | undefined): void;
}

/** Real timers (unref'd: a pending look never keeps the process alive on its own). */
export const systemTimers: Timers = (() => {
  const live = new Map<number, NodeJS.Timeout>();
  let next = 1;
  return {
    setTimeout(fn, ms) {
      const id = next++;
      const t = setTimeout(() => {
        live.delete(id);
        fn();
      }, Math.max(0, ms));
      t.unref();
      live.set(id, t);
      return { id };
    },
    clearTimeout(h) {
      if (!h) return;
      const t = live.get(h.id);
      if (t !== undefined) clearTimeout(t);
      live.delete(h.id);
    },
  };
})();

export interface ManualTimers extends Timers {
  readonly clock: Clock;
  /** Virtual epoch milliseconds now. */
  now(): number;
  /**
   * Move virtual time forward by `ms`, firing every timer that falls due in order (each at its own
   * time), and letting promise callbacks run between them.
   */
  advance(ms: number): Promise<void>;
  /** Timers waiting to fire. */
  pending(): number;
}

/** Virtual time for tests: a clock that moves only when `advance` is called. */
export function createManualTimers(startMs = Date.UTC(2026, 0, 1)): ManualTimers {
  let t = startMs;
  let mono = 0;
  let next = 1;
  const queue: { id: number; at: number; fn: () => void }[] = [];
  const settle = async () => {
    for (let i = 0; i < 20; i++) await new Promise<void>((r) => setImmediate(r));
  };
  const clock: Clock = { now: () => t, monotonicMs: () => mono };
  return {
    clock,
    now: () => t,
    setTimeout(fn, ms) {
      const id = next++;
      queue.push({ id, at: t + Math.max(0, ms), fn });
      return { id };
    },
    clearTimeout(h) {
      if (!h) return;
      const i = queue.findIndex((q) => q.id === h.id);
      if (i >= 0) queue.splice(i, 1);
    },
    pending: () => queue.length,
    async advance(ms) {
      const end = t + ms;
      await settle();
      for (;;) {
        queue.sort((a, b) => a.at - b.at || a.id - b.id);
        const due = queue[0];
        if (!due || due.at > end) break;
        queue.shift();
        mono += due.at - t;
        t = due.at;
        due.fn();
        await settle();
      }
      mono += end - t;
      t = end;
      await settle();
    },
  };
}
