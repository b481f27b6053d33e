/**
 * Promote, roll back, archive, and read the stage history (spec §6). The decisions are the pure
 * functions of domain/lifecycle.ts; this service gathers their facts from the store and the
 * files, and writes each change as one durable compare-and-set transaction (LifecycleRecords).
 *
 * - promote: a gated move needs the newest verdict for its transition to be GO and to still hold:
 *   same rules file bytes (hash), same suite (the newest suite of the rules' name, checked against
 *   its file on disk), same baseline (the rules' baseline resolved now: `production` is the
 *   production version now). `force` with a reason overrides and is recorded (forced = 1, the
 *   reason, the verdict it rested on, and what it overrode, in the audit log).
 * - rollback: the previous production version on the production timeline (see
 *   domain/lifecycle.ts) becomes production; archived versions are skipped.
 * - archive: refused for the production version and the last 3 that were production.
 *
 * Every change is read, decided, then written with the stage and production version it was
 * decided on; a change made by someone else in between is refused with SWY_ERR_CONFLICT.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { isAbsolute, resolve as resolvePath } from 'node:path';
import { ErrorCodes, SwitchyardError, type Stage, type VersionSummary } from '../contract/index.js';
import {
  decidePromotion,
  lastProductionSpan,
  planRollback,
  planStageMove,
  productionAt,
  protectedVersions,
  type CurrentFacts,
  type PromotionDecision,
  type VerdictFacts,
} from '../domain/lifecycle.js';
import { parseRules, rulesHash, type Transition } from '../eval/rules-parser.js';
import { EXTERNAL_ENV } from '../eval/import-results.js';
import { loadSuite } from '../eval/suite.js';
import { iso, type Clock } from '../platform/clock.js';
import type { Logger } from '../platform/logger.js';
import type { Db } from '../store/database.js';
import type { EvalStore, VerdictRecord } from '../store/eval-store.js';
import { LifecycleRecords, type HistoryRecord, type VersionRef } from '../store/lifecycle-records.js';
import type { Registry, VersionRecord } from '../store/registry.js';

export type LifecycleActionName = 'promote' | 'rollback' | 'archive';

/** What every committed change reports (the `lifecycle.changed` event). */
export interface LifecycleChange {
  policy: string;
  action: LifecycleActionName;
  /** `policy@label` */
  version: string;
  versionId: number;
  from: Stage;
  to: Stage;
  at: string;
  actor: string;
  reason: string;
  verdictId: number | null;
  forced: boolean;
  /** The production version this change replaced (`policy@label`), or null. */
  replaced: string | null;
  replacedId: number | null;
}

export interface PromoteRequest {
  /** `policy@label` (or `policy@<stage>`). */
  version: string;
  to: Stage;
  actor: string;
  force?: boolean;
  reason?: string | null;
  /** Rest on this verdict (one the caller just computed) instead of the newest stored one. */
  verdictId?: number;
  /** Refuse (SWY_ERR_CONFLICT) unless this is the production label now; null = expect none. */
  expectedProduction?: string | null;
}

export interface PromoteResult {
  policy: string;
  version: VersionSummary;
  from: Stage;
  to: Stage;
  at: string;
  replaced: VersionSummary | null;
  verdictId: number | null;
  forced: boolean;
  /** With `forced`: what the override went past (a missing, NO-GO or stale verdict). */
  overridden: string[];
  reason: string;
  actor: string;
  historyIds: number[];
}

export interface RollbackRequest {
  policy: string;
  actor: string;
  reason?: string | null;
  expectedProduction?: string | null;
}

export interface RollbackResult {
  policy: string;
  restored: VersionSummary;
  replaced: VersionSummary;
  at: string;
  /** When the restored version was production last time. */
  lastProduction: { from: string; until: string | null } | null;
  /** Archived versions passed over (`policy@label`). */
  skipped: string[];
  reason: string;
  actor: string;
  historyIds: number[];
}

export interface ArchiveResult {
  policy: string;
  version: VersionSummary;
  from: Stage;
  at: string;
  reason: string;
  actor: string;
  historyIds: number[];
}

