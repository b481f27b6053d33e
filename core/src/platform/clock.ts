/** Time is passed in, never read from a global, so tests can fix it. */
export interface Clock {
  now(): number;
  /** Monotonic milliseconds with sub-millisecond resolution, for latency. */
  monotonicMs(): number;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  monotonicMs: () => performance.now(),
};

export function fixedClock(start = Date.UTC(2026, 0, 1), stepMs = 1): Clock {
  let t = start;
  let m = 0;
  return {
    now: () => (t += stepMs),
    monotonicMs: () => (m += stepMs),
  };
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}
