// @vitest-environment node
import { describe, expect, it } from 'vitest';
import type { GateResult, HistoryEntry, PromotionResult, Result, RollbackResult, VerdictSummary, VersionSummary } from '@contract';
import { FakeClient, flush } from '../testing/fake-client';
import { gateResult, policy, rulesFile, suiteSummary, version } from '../testing/fixtures';
import { createLifecycleStore, selectPromotionView, selectRollbackTarget } from './lifecycle-store';

const P = 'cartpole-balance';
const C2S = '/demo/rules/candidate-to-staging.yaml';
const S2P = '/demo/rules/staging-to-production.yaml';
const RULES = [rulesFile({ path: C2S, hash: 'abc' }), rulesFile({ path: S2P, name: 'staging-to-production.yaml', transition: 'staging->production', hash: 'def' })];

function entry(id: number, label: string, from: HistoryEntry['from'], to: HistoryEntry['to'], action: HistoryEntry['action'] = 'promote'): HistoryEntry {
  return { id, at: new Date(Date.UTC(2025, 0, 1, 0, id)).toISOString(), policy: P, label, from, to, action, actor: 'api', reason: '', verdictId: null, forced: false };
}

function verdict(overrides: Partial<VerdictSummary> = {}): VerdictSummary {
  return {
    id: 1,
    policy: P,
    candidate: `${P}@2.0.0`,
    baseline: `${P}@1.0.0`,
    transition: 'candidate->staging',
    suite: 'cartpole-frozen-v1',
    suiteFingerprint: suiteSummary().fingerprint,
    rulesHash: 'abc',
    rulesFile: C2S,
    verdict: 'GO',
    summary: 'GO: all 9 rules passed',
    rules: [],
    failingCases: [],
    createdAt: '2025-01-02T00:00:00.000Z',
    ...overrides,
  };
}

/** A server with 1.0.0 in production and candidates 1.1.0 and 2.0.0; mutable by the test. */
function world() {
  const w = {
    versions: [version({ label: '1.0.0', stage: 'production', productionSince: '2025-01-01T00:01:00.000Z' }), version({ label: '1.1.0' }), version({ label: '2.0.0' })] as VersionSummary[],
    history: [entry(1, '1.0.0', 'candidate', 'production', 'stage')] as HistoryEntry[],
    verdicts: [] as VerdictSummary[],
  };
  const client = new FakeClient()
    .on('policies.list', () => ({ ok: true, value: { policies: [policy(P, w.versions)] } }))
    .on('rules.list', () => ({ ok: true, value: { rules: RULES } }))
    .on('suites.list', () => ({ ok: true, value: { suites: [suiteSummary()] } }))
    .on('lifecycle.history', (input) => ({ ok: true, value: { policy: input.policy, entries: w.history, productionAt: null } }))
    .on('verdicts.list', () => ({ ok: true, value: { verdicts: w.verdicts } }));
  return { w, client };
}

function promotion(label: string, overrides: Partial<PromotionResult> = {}): PromotionResult {
  return {
    policy: P,
    version: version({ label, stage: 'staging' }),
    from: 'candidate',
    to: 'staging',
    at: '2025-01-03T00:00:00.000Z',
    replaced: null,
    verdictId: 1,
    forced: false,
    overridden: [],
    reason: 'GO verdict #1 for candidate->staging',
    actor: 'api',
    traffic: { moved: false, ms: null, how: 'not a production change' },
    ...overrides,
  };
}

