/**
 * `switchyard import-results FILE` (spec §4.4): per-case results graded elsewhere (a language
 * model scored by an external harness, say), stored like native results so the same promotion
 * rules gate them.
 *
 * One JSON object per line:
 *   { "suite": "triage-eval-v1", "version": "triage-llm@1.1.0", "case_id": "math-007",
 *     "slices": ["math", "division"], "pass": true, "graders": { "exact_answer": true },
 *     "score": 1, "latency_ms": 812.5, "cost": 0.0021 }
 * `score`, `latency_ms` and `cost` may be null or left out; every other field is required.
 *
 * All or nothing: every line is validated first and every problem is reported (file, line,
 * field); one bad line rejects the file and nothing is written. A good file is written in one
 * durable transaction: one run of kind `imported` per (suite, version) in the file.
 *
 * - A version not in the registry becomes an `external` version (no model to serve; it can be
 *   compared, gated, promoted and rolled back like any other): model_id = its label,
 *   model_hash = first 16 hex of SHA-256 of `policy@label`, size 0.
 * - A suite name the store knows (a native suite, or one imported before) is reused, so its
 *   fingerprint stays the same across imports; otherwise an `external` suite is recorded with
 *   fingerprint SHA-256("switchyard-external-suite\n" + name). Its case count and slices are
 *   the union of every imported run on it.
 * - A case must keep its slices: the same case with other slices (in this file or in an earlier
 *   import) is rejected.
 */
import { createHash } from 'node:crypto';
import { insertAudit } from '../store/audit.js';
import { readFile } from 'node:fs/promises';
import { ErrorCodes, SwitchyardError } from '../contract/errors.js';
import { describeJsonValue as describe, isObject } from '../domain/text.js';
import type { Clock } from '../platform/clock.js';
import { iso } from '../platform/clock.js';
import { durableWrite, type Db } from '../store/database.js';
import { EvalStore } from '../store/eval-store.js';
import { closest, IssueListError, MAX_ISSUES, type Issue } from './issues.js';

export const EXTERNAL_ENV = 'external';

export interface ImportedLine {
  line: number;
  suite: string;
  version: string;
  policy: string;
  label: string;
  caseId: string;
  slices: string[];
  pass: boolean;
  graders: Record<string, boolean>;
  score: number | null;
  latencyMs: number | null;
  cost: number | null;
}

export interface ImportedRun {
  runId: number;
  suite: string;
  suiteFingerprint: string;
  version: string;
  versionId: number;
  /** True when the version was created by this import as an `external` version. */
  externalCreated: boolean;
  cases: number;
  passed: number;
}

export interface ImportSummary {
  file: string;
  lines: number;
  runs: ImportedRun[];
  externalVersions: string[];
}

export class ImportResultsError extends IssueListError {
  constructor(file: string, issues: Issue[]) {
    super(`Cannot import ${file}; nothing was written`, issues, 'Fix every listed line and import the file again.');
    this.name = 'ImportResultsError';
  }
}

const FIELDS = ['suite', 'version', 'case_id', 'slices', 'pass', 'graders', 'score', 'latency_ms', 'cost'];
const REQUIRED = ['suite', 'version', 'case_id', 'slices', 'pass', 'graders'];
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const LABEL_RE = /^[A-Za-z0-9][A-Za-z0-9._+-]*$/;

function jsonColumn(line: string, e: unknown): number {
  const msg = e instanceof Error ? e.message : String(e);
  const lc = /column (\d+)/.exec(msg);
  if (lc) return Number(lc[1]);
  const pos = /position (\d+)/.exec(msg);
  return pos ? Number(pos[1]) + 1 : line.length + 1;
}

