// @vitest-environment node
import { describe, expect, it } from 'vitest';
import type { EvalRunSummary, MethodInput } from '@contract';
import { FakeClient, flush } from '../testing/fake-client';
import { comparison, evalRun, gateResult, policy, progress, rulesFile, SUITE_FP, suiteSummary, version } from '../testing/fixtures';
import {
  aggregateProgress,
  createCompareStore,
  gateBaselineArg,
  normalizeSelection,
  rulesForSuite,
  selectBusy,
  selectResultIsStale,
  versionsNeedingEvaluation,
  type CompareSelection,
  type EvalTrack,
} from './compare-store';

const P = 'cartpole-balance';
const V100 = `${P}@1.0.0`;
const V110 = `${P}@1.1.0`;
const V200 = `${P}@2.0.0-iter`;

const policies = [
  policy(P, [
    version({ label: '1.0.0', stage: 'production' }),
    version({ label: '1.1.0', stage: 'candidate' }),
    version({ label: '1.2.0', stage: 'staging' }),
    version({ label: '2.0.0-iter', stage: 'candidate', kind: 'iterative' }),
  ]),
];
const c2s = rulesFile();
const s2p = rulesFile({ path: '/demo/rules/staging-to-production.yaml', name: 'staging-to-production.yaml', transition: 'staging->production' });
const otherSuiteRules = rulesFile({ path: '/x/other.yaml', name: 'other.yaml', suite: 'other-suite' });
const broken = rulesFile({ path: '/x/broken.yaml', name: 'broken.yaml', transition: null, suite: null, baseline: null, error: { code: 'SWY_ERR_CONFIG', message: 'bad key', where: 'broken.yaml:3:1' } });
const suite = suiteSummary();

/** A fake server: runs per version (mutable), eval.start answers with increasing run ids. */
function fakeServer(runs: Record<string, EvalRunSummary[]> = {}) {
  let nextRun = 100;
  const client = new FakeClient()
    .on('policies.list', () => ({ ok: true, value: { policies } }))
    .on('suites.list', () => ({ ok: true, value: { suites: [suite] } }))
    .on('rules.list', () => ({ ok: true, value: { rules: [c2s, s2p, otherSuiteRules, broken] } }))
    .on('eval.runs', (input) => ({ ok: true, value: { runs: runs[input.version ?? ''] ?? [] } }))
    .on('eval.start', (input) => ({
      ok: true,
      value: { runId: nextRun++, version: input.version, suite: { name: suite.name, fingerprint: SUITE_FP }, alreadyRunning: false },
    }))
    .on('eval.cancel', (input) => ({ ok: true, value: { runId: input.runId, cancelled: true } }))
    .on('compare.get', (input) => ({ ok: true, value: comparison(input.candidate, input.baseline) }))
    .on('gate.run', (input) => ({ ok: true, value: gateResult(input.candidate, input.baseline ?? V100) }));
  return { client, runs };
}

async function loadedStore(runs: Record<string, EvalRunSummary[]> = {}) {
  const server = fakeServer(runs);
  const store = createCompareStore(server.client, { pollMs: 0 });
  const stop = store.getState().start();
  await store.getState().load();
  return { ...server, store, stop };
}

function completed(version: string, id: number): EvalRunSummary[] {
  return [evalRun({ id, version })];
}

describe('compare store: defaults', () => {
  it('picks the production version, the newest candidate, the ruled suite and the rules for the candidate', async () => {
    const { store } = await loadedStore();
    expect(store.getState().optionsStatus).toBe('ready');
    expect(store.getState().selection).toEqual({ baseline: V100, candidate: V200, suite: SUITE_FP, rules: c2s.path });
  });

  it('offers only the rules files of the chosen suite that parse', () => {
    expect(rulesForSuite([c2s, s2p, otherSuiteRules, broken], suite).map((r) => r.name)).toEqual(['candidate-to-staging.yaml', 'staging-to-production.yaml']);
    expect(rulesForSuite([rulesFile({ suite: SUITE_FP.slice(0, 12) })], suite)).toHaveLength(1);
    expect(rulesForSuite([c2s], null)).toEqual([]);
  });

  it('follows the candidate stage with the rules until the operator picks rules', async () => {
    const { store } = await loadedStore();
    store.getState().select({ candidate: `${P}@1.2.0` }); // staging
    expect(store.getState().selection.rules).toBe(s2p.path);
    store.getState().select({ rules: null }); // "None" is a choice
    store.getState().select({ candidate: V110 });
    expect(store.getState().selection.rules).toBeNull();
  });

  it('keeps a valid selection across reloads and replaces one that disappeared', () => {
    const opts = { policies, suites: [suite], rules: [c2s] };
    const kept: CompareSelection = { baseline: V110, candidate: V200, suite: SUITE_FP, rules: c2s.path };
    expect(normalizeSelection(opts, kept, true)).toEqual(kept);
    const gone = normalizeSelection(opts, { ...kept, candidate: `${P}@9.9.9` }, true);
    expect(gone.candidate).toBe(V200);
  });
});

