// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { throttle, type ThrottleClock } from './throttle';

function fakeClock() {
  let now = 0;
  const timers: Array<{ at: number; fn: () => void; id: number }> = [];
  let nextId = 1;
  const clock: ThrottleClock = {
    now: () => now,
    setTimeout: (fn, ms) => {
      const id = nextId++;
      timers.push({ at: now + ms, fn, id });
      return id;
    },
    clearTimeout: (handle) => {
      const i = timers.findIndex((t) => t.id === handle);
      if (i >= 0) timers.splice(i, 1);
    },
  };
  const advance = (ms: number): void => {
    const until = now + ms;
    for (;;) {
      timers.sort((x, y) => x.at - y.at);
      const due = timers[0];
      if (due === undefined || due.at > until) break;
      timers.shift();
      now = due.at;
      due.fn();
    }
    now = until;
  };
  return { clock, advance, pending: () => timers.length };
}

describe('throttle', () => {
  it('runs at once, then at most once per interval, and never loses the last request', () => {
    const { clock, advance } = fakeClock();
    const calls: number[] = [];
    const t = throttle(() => calls.push(clock.now()), 250, clock);
    t();
    expect(calls).toEqual([0]);
    // Ten requests within 100 ms: one trailing call at the end of the interval.
    for (let i = 0; i < 10; i += 1) {
      advance(10);
      t();
    }
    expect(calls).toEqual([0]);
    advance(200);
    expect(calls).toEqual([0, 250]);
    // A burst of samples every 50 ms for a second: at most 4 calls a second.
    for (let i = 0; i < 20; i += 1) {
      advance(50);
      t();
    }
    advance(300);
    const inBurst = calls.filter((c) => c > 250);
    expect(inBurst.length).toBeLessThanOrEqual(5);
    for (let i = 1; i < calls.length; i += 1) expect((calls[i] as number) - (calls[i - 1] as number)).toBeGreaterThanOrEqual(250);
  });

  it('cancels a pending call', () => {
    const { clock, advance, pending } = fakeClock();
    let n = 0;
    const t = throttle(() => (n += 1), 250, clock);
    t();
    t();
    expect(pending()).toBe(1);
    t.cancel();
    advance(1_000);
    expect(n).toBe(1);
  });
});