/** Validate the whole text; throws `ImportResultsError` listing every bad line. */
export function parseImportedResults(text: string, file: string): ImportedLine[] {
  const issues: Issue[] = [];
  const add = (where: string, message: string) => {
    if (issues.length < MAX_ISSUES) issues.push({ where, message });
  };
  const out: ImportedLine[] = [];
  const seen = new Map<string, number>();
  const caseSlices = new Map<string, { slices: string; line: number }>();
  const lines = (text.charCodeAt(0) === 0xfeff ? text.slice(1) : text).split('\n');
  for (let i = 0; i < lines.length && issues.length < MAX_ISSUES; i++) {
    const raw = lines[i]!.replace(/\r$/, '');
    if (raw.trim() === '') continue;
    const n = i + 1;
    const at = (f: string) => `${file}:${n}: ${f}`;
    let v: unknown;
    try {
      v = JSON.parse(raw);
    } catch (e) {
      add(`${file}:${n}:${jsonColumn(raw, e)}`, `line ${n} is not valid JSON (${(e as Error).message.replace(/\s*\(line \d+ column \d+\)/, '')})`);
      continue;
    }
    if (!isObject(v)) {
      add(`${file}:${n}`, `each line must be a JSON object {suite, version, case_id, slices, pass, graders, score, latency_ms, cost}, got ${describe(v)}`);
      continue;
    }
    const before = issues.length;
    for (const k of Object.keys(v)) {
      if (FIELDS.includes(k)) continue;
      const guess = closest(k, FIELDS);
      add(at(k), `unknown field "${k}"${guess ? ` (did you mean "${guess}"?)` : ''}; allowed: ${FIELDS.join(', ')}`);
    }
    for (const k of REQUIRED) if (v[k] === undefined) add(at(k), `${k} is missing`);

    const suite = v['suite'];
    if (suite !== undefined && (typeof suite !== 'string' || !NAME_RE.test(suite))) add(at('suite'), `suite must be a suite name (letters, digits, ".", "_", "-"), got ${describe(suite)}`);
    const version = v['version'];
    let policy = '';
    let label = '';
    if (version !== undefined) {
      const s = typeof version === 'string' ? version : '';
      const k = s.lastIndexOf('@');
      policy = k > 0 ? s.slice(0, k) : '';
      label = k > 0 ? s.slice(k + 1) : '';
      if (!NAME_RE.test(policy) || !LABEL_RE.test(label)) add(at('version'), `version must be "policy@label" like "triage-llm@1.1.0", got ${describe(version)}`);
      else if (label === 'production' || label === 'staging' || label === 'candidate') add(at('version'), `version must name a label, not a stage ("${label}")`);
    }
    const caseId = v['case_id'];
    if (caseId !== undefined && (typeof caseId !== 'string' || caseId.trim() === '' || caseId !== caseId.trim() || caseId.length > 200)) {
      add(at('case_id'), `case_id must be a non-empty string without surrounding spaces, got ${describe(caseId)}`);
    }
    const slices: string[] = [];
    const sl = v['slices'];
    if (sl !== undefined) {
      if (!Array.isArray(sl)) add(at('slices'), `slices must be an array of slice names, got ${describe(sl)}`);
      else
        sl.forEach((s, j) => {
          if (typeof s !== 'string' || !NAME_RE.test(s)) add(at(`slices[${j}]`), `a slice name must be a string of letters, digits, ".", "_" or "-", got ${describe(s)}`);
          else if (slices.includes(s)) add(at(`slices[${j}]`), `slice "${s}" is listed twice`);
          else slices.push(s);
        });
    }
    const pass = v['pass'];
    if (pass !== undefined && typeof pass !== 'boolean') add(at('pass'), `pass must be true or false, got ${describe(pass)}`);
    const graders: Record<string, boolean> = {};
    const g = v['graders'];
    if (g !== undefined) {
      if (!isObject(g)) add(at('graders'), `graders must be an object of grader name -> true/false, got ${describe(g)}`);
      else
        for (const [name, p] of Object.entries(g)) {
          if (!NAME_RE.test(name)) add(at(`graders.${name}`), `grader name "${name}" must be letters, digits, ".", "_" or "-"`);
          else if (typeof p !== 'boolean') add(at(`graders.${name}`), `grader "${name}" must be true or false, got ${describe(p)}`);
          else graders[name] = p;
        }
    }
    const num = (k: string, min: number | null): number | null => {
      const x = v[k];
      if (x === undefined || x === null) return null;
      if (typeof x !== 'number' || !Number.isFinite(x)) {
        add(at(k), `${k} must be a finite number or null, got ${describe(x)}`);
        return null;
      }
      if (min !== null && x < min) add(at(k), `${k} must be >= ${min}, got ${x}`);
      return x;
    };
    const score = num('score', null);
    const latencyMs = num('latency_ms', 0);
    const cost = num('cost', 0);
    if (issues.length > before) continue;

    const key = `${suite as string}\u0000${version as string}\u0000${caseId as string}`;
    const prev = seen.get(key);
    if (prev !== undefined) {
      add(at('case_id'), `case "${caseId as string}" of ${version as string} on suite ${suite as string} appears twice: line ${n} repeats line ${prev}`);
      continue;
    }
    seen.set(key, n);
    const sk = `${suite as string}\u0000${caseId as string}`;
    const sliceKey = JSON.stringify([...slices].sort());
    const known = caseSlices.get(sk);
    if (known !== undefined && known.slices !== sliceKey) {
      add(at('slices'), `case "${caseId as string}" of suite ${suite as string} has slices ${sliceKey} here but ${known.slices} on line ${known.line}; a case keeps its slices`);
      continue;
    }
    if (known === undefined) caseSlices.set(sk, { slices: sliceKey, line: n });
    out.push({ line: n, suite: suite as string, version: version as string, policy, label, caseId: caseId as string, slices, pass: pass as boolean, graders, score, latencyMs, cost });
  }
  if (issues.length === 0 && out.length === 0) issues.push({ where: `${file}:1`, message: 'the file has no results; write one JSON object per line' });
  if (issues.length > 0) throw new ImportResultsError(file, issues);
  return out;
}