describe('compare store: which versions need an evaluation', () => {
  const base = { baseline: V100, candidate: V200, suiteFingerprint: SUITE_FP, withVerdict: true };

  it('evaluates a version with no completed run on the suite', () => {
    expect(versionsNeedingEvaluation({ ...base, baselineRuns: [], candidateRuns: [] })).toEqual([
      { version: V100, role: 'baseline', reason: 'no completed run' },
      { version: V200, role: 'candidate', reason: 'no completed run' },
    ]);
  });

  it('does not count running, failed or cancelled runs, nor runs of another suite', () => {
    const runs = [
      evalRun({ id: 4, status: 'running' }),
      evalRun({ id: 3, status: 'failed' }),
      evalRun({ id: 2, status: 'cancelled' }),
      evalRun({ id: 1, suiteFingerprint: 'other' }),
    ];
    expect(versionsNeedingEvaluation({ ...base, baselineRuns: runs, candidateRuns: completed(V200, 5) })).toEqual([
      { version: V100, role: 'baseline', reason: 'no completed run' },
    ]);
  });

  it('re-evaluates a candidate whose run was never re-run, only when rules will judge determinism', () => {
    const unchecked = [evalRun({ id: 7, version: V200, determinism: { status: 'not checked', reruns: null, differing: [], note: 'not re-run' } })];
    expect(versionsNeedingEvaluation({ ...base, baselineRuns: completed(V100, 1), candidateRuns: unchecked })).toEqual([
      { version: V200, role: 'candidate', reason: 'determinism not checked' },
    ]);
    expect(versionsNeedingEvaluation({ ...base, withVerdict: false, baselineRuns: completed(V100, 1), candidateRuns: unchecked })).toEqual([]);
    // An unchecked baseline is fine: the gate judges the candidate's determinism only.
    expect(versionsNeedingEvaluation({ ...base, baselineRuns: [{ ...unchecked[0]!, version: V100 }], candidateRuns: completed(V200, 2) })).toEqual([]);
  });
});

