export interface ThrottleClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realClock: ThrottleClock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export interface Throttled {
  /** Asks for a call: at once if the last one was `intervalMs` ago, else once at the end of it. */
  (): void;
  /** Drops a pending call. */
  cancel(): void;
}

/**
 * Calls `fn` at most once per `intervalMs`, leading and trailing: the first request runs at once,
 * requests during the interval collapse into one call at its end, so the last state is never lost.
 */
export function throttle(fn: () => void, intervalMs: number, clock: ThrottleClock = realClock): Throttled {
  let lastAt = -Infinity;
  let timer: unknown = null;
  const run = (): void => {
    timer = null;
    lastAt = clock.now();
    fn();
  };
  const throttled = (() => {
    if (timer !== null) return;
    const wait = lastAt + intervalMs - clock.now();
    if (wait <= 0) run();
    else timer = clock.setTimeout(run, wait);
  }) as Throttled;
  throttled.cancel = () => {
    if (timer !== null) clock.clearTimeout(timer);
    timer = null;
  };
  return throttled;
}