export function externalSuiteFingerprint(name: string): string {
  return createHash('sha256').update(`switchyard-external-suite\n${name}`, 'utf8').digest('hex');
}

export function externalModelHash(ref: string): string {
  return createHash('sha256').update(ref, 'utf8').digest('hex').slice(0, 16);
}

interface VersionRow {
  id: number;
}

/**
 * Import a results file (see the file comment). Throws `ImportResultsError` (nothing written)
 * when any line is bad, SWY_ERR_NOT_FOUND when the file is missing.
 */
export async function importResults(path: string, opts: { db: Db; clock: Clock; actor?: string }): Promise<ImportSummary> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new SwitchyardError(ErrorCodes.SWY_ERR_NOT_FOUND, `No results file at ${path}.`, path);
    throw new SwitchyardError(ErrorCodes.SWY_ERR_INVALID_INPUT, `Cannot read ${path}: ${(e as Error).message}.`, path);
  }
  const lines = parseImportedResults(text, path);
  return writeImported(lines, path, opts);
}

function writeImported(lines: ImportedLine[], file: string, opts: { db: Db; clock: Clock; actor?: string }): ImportSummary {
  const { db, clock } = opts;
  const actor = opts.actor ?? 'switchyard import-results';
  const store = new EvalStore(db, clock);
  // Group by (suite, version), in first-appearance order.
  const groups = new Map<string, ImportedLine[]>();
  for (const l of lines) {
    const k = `${l.suite}\u0000${l.version}`;
    const g = groups.get(k);
    if (g) g.push(l);
    else groups.set(k, [l]);
  }

  return durableWrite(db, () => {
    const now = iso(clock.now());
    const runs: ImportedRun[] = [];
    const externalVersions: string[] = [];
    const suiteIssues: Issue[] = [];
    const suiteFp = new Map<string, string>();

    // Suites: reuse a known one by name, else an external suite row (union of cases and slices).
    const bySuite = new Map<string, ImportedLine[]>();
    for (const l of lines) {
      const arr = bySuite.get(l.suite);
      if (arr) arr.push(l);
      else bySuite.set(l.suite, [l]);
    }
    for (const [name, ls] of bySuite) {
      const known = store.findSuite(name);
      if (known && known.name === name && known.environment !== EXTERNAL_ENV) {
        suiteFp.set(name, known.fingerprint);
        continue;
      }
      const fp = externalSuiteFingerprint(name);
      suiteFp.set(name, fp);
      const cases = new Map<string, string[]>();
      const prior = db
        .prepare<[string], { case_id: string; slices_json: string }>(
          'SELECT DISTINCT r.case_id, r.slices_json FROM eval_results r JOIN eval_runs u ON u.id = r.run_id WHERE u.suite_fingerprint = ?',
        )
        .all(fp);
      for (const p of prior) cases.set(p.case_id, JSON.parse(p.slices_json) as string[]);
      for (const l of ls) {
        const before = cases.get(l.caseId);
        if (before && JSON.stringify([...before].sort()) !== JSON.stringify([...l.slices].sort())) {
          suiteIssues.push({ where: `${file}:${l.line}: slices`, message: `case "${l.caseId}" of suite ${name} was imported before with slices ${JSON.stringify(before)}; a case keeps its slices` });
        }
        cases.set(l.caseId, l.slices);
      }
      const slices: Record<string, number> = {};
      for (const s of cases.values()) for (const x of s) slices[x] = (slices[x] ?? 0) + 1;
      const sorted: Record<string, number> = {};
      for (const k of Object.keys(slices).sort()) sorted[k] = slices[k]!;
      store.upsertSuiteRow({ fingerprint: fp, name, environment: EXTERNAL_ENV, envVersion: EXTERNAL_ENV, path: null, caseCount: cases.size, slices: sorted });
    }
    if (suiteIssues.length > 0) throw new ImportResultsError(file, suiteIssues); // rolls back

    for (const ls of groups.values()) {
      const first = ls[0]!;
      let externalCreated = false;
      let row = db.prepare<[string, string], VersionRow>('SELECT id FROM versions WHERE policy = ? AND label = ?').get(first.policy, first.label);
      if (!row) {
        db.prepare('INSERT OR IGNORE INTO policies (name, created_at) VALUES (?, ?)').run(first.policy, now);
        const info = db
          .prepare(
            `INSERT INTO versions (policy, label, model_id, model_hash, kind, stage, manifest_json, size_bytes, files_json, export_path, registered_at)
             VALUES (?, ?, ?, ?, 'external', 'candidate', ?, 0, '[]', NULL, ?)`,
          )
          .run(first.policy, first.label, first.label, externalModelHash(first.version), JSON.stringify({ policy: first.policy, version: first.label, kind: 'external' }), now);
        const id = Number(info.lastInsertRowid);
        db.prepare('INSERT INTO stage_history (version_id, policy, from_stage, to_stage, at, actor, reason) VALUES (?, ?, NULL, ?, ?, ?, ?)').run(
          id,
          first.policy,
          'candidate',
          now,
          actor,
          `registered as an external version by import-results (${file})`,
        );
        insertAudit(db, now, actor, 'register', first.version, { kind: 'external', source: file, modelHash: externalModelHash(first.version) });
        row = { id };
        externalCreated = true;
        externalVersions.push(first.version);
      }
      const fp = suiteFp.get(first.suite)!;
      const runId = store.startRun({ versionId: row.id, suiteFingerprint: fp, casesTotal: ls.length, kind: 'imported', stats: { source: file, lines: [first.line, ls[ls.length - 1]!.line] } });
      store.appendResults(
        runId,
        ls.map((l) => ({
          caseId: l.caseId,
          slices: l.slices,
          pass: l.pass,
          graders: Object.entries(l.graders).map(([name, pass]) => ({ name, pass, value: null })),
          score: l.score,
          latencyMs: l.latencyMs,
          cost: l.cost,
        })),
      );
      store.finishRun(runId, { status: 'completed' });
      runs.push({ runId, suite: first.suite, suiteFingerprint: fp, version: first.version, versionId: row.id, externalCreated, cases: ls.length, passed: ls.filter((l) => l.pass).length });
    }
    return { file, lines: lines.length, runs, externalVersions };
  });
}
