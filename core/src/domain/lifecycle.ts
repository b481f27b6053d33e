/**
 * The lifecycle's decisions as pure functions (spec §6): which stage moves exist and which
 * verdict they need, whether a stored verdict still holds, where a rollback goes, what was
 * production at a given time, which versions may not be archived, and how `--at` is read.
 * No I/O: the store and the service feed them rows and facts.
 *
 * Definitions (the README repeats them):
 * - Stage moves: candidate -> staging (rules `candidate->staging`), archived -> staging (the
 *   same rules: un-archiving needs the same evidence), staging -> production (rules
 *   `staging->production`), any stage but production -> archived (the archive guards).
 *   Nothing goes back to `candidate`; production leaves only when another version replaces it
 *   (it goes to staging) or by a rollback.
 * - Production timeline: the stage-history rows that made a version production, in order. A
 *   promotion pushes its version on a stack; a rollback to R pops the stack down to R. The
 *   rollback target is the version below the top of the stack, skipping archived versions. So
 *   promotions A, B, C then rollback, rollback give B, then A; a third rollback has nowhere to go.
 * - Archive guards: the production version, and the 3 most recent other versions that were
 *   production (by the last time each left production), may not be archived.
 */
import { ErrorCodes, SwitchyardError } from '../contract/errors.js';
import type { Stage } from '../contract/schemas.js';
import { gatedTransition, productionSpansOf, productionStackOf, rollbackPlanOf } from '../shared/production-timeline.js';
import type { Transition } from './rules.js';

/** How many former production versions the archive guard keeps (spec §6: "the last 3"). */
export const PROTECTED_FORMER_PRODUCTION = 3;

export type LifecycleAction = 'promote' | 'rollback' | 'archive' | 'stage';

/** One stage-history row, as the pure functions need it. */
export interface HistoryRow {
  id: number;
  versionId: number;
  /** ISO-8601 UTC. */
  at: string;
  from: Stage | null;
  to: Stage;
  action: LifecycleAction;
}

// ---------------------------------------------------------------- stage moves

export interface StageMove {
  /** The rules transition whose GO verdict the move needs; null for archiving. */
  transition: Transition | null;
  kind: 'gated' | 'archive';
}

/** The move from `from` to `to`, or a SwitchyardError that says which moves exist. */
export function planStageMove(ref: string, from: Stage, to: Stage): StageMove {
  if (from === to) {
    throw new SwitchyardError(ErrorCodes.SWY_ERR_CONFLICT, `${ref} is already ${to}; nothing to do.`, ref);
  }
  if (to === 'archived') {
    if (from === 'production') {
      throw new SwitchyardError(
        ErrorCodes.SWY_ERR_PROTECTED_VERSION,
        `${ref} is the production version and cannot be archived (rule: production is protected). Promote or roll back to another version first.`,
        ref,
      );
    }
    return { transition: null, kind: 'archive' };
  }
  const transition = gatedTransition(from, to);
  if (transition !== null) return { transition, kind: 'gated' };
  if (to === 'staging') {
    throw new SwitchyardError(
      ErrorCodes.SWY_ERR_INVALID_INPUT,
      `${ref} is ${from}; only a candidate (or an archived version) can be promoted to staging. A production version goes back to staging when another one replaces it or by \`switchyard rollback\`.`,
      ref,
    );
  }
  if (to === 'production') {
    throw new SwitchyardError(
      ErrorCodes.SWY_ERR_INVALID_INPUT,
      `${ref} is ${from}; a version reaches production from staging. Promote it to staging first: \`switchyard promote ${ref} --to staging\`.`,
      ref,
    );
  }
  throw new SwitchyardError(
    ErrorCodes.SWY_ERR_INVALID_INPUT,
    `Versions never go back to candidate. To take ${ref} out of the way, archive it: \`switchyard archive ${ref}\`.`,
    ref,
  );
}

// ---------------------------------------------------------------- verdicts

