/**
 * The lifecycle's reads and writes on the store (spec §4.2, §6): stage history with its actions,
 * and stage changes written as one durable transaction each (synchronous = FULL, BEGIN
 * IMMEDIATE) with a compare-and-set: the change names the stage its version is expected to be in
 * and the production version it expects, and is refused (SWY_ERR_CONFLICT, nothing written)
 * when another process changed either since the caller looked. Two operators promoting at once
 * cannot both win: the second finds production changed.
 */
import { ErrorCodes, SwitchyardError, type Stage } from '../contract/index.js';
import { insertAudit } from './audit.js';
import type { HistoryRow, LifecycleAction } from '../domain/lifecycle.js';
import type { Clock } from '../platform/clock.js';
import { iso } from '../platform/clock.js';
import { durableWrite, type Db } from './database.js';
import { translateStoreError } from './store-errors.js';

/** One stage change as `history` shows it. */
export interface HistoryRecord extends HistoryRow {
  policy: string;
  label: string;
  actor: string;
  reason: string;
  verdictId: number | null;
  forced: boolean;
}

export interface VersionRef {
  id: number;
  policy: string;
  label: string;
  stage: Stage;
  kind: 'direct' | 'iterative' | 'external';
}

export interface StageChangeRequest {
  policy: string;
  versionId: number;
  /** The stage the caller saw the version in. */
  expectStage: Stage;
  /** The production version (id) the caller saw; null = none. */
  expectProductionId: number | null;
  to: Stage;
  action: Exclude<LifecycleAction, 'stage'>;
  actor: string;
  reason: string;
  verdictId: number | null;
  forced: boolean;
  /** Extra audit detail (the verdict's problems that a force overrode, the rollback plan, ...). */
  detail?: Record<string, unknown>;
}

export interface StageChangeResult {
  at: string;
  /** stage_history ids written, the version's own row last. */
  historyIds: number[];
  /** The production version this change moved to staging, when it made a new production. */
  replacedId: number | null;
  auditId: number;
}

interface HistoryJoinRow {
  id: number;
  version_id: number;
  policy: string;
  label: string;
  from_stage: Stage | null;
  to_stage: Stage;
  at: string;
  actor: string;
  reason: string;
  verdict_id: number | null;
  forced: number;
  action: string;
}

const ACTIONS = new Set(['promote', 'rollback', 'archive', 'stage']);

export class LifecycleRecords {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {}

  /** Every stage change of a policy, oldest first. */
  history(policy: string): HistoryRecord[] {
    return this.db
      .prepare<[string], HistoryJoinRow>(
        `SELECT h.id, h.version_id, h.policy, v.label, h.from_stage, h.to_stage, h.at, h.actor, h.reason, h.verdict_id, h.forced, h.action
         FROM stage_history h JOIN versions v ON v.id = h.version_id WHERE h.policy = ? ORDER BY h.id`,
      )
      .all(policy)
      .map((r) => ({
        id: r.id,
        versionId: r.version_id,
        policy: r.policy,
        label: r.label,
        at: r.at,
        from: r.from_stage,
        to: r.to_stage,
        action: (ACTIONS.has(r.action) ? r.action : 'stage') as LifecycleAction,
        actor: r.actor,
        reason: r.reason,
        verdictId: r.verdict_id,
        forced: r.forced === 1,
      }));
  }

  /** The production version of a policy, or null. */
  production(policy: string): VersionRef | null {
    return this.db.prepare<[string], VersionRef>("SELECT id, policy, label, stage, kind FROM versions WHERE policy = ? AND stage = 'production'").get(policy) ?? null;
  }

  version(id: number): VersionRef | null {
    return this.db.prepare<[number], VersionRef>('SELECT id, policy, label, stage, kind FROM versions WHERE id = ?').get(id) ?? null;
  }

  hasPolicy(policy: string): boolean {
    return this.db.prepare<[string], { n: number }>('SELECT COUNT(*) AS n FROM versions WHERE policy = ?').get(policy)!.n > 0;
  }

  /**
   * One stage change, durably, with the compare-and-set described in the file comment. A new
   * production version sends the old one to staging in the same transaction.
   */
  apply(req: StageChangeRequest): StageChangeResult {
    try {
      return durableWrite(this.db, () => this.applyInTransaction(req));
    } catch (e) {
      throw translateStoreError(e, this.db);
    }
  }

