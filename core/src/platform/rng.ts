/**
 * A small seeded pseudo-random source for the evaluation environments. Everything an episode
 * draws (sensor noise, ...) comes from one of these, seeded by the case's `seed`, so a case
 * replays bit for bit on any machine running the same Switchyard.
 */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Standard normal (mean 0, standard deviation 1). */
  normal(): number;
}

/**
 * mulberry32 (Tommy Ettinger): 32-bit state, period 2^32, good enough for noise and case
 * generation, and trivially portable. Normals by Box-Muller, one pair per draw (no cached spare,
 * so the sequence depends only on the number of draws).
 */
export function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    normal() {
      const u1 = 1 - next(); // (0, 1]: log is finite
      const u2 = next();
      return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    },
  };
}