/** A stored verdict, as the freshness check needs it. */
export interface VerdictFacts {
  id: number;
  verdict: 'GO' | 'NO-GO' | 'INCONCLUSIVE';
  transition: string;
  candidateVersionId: number;
  baselineVersionId: number | null;
  suiteFingerprint: string | null;
  rulesHash: string;
  rulesFile: string | null;
  summary: string;
  createdAt: string;
}

/** What holds now, for the same candidate and transition. */
export interface CurrentFacts {
  transition: Transition;
  candidateVersionId: number;
  /** The baseline the rules name, resolved now (`production` = the production version now); null = none. */
  baselineVersionId: number | null;
  /** How to name the baseline now, e.g. `cartpole-balance@1.2.0 (production now)`, or `none`. */
  baselineLabel: string;
  /** How to name the verdict's baseline, e.g. `cartpole-balance@1.0.0`. */
  verdictBaselineLabel: string;
  /** The suite's fingerprint now (the newest suite of the rules' name, checked against its file); null = unknown. */
  suiteFingerprint: string | null;
  /** Why the suite cannot be checked, when `suiteFingerprint` is null. */
  suiteProblem?: string;
  /** sha256 of the rules file now; null = the file cannot be read. */
  rulesHash: string | null;
  rulesProblem?: string;
}

/** Why a verdict no longer holds (empty: it still does). */
export function verdictStaleness(v: VerdictFacts, now: CurrentFacts): string[] {
  const reasons: string[] = [];
  const short = (h: string | null) => (h === null ? 'none' : h.slice(0, 12));
  if (v.transition !== now.transition) reasons.push(`verdict #${v.id} is for ${v.transition}, not ${now.transition}`);
  if (v.candidateVersionId !== now.candidateVersionId) reasons.push(`verdict #${v.id} is for another version`);
  if (v.baselineVersionId !== now.baselineVersionId) {
    reasons.push(`the baseline changed: verdict #${v.id} compared with ${now.verdictBaselineLabel}, the baseline now is ${now.baselineLabel}`);
  }
  if (now.rulesHash === null) {
    reasons.push(`the rules file ${v.rulesFile ?? '(not recorded)'} cannot be read${now.rulesProblem ? ` (${now.rulesProblem})` : ''}`);
  } else if (now.rulesHash !== v.rulesHash) {
    reasons.push(`the rules file ${v.rulesFile ?? '(not recorded)'} changed since verdict #${v.id} (hash ${short(v.rulesHash)} then, ${short(now.rulesHash)} now)`);
  }
  if (now.suiteFingerprint === null) {
    reasons.push(`the suite cannot be checked${now.suiteProblem ? ` (${now.suiteProblem})` : ''}`);
  } else if (now.suiteFingerprint !== v.suiteFingerprint) {
    reasons.push(`the suite changed since verdict #${v.id} (fingerprint ${short(v.suiteFingerprint)} then, ${short(now.suiteFingerprint)} now)`);
  }
  return reasons;
}

export interface PromotionDecision {
  /** The verdict the promotion rests on (the newest for the transition, also when forced). */
  verdictId: number | null;
  forced: boolean;
  /** Why the verdict would not do; recorded with a forced promotion. */
  overridden: string[];
}

/**
 * Decide whether a gated move may go ahead: it needs a GO verdict that still holds, unless
 * `force` with a reason. Throws SWY_ERR_VERDICT_REQUIRED naming what is missing or stale and
 * what to run; SWY_ERR_INVALID_INPUT for --force without a reason.
 */
