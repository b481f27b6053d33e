/**
 * Shadow traffic evidence (spec §6, schema migration 3): how many requests the shadow slot
 * answered for a version and the largest action divergence (max abs) from the primary answer,
 * one row per version and serving session, so that counters restarting with each session add up
 * instead of overwriting each other. `staging->production` rules with
 * `shadow: { min_requests, max_divergence }` are judged from it.
 */
import type { ShadowEvidence } from '../domain/verdict.js';
import type { Clock } from '../platform/clock.js';
import { iso } from '../platform/clock.js';
import type { Db } from './database.js';
import { translateStoreError } from './store-errors.js';

export interface ShadowSessionCounters {
  versionId: number;
  /** The serving session the counters belong to. */
  session: string;
  /** The registered version the shadow was compared with (the primary), or null. */
  primaryVersionId: number | null;
  requests: number;
  errors: number;
  maxDivergence: number;
  startedAt: string;
}

export interface StoredShadowEvidence extends ShadowEvidence {
  /** Shadow answers that failed (exception, dead worker, non-finite output). */
  errors: number;
  sessions: number;
  updatedAt: string;
}

export class ShadowEvidenceStore {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {}

  /** Record (replace) one session's cumulative counters. */
  record(c: ShadowSessionCounters): void {
    try {
      this.db
        .prepare(
          `INSERT INTO shadow_evidence (version_id, session, primary_version_id, requests, errors, max_divergence, started_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT(version_id, session) DO UPDATE SET requests = excluded.requests, errors = excluded.errors,
             max_divergence = excluded.max_divergence, updated_at = excluded.updated_at, primary_version_id = excluded.primary_version_id`,
        )
        .run(c.versionId, c.session, c.primaryVersionId, c.requests, c.errors, Number.isFinite(c.maxDivergence) ? c.maxDivergence : 1e308, c.startedAt, iso(this.clock.now()));
    } catch (e) {
      throw translateStoreError(e, this.db);
    }
  }

  /**
   * The evidence for a version, summed over sessions; with `primaryVersionId` a number, only
   * sessions that shadowed that version (the current baseline). Null when there is none. A
   * failed shadow answer makes the divergence infinite: the shadow produced no usable action.
   */
  evidence(versionId: number, primaryVersionId?: number | null): StoredShadowEvidence | null {
    const where = primaryVersionId === undefined || primaryVersionId === null ? '' : ' AND primary_version_id = ?';
    const args = where ? [versionId, primaryVersionId!] : [versionId];
    const r = this.db
      .prepare<number[], { requests: number | null; errors: number | null; max: number | null; sessions: number; updated: string | null }>(
        `SELECT SUM(requests) AS requests, SUM(errors) AS errors, MAX(max_divergence) AS max, COUNT(*) AS sessions, MAX(updated_at) AS updated FROM shadow_evidence WHERE version_id = ?${where}`,
      )
      .get(...args)!;
    if (r.sessions === 0) return null;
    const errors = r.errors ?? 0;
    return {
      requests: r.requests ?? 0,
      errors,
      maxDivergence: errors > 0 || (r.max ?? 0) >= 1e308 ? Infinity : (r.max ?? 0),
      sessions: r.sessions,
      updatedAt: r.updated ?? '',
    };
  }
}
