/**
 * The canary ramp in virtual time: the timers and the clock are manual, the metrics source is a
 * set of counters the test feeds as if traffic flowed, and promotion and rollback go through a
 * real LifecycleService on a real store (the integration test in canary-serving.test.ts drives a
 * real canary with ONNX workers and HTTP traffic).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CanaryStatus } from '../contract/index.js';
import { canaryConfig, type CanaryConfig } from '../domain/canary.js';
import { runGate } from '../eval/gate.js';
import { createManualTimers, type ManualTimers } from '../platform/timers.js';
import { EvalStore } from '../store/eval-store.js';
import { LAB, labWorkspace, type LabWorkspace } from '../../test-support/lifecycle-fixtures.js';
import { CanaryController, type CanaryMetricsSource, type SlotReading } from './canary-controller.js';
import { LifecycleService } from './lifecycle-service.js';

let dir: string;
let ws: LabWorkspace;
let timers: ManualTimers;
let svc: LifecycleService;
let verdictId: number;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'swy-canary-'));
  timers = createManualTimers(Date.UTC(2026, 10, 21, 9));
  const clock = timers.clock;
  ws = await labWorkspace(dir, { clock });
  const evalStore = new EvalStore(ws.db, clock);
  svc = new LifecycleService({ db: ws.db, registry: ws.registry, evalStore, clock });
  const gate = (rules: string) => runGate({ registry: ws.registry, evalStore, rulesText: readFileSync(rules, 'utf8'), rulesFile: rules, candidate: `${LAB}@1.1.0` });
  await gate(ws.rulesC2S);
  await svc.promote({ version: `${LAB}@1.1.0`, to: 'staging', actor: 'ops' });
  verdictId = (await gate(ws.rulesS2P)).verdictId;
});

afterEach(() => {
  ws.db.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Counters fed by the test as if traffic flowed; `mode` breaks the source on purpose. */
class FedSource implements CanaryMetricsSource {
  prod: SlotReading = { requests: 0, errors: 0, latencyCount: 0, latenciesMs: [] };
  canary: SlotReading = { requests: 0, errors: 0, latencyCount: 0, latenciesMs: [] };
  private prodLat: number[] = [];
  private canLat: number[] = [];
  mode: 'ok' | 'throws' | 'silent' = 'ok';
  reads = 0;

  /** `n` requests split by the canary share, `canaryErrorRate` of the canary's failing. */
  traffic(n: number, percent: number, canaryErrorRate = 0, canaryLatencyMs = 1): void {
    const toCanary = Math.round((n * percent) / 100);
    const toProd = n - toCanary;
    const errs = Math.round(toCanary * canaryErrorRate);
    this.prod.requests += toProd;
    for (let i = 0; i < toProd; i++) this.prodLat.push(1);
    this.canary.requests += toCanary;
    this.canary.errors += errs;
    for (let i = 0; i < toCanary - errs; i++) this.canLat.push(canaryLatencyMs);
  }

  async read(marks: { production: number; canary: number }) {
    this.reads++;
    if (this.mode === 'throws') throw new Error('metrics backend unreachable');
    if (this.mode === 'silent') return new Promise<never>(() => {});
    return {
      production: { ...this.prod, latencyCount: this.prodLat.length, latenciesMs: this.prodLat.slice(marks.production) },
      canary: { ...this.canary, latencyCount: this.canLat.length, latenciesMs: this.canLat.slice(marks.canary) },
    };
  }
}

function canary(config: Partial<CanaryConfig> = {}, opts: { forced?: boolean } = {}) {
  const source = new FedSource();
  const traffic = { percents: [] as number[], allToProduction: 0 };
  const progress: CanaryStatus[] = [];
  const audit: { action: string; detail: Record<string, unknown> }[] = [];
  const c = new CanaryController({
    id: 'canary-test',
    policy: LAB,
    candidate: `${LAB}@1.1.0`,
    baseline: `${LAB}@1.0.0`,
    config: canaryConfig({ intervalMs: 60_000, monitorWindowMs: 120_000, errorMargin: 0.02, ...config }),
    verdictId: opts.forced ? null : verdictId,
    forced: opts.forced ?? false,
    source,
    clock: timers.clock,
    timers,
    traffic: { setCanaryPercent: (p) => void traffic.percents.push(p), allToProduction: () => void traffic.allToProduction++ },
    lifecycle: {
      promote: async () => {
        const r = await svc.promote({ version: `${LAB}@1.1.0`, to: 'production', actor: 'canary', verdictId, reason: 'canary: every look passed', expectedProduction: '1.0.0' });
        return { at: r.at };
      },
      rollback: async (reason) => void svc.rollback({ policy: LAB, actor: 'canary', reason, expectedProduction: '1.1.0' }),
      audit: (action, detail) => {
        audit.push({ action, detail });
        svc.store.audit('canary', action, `${LAB}@1.1.0`, detail);
      },
    },
    onProgress: (s) => progress.push(s),
  });
  return { c, source, traffic, progress, audit };
}