export function decidePromotion(input: {
  ref: string;
  to: Stage;
  transition: Transition;
  verdict: VerdictFacts | null;
  /** Null when there is no verdict to check. */
  current: CurrentFacts | null;
  force: boolean;
  reason: string | null;
  /** The command that makes a fresh verdict, for the message. */
  gateHint: string;
}): PromotionDecision {
  const { ref, verdict } = input;
  if (input.force && (input.reason === null || input.reason.trim() === '')) {
    throw new SwitchyardError(ErrorCodes.SWY_ERR_INVALID_INPUT, `--force needs --reason "...": an override of the promotion rules is recorded with why it was made.`, '--reason');
  }
  const problems: string[] = [];
  if (verdict === null) {
    problems.push(`${ref} has no ${input.transition} verdict`);
  } else {
    if (verdict.verdict !== 'GO') problems.push(`the newest ${input.transition} verdict (#${verdict.id}, ${verdict.createdAt}) is ${verdict.verdict}: ${verdict.summary}`);
    if (input.current !== null) {
      const stale = verdictStaleness(verdict, input.current);
      if (stale.length > 0) problems.push(`verdict #${verdict.id} is stale: ${stale.join('; ')}`);
    }
  }
  if (problems.length === 0) return { verdictId: verdict!.id, forced: false, overridden: [] };
  if (input.force) return { verdictId: verdict?.id ?? null, forced: true, overridden: problems };
  throw new SwitchyardError(
    ErrorCodes.SWY_ERR_VERDICT_REQUIRED,
    `Cannot promote ${ref} to ${input.to}: it needs a GO verdict for ${input.transition} computed on the current suite, rules and baseline, and ${problems.join('; ')}. ` +
      `Run the gate again (${input.gateHint}), or override with --force --reason "...".`,
    ref,
  );
}

// ---------------------------------------------------------------- the production timeline
// The stack, the spans and the rollback target are the shared ones (shared/production-timeline.ts,
// which the workbench previews with), keyed here by version id.

const versionIdOf = (r: HistoryRow): number => r.versionId;

/**
 * The production stack after replaying the history rows (in id order): a promotion (any row to
 * production that is not a rollback) pushes its version, a rollback pops down to its version.
 */
export function productionStack(rows: readonly HistoryRow[]): number[] {
  return productionStackOf(rows, versionIdOf);
}

export interface RollbackPlan {
  /** The version to restore. */
  target: number;
  /** Archived versions passed over on the way. */
  skipped: number[];
}

/**
 * Where a rollback goes: the version below the current production on the production stack,
 * skipping archived versions (and the current one, should it appear again). Null: nowhere.
 */
export function planRollback(rows: readonly HistoryRow[], currentProduction: number, isArchived: (versionId: number) => boolean): RollbackPlan | null {
  return rollbackPlanOf(rows, versionIdOf, currentProduction, isArchived);
}

export interface ProductionSpan {
  versionId: number;
  /** When it became production. */
  from: string;
  /** When it stopped being production; null = still is. */
  until: string | null;
}

/** Every span of time a version was production, oldest first. */
export function productionSpans(rows: readonly HistoryRow[]): ProductionSpan[] {
  return productionSpansOf(rows, versionIdOf).map((sp) => ({ versionId: sp.key, from: sp.from, until: sp.until }));
}

/** The span that covers time `t` (epoch ms), or null when nothing was production then. */
export function productionAt(rows: readonly HistoryRow[], t: number): ProductionSpan | null {
  let found: ProductionSpan | null = null;
  for (const s of productionSpans(rows)) {
    if (Date.parse(s.from) <= t && (s.until === null || t < Date.parse(s.until))) found = s;
  }
  return found;
}

/** When `versionId` was last production (its newest span), or null. */
export function lastProductionSpan(rows: readonly HistoryRow[], versionId: number): ProductionSpan | null {
  const spans = productionSpans(rows).filter((s) => s.versionId === versionId);
  return spans[spans.length - 1] ?? null;
}

// ---------------------------------------------------------------- archive guards

/**
 * Versions that may not be archived, with the rule that protects each: the production version,
 * and the `keep` most recent other versions that were production (by when they last left it).
 */
