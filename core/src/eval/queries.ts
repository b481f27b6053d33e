/**
 * Read-side summaries for the contract (`eval.runs`, `verdicts.list`, the Versions page's last
 * verdict): a few set-based queries rather than one query per row.
 */
import type { SwitchyardErrorShape } from '../contract/errors.js';
import type { RuleEvidence } from '../domain/verdict.js';
import type { Db } from '../store/database.js';
import type { EvalStore, RunKind, RunStatus, VerdictValue } from '../store/eval-store.js';
import { determinismBadge, type DeterminismBadge } from './compare.js';

export interface RunSummary {
  id: number;
  /** `policy@label` */
  version: string;
  suite: string;
  suiteFingerprint: string;
  kind: RunKind;
  status: RunStatus;
  startedAt: string;
  endedAt: string | null;
  casesTotal: number;
  casesDone: number;
  passed: number;
  error: SwitchyardErrorShape | null;
  determinism: DeterminismBadge;
  casesPerSecond: number | null;
}

export interface VerdictSummary {
  id: number;
  policy: string;
  candidate: string;
  baseline: string | null;
  transition: string;
  suite: string | null;
  suiteFingerprint: string | null;
  rulesHash: string;
  rulesFile: string | null;
  verdict: VerdictValue;
  summary: string;
  rules: RuleEvidence[];
  failingCases: string[];
  createdAt: string;
}

export function versionRefs(db: Db): Map<number, string> {
  const rows = db.prepare<[], { id: number; policy: string; label: string }>('SELECT id, policy, label FROM versions').all();
  return new Map(rows.map((r) => [r.id, `${r.policy}@${r.label}`]));
}

function suiteNames(db: Db): Map<string, string> {
  const rows = db.prepare<[], { fingerprint: string; name: string }>('SELECT fingerprint, name FROM suites').all();
  return new Map(rows.map((r) => [r.fingerprint, r.name]));
}

/** Evaluation runs, newest first, with pass counts and determinism badges. */
export function listRunSummaries(db: Db, store: EvalStore, filter: { versionId?: number; suiteFingerprint?: string; limit?: number } = {}): RunSummary[] {
  const runs = store.listRuns(filter);
  if (runs.length === 0) return [];
  const refs = versionRefs(db);
  const names = suiteNames(db);
  const ids = runs.map((r) => r.id);
  const passed = new Map(
    db
      .prepare<number[], { run_id: number; passed: number }>(`SELECT run_id, SUM(pass) AS passed FROM eval_results WHERE run_id IN (${ids.map(() => '?').join(',')}) GROUP BY run_id`)
      .all(...ids)
      .map((r) => [r.run_id, r.passed]),
  );
  return runs.map((r) => {
    const cps = r.stats?.['casesPerSecond'];
    return {
      id: r.id,
      version: refs.get(r.versionId) ?? `#${r.versionId}`,
      suite: names.get(r.suiteFingerprint) ?? r.suiteFingerprint.slice(0, 12),
      suiteFingerprint: r.suiteFingerprint,
      kind: r.kind,
      status: r.status,
      startedAt: r.startedAt,
      endedAt: r.endedAt,
      casesTotal: r.casesTotal,
      casesDone: r.casesDone,
      passed: passed.get(r.id) ?? 0,
      error: r.error,
      determinism: determinismBadge(r),
      casesPerSecond: typeof cps === 'number' && Number.isFinite(cps) ? cps : null,
    };
  });
}

interface StoredEvidence {
  summary?: unknown;
  rules?: unknown;
  rulesFile?: unknown;
  failingCases?: unknown;
}

/** Verdicts of a policy (optionally of one candidate version), newest first, with their evidence. */
export function listVerdictSummaries(db: Db, store: EvalStore, filter: { policy?: string; candidateVersionId?: number; limit?: number; id?: number }): VerdictSummary[] {
  const verdicts = store.listVerdicts(filter);
  if (verdicts.length === 0) return [];
  const refs = versionRefs(db);
  const names = suiteNames(db);
  return verdicts.map((v) => {
    const e = (v.evidence ?? {}) as StoredEvidence;
    return {
      id: v.id,
      policy: v.policy,
      candidate: refs.get(v.candidateVersionId) ?? `#${v.candidateVersionId}`,
      baseline: v.baselineVersionId === null ? null : (refs.get(v.baselineVersionId) ?? `#${v.baselineVersionId}`),
      transition: v.transition,
      suite: v.suiteFingerprint === null ? null : (names.get(v.suiteFingerprint) ?? null),
      suiteFingerprint: v.suiteFingerprint,
      rulesHash: v.rulesHash,
      rulesFile: typeof e.rulesFile === 'string' ? e.rulesFile : null,
      verdict: v.verdict,
      summary: typeof e.summary === 'string' ? e.summary : v.verdict,
      rules: Array.isArray(e.rules) ? (e.rules as RuleEvidence[]) : [],
      failingCases: Array.isArray(e.failingCases) ? (e.failingCases as string[]) : [],
      createdAt: v.createdAt,
    };
  });
}

/** The newest verdict of every version that has one, keyed `policy@label` (one query). */
export function latestVerdictByVersion(db: Db): Map<string, VerdictValue> {
  const rows = db
    .prepare<[], { policy: string; label: string; verdict: VerdictValue }>(
      `SELECT v.policy AS policy, v.label AS label, d.verdict AS verdict
       FROM verdicts d JOIN versions v ON v.id = d.candidate_version_id
       WHERE d.id = (SELECT MAX(id) FROM verdicts WHERE candidate_version_id = d.candidate_version_id)`,
    )
    .all();
  return new Map(rows.map((r) => [`${r.policy}@${r.label}`, r.verdict]));
}
