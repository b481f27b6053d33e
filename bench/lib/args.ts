/** The benches' command lines: `--flag value` pairs read one flag at a time. */

export interface Flag {
  /** The flag as given, e.g. `--seconds`. */
  k: string;
  /** The flag's value (the next argument); throws when there is none. */
  v(): string;
  /** The flag's value as a number from `lo` to `hi`; throws naming the flag otherwise. */
  num(lo: number, hi: number): number;
}

/** Each argument in turn; a flag that takes a value consumes the next argument through `v()` or `num()`. */
export function* flags(argv: readonly string[]): Generator<Flag> {
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i]!;
    const v = (): string => {
      const x = argv[++i];
      if (x === undefined) throw new Error(`${k} needs a value`);
      return x;
    };
    const num = (lo: number, hi: number): number => {
      const n = Number(v());
      if (!Number.isFinite(n) || n < lo || n > hi) throw new Error(`${k} must be a number from ${lo} to ${hi}`);
      return n;
    };
    yield { k, v, num };
  }
}
