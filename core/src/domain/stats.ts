/**
 * Interval estimates behind promotion verdicts (spec §4.5). Pure functions, no I/O.
 *
 * - single rates: Wilson score interval, no continuity correction;
 * - differences of two independent rates: Newcombe's hybrid score interval (Newcombe 1998,
 *   "Interval estimation for the difference between independent proportions", method 10),
 *   built from the two Wilson intervals;
 * - regressions on a frozen suite: exact paired counting by case id (no interval needed).
 */

export interface Interval {
  /** The point estimate (observed proportion or difference). NaN when there is no data. */
  estimate: number;
  lower: number;
  upper: number;
}

/**
 * Inverse of the standard normal CDF (Wichura 1988, algorithm AS 241, PPND16): relative
 * accuracy about 1e-16 over (0, 1). Returns -Infinity at 0 and +Infinity at 1.
 */
export function inverseNormalCdf(p: number): number {
  if (Number.isNaN(p) || p < 0 || p > 1) throw new RangeError(`inverseNormalCdf: p must be in [0, 1], got ${p}`);
  if (p === 0) return -Infinity;
  if (p === 1) return Infinity;
  const q = p - 0.5;
  if (Math.abs(q) <= 0.425) {
    const r = 0.180625 - q * q;
    return (
      (q *
        (((((((r * 2509.0809287301226727 + 33430.575583588128105) * r + 67265.770927008700853) * r + 45921.953931549871457) * r +
          13731.693765509461125) *
          r +
          1971.5909503065514427) *
          r +
          133.14166789178437745) *
          r +
          3.387132872796366608)) /
      (((((((r * 5226.495278852545925 + 28729.085735721942674) * r + 39307.89580009271061) * r + 21213.794301586595867) * r +
        5394.1960214247511077) *
        r +
        687.1870074920579083) *
        r +
        42.313330701600911252) *
        r +
        1)
    );
  }
  let r = Math.sqrt(-Math.log(q < 0 ? p : 1 - p));
  let val: number;
  if (r <= 5) {
    r -= 1.6;
    val =
      (((((((r * 7.7454501427834140764e-4 + 0.0227238449892691845833) * r + 0.24178072517745061177) * r + 1.27045825245236838258) * r +
        3.64784832476320460504) *
        r +
        5.7694972214606914055) *
        r +
        4.6303378461565452959) *
        r +
        1.42343711074968357734) /
      (((((((r * 1.05075007164441684324e-9 + 5.475938084995344946e-4) * r + 0.0151986665636164571966) * r + 0.14810397642748007459) * r +
        0.68976733498510000455) *
        r +
        1.6763848301838038494) *
        r +
        2.05319162663775882187) *
        r +
        1);
  } else {
    r -= 5;
    val =
      (((((((r * 2.01033439929228813265e-7 + 2.71155556874348757815e-5) * r + 0.0012426609473880784386) * r + 0.026532189526576123093) * r +
        0.29656057182850489123) *
        r +
        1.7848265399172913358) *
        r +
        5.4637849111641143699) *
        r +
        6.6579046435011037772) /
      (((((((r * 2.04426310338993978564e-15 + 1.4215117583164458887e-7) * r + 1.8463183175100546818e-5) * r + 7.868691311456132591e-4) * r +
        0.0148753612908506148525) *
        r +
        0.13692988092273580531) *
        r +
        0.59983220655588793769) *
        r +
        1);
  }
  return q < 0 ? -val : val;
}

function checkConfidence(confidence: number): void {
  if (!(confidence > 0 && confidence < 1)) throw new RangeError(`confidence must be strictly between 0 and 1, got ${confidence}`);
}

/** Two-sided critical value: z with P(|Z| <= z) = confidence (0.95 -> 1.959963984540054). */
export function zForConfidence(confidence: number): number {
  checkConfidence(confidence);
  return inverseNormalCdf(1 - (1 - confidence) / 2);
}

/** One-sided critical value: z with P(Z <= z) = confidence (0.95 -> 1.6448536269514722). */
export function zOneSided(confidence: number): number {
  checkConfidence(confidence);
  return inverseNormalCdf(confidence);
}

function checkCounts(successes: number, n: number): void {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`n must be a non-negative integer, got ${n}`);
  if (!Number.isInteger(successes) || successes < 0 || successes > n) {
    throw new RangeError(`successes must be an integer from 0 to n (${n}), got ${successes}`);
  }
}

/** Wilson score interval for a given critical value z. n = 0 gives [0, 1] with estimate NaN. */
export function wilsonIntervalZ(successes: number, n: number, z: number): Interval {
  checkCounts(successes, n);
  if (n === 0) return { estimate: NaN, lower: 0, upper: 1 };
  const p = successes / n;
  const z2 = z * z;
  const denom = n + z2;
  const centre = (successes + z2 / 2) / denom;
  const half = (z * Math.sqrt((successes * (n - successes)) / n + z2 / 4)) / denom;
  // Exact at the edges; clamp rounding noise elsewhere.
  const lower = successes === 0 ? 0 : Math.min(p, Math.max(0, centre - half));
  const upper = successes === n ? 1 : Math.max(p, Math.min(1, centre + half));
  return { estimate: p, lower, upper };
}

/** Two-sided Wilson score interval (no continuity correction) at the given confidence. */
export function wilsonInterval(successes: number, n: number, confidence = 0.95): Interval {
  return wilsonIntervalZ(successes, n, zForConfidence(confidence));
}

