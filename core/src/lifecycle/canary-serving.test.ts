/**
 * A real canary: two registered versions of a real ONNX policy in real workers, real `POST /act`
 * traffic over HTTP. Only the canary's timers are manual: each look happens when the test moves
 * time on, after the traffic it must judge has been answered, so which look fails never depends
 * on how fast this machine is. The candidate (`flaky@1.1.0`) answers NaN for state[0] > 1,
 * production (`flaky@1.0.0`) only above 100, so the test turns the candidate's failures on
 * mid-run by changing the traffic, and nobody touches the canary: a look, or after the
 * promotion the monitor, must roll it back on its own.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CanaryStatus } from '../contract/index.js';
import { createEngine, type Engine } from '../engine.js';
import { createMemoryLogger } from '../platform/logger.js';
import { createManualTimers, type ManualTimers } from '../platform/timers.js';
import { readExport } from '../runtime/export.js';
import { createHttpServer } from '../serve/http-server.js';
import { writeFlakyExport } from '../../test-support/fault-exports.js';
import { contractCaller } from '../../test-support/lifecycle-fixtures.js';

let dir: string;
let engine: Engine;
let app: FastifyInstance;
let url: string;
let call: ReturnType<typeof contractCaller>;
const progress: CanaryStatus[] = [];
let timers: ManualTimers;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'swy-canary-live-'));
  timers = createManualTimers();
  engine = await createEngine({ storePath: join(dir, 'store.db'), statsIntervalMs: 0, logger: createMemoryLogger(), device: 'cpu', maxConsecutiveCrashes: 1_000_000, timers });
  call = contractCaller(engine.api);
  for (const [version, limit] of [['1.0.0', 100], ['1.1.0', 1]] as const) {
    const exp = await readExport(await writeFlakyExport(join(dir, `flaky-${version}`), { version, limit }));
    engine.registry.register(exp, { actor: 'test' });
  }
  engine.registry.setStage('flaky', '1.0.0', 'production', { actor: 'test', reason: 'baseline' });
  engine.registry.setStage('flaky', '1.1.0', 'staging', { actor: 'test', reason: 'candidate' });
  await engine.startServing({ a: 'flaky@production', b: 'flaky@1.1.0', split: 100 });
  app = await createHttpServer(engine, { host: '127.0.0.1', port: 0 });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  engine.events.on('canary.progress', (s) => progress.push(s));
}, 180_000);

afterAll(async () => {
  await app?.close();
  await engine?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Closed-loop `/act` traffic from `robots` clients; `level` is state[0]: above 1 the candidate fails. */
function traffic(robots = 4) {
  const t = { level: 0.5, stop: false, bySlot: { a: 0, b: 0 } as Record<string, number>, errors: 0, sent: 0 };
  const loops = Array.from({ length: robots }, async (_, r) => {
    let n = 0;
    while (!t.stop) {
      const episode = `robot-${r}-ep-${Math.floor(n / 5)}`;
      n++;
      t.sent++;
      const res = await fetch(`${url}/act`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ episode_id: episode, state: [t.level, 0, 0, 0] }) });
      const slot = res.headers.get('x-switchyard-policy-slot');
      if (res.status === 200 && slot) t.bySlot[slot] = (t.bySlot[slot] ?? 0) + 1;
      else t.errors++;
      await res.arrayBuffer();
    }
  });
  return { t, done: () => ((t.stop = true), Promise.all(loops)) };
}

function waitFor(pred: (s: CanaryStatus) => boolean, timeoutMs = 30_000): Promise<CanaryStatus> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const check = () => {
      const s = engine.lifecycle.canaryStatus();
      if (s && pred(s)) return resolve(s);
      if (Date.now() - started > timeoutMs) return reject(new Error(`timed out; canary: ${JSON.stringify(s && { state: s.state, looks: s.looks.length, outcome: s.outcome })}`));
      setTimeout(check, 20);
    };
    check();
  });
}

/** Waits (real time, bounded) until the traffic has produced what the next look must see. */
function until(what: string, pred: () => boolean, timeoutMs = 30_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const check = () => {
      if (pred()) return resolve();
      if (Date.now() - started > timeoutMs) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(check, 10);
    };
    check();
  });
}

/** Moves the canary's clock to its next look and waits until that look is recorded. */
async function nextLook(): Promise<CanaryStatus> {
  const before = engine.lifecycle.canaryStatus()!.looks.length;
  await timers.advance(CANARY.intervalMs);
  return waitFor((s) => s.looks.length > before || (s.state !== 'ramping' && s.state !== 'monitoring'));
}

/** After the candidate starts failing: enough failures that the error rate since the start is far past the margin. */
async function candidateFailing(load: ReturnType<typeof traffic>): Promise<void> {
  const answered = load.t.bySlot.b ?? 0;
  const errors = load.t.errors;
  load.t.level = 5; // the candidate now answers NaN
  await until('the candidate to fail enough requests', () => load.t.errors - errors >= answered + 40);
}

