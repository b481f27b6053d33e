/**
 * The evaluator on the real demo ONNX policies through real PolicyRunner workers. Faults are
 * injected by wrapping a real runner (a rejected call, a killed worker, a NaN output).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes, SwitchyardError } from '../contract/errors.js';
import { writeDemoExports, type DemoVersion } from '../demo/cartpole-policies.js';
import { fixedClock } from '../platform/clock.js';
import { readExport } from '../runtime/export.js';
import { PolicyRunner } from '../runtime/policy-runner.js';
import type { PolicyExport } from '../runtime/types.js';
import { openDatabase } from '../store/database.js';
import { EvalStore } from '../store/eval-store.js';
import { Registry } from '../store/registry.js';
import { buildDemoSuite } from './demo-suite.js';
import { checkDeterminism, compareRuns, evaluate, sliceSummary, type BatchPolicy, type EvalProgress } from './evaluator.js';
import { GRADERS } from './graders.js';
import { evaluateAndStore } from './run-eval.js';
import { suiteFromContent, type Suite } from './suite.js';

let root: string;
const exports = new Map<DemoVersion, PolicyExport>();
const runners = new Map<DemoVersion, PolicyRunner>();
const extraRunners: PolicyRunner[] = [];
/** Every other case of the demo suite: 150 cases, every slice still well populated. */
let reduced: Suite;
/** 12 short cases for the slow one-case-at-a-time comparisons. */
let tiny: Suite;

async function runner(v: DemoVersion): Promise<PolicyRunner> {
  let r = runners.get(v);
  if (!r) {
    r = await PolicyRunner.start({ export: exports.get(v)!, slot: 'a', device: 'cpu' });
    runners.set(v, r);
  }
  return r;
}

/** A real runner whose n-th runBatch call (1-based) and later ones misbehave as `fault` says. */
function faulty(inner: PolicyRunner, fromCall: number, fault: (obs: Float32Array, n: number) => Promise<Float32Array>): BatchPolicy & { calls: number } {
  const w = {
    calls: 0,
    export: inner.export,
    runBatch(obs: Float32Array, n: number) {
      w.calls++;
      return w.calls >= fromCall ? fault(obs, n) : inner.runBatch(obs, n);
    },
    close: () => inner.close(),
  };
  return w;
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'swy-eval-'));
  for (const d of await writeDemoExports(root)) {
    const exp = await readExport(d);
    exports.set(exp.manifest.version as DemoVersion, exp);
  }
  const demo = buildDemoSuite();
  reduced = suiteFromContent({ ...demo, name: 'demo-reduced', cases: demo.cases.filter((_, i) => i % 2 === 0) });
  tiny = suiteFromContent({ ...demo, name: 'demo-tiny', params: { max_steps: 120 }, cases: demo.cases.filter((_, i) => i % 25 === 3) });
});

afterAll(async () => {
  await Promise.all([...runners.values(), ...extraRunners].map((r) => r.close()));
  await rm(root, { recursive: true, force: true });
});