export interface HistoryEntry {
  id: number;
  at: string;
  policy: string;
  label: string;
  from: Stage | null;
  to: Stage;
  action: 'promote' | 'rollback' | 'archive' | 'stage';
  actor: string;
  reason: string;
  verdictId: number | null;
  forced: boolean;
}

export interface ProductionAtAnswer {
  policy: string;
  /** The time asked about (ISO). */
  at: string;
  production: VersionSummary | null;
  since: string | null;
  until: string | null;
  message: string;
}

/** A promotion's verdict check without the write (the canary checks before it ramps). */
export interface PromotionCheck extends PromotionDecision {
  version: VersionRecord;
  transition: Transition;
  productionId: number | null;
}

export interface LifecycleServiceOptions {
  db: Db;
  registry: Registry;
  evalStore: EvalStore;
  clock: Clock;
  logger?: Logger;
  /** After every committed change: the engine pushes `lifecycle.changed` and moves traffic. */
  onChange?: (c: LifecycleChange) => void;
  /** Relative rules paths recorded in verdicts are read from here (default: the process's cwd). */
  cwd?: string;
}

interface StoredEvidence {
  rulesFile?: unknown;
  summary?: unknown;
  suite?: { name?: unknown };
}

export class LifecycleService {
  readonly store: LifecycleRecords;

  constructor(private readonly opts: LifecycleServiceOptions) {
    this.store = new LifecycleRecords(opts.db, opts.clock);
  }

  /**
   * Check that `version` may move to `to` and decide on which verdict (see the file comment);
   * throws what `promote` would. The facts are read before the first await, so a change made
   * meanwhile is caught by the write's compare-and-set.
   */
  async check(req: Omit<PromoteRequest, 'actor'>): Promise<PromotionCheck> {
    const { registry, evalStore } = this.opts;
    const v = registry.resolve(req.version);
    const ref = `${v.policy}@${v.label}`;
    const move = planStageMove(ref, v.stage, req.to);
    const prod = this.store.production(v.policy);
    this.checkExpected(v.policy, prod, req.expectedProduction, 'promotion');
    if (move.kind === 'archive' || move.transition === null) {
      throw new SwitchyardError(ErrorCodes.SWY_ERR_INVALID_INPUT, `Archiving needs no verdict; use \`switchyard archive ${ref}\`.`, ref);
    }
    const transition = move.transition;
    let verdict: VerdictRecord | null;
    if (req.verdictId !== undefined) {
      verdict = evalStore.getVerdict(req.verdictId);
      if (verdict === null || verdict.candidateVersionId !== v.id || verdict.transition !== transition) {
        throw new SwitchyardError(ErrorCodes.SWY_ERR_INVALID_INPUT, `Verdict #${req.verdictId} is not a ${transition} verdict for ${ref}.`, 'verdictId');
      }
    } else {
      verdict = evalStore.latestVerdict({ candidateVersionId: v.id, transition });
    }
    const facts = verdict ? this.verdictFacts(verdict) : null;
    const current = verdict && facts ? await this.currentFacts(facts, v, transition, prod) : null;
    const rulesFile = facts?.rulesFile ?? null;
    const gateHint = rulesFile
      ? `\`switchyard promote ${ref} --to ${req.to} --rules ${rulesFile}\` gates and promotes in one step`
      : `\`switchyard gate --rules FILE --candidate ${ref}\`, FILE being the ${transition} rules`;
    const decision = decidePromotion({ ref, to: req.to, transition, verdict: facts, current, force: req.force ?? false, reason: req.reason ?? null, gateHint });
    return { ...decision, version: v, transition, productionId: prod?.id ?? null };
  }

