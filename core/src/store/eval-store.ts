/**
 * Suites, evaluation runs, per-case results and verdicts: the evaluation half of the store
 * (schema migration 2).
 *
 * A run is `running` until `finishRun` gives it its final status. Results are appended in
 * batches, one transaction per batch, so a long evaluation shows progress and a crash loses
 * at most one batch. When a run fails, every result it kept is marked `partial` and not passed
 * in the same transaction as the status change: evidence, never a pass. Only `completed` runs
 * count for verdicts (`latestCompletedRun`). Verdicts are decision records and are written
 * durably (`synchronous = FULL`).
 */
import { ErrorCodes, SwitchyardError, type SwitchyardErrorShape } from '../contract/errors.js';
import type { Clock } from '../platform/clock.js';
import { iso } from '../platform/clock.js';
import { durableWrite, type Db } from './database.js';

export type RunStatus = 'running' | 'completed' | 'failed' | 'cancelled';
export type RunKind = 'native' | 'imported';
export type VerdictValue = 'GO' | 'NO-GO' | 'INCONCLUSIVE';

export interface SuiteRecord {
  fingerprint: string;
  name: string;
  environment: string;
  envVersion: string;
  path: string | null;
  caseCount: number;
  /** Cases per slice. */
  slices: Record<string, number>;
  createdAt: string;
}

/** What `saveSuite` needs: a loaded `Suite` fits. */
export interface SuiteInput {
  fingerprint: string;
  name: string;
  environment: string;
  envVersion: string;
  path: string | null;
  cases: readonly unknown[];
  sliceCounts: Record<string, number>;
}

export interface EvalRunRecord {
  id: number;
  versionId: number;
  suiteFingerprint: string;
  kind: RunKind;
  status: RunStatus;
  startedAt: string;
  endedAt: string | null;
  casesTotal: number;
  casesDone: number;
  error: SwitchyardErrorShape | null;
  determinism: unknown;
  stats: Record<string, unknown> | null;
}

export interface StoredGrader {
  name: string;
  pass: boolean | null;
  value: number | null;
}

/** One case's result as it goes in: the evaluator's `CaseResult` fits. */
export interface ResultInput {
  caseId: string;
  slices: readonly string[];
  pass: boolean;
  graders: readonly StoredGrader[];
  score?: number | null;
  latencyMs?: number | null;
  cost?: number | null;
  partial?: boolean;
  steps?: number;
  failure?: string | null;
}

export interface StoredResult {
  caseId: string;
  slices: string[];
  pass: boolean;
  graders: StoredGrader[];
  score: number | null;
  latencyMs: number | null;
  cost: number | null;
  partial: boolean;
  /** Native runs: `{ steps, failure }`. */
  detail: Record<string, unknown> | null;
}

export interface NewVerdict {
  policy: string;
  candidateVersionId: number;
  baselineVersionId: number | null;
  transition: string;
  suiteFingerprint: string | null;
  rulesHash: string;
  verdict: VerdictValue;
  evidence: unknown;
}

export interface VerdictRecord extends NewVerdict {
  id: number;
  createdAt: string;
}

interface SuiteRow {
  fingerprint: string;
  name: string;
  environment: string;
  env_version: string;
  path: string | null;
  case_count: number;
  slices_json: string;
  created_at: string;
}

interface RunRow {
  id: number;
  version_id: number;
  suite_fingerprint: string;
  kind: RunKind;
  status: RunStatus;
  started_at: string;
  ended_at: string | null;
  cases_total: number;
  cases_done: number;
  error: string | null;
  determinism_json: string | null;
  stats_json: string | null;
}

interface ResultRow {
  case_id: string;
  slices_json: string;
  pass: number;
  graders_json: string;
  score: number | null;
  latency_ms: number | null;
  cost: number | null;
  partial: number;
  detail_json: string | null;
}

interface VerdictRow {
  id: number;
  policy: string;
  candidate_version_id: number;
  baseline_version_id: number | null;
  transition: string;
  suite_fingerprint: string | null;
  rules_hash: string;
  verdict: VerdictValue;
  evidence_json: string;
  created_at: string;
}

const finiteOrNull = (v: number | null | undefined): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

function parseError(text: string | null): SwitchyardErrorShape | null {
  if (text === null) return null;
  try {
    const e = JSON.parse(text) as SwitchyardErrorShape;
    if (typeof e === 'object' && e !== null && typeof e.message === 'string') return e;
  } catch {
    // fall through: a plain message
  }
  return { code: ErrorCodes.SWY_ERR_INTERNAL, message: text };
}