describe('compare store: progress', () => {
  const track = (o: Partial<EvalTrack>): EvalTrack => ({
    version: V100,
    role: 'baseline',
    runId: 1,
    done: 0,
    total: 300,
    passed: 0,
    fraction: 0,
    phase: 'evaluating',
    status: 'running',
    error: null,
    joined: false,
    ...o,
  });

  it('aggregates evaluations weighted by their case counts', () => {
    const summary = aggregateProgress([track({ done: 150, fraction: 0.5 }), track({ version: V200, done: 100, total: 100, fraction: 1, status: 'completed' })]);
    expect(summary).toEqual({ running: 1, done: 250, total: 400, fraction: (150 + 100) / 400 });
    expect(aggregateProgress([])).toEqual({ running: 0, done: 0, total: 0, fraction: 0 });
  });

  it('evaluates what is missing, shows progress per version, then compares and gates', async () => {
    const { client, store } = await loadedStore({ [V100]: completed(V100, 1) });
    const running = store.getState().run();
    await flush();
    expect(client.callsOf('eval.start')).toEqual([{ version: V200, suite: SUITE_FP }]);
    expect(store.getState().phase).toBe('evaluating');
    expect(store.getState().tracks).toMatchObject([{ version: V200, role: 'candidate', runId: 100, total: 300, status: 'running' }]);

    client.emit('eval.progress', progress({ runId: 100, version: V200, done: 120, passed: 118, fraction: 0.4 }));
    expect(store.getState().tracks[0]).toMatchObject({ done: 120, passed: 118, fraction: 0.4 });
    // Another suite's or another run's progress is not ours.
    client.emit('eval.progress', progress({ runId: 100, version: V200, suiteFingerprint: 'other', done: 299 }));
    client.emit('eval.progress', progress({ runId: 55, version: V110, done: 10 }));
    expect(store.getState().tracks).toHaveLength(1);
    expect(store.getState().tracks[0]?.done).toBe(120);

    client.emit('eval.progress', progress({ runId: 100, version: V200, done: 300, passed: 300, fraction: 1, phase: 'determinism' }));
    expect(store.getState().phase).toBe('evaluating');
    client.emit('eval.progress', progress({ runId: 100, version: V200, done: 300, passed: 300, fraction: 1, phase: 'finished', status: 'completed' }));
    await running;
    await flush();
    expect(store.getState().phase).toBe('done');
    expect(client.callsOf('compare.get')).toEqual([{ candidate: V200, baseline: V100, suite: SUITE_FP }]);
    // The chosen baseline is production, which the rules pick themselves: no override.
    expect(client.callsOf('gate.run')).toEqual([{ rulesPath: c2s.path, candidate: V200 }]);
    expect(store.getState().result?.gate?.verdict).toBe('GO');
    expect(store.getState().tracks).toEqual([]);
  });

  it('compares at once when both versions have completed runs', async () => {
    const { client, store } = await loadedStore({ [V100]: completed(V100, 1), [V200]: completed(V200, 2) });
    await store.getState().run();
    await flush();
    expect(client.callsOf('eval.start')).toEqual([]);
    expect(store.getState().phase).toBe('done');
    expect(store.getState().result?.for).toEqual(store.getState().selection);
  });

  it('accepts a progress event that names the run before eval.start answers', async () => {
    const { client, store } = await loadedStore({ [V100]: completed(V100, 1) });
    client.hold();
    const running = store.getState().run();
    await client.releaseOne(); // eval.runs (baseline)
    await client.releaseOne(); // eval.runs (candidate)
    expect(client.heldCount).toBe(1); // eval.start waits
    client.emit('eval.progress', progress({ runId: 100, version: V200, done: 300, passed: 300, fraction: 1, status: 'completed', phase: 'finished' }));
    expect(store.getState().tracks[0]).toMatchObject({ runId: 100, status: 'completed' });
    // The event names the run and its end: the comparison goes on without waiting for the answer.
    expect(store.getState().phase).toBe('comparing');
    await client.releaseOne(); // eval.start answers run 100
    await client.releaseOne(); // compare.get
    await client.releaseOne(); // gate.run
    await running;
    await flush();
    expect(store.getState().phase).toBe('done');
  });

  it('reports a failed evaluation with its message and what to do', async () => {
    const { client, store } = await loadedStore({ [V100]: completed(V100, 1) });
    void store.getState().run();
    await flush();
    client.emit(
      'eval.progress',
      progress({ runId: 100, version: V200, status: 'failed', phase: 'finished', error: { code: 'SWY_ERR_WORKER_DIED', message: 'The policy worker exited.' } }),
    );
    expect(store.getState().phase).toBe('failed');
    expect(store.getState().problem).toMatchObject({ title: `Evaluating ${V200} failed`, error: { code: 'SWY_ERR_WORKER_DIED' } });
    expect(store.getState().problem?.hint).toMatch(/run the comparison again/);
    expect(client.callsOf('compare.get')).toEqual([]);
  });

  it('shows a contract error of eval.start as it came', async () => {
    const { client, store } = await loadedStore({ [V100]: completed(V100, 1) });
    client.on('eval.start', () => ({ ok: false, error: { code: 'SWY_ERR_CONFIG', message: 'cartpole-balance@2.0.0-iter is an external version.' } }));
    await store.getState().run();
    expect(store.getState().phase).toBe('failed');
    expect(store.getState().problem?.error.message).toBe('cartpole-balance@2.0.0-iter is an external version.');
  });
});