/** Requests per slot before a look: the error-rate bound needs about this many to fall under the margin. */
const ENOUGH = 80;

const CANARY = { policy: 'flaky', candidate: 'flaky@1.1.0', steps: [50, 100], intervalMs: 1500, monitorWindowMs: 3000, errorMargin: 0.2, p99MinDeltaMs: 250, force: true, reason: 'integration test: no gate for the flaky fixture', actor: 'test' };

async function afterwardsAllOnA() {
  // Episodes that were on the canary come back to production too, and are answered.
  const res = await Promise.all(
    Array.from({ length: 20 }, (_, i) => fetch(`${url}/act`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ episode_id: `robot-${i % 4}-ep-${i}`, state: [5, 0, 0, 0] }) })),
  );
  expect(res.map((r) => r.status)).toEqual(Array(20).fill(200));
  expect(new Set(res.map((r) => r.headers.get('x-switchyard-policy-slot')))).toEqual(new Set(['a']));
}

describe('a live canary', () => {
  it('rolls back a candidate that degrades mid-ramp, with no operator action', async () => {
    const load = traffic();
    try {
      const started = await call('canary.start', CANARY);
      expect(started.ok).toBe(true);
      if (!started.ok) return;
      expect(started.value).toMatchObject({ state: 'ramping', percent: 50, plannedLooks: 4, forced: true });
      expect(engine.serving.state().split).toBe(50);
      // Enough answers on both slots that "no worse than production" can be shown at this look.
      await until('both slots to answer requests', () => (load.t.bySlot.b ?? 0) >= ENOUGH && (load.t.bySlot.a ?? 0) >= ENOUGH);
      const first = await nextLook();
      expect(first.looks[0]!.pass, JSON.stringify(first.looks[0])).toBe(true);
      expect(first.percent).toBe(100);
      await candidateFailing(load);
      await nextLook();
      const end = await waitFor((s) => s.state !== 'ramping');
      expect(end.state).toBe('rolled_back');
      expect(end.failedCheck?.id).toBe('error_rate');
      expect(end.outcome).toMatch(/^look 2 of 4 at 100% failed the error_rate check: canary \d+\/\d+ errors/);
      expect(end.looks.map((l) => l.pass)).toEqual([true, false]);
      expect(engine.registry.getVersion('flaky', '1.1.0').stage).toBe('staging');
      expect(engine.registry.getVersion('flaky', '1.0.0').stage).toBe('production');
      expect(engine.serving.state().split).toBe(100);
    } finally {
      await load.done();
    }
    expect(load.t.bySlot.b).toBeGreaterThan(0);
    await afterwardsAllOnA();
    const st = await call('canary.status', {});
    expect(st.ok && st.value.canary?.state).toBe('rolled_back');
    expect(progress.some((p) => p.state === 'rolled_back')).toBe(true);
  }, 180_000);

  it('promotes a healthy candidate at 100%, then the monitor rolls it back when it degrades', async () => {
    const load = traffic();
    try {
      const started = await call('canary.start', CANARY);
      expect(started.ok).toBe(true);
      for (const percent of [50, 100]) {
        const b = load.t.bySlot.b ?? 0;
        // At 100% production answers nothing new; what it answered at 50% stays its baseline.
        await until(`both slots to answer requests at ${percent}%`, () => (load.t.bySlot.b ?? 0) >= b + ENOUGH && (load.t.bySlot.a ?? 0) >= ENOUGH);
        expect((await nextLook()).looks.at(-1)!.pass).toBe(true);
      }
      const monitoring = await waitFor((s) => s.state !== 'ramping');
      expect(monitoring.state).toBe('monitoring');
      expect(engine.registry.getVersion('flaky', '1.1.0').stage).toBe('production');
      await candidateFailing(load);
      await nextLook();
      const end = await waitFor((s) => s.state !== 'monitoring');
      expect(end.state).toBe('rolled_back');
      expect(end.outcome).toMatch(/^monitor look 3 of 4 \(after promotion\) failed the error_rate check/);
    } finally {
      await load.done();
    }
    expect(engine.registry.getVersion('flaky', '1.0.0').stage).toBe('production');
    expect(engine.registry.getVersion('flaky', '1.1.0').stage).toBe('staging');
    const h = engine.lifecycle.service.history('flaky').filter((e) => e.action === 'rollback' && e.to === 'production');
    expect(h).toHaveLength(1);
    expect(h[0]!.reason).toMatch(/^canary rolled back: monitor look 3 of 4 \(after promotion\) failed the error_rate check: canary \d+\/\d+ errors/);
    await afterwardsAllOnA();
  }, 180_000);
});