export class EvalStore {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {}

  // ---- suites ----

  /** Record a suite (idempotent: a fingerprint is saved once; a new path is remembered). */
  saveSuite(s: SuiteInput): SuiteRecord {
    const now = iso(this.clock.now());
    this.db
      .prepare(
        `INSERT INTO suites (fingerprint, name, environment, env_version, path, case_count, slices_json, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(fingerprint) DO UPDATE SET path = COALESCE(excluded.path, suites.path)`,
      )
      .run(s.fingerprint, s.name, s.environment, s.envVersion, s.path, s.cases.length, JSON.stringify(s.sliceCounts), now);
    return this.getSuite(s.fingerprint)!;
  }

  /** Insert or update the row of a suite known only by name (imported results). */
  upsertSuiteRow(r: Omit<SuiteRecord, 'createdAt'>): SuiteRecord {
    const now = iso(this.clock.now());
    this.db
      .prepare(
        `INSERT INTO suites (fingerprint, name, environment, env_version, path, case_count, slices_json, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(fingerprint) DO UPDATE SET case_count = excluded.case_count, slices_json = excluded.slices_json, path = COALESCE(excluded.path, suites.path)`,
      )
      .run(r.fingerprint, r.name, r.environment, r.envVersion, r.path, r.caseCount, JSON.stringify(r.slices), now);
    return this.getSuite(r.fingerprint)!;
  }

  getSuite(fingerprint: string): SuiteRecord | null {
    const row = this.db.prepare<[string], SuiteRow>('SELECT * FROM suites WHERE fingerprint = ?').get(fingerprint);
    return row ? this.suiteRecord(row) : null;
  }

  /** A full fingerprint, a unique fingerprint prefix (8+ hex), or a name (the newest suite of that name). */
  findSuite(ref: string): SuiteRecord | null {
    const exact = this.getSuite(ref);
    if (exact) return exact;
    const byName = this.db.prepare<[string], SuiteRow>('SELECT * FROM suites WHERE name = ? ORDER BY created_at DESC, rowid DESC LIMIT 1').get(ref);
    if (byName) return this.suiteRecord(byName);
    if (/^[0-9a-f]{8,63}$/.test(ref)) {
      const rows = this.db.prepare<[string], SuiteRow>("SELECT * FROM suites WHERE fingerprint LIKE ? || '%' LIMIT 2").all(ref);
      if (rows.length === 1) return this.suiteRecord(rows[0]!);
    }
    return null;
  }

  listSuites(): SuiteRecord[] {
    return this.db.prepare<[], SuiteRow>('SELECT * FROM suites ORDER BY name, created_at').all().map((r) => this.suiteRecord(r));
  }

  // ---- runs ----

  startRun(opts: { versionId: number; suiteFingerprint: string; casesTotal: number; kind?: RunKind; stats?: Record<string, unknown> }): number {
    if (!this.getSuite(opts.suiteFingerprint)) {
      throw new SwitchyardError(ErrorCodes.SWY_ERR_NOT_FOUND, `No suite with fingerprint ${opts.suiteFingerprint} in the store; save the suite first.`, opts.suiteFingerprint);
    }
    const info = this.db
      .prepare(
        `INSERT INTO eval_runs (version_id, suite_fingerprint, kind, status, started_at, cases_total, cases_done, stats_json)
         VALUES (?, ?, ?, 'running', ?, ?, 0, ?)`,
      )
      .run(opts.versionId, opts.suiteFingerprint, opts.kind ?? 'native', iso(this.clock.now()), opts.casesTotal, opts.stats ? JSON.stringify(opts.stats) : null);
    return Number(info.lastInsertRowid);
  }