  /** Move a version to a stage (see the file comment); `to: 'archived'` archives it. */
  async promote(req: PromoteRequest): Promise<PromoteResult> {
    if (req.to === 'archived') {
      const a = this.archive({ version: req.version, actor: req.actor, reason: req.reason ?? null });
      return { policy: a.policy, version: a.version, from: a.from, to: 'archived', at: a.at, replaced: null, verdictId: null, forced: false, overridden: [], reason: a.reason, actor: a.actor, historyIds: a.historyIds };
    }
    const c = await this.check(req);
    const v = c.version;
    const ref = `${v.policy}@${v.label}`;
    const reason = req.reason?.trim() || (c.verdictId !== null ? `GO verdict #${c.verdictId} for ${c.transition}` : 'promoted');
    const res = this.store.apply({
      policy: v.policy,
      versionId: v.id,
      expectStage: v.stage,
      expectProductionId: c.productionId,
      to: req.to,
      action: 'promote',
      actor: req.actor,
      reason,
      verdictId: c.verdictId,
      forced: c.forced,
      ...(c.forced ? { detail: { overridden: c.overridden } } : {}),
    });
    const replaced = res.replacedId !== null ? this.summaryOf(res.replacedId) : null;
    const version = this.opts.registry.getVersion(v.policy, v.label);
    this.opts.logger?.info({ version: ref, from: v.stage, to: req.to, verdictId: c.verdictId, forced: c.forced, actor: req.actor }, c.forced ? 'promoted (forced)' : 'promoted');
    this.emit({ policy: v.policy, action: 'promote', version: ref, versionId: v.id, from: v.stage, to: req.to, at: res.at, actor: req.actor, reason, verdictId: c.verdictId, forced: c.forced, replaced: replaced ? `${replaced.policy}@${replaced.label}` : null, replacedId: res.replacedId });
    return { policy: v.policy, version, from: v.stage, to: req.to, at: res.at, replaced, verdictId: c.verdictId, forced: c.forced, overridden: c.overridden, reason, actor: req.actor, historyIds: res.historyIds };
  }

  /** The version `rollback` would restore now, or null (no write). */
  rollbackTarget(policy: string): { target: VersionRef; current: VersionRef; skipped: VersionRef[] } | null {
    const prod = this.store.production(policy);
    if (prod === null) return null;
    const plan = planRollback(this.store.history(policy), prod.id, (id) => this.store.version(id)?.stage === 'archived');
    if (plan === null) return null;
    return { target: this.store.version(plan.target)!, current: prod, skipped: plan.skipped.map((id) => this.store.version(id)!) };
  }

