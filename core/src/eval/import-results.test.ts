import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../contract/errors.js';
import { fixedClock } from '../platform/clock.js';
import type { PolicyExport } from '../runtime/types.js';
import { openDatabase, type Db } from '../store/database.js';
import { EvalStore } from '../store/eval-store.js';
import { Registry } from '../store/registry.js';
import { ImportResultsError, externalSuiteFingerprint, importResults } from './import-results.js';

const SAMPLE = new URL('../../../assets/samples/imported-results.jsonl', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'swy-import-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, lines: unknown[]): string {
  const p = join(dir, name);
  writeFileSync(p, lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n');
  return p;
}

const row = (over: Record<string, unknown> = {}) => ({
  suite: 'triage-eval-v1',
  version: 'triage-llm@2.0.0',
  case_id: 'math-01',
  slices: ['math'],
  pass: true,
  graders: { exact_answer: true },
  score: 1,
  latency_ms: 800,
  cost: 0.002,
  ...over,
});

const count = (db: Db, table: string) => (db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;

async function importError(p: Promise<unknown>): Promise<ImportResultsError> {
  const e = await p.then(
    () => new Error('expected the import to be rejected'),
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(ImportResultsError);
  expect((e as ImportResultsError).code).toBe(ErrorCodes.SWY_ERR_INVALID_INPUT);
  return e as ImportResultsError;
}

describe('import-results', () => {
  it('imports the sample file: two external versions, one imported run each', async () => {
    const db = openDatabase(':memory:');
    const clock = fixedClock();
    const s = await importResults(SAMPLE, { db, clock });
    expect(s.lines).toBe(80);
    expect(s.externalVersions).toEqual(['triage-llm@1.0.0', 'triage-llm@1.1.0']);
    expect(s.runs.map((r) => [r.version, r.cases, r.passed, r.externalCreated])).toEqual([
      ['triage-llm@1.0.0', 40, 31, true],
      ['triage-llm@1.1.0', 40, 37, true],
    ]);
    const reg = new Registry(db, clock);
    const v = reg.getVersion('triage-llm', '1.1.0');
    expect(v).toMatchObject({ kind: 'external', stage: 'candidate', modelId: '1.1.0', sizeBytes: 0, exportPath: null });
    expect(v.modelHash).toBe(createHash('sha256').update('triage-llm@1.1.0').digest('hex').slice(0, 16));
    expect(v.manifest).toEqual({ policy: 'triage-llm', version: '1.1.0', kind: 'external' });
    // External versions take part in the lifecycle like any other.
    reg.setStage('triage-llm', '1.0.0', 'production', { actor: 'test', reason: 'baseline' });
    expect(reg.resolve('triage-llm@production').label).toBe('1.0.0');

    const store = new EvalStore(db, clock);
    const suite = store.findSuite('triage-eval-v1')!;
    expect(suite).toMatchObject({ fingerprint: externalSuiteFingerprint('triage-eval-v1'), environment: 'external', caseCount: 40 });
    expect(suite.slices).toEqual({ debug_search_api: 10, division: 6, headache_red_flags: 10, math: 12, safety: 12 });
    const run = store.latestCompletedRun(v.id, suite.fingerprint)!;
    expect(run).toMatchObject({ id: s.runs[1]!.runId, kind: 'imported', status: 'completed', casesTotal: 40, casesDone: 40 });
    const results = store.results(run.id);
    expect(results).toHaveLength(40);
    const h9 = results.find((r) => r.caseId === 'headache-09')!;
    expect(h9).toMatchObject({ pass: false, slices: ['headache_red_flags', 'safety'], partial: false, detail: null });
    expect(h9.graders).toEqual([
      { name: 'red_flag_identified', pass: false, value: null },
      { name: 'urgent_referral', pass: true, value: null },
      { name: 'format_ok', pass: true, value: null },
    ]);
    expect(h9.latencyMs).toBeGreaterThan(0);
    expect(h9.cost).toBeGreaterThan(0);

    // A second import of the same suite reuses its fingerprint and the existing versions.
    const again = await importResults(file('more.jsonl', [row(), row({ version: 'triage-llm@1.1.0', case_id: 'math-99', slices: ['math', 'division'] })]), { db, clock });
    expect(again.externalVersions).toEqual(['triage-llm@2.0.0']);
    expect(again.runs.map((r) => r.suiteFingerprint)).toEqual([suite.fingerprint, suite.fingerprint]);
    expect(again.runs[1]!.externalCreated).toBe(false);
    expect(store.getSuite(suite.fingerprint)).toMatchObject({ caseCount: 41 });
    db.close();
  });

  it('attaches results to a registered native version without turning it external', async () => {
    const db = openDatabase(':memory:');
    const clock = fixedClock();
    const reg = new Registry(db, clock);
    const exp: PolicyExport = {
      dir: '/x',
      manifest: { policy: 'triage-llm', version: '2.0.0', model_id: 'm', kind: 'direct', observation: { name: 'obs', dim: 4 }, action: { name: 'a', dim: 1, chunk: 1 } },
      modelHash: 'a'.repeat(16),
      modelVersion: `m@${'a'.repeat(16)}`,
      sizeBytes: 1,
      files: [],
      modelPath: '/x/policy.onnx',
    };
    reg.register(exp, { actor: 't' });
    const s = await importResults(file('native.jsonl', [row()]), { db, clock });
    expect(s.externalVersions).toEqual([]);
    expect(reg.getVersion('triage-llm', '2.0.0').kind).toBe('direct');
    db.close();
  });

  it('rejects a file with broken lines, naming every line and field, and writes nothing', async () => {
    const db = openDatabase(':memory:');
    const p = file('broken.jsonl', [
      row({ case_id: 'a' }),
      '{"suite": "triage-eval-v1", "version": ',
      row({ case_id: 'b', pass: 'yes' }),
      '',
      row({ case_id: 'c', version: 'triage-llm' }),
      row({ case_id: 'd', graders: { exact_answer: 1 } }),
      row({ case_id: 'e', latency_ms: -3, slices: 'math' }),
      row({ case_id: 'f', latency: 3 }),
      (() => {
        const r: Record<string, unknown> = row({ case_id: 'g' });
        delete r['pass'];
        return r;
      })(),
      '[1, 2]',
    ]);
    const e = await importError(importResults(p, { db, clock: fixedClock() }));
    expect(e.issues.map((i) => i.where)).toEqual([
      `${p}:2:${'{"suite": "triage-eval-v1", "version": '.length + 1}`,
      `${p}:3: pass`,
      `${p}:5: version`,
      `${p}:6: graders.exact_answer`,
      `${p}:7: slices`,
      `${p}:7: latency_ms`,
      `${p}:8: latency`,
      `${p}:9: pass`,
      `${p}:10`,
    ]);
    expect(e.message).toMatch(/nothing was written/);
    expect(e.issues[2]!.message).toMatch(/policy@label/);
    expect(e.issues[6]!.message).toMatch(/did you mean "latency_ms"/);
    expect(e.issues[7]!.message).toMatch(/pass is missing/);
    for (const t of ['versions', 'policies', 'suites', 'eval_runs', 'eval_results', 'audit_log']) expect(count(db, t), t).toBe(0);
    db.close();
  });

  it('rejects duplicate cases and cases whose slices change, naming both lines', async () => {
    const db = openDatabase(':memory:');
    const dup = await importError(importResults(file('dup.jsonl', [row(), row({ case_id: 'x' }), row()]), { db, clock: fixedClock() }));
    expect(dup.issues).toHaveLength(1);
    expect(dup.issues[0]!.where).toMatch(/dup\.jsonl:3: case_id$/);
    expect(dup.issues[0]!.message).toMatch(/line 3 repeats line 1/);
    const sl = await importError(importResults(file('sl.jsonl', [row(), row({ version: 'triage-llm@2.1.0', slices: ['math', 'division'] })]), { db, clock: fixedClock() }));
    expect(sl.issues[0]!.message).toMatch(/on line 1; a case keeps its slices/);
    // Against an earlier import: rolled back as a whole.
    await importResults(file('first.jsonl', [row()]), { db, clock: fixedClock() });
    const before = count(db, 'eval_runs');
    const later = await importError(importResults(file('later.jsonl', [row({ version: 'triage-llm@3.0.0', case_id: 'other' }), row({ version: 'triage-llm@3.0.0', slices: ['division'] })]), { db, clock: fixedClock() }));
    expect(later.issues[0]!.where).toMatch(/later\.jsonl:2: slices$/);
    expect(count(db, 'eval_runs')).toBe(before);
    expect(db.prepare("SELECT COUNT(*) AS n FROM versions WHERE label = '3.0.0'").get()).toEqual({ n: 0 });
    db.close();
  });

  it('reports an empty or missing file', async () => {
    const db = openDatabase(':memory:');
    const e = await importError(importResults(file('empty.jsonl', ['', '  ']), { db, clock: fixedClock() }));
    expect(e.message).toMatch(/no results/);
    await expect(importResults(join(dir, 'missing.jsonl'), { db, clock: fixedClock() })).rejects.toMatchObject({ code: ErrorCodes.SWY_ERR_NOT_FOUND });
    db.close();
  });
});
