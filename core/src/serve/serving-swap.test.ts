/**
 * The serving controller's lifecycle hooks: swapping a slot's runner with requests in flight,
 * the hidden warm standby, routing everything to one slot, cumulative counters. The runners here
 * are in-process stand-ins whose answers the test releases one by one (the real worker-backed
 * runner is exercised by the engine's rollback and canary tests).
 */
import { describe, expect, it } from 'vitest';
import { ErrorCodes, type ServingState } from '../contract/index.js';
import { fixedClock } from '../platform/clock.js';
import { silentLogger } from '../platform/logger.js';
import type { ActInput, ActOutput, PolicyExport, SlotRunner } from '../runtime/types.js';
import { createMetricsRegistry, ServingMetrics } from './metrics.js';
import { ServingController } from './serving-controller.js';

interface HeldRunner extends SlotRunner {
  calls: number;
  closed: boolean;
  held: (() => void)[];
  hold: boolean;
  fail: boolean;
}

function runner(name: string): HeldRunner {
  const exp: PolicyExport = {
    dir: `/exports/${name}`,
    manifest: { policy: 'p', version: name, model_id: name, kind: 'direct', observation: { name: 'obs', dim: 1 }, action: { name: 'a', dim: 1, chunk: 1 } },
    modelHash: name.padEnd(16, '0'),
    modelVersion: `${name}@${name.padEnd(16, '0')}`,
    sizeBytes: 10,
    files: [],
    modelPath: `/exports/${name}/policy.onnx`,
  };
  const r: HeldRunner = {
    export: exp,
    ready: true,
    calls: 0,
    closed: false,
    held: [],
    hold: false,
    fail: false,
    async act(_input: ActInput): Promise<ActOutput> {
      r.calls++;
      if (r.hold) await new Promise<void>((resolve) => r.held.push(resolve));
      if (r.fail) throw new Error(`${name} failed`);
      return { actions: [[1]], numActions: 1, actionDim: 1, cache: 'none', denoiseSteps: 0, inferMs: 0.01 };
    },
    async close() {
      r.closed = true;
    },
  };
  return r;
}

function controller() {
  const states: ServingState[] = [];
  const c = new ServingController({ clock: fixedClock(), logger: silentLogger, metrics: new ServingMetrics(createMetricsRegistry()), onStateChange: (s) => states.push(s) });
  return { c, states };
}

const body = (episode: string) => ({ episode_id: episode, state: [0] });
const tick = () => new Promise<void>((r) => setImmediate(r));

describe('swapping a slot runner', () => {
  it('is atomic: a request in flight finishes on the old runner, the next one goes to the new; idle resolves once the old is drained', async () => {
    const { c } = controller();
    const old = runner('old');
    const next = runner('new');
    c.startSingle({ ref: 'p@1', runner: old });
    old.hold = true;
    const inFlight = c.act(body('e1'), 'r1');
    await tick();
    expect(old.calls).toBe(1);
    const { previous, idle } = c.swapPrimary('prod', { ref: 'p@2', runner: next });
    expect(previous.ref).toBe('p@1');
    let idled = false;
    void idle.then(() => (idled = true));
    const after = await c.act(body('e2'), 'r2');
    expect(after.model_version).toBe('new@new0000000000000');
    await tick();
    expect(idled).toBe(false);
    old.held.shift()!();
    const first = await inFlight;
    // The answer names the runner that computed it, not the slot's runner now.
    expect(first.model_version).toBe('old@old0000000000000');
    await idle;
    expect(idled).toBe(true);
    expect(old.closed).toBe(false); // closing is the caller's, after idle
    expect(c.state().slots[0]).toMatchObject({ versionRef: 'p@2', modelVersion: 'new@new0000000000000' });
  });

  it('resets the drain of the slot it replaces', async () => {
    const c = new ServingController({ clock: fixedClock(), logger: silentLogger, metrics: new ServingMetrics(createMetricsRegistry()), maxConsecutiveCrashes: 2 });
    const bad = runner('bad');
    bad.fail = true;
    c.startSingle({ ref: 'p@1', runner: bad });
    for (const i of [1, 2]) await c.act(body(`x${i}`), `r${i}`).catch(() => undefined);
    expect(c.drainState()).toBe('degraded');
    c.swapPrimary('prod', { ref: 'p@0', runner: runner('good') });
    expect(c.drainState()).toBe('none');
    expect((await c.act(body('y'), 'r3')).model_version).toMatch(/^good@/);
  });
});