  private applyInTransaction(req: StageChangeRequest): StageChangeResult {
    const v = this.version(req.versionId);
    if (v === null) throw new SwitchyardError(ErrorCodes.SWY_ERR_NOT_FOUND, `Version #${req.versionId} is no longer in the store.`);
    const ref = `${v.policy}@${v.label}`;
    if (v.stage !== req.expectStage) {
      const last = this.lastChange(v.id);
      throw new SwitchyardError(
        ErrorCodes.SWY_ERR_CONFLICT,
        `${ref} changed while this ${req.action} was being decided: it is now ${v.stage}${last ? ` (${last.actor}, ${last.at}: ${last.reason})` : ''}, not ${req.expectStage}. Nothing was written; look at \`switchyard history ${v.policy}\` and decide again.`,
        ref,
      );
    }
    const prod = this.production(v.policy);
    if ((prod?.id ?? null) !== req.expectProductionId) {
      const expected = req.expectProductionId === null ? 'none' : (this.version(req.expectProductionId)?.label ?? `#${req.expectProductionId}`);
      const last = prod ? this.lastChange(prod.id) : null;
      throw new SwitchyardError(
        ErrorCodes.SWY_ERR_CONFLICT,
        `The production version of ${v.policy} changed while this ${req.action} was being decided: it is now ${prod ? `${prod.label}${last ? ` (${last.action === 'rollback' ? 'rolled back' : 'promoted'} by ${last.actor} at ${last.at})` : ''}` : 'none'}, not ${expected}. ` +
          `Someone else changed it first; nothing was written. Look at \`switchyard history ${v.policy}\` and decide again.`,
        ref,
      );
    }
    const at = iso(this.clock.now());
    const historyIds: number[] = [];
    let replacedId: number | null = null;
    if (req.to === 'production' && prod !== null) {
      this.db.prepare("UPDATE versions SET stage = 'staging' WHERE id = ?").run(prod.id);
      const why = req.action === 'rollback' ? `rolled back to ${v.label}: ${req.reason}` : `replaced by ${v.label}`;
      historyIds.push(this.insertHistory(prod.id, v.policy, 'production', 'staging', at, req.actor, why, null, false, req.action));
      replacedId = prod.id;
    }
    this.db.prepare('UPDATE versions SET stage = ? WHERE id = ?').run(req.to, v.id);
    historyIds.push(this.insertHistory(v.id, v.policy, v.stage, req.to, at, req.actor, req.reason, req.verdictId, req.forced, req.action));
    const detail = {
      from: v.stage,
      to: req.to,
      reason: req.reason,
      verdictId: req.verdictId,
      forced: req.forced,
      replaced: replacedId === null ? null : (this.version(replacedId)?.label ?? null),
      historyIds,
      ...(req.detail ?? {}),
    };
    const auditId = insertAudit(this.db, at, req.actor, req.action, ref, detail);
    return { at, historyIds, replacedId, auditId };
  }

  /** Append an audit entry on its own (canary looks, aborts), durably. */
  audit(actor: string, action: string, subject: string, detail: unknown): number {
    try {
      return durableWrite(this.db, () => insertAudit(this.db, iso(this.clock.now()), actor, action, subject, detail));
    } catch (e) {
      throw translateStoreError(e, this.db);
    }
  }

  private lastChange(versionId: number): { at: string; actor: string; reason: string; action: string } | null {
    return (
      this.db
        .prepare<[number], { at: string; actor: string; reason: string; action: string }>('SELECT at, actor, reason, action FROM stage_history WHERE version_id = ? ORDER BY id DESC LIMIT 1')
        .get(versionId) ?? null
    );
  }

  private insertHistory(versionId: number, policy: string, from: Stage | null, to: Stage, at: string, actor: string, reason: string, verdictId: number | null, forced: boolean, action: string): number {
    return Number(
      this.db
        .prepare('INSERT INTO stage_history (version_id, policy, from_stage, to_stage, at, actor, reason, verdict_id, forced, action) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
        .run(versionId, policy, from, to, at, actor, reason, verdictId, forced ? 1 : 0, action).lastInsertRowid,
    );
  }
}