describe('evaluate', () => {
  it('runs every case batched across cases and grades it', async () => {
    const progress: EvalProgress[] = [];
    const r = await evaluate({ runner: await runner('1.0.0'), suite: reduced, onProgress: (p) => progress.push(p) });
    expect(r.status).toBe('completed');
    expect(r.error).toBeNull();
    expect([r.casesTotal, r.casesDone, r.results.length]).toEqual([150, 150, 150]);
    expect(r.results.map((x) => x.caseId)).toEqual(reduced.cases.map((c) => c.id));
    expect(r.version).toBe('cartpole-balance@1.0.0');
    expect(r.modelVersion).toBe(exports.get('1.0.0')!.modelVersion);
    // One policy call per time step for all live episodes (chunk 1, 500 steps).
    expect(r.policyCalls).toBe(500);
    for (const c of r.results) {
      expect(c.graders.map((g) => g.name)).toEqual([...GRADERS]);
      const g = Object.fromEntries(c.graders.map((x) => [x.name, x]));
      expect(c.pass).toBe(g['success']!.pass! && g['safety_bounds']!.pass! && g['action_bounds']!.pass!);
      expect(c.score).toBe(g['return']!.value! / 500);
      expect(c.latencyMs).toBeGreaterThan(0);
      expect(g['latency']!.value).toBe(c.latencyMs);
    }
    expect(progress[0]).toMatchObject({ done: 0, total: 150, fraction: 0 });
    expect(progress[progress.length - 1]).toMatchObject({ done: 150, total: 150, fraction: 1, passed: r.passed });
    // Every episode steps together, so cases finish together; the work fraction moves in between.
    const mid = progress.filter((p) => p.done === 0 && p.fraction > 0);
    expect(mid.length).toBeGreaterThan(10);
    for (let i = 1; i < progress.length; i++) expect(progress[i]!.fraction).toBeGreaterThanOrEqual(progress[i - 1]!.fraction);
  });

  it('LQR 1.0.0 balances every nominal case; the versions differ slice by slice', async () => {
    const lqr = await evaluate({ runner: await runner('1.0.0'), suite: reduced });
    const high = await evaluate({ runner: await runner('1.1.0'), suite: reduced });
    const a = sliceSummary(lqr.results);
    const b = sliceSummary(high.results);
    expect(a['nominal']!.rate).toBe(1);
    expect(a['safety']!.rate).toBe(1);
    expect(b['nominal']!.rate).toBe(1);
    // The aggressive controller runs off the track: it fails safety and large angles far more.
    expect(b['safety']!.rate).toBeLessThan(a['safety']!.rate - 0.15);
    expect(b['large_angle']!.rate).toBeLessThan(a['large_angle']!.rate - 0.4);
    const offTrack = high.results.filter((c) => c.failure === 'track');
    expect(offTrack.length).toBeGreaterThan(10);
    for (const c of offTrack) {
      const s = c.graders.find((g) => g.name === 'safety_bounds')!;
      expect(s.pass).toBe(false);
      expect(s.value).toBeGreaterThan(1);
      expect(c.pass).toBe(false);
    }
  });

  it('uses each action of a chunk before asking again', async () => {
    const r = await evaluate({ runner: await runner('1.2.0'), suite: reduced });
    expect(r.status).toBe('completed');
    expect(r.policyCalls).toBe(125); // 500 steps / chunk 4
    expect(sliceSummary(r.results)['nominal']!.rate).toBe(1);
  });

  it('gives identical per-case results when re-run, whatever the batch size', async () => {
    for (const v of ['1.0.0', '2.0.0-iter'] as const) {
      const opts = { runner: await runner(v), suite: reduced };
      const first = await evaluate(opts);
      const report = await checkDeterminism(opts, first, 1);
      expect(report).toMatchObject({ reruns: 1, identical: true, compared: 150, differing: [] });
    }
    const r = await runner('1.2.0');
    const all = await evaluate({ runner: r, suite: tiny });
    const seven = await evaluate({ runner: r, suite: tiny, batchSize: 5 });
    const one = await evaluate({ runner: r, suite: tiny, batchSize: 1 });
    expect(one.policyCalls).toBeGreaterThan(all.policyCalls);
    expect(compareRuns(all.results, seven.results).differing).toEqual([]);
    expect(compareRuns(all.results, one.results).differing).toEqual([]);
  });

  it('lists the cases that differ', async () => {
    const a = await evaluate({ runner: await runner('1.0.0'), suite: tiny });
    const b = structuredClone(a.results);
    b[2]!.graders.find((g) => g.name === 'smoothness')!.value! += 1e-12;
    b[5]!.latencyMs = 999; // wall clock: ignored
    b[5]!.graders.find((g) => g.name === 'latency')!.value = 999;
    expect(compareRuns(a.results, b)).toEqual({ identical: false, compared: tiny.cases.length, differing: [tiny.cases[2]!.id] });
    expect(compareRuns(a.results, b.slice(1)).differing).toEqual([tiny.cases[0]!.id, tiny.cases[2]!.id]);
  });

  it('can be cancelled, keeping the cases that finished', async () => {
    const ac = new AbortController();
    const r = await evaluate({
      runner: await runner('1.0.0'),
      suite: reduced,
      batchSize: 10,
      signal: ac.signal,
      onProgress: (p) => {
        if (p.done >= 25) ac.abort();
      },
    });
    expect(r.status).toBe('cancelled');
    expect(r.casesDone).toBeGreaterThanOrEqual(25);
    expect(r.casesDone).toBeLessThan(150);
    expect(r.results).toHaveLength(r.casesDone);
    expect(r.results.every((c) => c.partial === undefined)).toBe(true);
    expect(r.passed).toBe(r.results.filter((c) => c.pass).length);
    // Already aborted: nothing runs.
    const before = await evaluate({ runner: await runner('1.0.0'), suite: reduced, signal: AbortSignal.abort() });
    expect([before.status, before.casesDone, before.policyCalls]).toEqual(['cancelled', 0, 0]);
  });

  it('marks the run failed when the model fails mid-suite: partial results kept, none a pass', async () => {
    // 500-step episodes, 16 at a time: the first 16 finish at call 500.
    const w = faulty(await runner('1.0.0'), 700, () => Promise.reject(new SwitchyardError(ErrorCodes.SWY_ERR_INFERENCE, 'injected: ONNX Runtime run failed')));
    const r = await evaluate({ runner: w, suite: reduced, batchSize: 16 });
    expect(r.status).toBe('failed');
    expect(r.error).toMatchObject({ code: ErrorCodes.SWY_ERR_INFERENCE, message: 'injected: ONNX Runtime run failed' });
    expect(r.casesDone).toBeGreaterThan(0);
    expect(r.casesDone).toBeLessThan(150);
    expect(r.results).toHaveLength(r.casesDone);
    expect(r.passed).toBe(0);
    expect(r.results.every((c) => c.partial === true && c.pass === false)).toBe(true);
    // The graders still show what was measured.
    expect(r.results.some((c) => c.graders.find((g) => g.name === 'success')!.pass)).toBe(true);
  });

  it('marks the run failed when the policy worker really dies', async () => {
    const own = await PolicyRunner.start({ export: exports.get('1.0.0')!, slot: 'b', device: 'cpu', restartBackoffMs: 10_000 });
    extraRunners.push(own);
    const w = faulty(own, 600, (obs, n) => {
      void own._killWorkerForTest();
      return own.runBatch(obs, n);
    });
    const r = await evaluate({ runner: w, suite: reduced, batchSize: 50 });
    expect(r.status).toBe('failed');
    expect(r.error?.code).toMatch(/SWY_ERR_WORKER_DIED|SWY_ERR_NOT_SERVING/);
    expect(r.casesDone).toBe(50);
    expect(r.passed).toBe(0);
    expect(r.results.every((c) => c.partial && !c.pass)).toBe(true);
  });

  it('fails a case (not the run) whose policy output is not finite', async () => {
    const inner = await runner('1.0.0');
    const w = faulty(inner, 3, async (obs, n) => {
      const out = await inner.runBatch(obs, n);
      out[0] = NaN;
      return out;
    });
    const r = await evaluate({ runner: w, suite: tiny, batchSize: 4 });
    expect(r.status).toBe('completed');
    const bad = r.results.filter((c) => c.failure === 'non_finite_action');
    expect(bad.length).toBeGreaterThan(0);
    for (const c of bad) {
      expect(c.pass).toBe(false);
      expect(c.graders.find((g) => g.name === 'action_bounds')).toMatchObject({ pass: false, value: null });
    }
  });

  it('starts and closes a runner from a factory, and fails cleanly when it cannot start', async () => {
    let made: PolicyRunner | undefined;
    const r = await evaluate({
      suite: tiny,
      runnerFactory: async () => (made = await PolicyRunner.start({ export: exports.get('1.1.0')!, slot: 'a', device: 'cpu' })),
    });
    expect(r.status).toBe('completed');
    expect(made!.ready).toBe(false); // closed
    const bad = await evaluate({ suite: tiny, runnerFactory: () => Promise.reject(new SwitchyardError(ErrorCodes.SWY_ERR_MODEL_LOAD, 'no model')) });
    expect(bad).toMatchObject({ status: 'failed', casesDone: 0, error: { code: ErrorCodes.SWY_ERR_MODEL_LOAD } });
  });
});