/**
 * One-sided Wilson lower bound: the proportion is >= this with the given confidence
 * (the lower end of a two-sided interval at 2*confidence - 1).
 */
export function wilsonLowerOneSided(successes: number, n: number, confidence = 0.95): number {
  return wilsonIntervalZ(successes, n, zOneSided(confidence)).lower;
}

/** One-sided Wilson upper bound, the mirror of `wilsonLowerOneSided`. */
export function wilsonUpperOneSided(successes: number, n: number, confidence = 0.95): number {
  return wilsonIntervalZ(successes, n, zOneSided(confidence)).upper;
}

/**
 * Newcombe's hybrid score interval (method 10) for p1 - p2, with p1 = x1/n1, p2 = x2/n2 from
 * independent samples, for a given critical value z:
 *   L = d - sqrt((p1 - l1)^2 + (u2 - p2)^2),  U = d + sqrt((u1 - p1)^2 + (p2 - l2)^2)
 * where [l_i, u_i] are the Wilson intervals. Either n = 0 gives [-1, 1] with estimate NaN.
 */
export function newcombeIntervalZ(x1: number, n1: number, x2: number, n2: number, z: number): Interval {
  checkCounts(x1, n1);
  checkCounts(x2, n2);
  if (n1 === 0 || n2 === 0) return { estimate: NaN, lower: -1, upper: 1 };
  const a = wilsonIntervalZ(x1, n1, z);
  const b = wilsonIntervalZ(x2, n2, z);
  const p1 = a.estimate;
  const p2 = b.estimate;
  const d = p1 - p2;
  const lower = d - Math.hypot(p1 - a.lower, b.upper - p2);
  const upper = d + Math.hypot(a.upper - p1, p2 - b.lower);
  return { estimate: d, lower: Math.min(d, Math.max(-1, lower)), upper: Math.max(d, Math.min(1, upper)) };
}

/** Two-sided Newcombe hybrid score interval for p1 - p2 at the given confidence. */
export function newcombeInterval(x1: number, n1: number, x2: number, n2: number, confidence = 0.95): Interval {
  return newcombeIntervalZ(x1, n1, x2, n2, zForConfidence(confidence));
}

/** One-sided Newcombe lower bound for p1 - p2: the difference is >= this with the given confidence. */
export function newcombeLowerOneSided(x1: number, n1: number, x2: number, n2: number, confidence = 0.95): number {
  return newcombeIntervalZ(x1, n1, x2, n2, zOneSided(confidence)).lower;
}

export interface PairedOutcome {
  caseId: string;
  pass: boolean;
}

export interface PairedComparison {
  /** Case ids present in both runs. */
  paired: number;
  /** Passed on baseline, failed on candidate (the regressions), in candidate order. */
  newFailures: string[];
  /** Failed on baseline, passed on candidate. */
  newPasses: string[];
  /** Failed on both. */
  bothFailed: string[];
  /** Case ids the candidate has and the baseline lacks, and the other way round. */
  onlyCandidate: string[];
  onlyBaseline: string[];
}

/**
 * Exact paired comparison by case id: the suite is frozen, so each case is compared with itself.
 * Throws RangeError on a duplicate case id within one run.
 */
export function pairedComparison(baseline: readonly PairedOutcome[], candidate: readonly PairedOutcome[]): PairedComparison {
  const base = new Map<string, boolean>();
  for (const r of baseline) {
    if (base.has(r.caseId)) throw new RangeError(`duplicate case id in baseline results: ${r.caseId}`);
    base.set(r.caseId, r.pass);
  }
  const seen = new Set<string>();
  const out: PairedComparison = { paired: 0, newFailures: [], newPasses: [], bothFailed: [], onlyCandidate: [], onlyBaseline: [] };
  for (const r of candidate) {
    if (seen.has(r.caseId)) throw new RangeError(`duplicate case id in candidate results: ${r.caseId}`);
    seen.add(r.caseId);
    const b = base.get(r.caseId);
    if (b === undefined) {
      out.onlyCandidate.push(r.caseId);
      continue;
    }
    out.paired++;
    if (b && !r.pass) out.newFailures.push(r.caseId);
    else if (!b && r.pass) out.newPasses.push(r.caseId);
    else if (!b && !r.pass) out.bothFailed.push(r.caseId);
  }
  for (const r of baseline) if (!seen.has(r.caseId)) out.onlyBaseline.push(r.caseId);
  return out;
}

/**
 * Nearest-rank percentile (the smallest value with at least q of the values at or below it):
 * conservative for a latency cap, and always an observed value. NaN for no values.
 */
export function percentile(values: readonly number[], q: number): number {
  if (!(q > 0 && q <= 1)) throw new RangeError(`percentile: q must be in (0, 1], got ${q}`);
  if (values.length === 0) return NaN;
  return nearestRankOfSorted([...values].sort((a, b) => a - b), q)!;
}

/**
 * The same nearest rank over values the caller already keeps in ascending order, without a
 * copy (serving stats, doctor, benches): undefined for none, so each caller picks its own
 * "no data" value (null on the wire, 0 in the doctor report, NaN in a bench). The 1e-9 keeps
 * a product like 0.07 * 100 = 7.000000000000001 on rank 7.
 */
export function nearestRankOfSorted(sorted: ArrayLike<number>, q: number): number | undefined {
  if (sorted.length === 0) return undefined;
  const rank = Math.ceil(q * sorted.length - 1e-9);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}
