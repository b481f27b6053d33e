import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runGate } from '../eval/gate.js';
import { EvalStore } from '../store/eval-store.js';
import { ShadowEvidenceStore } from '../store/shadow-evidence-store.js';
import { createDemoEngine } from '../../test-support/demo-engine.js';
import { handClock, LAB, LAB_RULES_S2P, labWorkspace, type LabWorkspace } from '../../test-support/lifecycle-fixtures.js';

describe('shadow evidence in the gate', () => {
  let dir: string;
  let ws: LabWorkspace;
  let store: ShadowEvidenceStore;
  let evalStore: EvalStore;
  let rules: string;
  const clock = handClock();
  const id = (label: string) => ws.registry.getVersion(LAB, label).id;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'swy-shadow-'));
    ws = await labWorkspace(dir, { clock });
    evalStore = new EvalStore(ws.db, clock);
    store = new ShadowEvidenceStore(ws.db, clock);
    rules = join(dir, 's2p-shadow.yaml');
    writeFileSync(rules, `${LAB_RULES_S2P}shadow: { min_requests: 100, max_divergence: 0.5 }\n`);
  });
  afterAll(() => {
    ws.db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const gate = () =>
    runGate({
      registry: ws.registry,
      evalStore,
      rulesText: `${LAB_RULES_S2P}shadow: { min_requests: 100, max_divergence: 0.5 }\n`,
      rulesFile: rules,
      candidate: `${LAB}@1.1.0`,
      shadowEvidence: (c, b) => store.evidence(c, b),
    });
  const shadowRules = (r: Awaited<ReturnType<typeof gate>>) => r.rules.filter((x) => x.id.startsWith('shadow.')).map((x) => [x.id, x.observed, x.pass]);

  it('without shadow traffic the verdict is INCONCLUSIVE and says to serve the candidate as a shadow', async () => {
    const r = await gate();
    expect(r.verdict).toBe('INCONCLUSIVE');
    expect(shadowRules(r)).toEqual([
      ['shadow.min_requests', null, null],
      ['shadow.max_divergence', null, null],
    ]);
  });

  it('sums the sessions that shadowed the current baseline, and judges count and divergence', async () => {
    store.record({ versionId: id('1.1.0'), session: 's1', primaryVersionId: id('1.0.0'), requests: 60, errors: 0, maxDivergence: 0.1, startedAt: 'x' });
    expect(shadowRules(await gate())).toEqual([
      ['shadow.min_requests', 60, null],
      ['shadow.max_divergence', 0.1, null],
    ]);
    // Another session (a restart): counters add up instead of overwriting each other.
    store.record({ versionId: id('1.1.0'), session: 's2', primaryVersionId: id('1.0.0'), requests: 50, errors: 0, maxDivergence: 0.2, startedAt: 'y' });
    // Evidence against another primary is not evidence against production.
    store.record({ versionId: id('1.1.0'), session: 's3', primaryVersionId: id('1.2.0'), requests: 5000, errors: 0, maxDivergence: 3, startedAt: 'z' });
    const ok = await gate();
    expect(shadowRules(ok)).toEqual([
      ['shadow.min_requests', 110, true],
      ['shadow.max_divergence', 0.2, true],
    ]);
    expect(ok.verdict).toBe('GO');
    // The same session later, with a larger divergence: NO-GO.
    store.record({ versionId: id('1.1.0'), session: 's2', primaryVersionId: id('1.0.0'), requests: 80, errors: 0, maxDivergence: 0.9, startedAt: 'y' });
    const bad = await gate();
    expect(bad.verdict).toBe('NO-GO');
    expect(shadowRules(bad)).toEqual([
      ['shadow.min_requests', 140, true],
      ['shadow.max_divergence', 0.9, false],
    ]);
    const stored = evalStore.getVerdict(bad.verdictId)!.evidence as { shadow: unknown };
    expect(stored.shadow).toEqual({ requests: 140, maxDivergence: 0.9 });
  });

  it('a failed shadow answer makes the divergence non-finite: NO-GO', async () => {
    store.record({ versionId: id('1.1.0'), session: 's4', primaryVersionId: id('1.0.0'), requests: 10, errors: 2, maxDivergence: 0, startedAt: 'w' });
    const r = await gate();
    expect(r.verdict).toBe('NO-GO');
    expect(r.rules.find((x) => x.id === 'shadow.max_divergence')!.note).toContain('the shadow produced non-finite actions');
  });
});

