/**
 * Rollback and promotion while serving `POLICY@production`, with real ONNX workers: the previous
 * production version waits warm in the standby, a rollback swaps it in without dropping a
 * request, and a promotion keeps the replaced version warm as the next rollback target.
 * (Timings are measured by bench/rollback-bench.ts, never asserted here.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LifecycleChanged, ServingState } from '../contract/index.js';
import type { Engine } from '../engine.js';
import { createDemoEngine } from '../../test-support/demo-engine.js';
import { contractCaller } from '../../test-support/lifecycle-fixtures.js';

const DEMO = 'cartpole-balance';
let engine: Engine;
let cleanup: () => Promise<void>;
let call: ReturnType<typeof contractCaller>;
const changes: LifecycleChanged[] = [];
const states: ServingState[] = [];
const mv = (label: string) => engine.registry.getVersion(DEMO, label).modelVersion;

beforeAll(async () => {
  const ctx = await createDemoEngine();
  engine = ctx.engine;
  cleanup = ctx.cleanup;
  call = contractCaller(engine.api);
  engine.events.on('lifecycle.changed', (c) => changes.push(c));
  engine.events.on('serving.state', (s) => states.push(s));
  // Production timeline 1.0.0 -> 1.1.0 (forced: this test is about traffic, not verdicts).
  for (const to of ['staging', 'production'] as const) {
    const r = await call('lifecycle.promote', { version: `${DEMO}@1.1.0`, to, force: true, reason: 'rollback test setup', actor: 'test' });
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.value.traffic).toEqual({ moved: false, ms: null, how: to === 'production' ? 'not serving' : 'not a production change' });
  }
  await engine.startServing({ single: `${DEMO}@production` });
  await engine.lifecycle.standbyReady();
}, 180_000);

afterAll(async () => {
  await cleanup();
});

async function act(n: number, prefix: string) {
  return Promise.all(Array.from({ length: n }, (_, i) => engine.serving.act({ episode_id: `${prefix}-${i % 7}`, state: [0.01 * i, 0, 0.02, 0] }, `${prefix}-${i}`)));
}

describe('serving POLICY@production', () => {
  it('keeps the previous production version warm in a standby that is never routed', async () => {
    const st = engine.serving.state();
    expect(st.slots.map((s) => [s.slot, s.versionRef])).toEqual([['prod', `${DEMO}@1.1.0`]]);
    expect(st.standby).toEqual({ versionRef: `${DEMO}@1.0.0`, modelVersion: mv('1.0.0'), ready: true });
    const answers = await act(20, 'before');
    expect(new Set(answers.map((a) => a.model_version))).toEqual(new Set([mv('1.1.0')]));
  });

  it('a rollback swaps the standby in at once; requests in flight during it all get answers', async () => {
    const inFlight = act(60, 'during');
    const res = await call('lifecycle.rollback', { policy: DEMO, reason: 'error spike', actor: 'ops' });
    expect(res.ok).toBe(true);
    if (!res.ok) return;
    expect(res.value.restored.label).toBe('1.0.0');
    expect(res.value.replaced.label).toBe('1.1.0');
    expect(res.value.traffic.moved).toBe(true);
    expect(res.value.traffic.how).toBe('standby');
    expect(typeof res.value.traffic.ms).toBe('number');
    // The 60 requests were routed before the swap, so they were in flight on 1.1.0's worker during it:
    // every one was answered, by the runner it was sent to (closed only once idle).
    const during = await inFlight;
    expect(during).toHaveLength(60);
    expect(new Set(during.map((a) => a.model_version))).toEqual(new Set([mv('1.1.0')]));
    const after = await act(20, 'after');
    expect(new Set(after.map((a) => a.model_version))).toEqual(new Set([mv('1.0.0')]));
    expect(engine.serving.state().slots[0]!.versionRef).toBe(`${DEMO}@1.0.0`);
    expect(changes.at(-1)).toMatchObject({ action: 'rollback', version: `${DEMO}@1.0.0`, replaced: `${DEMO}@1.1.0`, reason: 'error spike', actor: 'ops' });
    // 1.0.0 is the first production version: nothing left to keep warm.
    await engine.lifecycle.standbyReady();
    expect(engine.serving.state().standby).toBeNull();
  });

  it('a promotion loads the new version, moves traffic, and keeps the replaced one warm for the next rollback', async () => {
    await call('lifecycle.promote', { version: `${DEMO}@1.2.0`, to: 'staging', force: true, reason: 'test', actor: 'test' });
    const p = await call('lifecycle.promote', { version: `${DEMO}@1.2.0`, to: 'production', force: true, reason: 'test', actor: 'test' });
    expect(p.ok).toBe(true);
    if (!p.ok) return;
    expect(p.value.traffic).toMatchObject({ moved: true, how: 'cold-load' });
    expect(p.value.replaced?.label).toBe('1.0.0');
    expect(new Set((await act(10, 'p12')).map((a) => a.model_version))).toEqual(new Set([mv('1.2.0')]));
    await engine.lifecycle.standbyReady();
    expect(engine.serving.state().standby).toMatchObject({ versionRef: `${DEMO}@1.0.0`, ready: true });
    const r = await call('lifecycle.rollback', { policy: DEMO });
    expect(r.ok && r.value.traffic.how).toBe('standby');
    expect(new Set((await act(10, 'r2')).map((a) => a.model_version))).toEqual(new Set([mv('1.0.0')]));
    expect(states.some((s) => s.standby?.versionRef === `${DEMO}@1.0.0`)).toBe(true);
  });

  it('history over the contract lists the changes and answers what was production at a time', async () => {
    const h = await call('lifecycle.history', { policy: DEMO, at: 'now' });
    expect(h.ok).toBe(true);
    if (!h.ok) return;
    expect(h.value.entries.filter((e) => e.action === 'rollback').map((e) => [e.label, e.to])).toEqual([
      ['1.1.0', 'staging'],
      ['1.0.0', 'production'],
      ['1.2.0', 'staging'],
      ['1.0.0', 'production'],
    ]);
    expect(h.value.productionAt?.production?.label).toBe('1.0.0');
    const bad = await call('lifecycle.history', { policy: DEMO, at: 'last tuesday' });
    expect(bad.ok).toBe(false);
    if (!bad.ok) {
      expect(bad.error.code).toBe('SWY_ERR_INVALID_INPUT');
      expect(bad.error.where).toBe('at');
    }
  });
});
