import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../contract/index.js';
import type { Engine } from '../engine.js';
import { PolicyLoadError } from '../runtime/load-error.js';
import { PolicyRunner } from '../runtime/policy-runner.js';
import type { RunnerOptions } from '../runtime/types.js';
import { runCli } from '../testing/cli-process.js';
import { createDemoEngine } from '../testing/demo-engine.js';
import { writeFlakyExport } from '../testing/fault-exports.js';
import { ActAuth, actTokenFileWarning, resolveActToken } from './act-auth.js';
import { HEALTH_STATES, HealthTracker } from './health.js';
import { createHttpServer } from './http-server.js';
import type { SlotRunner } from './serving-controller.js';

const host = { host: '127.0.0.1:8000' };
const state = [0.01, 0, 0.02, 0];
/** Exactly what the reference robot client sends for a state-only call. */
const referenceBody = { image: '', instruction: '', state, episode_id: null };

/** Holds policy start-up at the point where the worker would create its session and warm up. */
function gate() {
  let open!: () => void;
  let reached!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  const arrived = new Promise<void>((r) => (reached = r));
  return { open, arrived, wait: () => (reached(), opened) };
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(opts: { startRunner?: (o: RunnerOptions) => Promise<SlotRunner>; actToken?: string; maxConsecutiveCrashes?: number } = {}) {
  const health = new HealthTracker();
  const ctx = await createDemoEngine({
    onSlotLoad: health.onSlotLoad,
    ...(opts.startRunner ? { startRunner: opts.startRunner } : {}),
    ...(opts.maxConsecutiveCrashes ? { maxConsecutiveCrashes: opts.maxConsecutiveCrashes } : {}),
  });
  const app = await createHttpServer(ctx.engine, { host: '127.0.0.1', port: 8000, health, ...(opts.actToken ? { actToken: opts.actToken } : {}) });
  cleanups.push(ctx.cleanup, () => app.close());
  return { ...ctx, app, health };
}

const get = (app: FastifyInstance, url: string, headers: Record<string, string> = {}) => app.inject({ method: 'GET', url, headers: { ...host, ...headers } });
const act = (app: FastifyInstance, payload: unknown, headers: Record<string, string> = {}) => app.inject({ method: 'POST', url: '/act', headers: { ...host, ...headers }, payload: payload as object });

describe('GET /health in the reference server shape', () => {
  it('walks initializing → loading → warming → ready, 503 until ready, and /act answers a retryable 503 meanwhile', async () => {
    const g = gate();
    const { app, engine } = await setup({ startRunner: async (o) => (await g.wait(), PolicyRunner.start(o)) });

    let h = await get(app, '/health');
    expect(h.statusCode).toBe(503);
    expect(h.json()).toMatchObject({ status: 'not_ready', state: 'initializing', model_loaded: false, mode: 'off', slots: [] });
    let a = await act(app, referenceBody);
    expect(a.statusCode).toBe(503);
    expect(a.headers['retry-after']).toBe('5');
    expect(a.json()).toMatchObject({ status: 'not_ready', state: 'initializing', error: { code: ErrorCodes.SWY_ERR_NOT_SERVING } });
    expect(a.json().error.message).toMatch(/No policy is loaded/);

    const started = engine.startServing({ single: 'cartpole-balance@production' });
    // The engine reports `loading` before its first await: nothing can see another state first.
    expect((await get(app, '/health')).json().state).toBe('loading');
    await g.arrived;
    h = await get(app, '/health');
    expect(h.statusCode).toBe(503);
    expect(h.json()).toMatchObject({ status: 'not_ready', state: 'warming', model_loaded: false });
    a = await act(app, referenceBody);
    expect(a.statusCode).toBe(503);
    expect(a.headers['retry-after']).toBe('1');
    expect(a.json()).toMatchObject({ status: 'not_ready', state: 'warming' });
    expect((await get(app, '/readyz')).statusCode).toBe(503);

    g.open();
    await started;
    h = await get(app, '/health');
    expect(h.statusCode).toBe(200);
    expect(h.headers['content-type']).toMatch(/application\/json/);
    expect(h.json()).toEqual({
      status: 'ok',
      state: 'ready',
      model_loaded: true,
      inference_mode: 'direct',
      consecutive_crashes: 0,
      max_consecutive_crashes: 5,
      mode: 'single',
      drain: 'none',
      split: null,
      slots: [{ slot: 'prod', model_version: expect.stringMatching(/@[0-9a-f]{16}$/), version_ref: expect.stringMatching(/^cartpole-balance@/), kind: 'direct', ready: true, drained: false, consecutive_crashes: 0, crashes: 0 }],
    });
    expect(HEALTH_STATES).toContain(h.json().state);
    // The probes a Kubernetes manifest already uses keep their shapes.
    expect((await get(app, '/healthz')).json()).toEqual({ status: 'ok' });
    expect((await get(app, '/readyz')).json()).toMatchObject({ ready: true, mode: 'single', slots: [{ slot: 'prod', ready: true }] });
    expect((await act(app, referenceBody)).statusCode).toBe(200);
  }, 180_000);

  it('says warmup_failed (code and phase, no file names) when a policy never warms up', async () => {
    const { app, engine } = await setup({
      startRunner: async () => {
        throw new PolicyLoadError(ErrorCodes.SWY_ERR_MODEL_LOAD, 'The model at /secret/place/policy.onnx produced NaN during warm-up.', '/secret/place/policy.onnx', 'warmup');
      },
    });
    await expect(engine.startServing({ single: 'cartpole-balance@production' })).rejects.toThrow(/warm-up/);
    const h = await get(app, '/health');
    expect(h.statusCode).toBe(503);
    expect(h.json()).toMatchObject({ status: 'not_ready', state: 'warmup_failed', model_loaded: false, error: { code: 'SWY_ERR_MODEL_LOAD', phase: 'warmup' } });
    expect(h.body).not.toContain('/secret/place');
    const a = await act(app, referenceBody);
    expect(a.statusCode).toBe(503);
    expect(a.json()).toMatchObject({ state: 'warmup_failed' });
    expect(a.headers['retry-after']).toBe('5');
  });

  it('keeps episodes on one slot, stays ready with one slot drained, turns degraded when both are, and ready again when an operator restores one', async () => {
    const { app, engine, dir } = await setup({ maxConsecutiveCrashes: 2 });
    const flakyA = await writeFlakyExport(join(dir, 'fa'), { limit: 100, version: '0.0.1' });
    const flakyB = await writeFlakyExport(join(dir, 'fb'), { limit: 101, version: '0.0.2' });
    await engine.startServing({ a: flakyA, b: flakyB, split: 50 });
    // Episode context: every call of one episode is answered by one slot.
    const slotsByEpisode = new Map<string, Set<string>>();
    for (let e = 0; e < 12; e++) {
      for (let k = 0; k < 3; k++) {
        const r = await act(app, { ...referenceBody, episode_id: `ep-${e}`, state: [0.01 * k, 0, 0, 0] });
        expect(r.statusCode).toBe(200);
        const slots = slotsByEpisode.get(`ep-${e}`) ?? new Set<string>();
        slots.add(r.json().slot as string);
        slotsByEpisode.set(`ep-${e}`, slots);
      }
    }
    expect([...slotsByEpisode.values()].every((s) => s.size === 1)).toBe(true);
    expect(new Set([...slotsByEpisode.values()].map((s) => [...s][0]))).toEqual(new Set(['a', 'b']));

    engine.serving.setSplit(100);
    const bad = { ...referenceBody, state: [1000, 0, 0, 0] };
    for (let i = 0; i < 2; i++) expect((await act(app, { ...bad, episode_id: `bad-a-${i}` })).statusCode).toBe(500);
    let h = await get(app, '/health');
    expect(h.statusCode).toBe(200);
    expect(h.json()).toMatchObject({ state: 'ready', drain: 'drain-a', split: 100, consecutive_crashes: 2, slots: [{ slot: 'a', drained: true }, { slot: 'b', drained: false }] });
    for (let i = 0; i < 2; i++) expect((await act(app, { ...bad, episode_id: `bad-b-${i}` })).statusCode).toBe(500);
    h = await get(app, '/health');
    expect(h.statusCode).toBe(503);
    expect(h.json()).toMatchObject({ status: 'not_ready', state: 'degraded', drain: 'degraded', consecutive_crashes: 2, max_consecutive_crashes: 2 });

    const a = await act(app, referenceBody);
    expect(a.statusCode).toBe(503);
    expect(a.headers['retry-after']).toBe('10');
    expect(a.json()).toMatchObject({ error: 'server-degraded', state: 'degraded', code: ErrorCodes.SWY_ERR_SLOT_DRAINED, consecutive_crashes: 2, max_consecutive_crashes: 2 });
    expect(a.json().hint).toMatch(/restore/);

    engine.serving.restoreSlot('b');
    expect((await get(app, '/health')).json()).toMatchObject({ state: 'ready', drain: 'drain-a' });
    expect((await act(app, referenceBody)).statusCode).toBe(200);
  }, 180_000);
});

describe('the /act robot token', () => {
  const token = 'robot-7c1e';
  let app: FastifyInstance;
  let engine: Engine;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    const health = new HealthTracker();
    const ctx = await createDemoEngine({ onSlotLoad: health.onSlotLoad });
    engine = ctx.engine;
    cleanup = ctx.cleanup;
    await engine.startServing({ single: 'cartpole-balance@production' });
    app = await createHttpServer(engine, { host: '127.0.0.1', port: 8000, health, actToken: token });
  }, 180_000);
  afterAll(async () => {
    await app?.close();
    await cleanup?.();
  });

  it('answers 401 without it, naming both headers, before reading the body', async () => {
    const r = await act(app, referenceBody);
    expect(r.statusCode).toBe(401);
    expect(r.headers['www-authenticate']).toMatch(/^Bearer/);
    expect(r.json().error).toMatchObject({ code: ErrorCodes.SWY_ERR_UNAUTHORIZED, where: 'Authorization' });
    expect(r.json().error.message).toMatch(/X-Tether-Key/);
    // A malformed body from a caller without the token is still a 401, not a 422.
    expect((await app.inject({ method: 'POST', url: '/act', headers: { ...host, 'content-type': 'application/json' }, payload: '{"state": [' })).statusCode).toBe(401);
  });

  it('answers 401 to a wrong token in either header', async () => {
    const r = await act(app, referenceBody, { 'x-tether-key': `${token}x` });
    expect(r.statusCode).toBe(401);
    expect(r.json().error.where).toBe('X-Tether-Key');
    expect((await act(app, referenceBody, { authorization: 'Bearer robot' })).statusCode).toBe(401);
    expect((await act(app, referenceBody, { authorization: token })).statusCode).toBe(401);
  });

  it('accepts it as X-Tether-Key or as Authorization: Bearer', async () => {
    expect((await act(app, referenceBody, { 'x-tether-key': token })).statusCode).toBe(200);
    expect((await act(app, referenceBody, { authorization: `Bearer ${token}` })).statusCode).toBe(200);
    expect((await act(app, referenceBody, { authorization: `bearer ${token}` })).statusCode).toBe(200);
  });

  it('leaves /health open and guards /config like /act', async () => {
    expect((await get(app, '/health')).statusCode).toBe(200);
    expect((await get(app, '/config')).statusCode).toBe(401);
    const c = await get(app, '/config', { 'x-tether-key': token });
    expect(c.statusCode).toBe(200);
    expect(c.json()).toMatchObject({ mode: 'single', act_auth: true, slots: [{ slot: 'prod', kind: 'direct', observation: { dim: 4 } }] });
  });
});