  /** Append finished cases to a running run: one transaction per call. */
  appendResults(runId: number, results: readonly ResultInput[]): void {
    if (results.length === 0) return;
    const insert = this.db.prepare(
      `INSERT INTO eval_results (run_id, case_id, slices_json, pass, graders_json, score, latency_ms, cost, partial, detail_json)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.db.transaction(() => {
      const run = this.requireRun(runId);
      if (run.status !== 'running') {
        throw new SwitchyardError(ErrorCodes.SWY_ERR_CONFLICT, `Evaluation run ${runId} is ${run.status}; results can only be added while it runs.`, `run:${runId}`);
      }
      for (const r of results) {
        const detail = r.steps !== undefined || r.failure !== undefined ? JSON.stringify({ steps: r.steps ?? null, failure: r.failure ?? null }) : null;
        insert.run(
          runId,
          r.caseId,
          JSON.stringify(r.slices),
          r.pass ? 1 : 0,
          JSON.stringify(r.graders.map((g) => ({ name: g.name, pass: g.pass, value: finiteOrNull(g.value) }))),
          finiteOrNull(r.score),
          finiteOrNull(r.latencyMs),
          finiteOrNull(r.cost),
          r.partial ? 1 : 0,
          detail,
        );
      }
      this.db.prepare('UPDATE eval_runs SET cases_done = cases_done + ? WHERE id = ?').run(results.length, runId);
    })();
  }

  /**
   * Give a running run its final status. `failed` also marks every result it kept as partial and
   * not passed, in the same transaction.
   */
  finishRun(runId: number, opts: { status: Exclude<RunStatus, 'running'>; error?: SwitchyardErrorShape | null; determinism?: unknown; stats?: Record<string, unknown> }): EvalRunRecord {
    this.db.transaction(() => {
      const run = this.requireRun(runId);
      if (run.status !== 'running') {
        throw new SwitchyardError(ErrorCodes.SWY_ERR_CONFLICT, `Evaluation run ${runId} already ended as ${run.status}.`, `run:${runId}`);
      }
      if (opts.status === 'failed') this.db.prepare('UPDATE eval_results SET partial = 1, pass = 0 WHERE run_id = ?').run(runId);
      const stats = opts.stats !== undefined ? { ...(run.stats ?? {}), ...opts.stats } : run.stats;
      this.db
        .prepare('UPDATE eval_runs SET status = ?, ended_at = ?, error = ?, determinism_json = COALESCE(?, determinism_json), stats_json = ? WHERE id = ?')
        .run(
          opts.status,
          iso(this.clock.now()),
          opts.error ? JSON.stringify(opts.error) : null,
          opts.determinism !== undefined ? JSON.stringify(opts.determinism) : null,
          stats ? JSON.stringify(stats) : null,
          runId,
        );
    })();
    return this.getRun(runId)!;
  }

  /** Record a determinism report on a finished run. */
  setDeterminism(runId: number, report: unknown): void {
    this.requireRun(runId);
    this.db.prepare('UPDATE eval_runs SET determinism_json = ? WHERE id = ?').run(JSON.stringify(report), runId);
  }

  /**
   * Runs left `running` by a process that died: marked failed (their results partial). Call at
   * start-up, before any evaluation of this process begins. Returns how many were closed.
   */
  failInterruptedRuns(reason = 'Switchyard stopped while this evaluation was running.'): number {
    const ids = this.db.prepare<[], { id: number }>("SELECT id FROM eval_runs WHERE status = 'running'").all();
    for (const { id } of ids) this.finishRun(id, { status: 'failed', error: { code: ErrorCodes.SWY_ERR_INTERNAL, message: reason } });
    return ids.length;
  }

  getRun(runId: number): EvalRunRecord | null {
    const row = this.db.prepare<[number], RunRow>('SELECT * FROM eval_runs WHERE id = ?').get(runId);
    return row ? this.runRecord(row) : null;
  }

  listRuns(filter: { versionId?: number; suiteFingerprint?: string; limit?: number } = {}): EvalRunRecord[] {
    const where: string[] = [];
    const args: (number | string)[] = [];
    if (filter.versionId !== undefined) {
      where.push('version_id = ?');
      args.push(filter.versionId);
    }
    if (filter.suiteFingerprint !== undefined) {
      where.push('suite_fingerprint = ?');
      args.push(filter.suiteFingerprint);
    }
    const sql = `SELECT * FROM eval_runs ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY id DESC LIMIT ?`;
    return this.db
      .prepare<(number | string)[], RunRow>(sql)
      .all(...args, filter.limit ?? 100)
      .map((r) => this.runRecord(r));
  }

  /** The newest completed run of a version on a suite (the evidence verdicts use), or null. */
  latestCompletedRun(versionId: number, suiteFingerprint: string): EvalRunRecord | null {
    const row = this.db
      .prepare<[number, string], RunRow>("SELECT * FROM eval_runs WHERE version_id = ? AND suite_fingerprint = ? AND status = 'completed' ORDER BY id DESC LIMIT 1")
      .get(versionId, suiteFingerprint);
    return row ? this.runRecord(row) : null;
  }

  /** Per-case results of a run, in the order they were stored. */
  results(runId: number): StoredResult[] {
    return this.db
      .prepare<[number], ResultRow>('SELECT case_id, slices_json, pass, graders_json, score, latency_ms, cost, partial, detail_json FROM eval_results WHERE run_id = ? ORDER BY rowid')
      .all(runId)
      .map((r) => ({
        caseId: r.case_id,
        slices: JSON.parse(r.slices_json) as string[],
        pass: r.pass === 1,
        graders: JSON.parse(r.graders_json) as StoredGrader[],
        score: r.score,
        latencyMs: r.latency_ms,
        cost: r.cost,
        partial: r.partial === 1,
        detail: r.detail_json ? (JSON.parse(r.detail_json) as Record<string, unknown>) : null,
      }));
  }

  // ---- verdicts ----

  /** Record a verdict durably; returns it with its id (what stage history points at). */
  saveVerdict(v: NewVerdict): VerdictRecord {
    const createdAt = iso(this.clock.now());
    const id = durableWrite(this.db, () =>
      Number(
        this.db
          .prepare(
            `INSERT INTO verdicts (policy, candidate_version_id, baseline_version_id, transition, suite_fingerprint, rules_hash, verdict, evidence_json, created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          )
          .run(v.policy, v.candidateVersionId, v.baselineVersionId, v.transition, v.suiteFingerprint, v.rulesHash, v.verdict, JSON.stringify(v.evidence), createdAt).lastInsertRowid,
      ),
    );
    return this.getVerdict(id)!;
  }

  getVerdict(id: number): VerdictRecord | null {
    const row = this.db.prepare<[number], VerdictRow>('SELECT * FROM verdicts WHERE id = ?').get(id);
    return row ? this.verdictRecord(row) : null;
  }

  /** The newest verdict for a candidate (optionally for one transition and suite). */
  latestVerdict(filter: { candidateVersionId: number; transition?: string; suiteFingerprint?: string }): VerdictRecord | null {
    return this.listVerdicts({ ...filter, limit: 1 })[0] ?? null;
  }

  listVerdicts(filter: { id?: number; candidateVersionId?: number; policy?: string; transition?: string; suiteFingerprint?: string; limit?: number } = {}): VerdictRecord[] {
    const where: string[] = [];
    const args: (number | string)[] = [];
    const add = (sql: string, v: number | string | undefined) => {
      if (v === undefined) return;
      where.push(sql);
      args.push(v);
    };
    add('id = ?', filter.id);
    add('candidate_version_id = ?', filter.candidateVersionId);
    add('policy = ?', filter.policy);
    add('transition = ?', filter.transition);
    add('suite_fingerprint = ?', filter.suiteFingerprint);
    const sql = `SELECT * FROM verdicts ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY id DESC LIMIT ?`;
    return this.db
      .prepare<(number | string)[], VerdictRow>(sql)
      .all(...args, filter.limit ?? 100)
      .map((r) => this.verdictRecord(r));
  }

  // ---- internals ----

  private requireRun(runId: number): EvalRunRecord {
    const r = this.getRun(runId);
    if (!r) throw new SwitchyardError(ErrorCodes.SWY_ERR_NOT_FOUND, `No evaluation run ${runId} in the store.`, `run:${runId}`);
    return r;
  }

  private suiteRecord(r: SuiteRow): SuiteRecord {
    return {
      fingerprint: r.fingerprint,
      name: r.name,
      environment: r.environment,
      envVersion: r.env_version,
      path: r.path,
      caseCount: r.case_count,
      slices: JSON.parse(r.slices_json) as Record<string, number>,
      createdAt: r.created_at,
    };
  }

  private runRecord(r: RunRow): EvalRunRecord {
    return {
      id: r.id,
      versionId: r.version_id,
      suiteFingerprint: r.suite_fingerprint,
      kind: r.kind,
      status: r.status,
      startedAt: r.started_at,
      endedAt: r.ended_at,
      casesTotal: r.cases_total,
      casesDone: r.cases_done,
      error: parseError(r.error),
      determinism: r.determinism_json ? (JSON.parse(r.determinism_json) as unknown) : null,
      stats: r.stats_json ? (JSON.parse(r.stats_json) as Record<string, unknown>) : null,
    };
  }

  private verdictRecord(r: VerdictRow): VerdictRecord {
    return {
      id: r.id,
      policy: r.policy,
      candidateVersionId: r.candidate_version_id,
      baselineVersionId: r.baseline_version_id,
      transition: r.transition,
      suiteFingerprint: r.suite_fingerprint,
      rulesHash: r.rules_hash,
      verdict: r.verdict,
      evidence: JSON.parse(r.evidence_json) as unknown,
      createdAt: r.created_at,
    };
  }
}