export function protectedVersions(rows: readonly HistoryRow[], currentProduction: number | null, keep = PROTECTED_FORMER_PRODUCTION): Map<number, string> {
  const out = new Map<number, string>();
  if (currentProduction !== null) out.set(currentProduction, 'production is protected');
  const former = productionSpans(rows)
    .filter((s) => s.versionId !== currentProduction && s.until !== null)
    .sort((a, b) => Date.parse(b.until!) - Date.parse(a.until!));
  let rank = 0;
  for (const s of former) {
    if (out.has(s.versionId)) continue;
    if (rank >= keep) break;
    rank++;
    out.set(s.versionId, `one of the last ${keep} versions that were production (#${rank} most recent, production until ${s.until})`);
  }
  return out;
}

// ---------------------------------------------------------------- time arguments

const UNIT_MS: Record<string, number> = {
  s: 1000, sec: 1000, secs: 1000, second: 1000, seconds: 1000,
  m: 60_000, min: 60_000, mins: 60_000, minute: 60_000, minutes: 60_000,
  h: 3_600_000, hr: 3_600_000, hrs: 3_600_000, hour: 3_600_000, hours: 3_600_000,
  d: 86_400_000, day: 86_400_000, days: 86_400_000,
  w: 604_800_000, week: 604_800_000, weeks: 604_800_000,
};

const ISO_RE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?)?$/i;

/**
 * A point in time for `--at`: an ISO-8601 date-time with `Z` or an offset
 * (`2026-11-21T10:00:00Z`, `2026-11-21T12:00:00+02:00`), a date (`2026-11-21`, midnight UTC),
 * `now`, or a relative form (`-2h`, `90m ago`, `3 days ago`; units s, m, h, d, w). Returns epoch
 * milliseconds; throws SWY_ERR_INVALID_INPUT naming `flag` for anything else.
 */
export function parseTimeArg(text: string, nowMs: number, flag = '--at'): number {
  const s = text.trim();
  const bad = (why: string): never => {
    throw new SwitchyardError(
      ErrorCodes.SWY_ERR_INVALID_INPUT,
      `${flag}: cannot read "${text}" as a time (${why}). Write an ISO time such as 2026-11-21T10:00:00Z, a date such as 2026-11-21 (midnight UTC), "now", or a relative time such as -2h or "3 days ago".`,
      flag,
    );
  };
  if (s === '') bad('it is empty');
  if (s.toLowerCase() === 'now') return nowMs;
  const rel = /^(?:-\s*(\d+(?:\.\d+)?)\s*([a-z]+)|(\d+(?:\.\d+)?)\s*([a-z]+)\s+ago)$/i.exec(s);
  if (rel) {
    const n = Number(rel[1] ?? rel[3]);
    const unit = (rel[2] ?? rel[4])!.toLowerCase();
    const ms = UNIT_MS[unit];
    if (ms === undefined) bad(`unknown unit "${unit}"; use s, m, h, d or w`);
    return nowMs - n * ms!;
  }
  const m = ISO_RE.exec(s);
  if (!m) bad('not an ISO-8601 time or a relative time');
  const [, y, mo, d, hh, mi, ss, , zone] = m!;
  if (hh !== undefined && zone === undefined) bad('it has no time zone; add Z for UTC or an offset such as +02:00');
  const month = Number(mo);
  const day = Number(d);
  if (month < 1 || month > 12 || day < 1 || day > 31 || Number(hh ?? 0) > 23 || Number(mi ?? 0) > 59 || Number(ss ?? 0) > 60) bad('a field is out of range');
  const iso = hh === undefined ? `${y}-${mo}-${d}T00:00:00Z` : s.replace(' ', 'T').replace(/([+-]\d{2})(\d{2})$/, '$1:$2');
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) bad('not a real date');
  // Date.UTC rolls 2026-02-31 over to March: refuse days that do not exist.
  if (new Date(Date.UTC(Number(y), month - 1, day)).getUTCDate() !== day) bad('that day does not exist');
  return t;
}
