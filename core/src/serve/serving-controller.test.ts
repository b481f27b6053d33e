import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { httpStatusFor, type ActRecord, type ServingState, type ShadowRecord } from '../contract/index.js';
import type { Engine } from '../engine.js';
import { PolicyRunner } from '../runtime/policy-runner.js';
import { createDemoEngine } from '../../test-support/demo-engine.js';
import { writeFlakyExport } from '../../test-support/fault-exports.js';
import type { ServingError } from './serving-errors.js';

const good = [0.01, 0, 0.02, 0];
const bad = [500, 0, 0, 0];

let cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.map((c) => c()));
  cleanups = [];
});

async function setup(maxConsecutiveCrashes = 3) {
  // The real runner, with its test hooks on so a test can block or kill its worker.
  const ctx = await createDemoEngine({ maxConsecutiveCrashes, startRunner: (o) => PolicyRunner.start({ ...o, testHooks: true }) });
  cleanups.push(ctx.cleanup);
  const flaky = await writeFlakyExport(join(ctx.dir, 'flaky'));
  const states: ServingState[] = [];
  ctx.engine.events.on('serving.state', (s) => states.push(s));
  return { ...ctx, flaky, states };
}

async function actError(engine: Engine, episode: string, state: number[]): Promise<ServingError> {
  try {
    await engine.serving.act({ episode_id: episode, state }, `r-${episode}`);
  } catch (e) {
    return e as ServingError;
  }
  throw new Error('expected the request to fail');
}

describe('crash drain', () => {
  it('drains a slot after N consecutive failures and sends its traffic to the other slot', async () => {
    const { engine, flaky, states } = await setup(3);
    await engine.startServing({ a: flaky, b: 'cartpole-balance@production', split: 100 });
    for (let i = 0; i < 3; i++) {
      const e = await actError(engine, `bad-${i}`, bad);
      expect(httpStatusFor(e, 'act')).toBe(500);
      expect(e.message).toMatch(/Slot a \(flaky-sqrt@[0-9a-f]{16}\) failed/);
    }
    expect(engine.serving.drainState()).toBe('drain-a');
    expect(states.at(-1)!.drain).toBe('drain-a');
    // Split 100 would send every new episode to a; a is drained, so b answers.
    const res = await engine.serving.act({ episode_id: 'after-drain', state: good }, 'r1');
    expect(res.slot).toBe('b');
    const metrics = await engine.metricsRegistry.metrics();
    expect(metrics).toMatch(/switchyard_slot_drained\{policy_slot="a"\} 1/);
    expect(metrics).toMatch(/switchyard_worker_failures_total\{policy_slot="a"\} 3/);

    engine.serving.restoreSlot('a');
    expect(engine.serving.drainState()).toBe('none');
    const back = await engine.serving.act({ episode_id: 'after-restore', state: good }, 'r2');
    expect(back.slot).toBe('a');
  });

  it('resets the count on a clean response', async () => {
    const { engine, flaky } = await setup(3);
    await engine.startServing({ single: flaky });
    await actError(engine, 'e1', bad);
    await actError(engine, 'e2', bad);
    await engine.serving.act({ episode_id: 'e3', state: good }, 'r3');
    await actError(engine, 'e4', bad);
    await actError(engine, 'e5', bad);
    expect(engine.serving.drainState()).toBe('none');
    expect(engine.serving.state().slots[0]!.consecutiveFailures).toBe(2);
  });

  it('answers 503 with Retry-After when every slot is drained', async () => {
    const { engine, flaky } = await setup(2);
    await engine.startServing({ single: flaky });
    await actError(engine, 'x1', bad);
    await actError(engine, 'x2', bad);
    expect(engine.serving.drainState()).toBe('degraded');
    const e = await actError(engine, 'x3', good);
    expect(httpStatusFor(e, 'act')).toBe(503);
    expect(e.retryAfterSeconds).toBeGreaterThan(0);
    expect(e.code).toBe('SWY_ERR_SLOT_DRAINED');
  });

  it('fails the requests held by a dying worker at once, naming the slot, and serves again after the restart', async () => {
    const { engine } = await setup(5);
    await engine.startServing({ a: 'cartpole-balance@1.0.0', b: 'cartpole-balance@1.1.0', split: 100 });
    const runner = (engine.serving as unknown as { slots: Map<string, { spec: { runner: { _debugForTest(a: string, ms?: number): void; _killWorkerForTest(): Promise<number>; whenReady(): Promise<void> } } }> }).slots.get('a')!.spec.runner;
    // Busy for longer than the test may run: only the kill can settle the request.
    runner._debugForTest('block', 600_000);
    const pending = engine.serving.act({ episode_id: 'held', state: good }, 'held');
    await new Promise((r) => setTimeout(r, 50));
    void runner._killWorkerForTest();
    const e = await pending.then(() => null, (x: ServingError) => x);
    expect(e && httpStatusFor(e, 'act')).toBe(500);
    expect(e?.code).toBe('SWY_ERR_WORKER_DIED');
    expect(e?.message).toMatch(/Slot a/);
    await runner.whenReady();
    const ok = await engine.serving.act({ episode_id: 'after-restart', state: good }, 'r');
    expect(ok.slot).toBe('a');
  });
});

describe('shadow slot', () => {
  it('answers after the primary and records its divergence', async () => {
    const { engine } = await setup();
    await engine.startServing({ single: 'cartpole-balance@1.0.0', shadow: 'cartpole-balance@1.1.0' });
    const requests: ActRecord[] = [];
    const shadows: ShadowRecord[] = [];
    engine.serving.setRecorder({ request: (r) => requests.push(r), shadow: (r) => shadows.push(r) });
    const res = await engine.serving.act({ episode_id: 'sh-1', state: [0, 0, 0.15, 0.3] }, 'sh-req');
    expect(res.slot).toBe('prod');
    expect(shadows).toHaveLength(0);
    for (let i = 0; i < 100 && shadows.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(shadows).toHaveLength(1);
    const sh = shadows[0]!;
    expect(sh.seq).toBe(requests[0]!.seq);
    expect(sh.routing.slot).toBe('shadow');
    expect(sh.divergence!.maxAbs).toBeGreaterThan(0);
    expect(sh.divergence!.maxAbs).toBeCloseTo(Math.abs(sh.result!.actions[0]![0]! - res.actions[0]![0]!), 6);
    expect(engine.serving.state().slots.map((s) => s.slot)).toEqual(['prod', 'shadow']);
    expect(await engine.metricsRegistry.metrics()).toMatch(/switchyard_shadow_divergence_count\{metric="max_abs"\} 1/);
    // The console's numbers: the stats push carries the shadow's divergence window and totals.
    const stats = engine.serving.snapshot();
    expect(stats.shadow?.versionRef).toBe('cartpole-balance@1.1.0');
    expect(stats.shadow?.window.compared).toBe(1);
    expect(stats.shadow?.window.maxAbsP99).toBeCloseTo(sh.divergence!.maxAbs, 9);
    expect(stats.shadow?.total).toMatchObject({ compared: 1, failed: 0 });
  });

  it('refuses a shadow beside two policies', async () => {
    const { engine } = await setup();
    await expect(engine.startServing({ a: 'cartpole-balance@1.0.0', b: 'cartpole-balance@1.1.0', shadow: 'cartpole-balance@1.2.0' })).rejects.toThrow(/--shadow-policy/);
  });
});