describe('the warm standby', () => {
  it('is loaded, shown in the state, never routed, and takes over prod at once', async () => {
    const { c, states } = controller();
    const prod = runner('prod');
    const standby = runner('standby');
    c.startSingle({ ref: 'p@2', runner: prod });
    expect(c.setStandby({ ref: 'p@1', runner: standby })).toBeNull();
    expect(states.at(-1)!.standby).toEqual({ versionRef: 'p@1', modelVersion: 'standby@standby000000000', ready: true });
    for (let i = 0; i < 20; i++) await c.act(body(`e${i}`), `r${i}`);
    expect(standby.calls).toBe(0);
    expect(c.state().slots.map((s) => s.slot)).toEqual(['prod']);
    const swapped = c.promoteStandby()!;
    expect(swapped.previous.ref).toBe('p@2');
    expect(c.state().standby).toBeNull();
    expect((await c.act(body('after'), 'ra')).model_version).toBe('standby@standby000000000');
    expect(c.promoteStandby()).toBeNull();
  });

  it('exists only in single-policy mode', () => {
    const { c } = controller();
    c.startAb({ ref: 'p@1', runner: runner('a') }, { ref: 'p@2', runner: runner('b') }, 50);
    expect(() => c.setStandby({ ref: 'p@0', runner: runner('s') })).toThrow(/single-policy mode only/);
  });
});

describe('routeAll', () => {
  it('moves episodes in progress too, unlike a split change', async () => {
    const { c } = controller();
    c.startAb({ ref: 'p@1', runner: runner('a') }, { ref: 'p@2', runner: runner('b') }, 0);
    const episodes = Array.from({ length: 10 }, (_, i) => `ep-${i}`);
    for (const e of episodes) expect((await c.act(body(e), e)).slot).toBe('b');
    c.setSplit(100);
    // Sticky: a split change moves new episodes only.
    expect((await c.act(body('ep-0'), 'x')).slot).toBe('b');
    expect((await c.act(body('fresh'), 'y')).slot).toBe('a');
    c.routeAll('a');
    for (const e of episodes) expect((await c.act(body(e), `${e}-2`)).slot).toBe('a');
    expect(c.state().split).toBe(100);
  });

  it('applies to two-policy mode only', () => {
    const { c } = controller();
    c.startSingle({ ref: 'p@1', runner: runner('a') });
    try {
      c.routeAll('a');
      throw new Error('expected a refusal');
    } catch (e) {
      expect((e as { code?: string }).code).toBe(ErrorCodes.SWY_ERR_NOT_SERVING);
    }
  });
});

describe('cumulative counters', () => {
  it('count requests and errors per slot and keep latency samples after a mark, whatever snapshot() resets', async () => {
    const { c } = controller();
    const a = runner('a');
    const b = runner('b');
    c.startAb({ ref: 'p@1', runner: a }, { ref: 'p@2', runner: b }, 100);
    for (let i = 0; i < 5; i++) await c.act(body(`a${i}`), `a${i}`);
    const mark = c.counters().find((x) => x.slot === 'a')!.latencyCount;
    expect(mark).toBe(5);
    c.snapshot();
    a.fail = true;
    await c.act(body('a-fail'), 'af').catch(() => undefined);
    a.fail = false;
    for (let i = 0; i < 3; i++) await c.act(body(`a-more${i}`), `am${i}`);
    const ca = c.counters().find((x) => x.slot === 'a')!;
    expect(ca).toMatchObject({ slot: 'a', versionRef: 'p@1', requests: 9, errors: 1, latencyCount: 8 });
    expect(c.latencySamples('a', mark)).toHaveLength(3);
    expect(c.latencySamples('a', 0)).toHaveLength(8);
    expect(c.counters().find((x) => x.slot === 'b')).toMatchObject({ requests: 0, errors: 0, latencyCount: 0 });
  });
});