describe('shadow evidence from live serving', () => {
  it('the shadow slot\'s counters become this session\'s evidence for the shadow version against production', async () => {
    const { engine, cleanup } = await createDemoEngine();
    try {
      await engine.startServing({ single: 'cartpole-balance@production', shadow: 'cartpole-balance@1.1.0' });
      for (let i = 0; i < 30; i++) await engine.serving.act({ episode_id: `e-${i % 3}`, state: [0.05 * (i % 5), 0, 0.1, 0] }, `r${i}`);
      // Shadow answers come after the primary's: wait until all 30 are counted.
      for (let i = 0; i < 200 && (engine.serving.counters().find((c) => c.slot === 'shadow')?.requests ?? 0) < 30; i++) await new Promise((r) => setTimeout(r, 10));
      engine.pushStats(); // what the stats timer does: writes the session's row
      const v = (l: string) => engine.registry.getVersion('cartpole-balance', l).id;
      const e = engine.lifecycle.shadowEvidence.evidence(v('1.1.0'), v('1.0.0'));
      expect(e).toMatchObject({ requests: 30, errors: 0, sessions: 1 });
      expect(e!.maxDivergence).toBeGreaterThan(0);
      expect(Number.isFinite(e!.maxDivergence)).toBe(true);
      expect(engine.lifecycle.shadowEvidence.evidence(v('1.2.0'))).toBeNull();
    } finally {
      await cleanup();
    }
  });
});

describe('shadow divergence in serving.state and the evidence behind shadow rules (issue 13 item 2)', () => {
  it('serving.state carries the newest divergence window and totals; shadow.evidence gives what the rules read with the live window', async () => {
    const { engine, cleanup } = await createDemoEngine();
    try {
      const before = await engine.api.call('serving.getState', {});
      expect(before.ok && ((before.value as { shadowDivergence?: unknown }).shadowDivergence ?? null)).toBeNull();
      await engine.startServing({ single: 'cartpole-balance@production', shadow: 'cartpole-balance@1.1.0' });
      for (let i = 0; i < 30; i++) await engine.serving.act({ episode_id: `e-${i % 3}`, state: [0.05 * (i % 5), 0, 0.3, 0] }, `r${i}`);
      for (let i = 0; i < 200 && (engine.serving.counters().find((c) => c.slot === 'shadow')?.requests ?? 0) < 30; i++) await new Promise((r) => setTimeout(r, 10));
      engine.pushStats();
      const st = await engine.api.call('serving.getState', {});
      if (!st.ok) throw new Error(st.error.message);
      const div = (st.value as { shadowDivergence: { versionRef: string; threshold: number; window: Record<string, number | null>; total: Record<string, number> } }).shadowDivergence;
      expect(div.versionRef).toBe('cartpole-balance@1.1.0');
      expect(div.total.compared).toBe(30);
      expect(div.window.compared).toBe(30);
      expect(div.window.maxAbsP99).toBeGreaterThan(0);
      expect(div.window.cosineDistanceP50).not.toBeNull();
      expect(div.window.overRate).not.toBeNull();

      const ev = await engine.api.call('shadow.evidence', { candidate: 'cartpole-balance@1.1.0' });
      if (!ev.ok) throw new Error(ev.error.message);
      expect(ev.value).toMatchObject({ candidate: 'cartpole-balance@1.1.0', baseline: 'cartpole-balance@1.0.0', recorded: true, requests: 30, errors: 0, sessions: 1, live: { versionRef: 'cartpole-balance@1.1.0' } });
      expect((ev.value as { maxDivergence: number }).maxDivergence).toBeGreaterThan(0);
      const none = await engine.api.call('shadow.evidence', { candidate: 'cartpole-balance@1.2.0' });
      expect(none.ok && none.value).toMatchObject({ recorded: false, requests: 0, live: null });
    } finally {
      await cleanup();
    }
  });
});