  /** Make the previous production version production again (see domain/lifecycle.ts). */
  rollback(req: RollbackRequest): RollbackResult {
    this.requirePolicy(req.policy);
    const prod = this.store.production(req.policy);
    if (prod === null) {
      throw new SwitchyardError(ErrorCodes.SWY_ERR_CONFLICT, `${req.policy} has no production version, so there is nothing to roll back. \`switchyard history ${req.policy}\` shows what happened.`, req.policy);
    }
    this.checkExpected(req.policy, prod, req.expectedProduction, 'rollback');
    const rows = this.store.history(req.policy);
    const plan = planRollback(rows, prod.id, (id) => this.store.version(id)?.stage === 'archived');
    if (plan === null) {
      throw new SwitchyardError(
        ErrorCodes.SWY_ERR_NOT_FOUND,
        `${req.policy} has no earlier production version to roll back to: ${prod.label} is the first in its production timeline (archived versions are skipped). Promote another version instead.`,
        req.policy,
      );
    }
    const target = this.store.version(plan.target)!;
    const skipped = plan.skipped.map((id) => `${req.policy}@${this.store.version(id)?.label ?? `#${id}`}`);
    const reason = req.reason?.trim() || `rollback from ${prod.label}`;
    const span = lastProductionSpan(rows, target.id);
    const res = this.store.apply({
      policy: req.policy,
      versionId: target.id,
      expectStage: target.stage,
      expectProductionId: prod.id,
      to: 'production',
      action: 'rollback',
      actor: req.actor,
      reason,
      verdictId: null,
      forced: false,
      detail: { from: prod.label, skipped },
    });
    const ref = `${req.policy}@${target.label}`;
    this.opts.logger?.warn({ policy: req.policy, restored: target.label, replaced: prod.label, actor: req.actor, reason }, 'rolled back');
    this.emit({ policy: req.policy, action: 'rollback', version: ref, versionId: target.id, from: target.stage, to: 'production', at: res.at, actor: req.actor, reason, verdictId: null, forced: false, replaced: `${req.policy}@${prod.label}`, replacedId: prod.id });
    return {
      policy: req.policy,
      restored: this.opts.registry.getVersion(req.policy, target.label),
      replaced: this.summaryOf(prod.id),
      at: res.at,
      lastProduction: span ? { from: span.from, until: span.until } : null,
      skipped,
      reason,
      actor: req.actor,
      historyIds: res.historyIds,
    };
  }

  /** Archive a version, unless the guards protect it (see the file comment). */
  archive(req: { version: string; actor: string; reason?: string | null }): ArchiveResult {
    const v = this.opts.registry.resolve(req.version);
    const ref = `${v.policy}@${v.label}`;
    planStageMove(ref, v.stage, 'archived');
    const prod = this.store.production(v.policy);
    const guard = protectedVersions(this.store.history(v.policy), prod?.id ?? null).get(v.id);
    if (guard !== undefined) {
      throw new SwitchyardError(
        ErrorCodes.SWY_ERR_PROTECTED_VERSION,
        `${ref} cannot be archived: it is ${guard}. The guard keeps the production version and the last 3 versions that were production, so a rollback always has somewhere to go.`,
        ref,
      );
    }
    const reason = req.reason?.trim() || 'archived';
    const res = this.store.apply({ policy: v.policy, versionId: v.id, expectStage: v.stage, expectProductionId: prod?.id ?? null, to: 'archived', action: 'archive', actor: req.actor, reason, verdictId: null, forced: false });
    this.emit({ policy: v.policy, action: 'archive', version: ref, versionId: v.id, from: v.stage, to: 'archived', at: res.at, actor: req.actor, reason, verdictId: null, forced: false, replaced: null, replacedId: null });
    return { policy: v.policy, version: this.opts.registry.getVersion(v.policy, v.label), from: v.stage, at: res.at, reason, actor: req.actor, historyIds: res.historyIds };
  }

  /** Every stage change of a policy, oldest first. */
  history(policy: string): HistoryEntry[] {
    this.requirePolicy(policy);
    return this.store.history(policy).map((r: HistoryRecord) => ({
      id: r.id,
      at: r.at,
      policy: r.policy,
      label: r.label,
      from: r.from,
      to: r.to,
      action: r.action,
      actor: r.actor,
      reason: r.reason,
      verdictId: r.verdictId,
      forced: r.forced,
    }));
  }

  /** What was production at time `t` (epoch ms), from the stage history. */
  productionAt(policy: string, t: number): ProductionAtAnswer {
    this.requirePolicy(policy);
    const rows = this.store.history(policy);
    const at = iso(t);
    const span = productionAt(rows, t);
    if (span === null) {
      const first = rows.find((r) => r.to === 'production');
      const message = first
        ? Date.parse(first.at) > t
          ? `${policy} had no production version at ${at}: its first production version, ${first.label}, became production at ${first.at}.`
          : `${policy} had no production version at ${at}.`
        : `${policy} had no production version at ${at}: it has never had one.`;
      return { policy, at, production: null, since: null, until: null, message };
    }
    const v = this.store.version(span.versionId)!;
    const production = this.opts.registry.getVersion(policy, v.label);
    const message = `At ${at} the production version of ${policy} was ${v.label} (${production.modelVersion}), production from ${span.from} ${span.until === null ? 'and still is' : `until ${span.until}`}.`;
    return { policy, at, production, since: span.from, until: span.until, message };
  }

  // ---------------------------------------------------------------- internals

  private emit(c: LifecycleChange): void {
    try {
      this.opts.onChange?.(c);
    } catch (e) {
      this.opts.logger?.error({ err: String(e), change: c.action, version: c.version }, 'lifecycle change listener failed');
    }
  }

  private requirePolicy(policy: string): void {
    if (this.store.hasPolicy(policy)) return;
    const names = this.opts.registry.listPolicies().map((p) => p.name);
    throw new SwitchyardError(
      ErrorCodes.SWY_ERR_NOT_FOUND,
      `No policy named ${policy} in the store${names.length ? ` (registered: ${names.join(', ')})` : ''}. \`switchyard policies\` lists them.`,
      policy,
    );
  }

  private checkExpected(policy: string, prod: VersionRef | null, expected: string | null | undefined, what: string): void {
    if (expected === undefined) return;
    const now = prod?.label ?? null;
    if (now === expected) return;
    throw new SwitchyardError(
      ErrorCodes.SWY_ERR_CONFLICT,
      `The production version of ${policy} is ${now ?? 'none'}, not ${expected ?? 'none'} as this ${what} expected: someone changed it since you looked. Nothing was written; check \`switchyard history ${policy}\` and decide again.`,
      policy,
    );
  }

  private summaryOf(id: number): VersionSummary {
    const v = this.store.version(id)!;
    return this.opts.registry.getVersion(v.policy, v.label);
  }

  private label(id: number | null): string {
    if (id === null) return 'none';
    const v = this.store.version(id);
    return v ? `${v.policy}@${v.label}` : `version #${id}`;
  }

  private verdictFacts(v: VerdictRecord): VerdictFacts {
    const e = (v.evidence ?? {}) as StoredEvidence;
    return {
      id: v.id,
      verdict: v.verdict,
      transition: v.transition,
      candidateVersionId: v.candidateVersionId,
      baselineVersionId: v.baselineVersionId,
      suiteFingerprint: v.suiteFingerprint,
      rulesHash: v.rulesHash,
      rulesFile: typeof e.rulesFile === 'string' ? e.rulesFile : null,
      summary: typeof e.summary === 'string' ? e.summary : v.verdict,
      createdAt: v.createdAt,
    };
  }

  /** The facts a verdict must still match: rules file, suite and baseline as they are now. */
  private async currentFacts(v: VerdictFacts, candidate: VersionRecord, transition: Transition, prod: VersionRef | null): Promise<CurrentFacts> {
    const out: CurrentFacts = {
      transition,
      candidateVersionId: candidate.id,
      baselineVersionId: prod?.id ?? null,
      baselineLabel: prod ? `${prod.policy}@${prod.label} (production now)` : 'none (no production version now)',
      verdictBaselineLabel: this.label(v.baselineVersionId),
      suiteFingerprint: null,
      rulesHash: null,
    };
    // The rules file, read again.
    let suiteRef: string | null = null;
    if (v.rulesFile === null) {
      out.rulesProblem = 'the verdict does not name its rules file';
    } else {
      const path = isAbsolute(v.rulesFile) ? v.rulesFile : resolvePath(this.opts.cwd ?? process.cwd(), v.rulesFile);
      try {
        const text = await readFile(path, 'utf8');
        out.rulesHash = rulesHash(text);
        const rules = parseRules(text, v.rulesFile);
        suiteRef = rules.suite;
        if (rules.baseline !== 'production') {
          try {
            const b = this.opts.registry.resolve(rules.baseline);
            out.baselineVersionId = b.id;
            out.baselineLabel = `${b.policy}@${b.label} (the rules' baseline)`;
          } catch {
            out.baselineVersionId = null;
            out.baselineLabel = `${rules.baseline} (the rules' baseline, not in the store)`;
          }
        }
      } catch (e) {
        if (out.rulesHash === null) out.rulesProblem = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'the file is gone' : (e as Error).message;
        // A file that no longer parses has another hash: the staleness check says it changed.
      }
    }
    // The suite: the newest of the rules' name, and its file if it still exists.
    const rec = this.opts.evalStore.findSuite(suiteRef ?? '') ?? (v.suiteFingerprint ? this.opts.evalStore.getSuite(v.suiteFingerprint) : null);
    if (rec === null) {
      out.suiteProblem = `suite ${suiteRef ?? '(unknown)'} is not in the store`;
    } else {
      out.suiteFingerprint = rec.fingerprint;
      if (rec.environment !== EXTERNAL_ENV && rec.path && existsSync(rec.path)) {
        try {
          out.suiteFingerprint = (await loadSuite(rec.path)).fingerprint;
        } catch (e) {
          out.suiteFingerprint = null;
          out.suiteProblem = `its file ${rec.path} cannot be loaded: ${(e as Error).message}`;
        }
      }
    }
    return out;
  }
}