describe('evaluateAndStore', () => {
  it('records runs, results and the determinism gate; a failed run never counts', async () => {
    const db = openDatabase(':memory:');
    const clock = fixedClock();
    const registry = new Registry(db, clock);
    const store = new EvalStore(db, clock);
    const exp = exports.get('1.2.0')!;
    const { version } = registry.register(exp, { actor: 'test' });
    const versionId = registry.getVersion(version.policy, version.label).id;

    const ok = await evaluateAndStore({ store, versionId, runner: await runner('1.2.0'), suite: tiny, flushEvery: 5 });
    expect(ok.run.status).toBe('completed');
    expect(ok.record).toMatchObject({ status: 'completed', kind: 'native', casesTotal: tiny.cases.length, casesDone: tiny.cases.length, error: null });
    expect(ok.record.determinism).toMatchObject({ identical: true, differing: [] });
    expect(ok.record.stats).toMatchObject({ version: 'cartpole-balance@1.2.0', modelVersion: exp.modelVersion, policyCalls: 30 });
    expect(store.getSuite(tiny.fingerprint)).toMatchObject({ name: 'demo-tiny', caseCount: tiny.cases.length, envVersion: 'cartpole-1' });
    const stored = store.results(ok.runId);
    expect(stored.map((s) => s.caseId).sort()).toEqual(tiny.cases.map((c) => c.id).sort());
    const byId = new Map(ok.run.results.map((c) => [c.caseId, c]));
    for (const s of stored) {
      const c = byId.get(s.caseId)!;
      expect(s).toMatchObject({ pass: c.pass, slices: c.slices, score: c.score, partial: false, detail: { steps: c.steps, failure: c.failure } });
      expect(s.graders.find((g) => g.name === 'smoothness')!.value).toBe(c.graders.find((g) => g.name === 'smoothness')!.value);
    }

    // 120 steps in chunks of 4, 3 cases at a time: the first 3 finish at call 30.
    const w = faulty(await runner('1.2.0'), 40, () => Promise.reject(new SwitchyardError(ErrorCodes.SWY_ERR_WORKER_DIED, 'injected crash')));
    const bad = await evaluateAndStore({ store, versionId, runner: w, suite: tiny, batchSize: 3, flushEvery: 1 });
    expect(bad.record).toMatchObject({ status: 'failed', error: { code: ErrorCodes.SWY_ERR_WORKER_DIED }, determinism: null });
    const partial = store.results(bad.runId);
    expect(partial.length).toBeGreaterThan(0);
    expect(partial.every((s) => s.partial && !s.pass)).toBe(true);
    expect(store.latestCompletedRun(versionId, tiny.fingerprint)!.id).toBe(ok.runId);
    db.close();
  });
});