describe('/act on a server without a robot token, with the reference client bodies', () => {
  let app: FastifyInstance;
  let engine: Engine;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    const ctx = await createDemoEngine();
    engine = ctx.engine;
    cleanup = ctx.cleanup;
    await ctx.engine.startServing({ single: 'cartpole-balance@production' });
    app = await createHttpServer(ctx.engine, { host: '127.0.0.1', port: 8000 });
  }, 180_000);
  afterAll(async () => {
    await app?.close();
    await cleanup?.();
  });

  it('answers /health with JSON even where the workbench catches every other path', async () => {
    const web = mkdtempSync(join(tmpdir(), 'swy-web-'));
    writeFileSync(join(web, 'index.html'), '<!doctype html><title>workbench</title>');
    const withWorkbench = await createHttpServer(engine, { host: '127.0.0.1', port: 8000, workbenchDir: web });
    try {
      const h = await get(withWorkbench, '/health');
      expect(h.statusCode).toBe(200);
      expect(h.headers['content-type']).toMatch(/application\/json/);
      expect(h.json()).toMatchObject({ status: 'ok', state: 'ready' });
      expect((await get(withWorkbench, '/traffic')).body).toContain('workbench');
    } finally {
      await withWorkbench.close();
      rmSync(web, { recursive: true, force: true });
    }
  });

  it('needs no token (a bench on loopback)', async () => {
    expect((await act(app, referenceBody)).statusCode).toBe(200);
    expect((await get(app, '/config')).json()).toMatchObject({ act_auth: false });
  });

  it('answers with Switchyard fields plus inference_mode, guard_violations and guard_clamped', async () => {
    const r = await act(app, { image: Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]).toString('base64'), instruction: 'pick up the cup', state, episode_id: 'ep-1' });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({
      actions: [[expect.any(Number)]],
      num_actions: 1,
      action_dim: 1,
      slot: 'prod',
      model_version: expect.stringMatching(/@[0-9a-f]{16}$/),
      latency_ms: expect.any(Number),
      cache: expect.stringMatching(/^(hit|miss|none)$/),
      denoise_steps: 0,
      inference_mode: 'direct',
      guard_violations: [],
      guard_clamped: false,
    });
    expect(r.headers['x-switchyard-policy-slot']).toBe('prod');
    expect((await act(app, referenceBody)).statusCode).toBe(200);
  });

  it('refuses state null with 422 naming state and saying why', async () => {
    const r = await act(app, { ...referenceBody, image: 'aGVsbG8=', state: null });
    expect(r.statusCode).toBe(422);
    expect(r.json().error).toMatchObject({ code: ErrorCodes.SWY_ERR_INVALID_INPUT, where: 'state' });
    expect(r.json().error.message).toMatch(/4 numbers.*image-only/);
    const short = await act(app, { ...referenceBody, state: [1, 2] });
    expect(short.statusCode).toBe(422);
    expect(short.json().error.where).toBe('state');
  });
});