describe('compare store: cancel and stale results', () => {
  it('cancels the running evaluations and ignores what they report afterwards', async () => {
    const { client, store } = await loadedStore();
    void store.getState().run();
    await flush();
    expect(store.getState().tracks.map((t) => t.runId)).toEqual([100, 101]);
    await store.getState().cancel();
    expect(client.callsOf('eval.cancel')).toEqual([{ runId: 100 }, { runId: 101 }]);
    expect(store.getState().phase).toBe('cancelled');
    expect(store.getState().notice).toMatch(/cancelled/i);
    client.emit('eval.progress', progress({ runId: 100, version: V100, status: 'cancelled', phase: 'finished' }));
    client.emit('eval.progress', progress({ runId: 101, version: V200, status: 'completed', phase: 'finished', fraction: 1 }));
    await flush();
    expect(store.getState().phase).toBe('cancelled');
    expect(client.callsOf('compare.get')).toEqual([]);
  });

  it('cancels a run whose id arrives after the operator pressed Cancel', async () => {
    const { client, store } = await loadedStore({ [V100]: completed(V100, 1) });
    client.hold();
    void store.getState().run();
    await client.releaseOne();
    await client.releaseOne();
    await store.getState().cancel(); // eval.start still in flight: nothing to cancel yet
    expect(client.callsOf('eval.cancel')).toEqual([]);
    await client.releaseOne(); // eval.start answers run 100
    expect(client.callsOf('eval.cancel')).toEqual([{ runId: 100 }]);
  });

  it('drops a run in progress when the selection changes, and marks old results stale', async () => {
    const { client, store } = await loadedStore({ [V100]: completed(V100, 1), [V200]: completed(V200, 2) });
    await store.getState().run();
    await flush();
    expect(selectResultIsStale(store.getState())).toBe(false);

    // Candidate 1.1.0 has no run: the comparison evaluates it; the operator switches mid-run.
    store.getState().select({ candidate: V110 });
    expect(selectResultIsStale(store.getState())).toBe(true);
    void store.getState().run();
    await flush();
    expect(store.getState().tracks).toMatchObject([{ version: V110, runId: 100 }]);
    store.getState().select({ baseline: `${P}@1.2.0` });
    expect(selectBusy(store.getState())).toBe(false);
    expect(store.getState().tracks).toEqual([]);
    expect(store.getState().notice).toMatch(/selection changed/);

    // The abandoned evaluation finishes: nothing is compared for it, and the old results stay stale.
    client.emit('eval.progress', progress({ runId: 100, version: V110, status: 'completed', phase: 'finished', fraction: 1, done: 300 }));
    await flush();
    expect(client.callsOf('compare.get')).toHaveLength(1);
    expect(store.getState().result?.for.candidate).toBe(V200);
    expect(selectResultIsStale(store.getState())).toBe(true);
  });

  it('ignores a comparison that answers after the selection changed', async () => {
    const { client, store } = await loadedStore({ [V100]: completed(V100, 1), [V200]: completed(V200, 2) });
    client.hold();
    const running = store.getState().run();
    await client.releaseOne();
    await client.releaseOne(); // both eval.runs: compare.get and gate.run are now held
    expect(store.getState().phase).toBe('comparing');
    store.getState().select({ candidate: V110 });
    await client.releaseOne();
    await client.releaseOne();
    await running;
    expect(store.getState().result).toBeNull();
    expect(store.getState().phase).toBe('idle');
  });
});

describe('compare store: the gate baseline', () => {
  it('leaves the baseline to the rules when they would pick the same version', () => {
    expect(gateBaselineArg(c2s, V100, policies, V200)).toBeUndefined();
    expect(gateBaselineArg(c2s, V110, policies, V200)).toBe(V110);
    expect(gateBaselineArg(rulesFile({ baseline: V110 }), V110, policies, V200)).toBeUndefined();
    expect(gateBaselineArg(null, V100, policies, V200)).toBe(V100);
  });

  it('passes an explicit baseline to gate.run', async () => {
    const { client, store } = await loadedStore({ [V110]: completed(V110, 1), [V200]: completed(V200, 2) });
    store.getState().select({ baseline: V110 });
    await store.getState().run();
    await flush();
    expect(client.callsOf('gate.run')).toEqual([{ rulesPath: c2s.path, candidate: V200, baseline: V110 } satisfies MethodInput<'gate.run'>]);
  });

  it('keeps the slices when the gate fails', async () => {
    const { client, store } = await loadedStore({ [V100]: completed(V100, 1), [V200]: completed(V200, 2) });
    client.on('gate.run', () => ({ ok: false, error: { code: 'SWY_ERR_CONFIG', message: 'Slice `tools` is not in the suite.', where: 'rules.yaml:12:3' } }));
    await store.getState().run();
    await flush();
    expect(store.getState().phase).toBe('done');
    expect(store.getState().result?.comparison.slices).toHaveLength(1);
    expect(store.getState().result?.gateError?.where).toBe('rules.yaml:12:3');
  });

  it('refuses to compare a version with itself', async () => {
    const { client, store } = await loadedStore();
    store.getState().select({ candidate: V100 });
    await store.getState().run();
    expect(store.getState().problem?.error.message).toMatch(/same version/);
    expect(client.callsOf('eval.runs')).toEqual([]);
  });
});