/** Let `ms` of virtual time pass with `perInterval` requests per minute at the current share. */
async function run(k: ReturnType<typeof canary>, ms: number, perMinute = 20_000, canaryErrorRate = 0) {
  const status = k.c.status();
  k.source.traffic(Math.round((perMinute * ms) / 60_000), status.percent, canaryErrorRate);
  await timers.advance(ms);
  await k.c.whenIdle();
}

const stageOf = (label: string) => ws.registry.getVersion(LAB, label).stage;

describe('canary ramp', () => {
  it('ramps 5 -> 25 -> 50 -> 100 with a look per step at alpha / planned looks, promotes, monitors and completes', async () => {
    const k = canary();
    const started = await k.c.start();
    expect(started).toMatchObject({ state: 'ramping', percent: 5, stepIndex: 0, plannedLooks: 6, nextLookAt: new Date(timers.now() + 60_000).toISOString() });
    // Half an interval: no look yet.
    await run(k, 30_000);
    expect(k.c.status().looks).toHaveLength(0);
    for (const expected of [25, 50, 100]) {
      await run(k, 30_000);
      expect(k.c.status().percent).toBe(expected);
      await run(k, 30_000);
    }
    expect(k.c.status().state).toBe('ramping');
    await run(k, 30_000); // the look at 100 %
    const s = k.c.status();
    expect(s.state).toBe('monitoring');
    expect(s.looks.map((l) => [l.phase, l.percent, l.pass])).toEqual([
      ['ramp', 5, true],
      ['ramp', 25, true],
      ['ramp', 50, true],
      ['ramp', 100, true],
    ]);
    for (const l of s.looks) expect(l.alpha).toBeCloseTo(0.05 / 6, 12);
    expect(k.traffic.percents).toEqual([5, 25, 50, 100]);
    expect(stageOf('1.1.0')).toBe('production');
    const promoted = ws.db.prepare("SELECT verdict_id, actor, reason FROM stage_history WHERE to_stage = 'production' AND action = 'promote'").get();
    expect(promoted).toEqual({ verdict_id: verdictId, actor: 'canary', reason: 'canary: every look passed' });
    expect(s.promotedAt).not.toBeNull();
    await run(k, 60_000);
    await run(k, 60_000);
    const done = k.c.status();
    expect(done.state).toBe('completed');
    expect(done.looks).toHaveLength(6);
    expect(done.looks.slice(4).every((l) => l.phase === 'monitor' && l.pass)).toBe(true);
    expect(done.outcome).toMatch(/^promoted at .+; the monitor passed 2 looks over 120000 ms$/);
    expect(k.traffic.allToProduction).toBe(0);
    expect(timers.pending()).toBe(0);
    expect(k.audit.map((a) => a.action)).toEqual(['canary.start', ...Array(4).fill('canary.look'), 'canary.promoted', 'canary.look', 'canary.look', 'canary.completed']);
  });

  it('a candidate that degrades mid-ramp is rolled back at the next look with no operator action, recording the check and its numbers', async () => {
    const k = canary();
    await k.c.start();
    await run(k, 60_000); // look 1 at 5 %: fine
    await run(k, 60_000); // look 2 at 25 %: fine
    expect(k.c.status().percent).toBe(50);
    await run(k, 60_000, 20_000, 0.2); // the candidate starts failing 20 % of its requests
    const s = k.c.status();
    expect(s.state).toBe('rolled_back');
    expect(s.percent).toBe(0);
    expect(k.traffic.allToProduction).toBe(1);
    expect(s.failedCheck!.id).toBe('error_rate');
    expect(s.outcome).toMatch(/^look 3 of 6 at 50% failed the error_rate check: canary 2000\/\d+ errors \(\d+(\.\d+)?%\), production 0\/\d+ \(0%\); difference 0\.\d+ with one-sided upper bound 0\.\d+ at 99\.167% \(alpha 0\.05 \/ 6 looks\) > margin 0\.02/);
    expect(stageOf('1.1.0')).toBe('staging');
    expect(stageOf('1.0.0')).toBe('production');
    const rolled = k.audit.find((a) => a.action === 'canary.rolled_back')!;
    expect(rolled.detail).toMatchObject({ promoted: false, failedCheck: { id: 'error_rate', pass: false } });
    expect(k.progress.at(-1)!.state).toBe('rolled_back');
    expect(timers.pending()).toBe(0);
    // In the store, durably.
    expect(ws.db.prepare("SELECT COUNT(*) AS n FROM audit_log WHERE action = 'canary.rolled_back'").get()).toEqual({ n: 1 });
  });

  it('after promotion the monitor rolls back automatically when the new production degrades', async () => {
    const k = canary();
    await k.c.start();
    for (let i = 0; i < 4; i++) await run(k, 60_000);
    expect(k.c.status().state).toBe('monitoring');
    expect(stageOf('1.1.0')).toBe('production');
    await run(k, 60_000, 20_000, 0.5);
    const s = k.c.status();
    expect(s.state).toBe('rolled_back');
    expect(s.outcome).toMatch(/^monitor look 5 of 6 \(after promotion\) failed the error_rate check/);
    expect(stageOf('1.0.0')).toBe('production');
    expect(stageOf('1.1.0')).toBe('staging');
    const row = ws.db.prepare("SELECT v.label, h.reason, h.actor FROM stage_history h JOIN versions v ON v.id = h.version_id WHERE h.action = 'rollback' AND h.to_stage = 'production'").get() as { label: string; reason: string; actor: string };
    expect(row.label).toBe('1.0.0');
    expect(row.actor).toBe('canary');
    expect(row.reason).toMatch(/^canary rolled back: monitor look 5 of 6 \(after promotion\) failed the error_rate check: canary \d+\/\d+ errors/);
    expect(k.traffic.allToProduction).toBe(1);
  });

  it('a metrics source that stops answering fails the look instead of passing it', async () => {
    const k = canary({ lookTimeoutMs: 5_000 });
    await k.c.start();
    await run(k, 60_000);
    k.source.mode = 'silent';
    k.source.traffic(20_000, 25);
    await timers.advance(60_000); // the look starts, then waits on the source
    expect(k.c.status().state).toBe('ramping');
    await timers.advance(5_000); // the look's timeout
    await k.c.whenIdle();
    const s = k.c.status();
    expect(s.state).toBe('rolled_back');
    expect(s.failedCheck!.id).toBe('data');
    expect(s.outcome).toContain('failed the data check: missing metric: the metrics source did not answer (no answer within 5000 ms)');
    expect(k.traffic.allToProduction).toBe(1);
  });

  it('a source that throws, or a canary that got no new traffic, fails the look (fail closed)', async () => {
    const k = canary();
    await k.c.start();
    k.source.mode = 'throws';
    await run(k, 60_000);
    expect(k.c.status().outcome).toContain('the metrics source did not answer (metrics backend unreachable)');

    const k2 = canary();
    await k2.c.start();
    await run(k2, 60_000);
    await timers.advance(60_000); // no traffic at all during step 2
    await k2.c.whenIdle();
    expect(k2.c.status().state).toBe('rolled_back');
    expect(k2.c.status().outcome).toContain('the canary answered 0 requests since the previous look, fewer than 1');
  });

  it('pause holds the step and its look, resume waits the rest of the interval, abort sends traffic back', async () => {
    const k = canary();
    await k.c.start();
    await run(k, 20_000);
    const paused = k.c.pause('alice');
    expect(paused).toMatchObject({ state: 'paused', pausedFrom: 'ramping', nextLookAt: null });
    await run(k, 10 * 60_000);
    expect(k.c.status().looks).toHaveLength(0);
    expect(() => k.c.pause()).toThrow(/only a ramping or monitoring canary can be paused/);
    const resumed = k.c.resume('alice');
    expect(resumed.state).toBe('ramping');
    expect(resumed.nextLookAt).toBe(new Date(timers.now() + 40_000).toISOString());
    await run(k, 39_000);
    expect(k.c.status().looks).toHaveLength(0);
    await run(k, 1_000);
    expect(k.c.status().looks).toHaveLength(1);
    const aborted = await k.c.abort('dashboard looks odd', 'alice');
    expect(aborted).toMatchObject({ state: 'aborted', outcome: 'aborted by alice: dashboard looks odd', percent: 0 });
    expect(k.traffic.allToProduction).toBe(1);
    expect(stageOf('1.1.0')).toBe('staging');
    await expect(k.c.abort('again')).rejects.toThrow(/already ended \(aborted\)/);
    expect(timers.pending()).toBe(0);
    expect(k.audit.map((a) => a.action)).toEqual(['canary.start', 'canary.pause', 'canary.resume', 'canary.look', 'canary.aborted']);
  });

  it('aborting during the monitor rolls the registry back too', async () => {
    const k = canary();
    await k.c.start();
    for (let i = 0; i < 4; i++) await run(k, 60_000);
    expect(stageOf('1.1.0')).toBe('production');
    await k.c.abort('customer report');
    expect(stageOf('1.0.0')).toBe('production');
  });

  it('a promotion refused at the end (production changed meanwhile) rolls the canary back and says why', async () => {
    const k = canary();
    await k.c.start();
    for (let i = 0; i < 3; i++) await run(k, 60_000);
    // Someone promotes another version meanwhile.
    await svc.promote({ version: `${LAB}@1.2.0`, to: 'staging', actor: 'bob', force: true, reason: 'x' });
    await svc.promote({ version: `${LAB}@1.2.0`, to: 'production', actor: 'bob', force: true, reason: 'x' });
    await run(k, 60_000);
    const s = k.c.status();
    expect(s.state).toBe('rolled_back');
    expect(s.outcome).toMatch(/^every look passed, but the promotion was refused: The production version of lab is 1\.2\.0, not 1\.0\.0/);
    expect(stageOf('1.2.0')).toBe('production');
    expect(stageOf('1.1.0')).toBe('staging');
  });
});