describe('lifecycle store', () => {
  it('loads the policy with a production version, its history and verdicts, and picks the newest candidate', async () => {
    const { client } = world();
    const store = createLifecycleStore(client);
    await store.getState().load();
    const s = store.getState();
    expect(s.status).toBe('ready');
    expect(s.policy).toBe(P);
    expect(s.history).toHaveLength(1);
    expect(s.selected).toBe('2.0.0');
    expect(s.target).toBe('staging');
    const view = selectPromotionView(s);
    expect(view.transition).toBe('candidate->staging');
    expect(view.rules?.path).toBe(C2S);
    expect(view.verdict).toBeNull();
    expect(view.reasonRequired).toBe(true);
    expect(selectRollbackTarget(s)).toBeNull();
  });

  it('runs the gate with the rules of the transition, then shows the new verdict', async () => {
    const { w, client } = world();
    client.on('gate.run', (input) => {
      w.verdicts = [verdict({ id: 4 })];
      return { ok: true, value: gateResult(input.candidate, `${P}@1.0.0`, { verdictId: 4 }) };
    });
    const store = createLifecycleStore(client);
    await store.getState().load();
    const running = store.getState().runGate();
    expect(store.getState().gate?.status).toBe('running');
    await running;
    expect(client.callsOf('gate.run')).toEqual([{ rulesPath: C2S, candidate: `${P}@2.0.0` }]);
    expect(store.getState().gate?.status).toBe('done');
    const view = selectPromotionView(store.getState());
    expect(view.verdict?.id).toBe(4);
    expect(view.reasonRequired).toBe(false);
  });

  it('promotes on a GO without a reason and without force, expecting the production it saw', async () => {
    const { w, client } = world();
    w.verdicts = [verdict()];
    client.on('lifecycle.promote', () => ({ ok: true, value: promotion('2.0.0') }));
    const store = createLifecycleStore(client);
    await store.getState().load();
    store.getState().openDialog('promote');
    expect(await store.getState().promote('')).toBe(true);
    expect(client.callsOf('lifecycle.promote')).toEqual([{ version: `${P}@2.0.0`, to: 'staging', expectedProduction: '1.0.0' }]);
    expect(store.getState().dialog).toBeNull();
    expect(store.getState().outcome?.kind).toBe('promote');
  });

  it('after promoting to staging the panel aims at production, not at staging again (issue 12)', async () => {
    const { w, client } = world();
    w.verdicts = [verdict()];
    client.on('lifecycle.promote', () => {
      w.versions = w.versions.map((v) => (v.label === '2.0.0' ? { ...v, stage: 'staging' } : v));
      return { ok: true, value: promotion('2.0.0') };
    });
    const store = createLifecycleStore(client);
    await store.getState().load();
    expect(store.getState().target).toBe('staging');
    store.getState().openDialog('promote');
    expect(await store.getState().promote('')).toBe(true);
    await flush();
    await store.getState().load();
    expect(store.getState().selected).toBe('2.0.0');
    expect(store.getState().target).toBe('production');
  });

  it('requires a reason to override a NO-GO, and sends force with it', async () => {
    const { w, client } = world();
    w.verdicts = [verdict({ candidate: `${P}@1.1.0`, verdict: 'NO-GO', summary: 'NO-GO: slices.safety.max_fail_rate failed' })];
    client.on('lifecycle.promote', () => ({ ok: true, value: promotion('1.1.0', { forced: true, verdictId: 1, reason: 'bench test' }) }));
    const store = createLifecycleStore(client);
    await store.getState().load();
    store.getState().selectVersion('1.1.0');
    expect(selectPromotionView(store.getState()).reasonRequired).toBe(true);
    store.getState().openDialog('promote');
    expect(await store.getState().promote('  ')).toBe(false);
    expect(client.callsOf('lifecycle.promote')).toHaveLength(0);
    expect(await store.getState().promote(' bench test ')).toBe(true);
    expect(client.callsOf('lifecycle.promote')).toEqual([{ version: `${P}@1.1.0`, to: 'staging', expectedProduction: '1.0.0', force: true, reason: 'bench test' }]);
  });

  it('asks for a reason when the server finds the verdict stale', async () => {
    const { w, client } = world();
    w.verdicts = [verdict()];
    const stale = { code: 'SWY_ERR_VERDICT_REQUIRED' as const, message: 'verdict #1 is stale: the suite changed since verdict #1' };
    client.on('lifecycle.promote', () => ({ ok: false, error: stale }));
    const store = createLifecycleStore(client);
    await store.getState().load();
    store.getState().openDialog('promote');
    expect(await store.getState().promote('')).toBe(false);
    const s = store.getState();
    expect(s.dialog).toBe('promote');
    expect(s.refusal).toEqual(stale);
    expect(selectPromotionView(s).reasonRequired).toBe(true);
    // The next try goes as an override, with the reason.
    await store.getState().promote('suite file re-saved, same cases');
    expect(client.callsOf('lifecycle.promote')[1]).toMatchObject({ force: true, reason: 'suite file re-saved, same cases' });
  });

  it('reads a conflict as "someone else changed production", and refreshes', async () => {
    const { w, client } = world();
    w.verdicts = [verdict()];
    client.on('lifecycle.promote', () => ({ ok: false, error: { code: 'SWY_ERR_CONFLICT', message: 'The production version of cartpole-balance is 1.1.0, not 1.0.0' } }));
    const store = createLifecycleStore(client);
    await store.getState().load();
    const listsBefore = client.callsOf('policies.list').length;
    store.getState().openDialog('promote');
    await store.getState().promote('');
    await flush();
    const problem = store.getState().problem;
    expect(problem?.error.code).toBe('SWY_ERR_CONFLICT');
    expect(problem?.hint).toMatch(/Someone else changed production since you looked: refresh/);
    expect(client.callsOf('policies.list').length).toBeGreaterThan(listsBefore);
  });

  it('rolls back to the production version before the current one and keeps the answer', async () => {
    const { w, client } = world();
    w.versions = [version({ label: '1.0.0', stage: 'staging' }), version({ label: '1.1.0' }), version({ label: '2.0.0', stage: 'production' })];
    w.history = [entry(1, '1.0.0', 'candidate', 'production', 'stage'), entry(2, '2.0.0', 'candidate', 'staging'), entry(3, '1.0.0', 'production', 'staging'), entry(4, '2.0.0', 'staging', 'production')];
    const answer: RollbackResult = {
      policy: P,
      restored: version({ label: '1.0.0', stage: 'production' }),
      replaced: version({ label: '2.0.0', stage: 'staging' }),
      at: '2025-01-04T00:00:00.000Z',
      lastProduction: { from: w.history[0]!.at, until: w.history[3]!.at },
      skipped: [],
      reason: 'rollback from 2.0.0',
      actor: 'api',
      traffic: { moved: true, ms: 3.2, how: 'standby' },
    };
    client.on('lifecycle.rollback', () => ({ ok: true, value: answer }));
    const store = createLifecycleStore(client);
    await store.getState().load();
    const target = selectRollbackTarget(store.getState());
    expect(target?.label).toBe('1.0.0');
    expect(target?.current).toBe('2.0.0');
    store.getState().openDialog('rollback');
    expect(await store.getState().rollback('')).toBe(true);
    expect(client.callsOf('lifecycle.rollback')).toEqual([{ policy: P, expectedProduction: '2.0.0' }]);
    const outcome = store.getState().outcome;
    expect(outcome?.kind === 'rollback' && outcome.result.traffic.ms).toBe(3.2);
    expect(store.getState().dialog).toBeNull();
  });

  it('refreshes stages and history when a lifecycle.changed event arrives', async () => {
    const { w, client } = world();
    const store = createLifecycleStore(client);
    const stop = store.getState().start();
    await flush();
    await flush();
    expect(store.getState().history).toHaveLength(1);
    // Someone promotes 2.0.0 elsewhere.
    w.versions = [version({ label: '1.0.0', stage: 'production' }), version({ label: '1.1.0' }), version({ label: '2.0.0', stage: 'staging' })];
    w.history = [...w.history, entry(2, '2.0.0', 'candidate', 'staging')];
    client.emit('lifecycle.changed', {
      policy: P,
      action: 'promote',
      version: `${P}@2.0.0`,
      from: 'candidate',
      to: 'staging',
      at: w.history[1]!.at,
      actor: 'cli',
      reason: 'GO verdict #1',
      verdictId: 1,
      forced: false,
      replaced: null,
    });
    await flush();
    await flush();
    expect(store.getState().history).toHaveLength(2);
    expect(store.getState().policies[0]?.versions.find((v) => v.label === '2.0.0')?.stage).toBe('staging');
    // The selection stays; its natural target is now production only when the operator re-picks it.
    expect(store.getState().selected).toBe('2.0.0');
    stop();
    expect(client.subscriberCount('lifecycle.changed')).toBe(0);
  });

  it('shows the gate\u2019s evaluation progress while it runs', async () => {
    const { client } = world();
    client.on('gate.run', () => new Promise(() => undefined)); // still evaluating
    const store = createLifecycleStore(client);
    const stop = store.getState().start();
    await store.getState().load();
    void store.getState().runGate();
    expect(store.getState().gate?.status).toBe('running');
    client.emit('eval.progress', {
      runId: 3,
      version: `${P}@2.0.0`,
      suite: 'cartpole-frozen-v1',
      suiteFingerprint: suiteSummary().fingerprint,
      done: 120,
      total: 300,
      passed: 118,
      fraction: 0.4,
      status: 'running',
      phase: 'evaluating',
      error: null,
    });
    expect(store.getState().gate?.progress?.done).toBe(120);
    stop();
  });

  it('cancels the gate: every evaluation it started is cancelled and it ends without a verdict or an error', async () => {
    const { client } = world();
    let finish: (r: Result<GateResult>) => void = () => undefined;
    client.on('gate.run', () => new Promise<Result<GateResult>>((r) => (finish = r)));
    client.on('eval.cancel', (input) => ({ ok: true, value: { runId: input.runId, cancelled: true } }));
    const store = createLifecycleStore(client);
    const stop = store.getState().start();
    await store.getState().load();
    const running = store.getState().runGate();
    const progress = (runId: number, version: string) => ({
      runId,
      version,
      suite: 'cartpole-frozen-v1',
      suiteFingerprint: suiteSummary().fingerprint,
      done: 10,
      total: 300,
      passed: 10,
      fraction: 10 / 300,
      status: 'running' as const,
      phase: 'evaluating' as const,
      error: null,
    });
    client.emit('eval.progress', progress(7, `${P}@2.0.0`));
    client.emit('eval.progress', progress(8, `${P}@1.0.0`));
    client.emit('eval.progress', progress(7, `${P}@2.0.0`));
    await store.getState().cancelGate();
    expect(client.callsOf('eval.cancel')).toEqual([{ runId: 7 }, { runId: 8 }]);
    expect(store.getState().gate?.cancelling).toBe(true);
    finish({ ok: false, error: { code: 'SWY_ERR_CONFLICT', message: 'The gate could not evaluate the candidate: the run ended cancelled. No verdict was recorded.' } });
    await running;
    expect(store.getState().gate?.status).toBe('cancelled');
    expect(store.getState().problem).toBeNull();
    stop();
  });

  it('asks the history what was production at a local time, sent in UTC', async () => {
    const { w, client } = world();
    client.on('lifecycle.history', (input) => ({
      ok: true,
      value: {
        policy: P,
        entries: w.history,
        productionAt:
          input.at === undefined
            ? null
            : { policy: P, at: input.at, production: w.versions[0]!, since: w.history[0]!.at, until: null, message: 'At ... the production version was 1.0.0' },
      },
    }));
    const store = createLifecycleStore(client);
    await store.getState().load();
    await store.getState().lookupAt('2026-11-21 14:00');
    expect(client.callsOf('lifecycle.history').at(-1)).toEqual({ policy: P, at: new Date(2026, 10, 21, 14, 0).toISOString() });
    expect(store.getState().at.status).toBe('done');
    expect(store.getState().at.result?.production?.label).toBe('1.0.0');
  });
});
