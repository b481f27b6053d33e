import {
  ErrorCodes,
  type HistoryEntry,
  type PolicySummary,
  type RulesFile,
  type Stage,
  type SuiteSummary,
  type SwitchyardErrorShape,
  type TransitionName,
  type VerdictSummary,
  type VersionSummary,
} from '@contract';
import { gatedTransition, productionSpansOf, productionStackOf, rollbackPlanOf } from '@shared';

/**
 * The Promote / Rollback page's decisions as pure functions: which moves exist, which verdict a
 * move rests on and whether it still looks valid, where a rollback goes, and what to tell the
 * operator about an error. The stage-move table and the production timeline are core's own
 * (`@shared`, core/src/shared/production-timeline.ts), keyed here by label; the page only previews:
 * the server decides, and its refusal (SWY_ERR_VERDICT_REQUIRED, SWY_ERR_CONFLICT) always wins.
 */

export type TargetStage = 'staging' | 'production';

export const TARGET_STAGES: readonly TargetStage[] = ['staging', 'production'];

export type StageMove = { ok: true; transition: TransitionName } | { ok: false; why: string };

/** The move of a version in `from` to `to`, as core allows it (planStageMove), or why not. */
export function stageMove(label: string, from: Stage, to: TargetStage): StageMove {
  const transition = gatedTransition(from, to);
  if (transition !== null) return { ok: true, transition };
  if (to === 'staging') {
    if (from === 'staging') return { ok: false, why: `${label} is already in staging.` };
    return { ok: false, why: `${label} is the production version: it goes back to staging when another version replaces it, or by a rollback.` };
  }
  if (from === 'production') return { ok: false, why: `${label} is already the production version.` };
  return { ok: false, why: `${label} is ${from}: a version reaches production from staging. Promote it to staging first.` };
}

/** The stage a version naturally moves to next (candidate/archived → staging, staging → production). */
export function defaultTarget(stage: Stage): TargetStage {
  return stage === 'staging' || stage === 'production' ? 'production' : 'staging';
}

/** The version the page selects first: the newest staging version, else the newest candidate. */
export function defaultVersion(versions: readonly VersionSummary[]): VersionSummary | null {
  const newest = [...versions].reverse();
  return newest.find((v) => v.stage === 'staging') ?? newest.find((v) => v.stage === 'candidate') ?? null;
}

export function refOf(policy: string, label: string): string {
  return `${policy}@${label}`;
}

/** The label of a `policy@label` reference (the reference itself when it has no `@`). */
export function labelOf(ref: string): string {
  const at = ref.lastIndexOf('@');
  return at < 0 ? ref : ref.slice(at + 1);
}

