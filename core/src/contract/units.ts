/**
 * How rule values, grader values and episode end reasons are written, in one place for the
 * engine (verdict evidence notes) and the workbench (the Observed column, grader chips). A rule's
 * observed value and the evidence that states it must read the same: two formatters drifted
 * apart once (`0.0016 ms` observed, `0.00 ms` in the evidence).
 */

/**
 * Milliseconds with enough digits to be non-zero: `250 ms`, `9.00 ms`, `0.0016 ms`, `0 ms`.
 * At 1 ms and above two decimals (hundreds: none); below 1 ms two significant digits, so a
 * sub-microsecond p99 never rounds to zero.
 */
export function formatMilliseconds(ms: number): string {
  if (!Number.isFinite(ms)) return `${ms} ms`;
  const a = Math.abs(ms);
  if (a === 0) return '0 ms';
  if (a >= 100) return `${ms.toFixed(0)} ms`;
  if (a >= 1) return `${ms.toFixed(2)} ms`;
  return `${ms.toPrecision(2)} ms`;
}

/** A ratio of two values, as the rules compare it: `1.25×`. */
export function formatRatio(ratio: number): string {
  if (!Number.isFinite(ratio)) return `${ratio}×`;
  return `${ratio.toFixed(2)}×`;
}

/** What a grader's value is measured in, as the grader defines it (spec §4.4, core/src/eval/graders.ts). */
export interface GraderUnit {
  /** The unit after the number (`steps`, `%`, `ms`, `N/step`); '' for a plain number. */
  unit: string;
  /** Shown as a percentage of the value (a fraction 0..1 of a bound). */
  percent?: boolean;
  /** What the value means, in plain words. */
  meaning: string;
}

const GRADER_UNITS: Record<string, GraderUnit> = {
  success: { unit: 'steps', meaning: 'steps the episode survived; it passes when it ran its full length with every bound held' },
  safety_bounds: { unit: '%', percent: true, meaning: 'peak use of the tightest safety bound (100% = on the edge, above = outside)' },
  action_bounds: { unit: '%', percent: true, meaning: 'peak use of the action bounds by the raw policy output (above 100% = outside)' },
  smoothness: { unit: 'N/step', meaning: 'mean change of the applied action per step; passes at or below the environment threshold' },
  return: { unit: 'steps', meaning: 'episode return: steps survived inside the bounds' },
  latency: { unit: 'ms', meaning: 'mean policy latency per step of this case (wall clock)' },
};

/** The unit of a grader; imported results may carry graders the engine does not define (no unit). */
export function graderUnit(name: string): GraderUnit | null {
  return GRADER_UNITS[name] ?? null;
}

function plainNumber(v: number): string {
  return Math.abs(v) >= 100 ? v.toFixed(0) : String(Number(v.toPrecision(3)));
}

/** A grader's value with its unit: `137 steps`, `84.2%`, `0.42 ms`, `0.318 N/step`; '' without a value. */
export function formatGraderValue(name: string, value: number | null): string {
  if (value === null) return '';
  if (value === Infinity) return name === 'action_bounds' ? 'non-finite output' : '∞';
  if (!Number.isFinite(value)) return String(value);
  const u = graderUnit(name);
  if (u === null) return plainNumber(value);
  if (u.unit === 'ms') return formatMilliseconds(value);
  if (u.percent) return `${Number((value * 100).toFixed(1))}%`;
  if (u.unit === 'steps') return `${Number.isInteger(value) ? value : plainNumber(value)} ${value === 1 ? 'step' : 'steps'}`;
  return `${plainNumber(value)} ${u.unit}`;
}

const END_REASONS: Record<string, string> = {
  track: 'The cart left the track (|x| > 2.4 m, the safety bound): a failure.',
  pole_angle: 'The pole fell (more than 12° from upright): a failure.',
  non_finite_action: 'The policy returned NaN or Infinity, which cannot be applied: the episode stopped.',
};

/** What an episode's end reason means, in plain words; a generic sentence for one the engine does not define. */
export function endReasonText(reason: string): string {
  return END_REASONS[reason] ?? `The environment ended the episode early: “${reason}” (a failure it reports).`;
}
