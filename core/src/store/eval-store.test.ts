import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../contract/errors.js';
import { fixedClock } from '../platform/clock.js';
import type { PolicyExport } from '../runtime/types.js';
import { openDatabase, type Db } from './database.js';
import { EvalStore, type ResultInput, type SuiteInput } from './eval-store.js';
import { migrations } from './migrations.js';
import { Registry } from './registry.js';

const dir = mkdtempSync(join(tmpdir(), 'swy-evalstore-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function fakeExport(label: string, hash: string): PolicyExport {
  return {
    dir: `/exports/${label}`,
    manifest: { policy: 'cartpole-balance', version: label, model_id: 'm', kind: 'direct', observation: { name: 'obs', dim: 4 }, action: { name: 'a', dim: 1, chunk: 1 } },
    modelHash: hash,
    modelVersion: `m@${hash}`,
    sizeBytes: 10,
    files: [{ name: 'policy.onnx', bytes: 10 }],
    modelPath: `/exports/${label}/policy.onnx`,
  };
}

function setup(db: Db = openDatabase(':memory:')) {
  const clock = fixedClock();
  const reg = new Registry(db, clock);
  reg.register(fakeExport('1.0.0', 'a'.repeat(16)), { actor: 't' });
  reg.register(fakeExport('1.1.0', 'b'.repeat(16)), { actor: 't' });
  const v1 = reg.getVersion('cartpole-balance', '1.0.0').id;
  const v2 = reg.getVersion('cartpole-balance', '1.1.0').id;
  return { db, store: new EvalStore(db, clock), v1, v2 };
}

const SUITE: SuiteInput = {
  fingerprint: 'f'.repeat(64),
  name: 'cartpole-frozen-v1',
  environment: 'cartpole',
  envVersion: 'cartpole-1',
  path: '/suites/a.jsonl',
  cases: [1, 2, 3],
  sliceCounts: { nominal: 2, safety: 1 },
};

const result = (caseId: string, pass: boolean, extra: Partial<ResultInput> = {}): ResultInput => ({
  caseId,
  slices: ['nominal'],
  pass,
  graders: [
    { name: 'success', pass, value: 500 },
    { name: 'action_bounds', pass: true, value: Infinity },
  ],
  score: pass ? 1 : 0.2,
  latencyMs: 0.05,
  cost: null,
  steps: pass ? 500 : 100,
  failure: pass ? null : 'track',
  ...extra,
});

describe('EvalStore', () => {
  it('migration 2 adds the evaluation tables on top of version 1', () => {
    expect(migrations.map((m) => m.version).slice(0, 2)).toEqual([1, 2]);
    const path = join(dir, 'v1.db');
    openDatabase(path, { migrations: migrations.slice(0, 1) }).close();
    const db = openDatabase(path, { migrations: migrations.slice(0, 2) });
    expect(db.pragma('user_version', { simple: true })).toBe(2);
    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[]).map((t) => t.name);
    expect(tables).toEqual(expect.arrayContaining(['suites', 'eval_runs', 'eval_results', 'verdicts', 'versions']));
    db.close();
  });

  it('saves suites once and finds them by fingerprint, prefix or name', () => {
    const { store } = setup();
    const s = store.saveSuite(SUITE);
    expect(s).toMatchObject({ fingerprint: SUITE.fingerprint, name: 'cartpole-frozen-v1', caseCount: 3, slices: { nominal: 2, safety: 1 }, path: '/suites/a.jsonl' });
    expect(store.saveSuite({ ...SUITE, path: '/moved/a.jsonl' })).toMatchObject({ createdAt: s.createdAt, path: '/moved/a.jsonl' });
    expect(store.listSuites()).toHaveLength(1);
    expect(store.findSuite('ffffffff')?.fingerprint).toBe(SUITE.fingerprint);
    const newer = store.saveSuite({ ...SUITE, fingerprint: 'e'.repeat(64) });
    expect(store.findSuite('cartpole-frozen-v1')?.fingerprint).toBe(newer.fingerprint);
    expect(store.findSuite('nope')).toBeNull();
  });

  it('runs: start, append in batches, finish; the latest completed run is the evidence', () => {
    const { store, v1, v2 } = setup();
    store.saveSuite(SUITE);
    expect(() => store.startRun({ versionId: v1, suiteFingerprint: 'x'.repeat(64), casesTotal: 1 })).toThrow(/save the suite first/);
    const a = store.startRun({ versionId: v1, suiteFingerprint: SUITE.fingerprint, casesTotal: 3 });
    expect(store.getRun(a)).toMatchObject({ status: 'running', casesDone: 0, kind: 'native', endedAt: null });
    store.appendResults(a, [result('c1', true), result('c2', false)]);
    store.appendResults(a, [result('c3', true)]);
    expect(store.getRun(a)!.casesDone).toBe(3);
    expect(store.latestCompletedRun(v1, SUITE.fingerprint)).toBeNull();
    const done = store.finishRun(a, { status: 'completed', determinism: { identical: true, differing: [] }, stats: { wallMs: 12 } });
    expect(done).toMatchObject({ status: 'completed', error: null, determinism: { identical: true }, stats: { wallMs: 12 } });
    expect(done.endedAt).not.toBeNull();
    expect(store.latestCompletedRun(v1, SUITE.fingerprint)!.id).toBe(a);
    expect(store.latestCompletedRun(v2, SUITE.fingerprint)).toBeNull();
    const rs = store.results(a);
    expect(rs.map((r) => [r.caseId, r.pass, r.partial])).toEqual([
      ['c1', true, false],
      ['c2', false, false],
      ['c3', true, false],
    ]);
    expect(rs[1]).toMatchObject({ score: 0.2, latencyMs: 0.05, cost: null, detail: { steps: 100, failure: 'track' } });
    expect(rs[0]!.graders[1]).toEqual({ name: 'action_bounds', pass: true, value: null }); // non-finite stored as null
    // A finished run takes no more results and cannot finish twice.
    expect(() => store.appendResults(a, [result('c4', true)])).toThrow(/completed/);
    expect(() => store.finishRun(a, { status: 'failed' })).toThrow(/already ended/);
    // Duplicate case ids in one run are refused by the primary key, the whole batch rolled back.
    const b = store.startRun({ versionId: v1, suiteFingerprint: SUITE.fingerprint, casesTotal: 3 });
    expect(() => store.appendResults(b, [result('c1', true), result('c1', true)])).toThrow();
    expect(store.getRun(b)!.casesDone).toBe(0);
    expect(store.results(b)).toEqual([]);
    // Newer cancelled / running runs do not replace the evidence.
    store.finishRun(b, { status: 'cancelled' });
    store.startRun({ versionId: v1, suiteFingerprint: SUITE.fingerprint, casesTotal: 3 });
    expect(store.latestCompletedRun(v1, SUITE.fingerprint)!.id).toBe(a);
    expect(store.listRuns({ versionId: v1 }).map((r) => r.status)).toEqual(['running', 'cancelled', 'completed']);
  });

  it('a failed run keeps its results as partial, never passed', () => {
    const { store, v1 } = setup();
    store.saveSuite(SUITE);
    const a = store.startRun({ versionId: v1, suiteFingerprint: SUITE.fingerprint, casesTotal: 3 });
    store.appendResults(a, [result('c1', true), result('c2', true)]);
    const r = store.finishRun(a, { status: 'failed', error: { code: ErrorCodes.SWY_ERR_WORKER_DIED, message: 'worker died' } });
    expect(r).toMatchObject({ status: 'failed', casesDone: 2, error: { code: ErrorCodes.SWY_ERR_WORKER_DIED, message: 'worker died' } });
    expect(store.results(a).map((x) => [x.pass, x.partial])).toEqual([
      [false, true],
      [false, true],
    ]);
    expect(store.latestCompletedRun(v1, SUITE.fingerprint)).toBeNull();
  });

  it('closes runs a dead process left running', () => {
    const path = join(dir, 'crash.db');
    const first = setup(openDatabase(path));
    first.store.saveSuite(SUITE);
    const a = first.store.startRun({ versionId: first.v1, suiteFingerprint: SUITE.fingerprint, casesTotal: 3 });
    first.store.appendResults(a, [result('c1', true)]);
    first.db.close();
    const db = openDatabase(path);
    const store = new EvalStore(db, fixedClock());
    expect(store.failInterruptedRuns()).toBe(1);
    expect(store.getRun(a)).toMatchObject({ status: 'failed', error: { message: expect.stringMatching(/stopped/) } });
    expect(store.results(a)[0]).toMatchObject({ pass: false, partial: true });
    expect(store.failInterruptedRuns()).toBe(0);
    db.close();
  });

  it('saves and fetches verdicts', () => {
    const { store, v1, v2 } = setup();
    const base = { policy: 'cartpole-balance', candidateVersionId: v2, baselineVersionId: v1, suiteFingerprint: SUITE.fingerprint, rulesHash: 'r'.repeat(64) };
    const a = store.saveVerdict({ ...base, transition: 'candidate->staging', verdict: 'NO-GO', evidence: { rules: [{ name: 'safety', pass: false }] } });
    const b = store.saveVerdict({ ...base, transition: 'candidate->staging', verdict: 'GO', evidence: { rules: [] } });
    store.saveVerdict({ ...base, transition: 'staging->production', verdict: 'INCONCLUSIVE', evidence: {} });
    expect(store.getVerdict(a.id)).toMatchObject({ verdict: 'NO-GO', evidence: { rules: [{ name: 'safety', pass: false }] }, baselineVersionId: v1 });
    expect(store.latestVerdict({ candidateVersionId: v2, transition: 'candidate->staging' })!.id).toBe(b.id);
    expect(store.latestVerdict({ candidateVersionId: v2 })!.verdict).toBe('INCONCLUSIVE');
    expect(store.latestVerdict({ candidateVersionId: v1 })).toBeNull();
    expect(store.listVerdicts({ policy: 'cartpole-balance' })).toHaveLength(3);
    expect(() => store.saveVerdict({ ...base, transition: 'x', verdict: 'MAYBE' as 'GO', evidence: {} })).toThrow(/CHECK/);
  });
});