export function fileName(path: string): string {
  return path.slice(Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\')) + 1);
}

/** The newest verdict for `ref` and `transition` (verdicts in any order), or null. */
export function latestVerdict(verdicts: readonly VerdictSummary[], ref: string, transition: TransitionName): VerdictSummary | null {
  let best: VerdictSummary | null = null;
  for (const v of verdicts) {
    if (v.candidate !== ref || v.transition !== transition) continue;
    if (best === null || v.id > best.id) best = v;
  }
  return best;
}

/** Rules files for a transition that parse; the one a verdict names first. */
export function rulesForTransition(rules: readonly RulesFile[], transition: TransitionName, preferPath: string | null = null): RulesFile[] {
  const usable = rules.filter((r) => r.error === null && r.transition === transition);
  const preferred = usable.find((r) => r.path === preferPath);
  return preferred ? [preferred, ...usable.filter((r) => r !== preferred)] : usable;
}

/** The rules file to gate with: the operator's choice while it is still offered, else the first. */
export function chooseRules(offered: readonly RulesFile[], chosen: string | null): RulesFile | null {
  return offered.find((r) => r.path === chosen) ?? offered[0] ?? null;
}

/**
 * Why a stored verdict may no longer hold, as far as the workbench can tell: its rules file is
 * gone or changed (hash), its suite has a newer fingerprint, or its baseline is no longer the one
 * the rules name (`production`: the production version now). The server re-checks on promote,
 * reading the suite file too, and names every reason in its refusal.
 */
export function verdictStaleness(
  verdict: VerdictSummary,
  facts: { rules: readonly RulesFile[]; suites: readonly SuiteSummary[]; productionRef: string | null },
): string[] {
  const reasons: string[] = [];
  const file = verdict.rulesFile;
  const rules = file === null ? undefined : facts.rules.find((r) => r.path === file);
  if (file === null) reasons.push(`verdict #${verdict.id} does not name its rules file`);
  else if (rules === undefined) reasons.push(`its rules file ${fileName(file)} is no longer among the server's rules files`);
  else if (rules.hash !== verdict.rulesHash) reasons.push(`the rules file ${fileName(file)} changed since verdict #${verdict.id}`);

  if (verdict.suite !== null && verdict.suiteFingerprint !== null) {
    const newest = newestSuite(facts.suites, verdict.suite);
    if (newest !== null && newest.fingerprint !== verdict.suiteFingerprint) {
      reasons.push(`the suite ${verdict.suite} changed since verdict #${verdict.id} (fingerprint ${verdict.suiteFingerprint.slice(0, 12)} then, ${newest.fingerprint.slice(0, 12)} now)`);
    }
  }

  const baselineRule = rules?.baseline ?? 'production';
  const expected = baselineRule === 'production' ? facts.productionRef : baselineRule.includes('@') ? baselineRule : null;
  if ((baselineRule === 'production' || expected !== null) && verdict.baseline !== expected) {
    const now = baselineRule === 'production' ? `${expected === null ? 'none' : labelOf(expected)} (production now)` : (expected as string);
    reasons.push(`the baseline changed: verdict #${verdict.id} compared with ${verdict.baseline === null ? 'none' : labelOf(verdict.baseline)}, the baseline now is ${now}`);
  }
  return reasons;
}

function newestSuite(suites: readonly SuiteSummary[], name: string): SuiteSummary | null {
  let best: SuiteSummary | null = null;
  for (const s of suites) {
    if (s.name !== name && s.fingerprint !== name) continue;
    if (best === null || s.createdAt > best.createdAt) best = s;
  }
  return best;
}

/**
 * A promotion needs a reason (and goes as an override, `force: true`) unless it rests on a GO
 * verdict that still holds: no verdict, a NO-GO or INCONCLUSIVE one, a stale one, or one the
 * server refused all need a reason.
 */
export function reasonRequired(input: { verdict: VerdictSummary | null; stale: readonly string[]; refused: boolean }): boolean {
  return input.refused || input.verdict === null || input.verdict.verdict !== 'GO' || input.stale.length > 0;
}

/** The confirm button is enabled when no reason is needed, or a non-blank one is given. */
export function canConfirm(required: boolean, reason: string): boolean {
  return !required || reason.trim() !== '';
}

/** Why the override is needed, in one line, for the confirmation. */
export function overrideWhy(verdict: VerdictSummary | null, stale: readonly string[], refusal: SwitchyardErrorShape | null): string | null {
  if (refusal !== null) return 'The server refused the promotion without an override (below).';
  if (verdict === null) return 'There is no verdict for this transition: promoting without one is an override.';
  if (verdict.verdict !== 'GO') return `The newest verdict is ${verdict.verdict}: promoting anyway is an override.`;
  if (stale.length > 0) return `Verdict #${verdict.id} may no longer hold (${stale.join('; ')}): promoting on it is an override.`;
  return null;
}

// ---------------------------------------------------------------- the production timeline

const labelOfEntry = (e: HistoryEntry): string => e.label;

/**
 * The production stack after replaying the history (core's productionStack, by label): a
 * promotion to production pushes its version, a rollback pops the stack down to its version.
 */
export function productionStack(entries: readonly HistoryEntry[]): string[] {
  return productionStackOf(entries, labelOfEntry);
}

export interface ProductionSpan {
  label: string;
  from: string;
  /** Null: still production. */
  until: string | null;
}

/** Every span of time a version was production, oldest first. */
export function productionSpans(entries: readonly HistoryEntry[]): ProductionSpan[] {
  return productionSpansOf(entries, labelOfEntry).map((sp) => ({ label: sp.key, from: sp.from, until: sp.until }));
}

export interface RollbackTarget {
  /** The version a rollback restores. */
  label: string;
  /** The production version it replaces. */
  current: string;
  /** Archived versions passed over on the way. */
  skipped: string[];
  /** When the restored version was production last (its newest span). */
  lastProduction: ProductionSpan | null;
}

/**
 * Where a rollback goes: the production version before the current one on the production
 * timeline, skipping archived versions (core's planRollback). Null: nowhere to go.
 */
export function rollbackTarget(entries: readonly HistoryEntry[], versions: readonly VersionSummary[], currentProduction: string | null): RollbackTarget | null {
  if (currentProduction === null) return null;
  const archived = (label: string): boolean => versions.find((v) => v.label === label)?.stage === 'archived';
  const plan = rollbackPlanOf(entries, labelOfEntry, currentProduction, archived);
  if (plan === null) return null;
  const spans = productionSpans(entries).filter((s) => s.label === plan.target);
  return { label: plan.target, current: currentProduction, skipped: plan.skipped, lastProduction: spans[spans.length - 1] ?? null };
}

/** The history newest first (the timeline's order). */
export function timelineOrder(entries: readonly HistoryEntry[]): HistoryEntry[] {
  return [...entries].sort((a, b) => b.id - a.id);
}

export function findPolicy(policies: readonly PolicySummary[], name: string | null): PolicySummary | null {
  return policies.find((p) => p.name === name) ?? null;
}

// ---------------------------------------------------------------- time and errors

const LOCAL_TIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?$/;

/**
 * What to send as `lifecycle.history {at}`: the text as typed, except a date-time without a time
 * zone (`2026-11-21 14:03`, as the timeline shows times), which is read as the viewer's local
 * time and sent in UTC. The server reads ISO times with a zone, dates, `now` and `-2h`.
 */
export function normalizeAtInput(text: string): string {
  const s = text.trim();
  if (!LOCAL_TIME.test(s)) return s;
  const d = new Date(s.replace(' ', 'T'));
  return Number.isNaN(d.getTime()) ? s : d.toISOString();
}

export type LifecycleActionKind = 'promote' | 'rollback' | 'archive' | 'gate' | 'history' | 'load';

/** What to do about a lifecycle error, when the message alone does not say it plainly. */
export function hintFor(error: SwitchyardErrorShape, action: LifecycleActionKind): string | null {
  switch (error.code) {
    case ErrorCodes.SWY_ERR_CONFLICT:
      return action === 'promote' || action === 'rollback' || action === 'archive'
        ? 'Someone else changed production since you looked: refresh, check the stage history, and decide again. Nothing was written.'
        : 'Refresh and try again.';
    case ErrorCodes.SWY_ERR_PROTECTED_VERSION:
      return 'Archive an older version instead: this one stays so that a rollback always has somewhere to go.';
    case ErrorCodes.SWY_ERR_VERDICT_REQUIRED:
      return 'Run the gate for this transition to get a fresh verdict, or give a reason to override it.';
    case ErrorCodes.SWY_ERR_NOT_FOUND:
      return action === 'rollback' ? 'There is no earlier production version to go back to: promote another version instead.' : 'Refresh: it may have been removed.';
    case ErrorCodes.SWY_ERR_UNAUTHORIZED:
      return 'The server needs its token: open the console with the URL it printed (it carries ?token=...).';
    case ErrorCodes.SWY_ERR_INTERNAL:
      return action === 'gate' ? 'The gate may still be evaluating: open Compare to evaluate with progress, then run the gate again.' : 'The server log has the details.';
    default:
      return null;
  }
}