describe('resolveActToken and ActAuth', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'swy-act-token-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the file (without its newline) before the environment, and gives null with neither', () => {
    writeFileSync(join(dir, 't'), 'from-file\n');
    expect(resolveActToken({ file: join(dir, 't'), env: 'from-env' })).toBe('from-file');
    expect(resolveActToken({ env: ' from-env ' })).toBe('from-env');
    expect(resolveActToken({ env: '' })).toBeNull();
    expect(resolveActToken({})).toBeNull();
  });

  it('refuses a missing, empty or two-word token file with SWY_ERR_CONFIG at --act-token-file', () => {
    writeFileSync(join(dir, 'empty'), '\n');
    writeFileSync(join(dir, 'two'), 'a b\n');
    for (const f of ['missing', 'empty', 'two']) {
      expect(() => resolveActToken({ file: join(dir, f) })).toThrow(expect.objectContaining({ code: ErrorCodes.SWY_ERR_CONFIG, where: '--act-token-file' }));
    }
  });

  it.skipIf(process.platform === 'win32')('warns when other users can read the token file', () => {
    writeFileSync(join(dir, 'open'), 'tok\n');
    writeFileSync(join(dir, 'closed'), 'tok\n');
    // chmod, not a create mode: the umask would narrow a create mode.
    chmodSync(join(dir, 'open'), 0o644);
    chmodSync(join(dir, 'closed'), 0o600);
    expect(actTokenFileWarning(join(dir, 'open'))).toMatch(/readable by other users \(mode 644\); chmod 600/);
    expect(actTokenFileWarning(join(dir, 'closed'))).toBeNull();
  });

  it('compares tokens of any length without throwing', () => {
    const auth = new ActAuth('s3cret');
    expect(auth.check({ 'x-tether-key': 's3cret' })).toBeNull();
    expect(auth.check({ 'x-tether-key': '' })).not.toBeNull();
    expect(auth.check({ 'x-tether-key': 's3cret'.repeat(1000) })).not.toBeNull();
    // A wrong Bearer does not hide a right X-Tether-Key: either header may carry it.
    expect(auth.check({ authorization: 'Bearer control-token', 'x-tether-key': 's3cret' })).toBeNull();
  });
});

describe('the CLI flag', () => {
  it('serve refuses an unreadable --act-token-file before loading anything; console takes the flag too', () => {
    const r = runCli(['serve', '--act-token-file', '/nonexistent/act-token', '--store', ':memory:', '--port', '0']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/robot token file .*\[--act-token-file\] \(SWY_ERR_CONFIG\)/);
    expect(runCli(['console', '--help']).stdout).toMatch(/--act-token-file/);
  }, 180_000);
});
