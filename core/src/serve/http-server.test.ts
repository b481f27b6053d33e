import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Engine } from '../engine.js';
import { createDemoEngine } from '../../test-support/demo-engine.js';
import { controlTokenOf } from './auth.js';
import { createHttpServer } from './http-server.js';

/** Independent of the router's code: BigInt over the digest, as the spec words it. */
function expectedSlot(key: string, split: number): 'a' | 'b' {
  const bucket = Number(createHash('sha256').update(key, 'utf8').digest().readBigUInt64BE(0) % 100n);
  return bucket < split ? 'a' : 'b';
}

let engine: Engine;
let app: FastifyInstance;
let base: string;
let dir: string;
let logger: Awaited<ReturnType<typeof createDemoEngine>>['logger'];
let cleanup: () => Promise<void>;
let token: string;

const state = [0.01, 0, 0.02, 0];

async function act(body: unknown, raw = false): Promise<Response> {
  return fetch(`${base}/act`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: raw ? (body as string) : JSON.stringify(body) });
}

async function api(method: string, input: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${base}/api/${method}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...headers }, body: JSON.stringify(input) });
}

beforeAll(async () => {
  ({ engine, logger, dir, cleanup } = await createDemoEngine());
  await engine.startServing({ a: 'cartpole-balance@production', b: 'cartpole-balance@1.1.0', split: 80 });
  app = await createHttpServer(engine, { host: '127.0.0.1', port: 0 });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address() as { port: number };
  base = `http://127.0.0.1:${addr.port}`;
  token = controlTokenOf(app);
}, 180_000);

afterAll(async () => {
  await app?.close();
  await cleanup?.();
});

describe('POST /act in two-policy mode', () => {
  it('answers with actions, the slot, the model version and the headers', async () => {
    const res = await act({ episode_id: 'ep-headers', state });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    const slot = expectedSlot('ep-headers', 80);
    const served = engine.serving.state().slots.find((s) => s.slot === slot)!;
    expect(res.headers.get('x-switchyard-policy-slot')).toBe(slot);
    expect(res.headers.get('x-switchyard-model-version')).toBe(served.modelVersion);
    expect(res.headers.get('x-request-id')).toBeTruthy();
    expect(body).toMatchObject({ slot, model_version: served.modelVersion, num_actions: 1, action_dim: 1 });
    expect((body.actions as number[][])[0]![0]).toEqual(expect.any(Number));
    expect(body.latency_ms).toEqual(expect.any(Number));
  });

  it('routes each episode by the SHA-256 formula, about split% to a, and keeps episodes sticky', async () => {
    let toA = 0;
    const n = 300;
    for (let i = 0; i < n; i++) {
      const id = `route-${i}`;
      const res = await act({ episode_id: id, state });
      const slot = res.headers.get('x-switchyard-policy-slot');
      expect(slot).toBe(expectedSlot(id, 80));
      if (slot === 'a') toA++;
      await res.arrayBuffer();
    }
    expect(toA / n).toBeGreaterThan(0.7);
    expect(toA / n).toBeLessThan(0.9);

    const set = await api('serving.setSplit', { split: 20 });
    expect(set.status).toBe(200);
    expect(((await set.json()) as { value: { split: number } }).value.split).toBe(20);
    for (let i = 0; i < 40; i++) {
      const old = await act({ episode_id: `route-${i}`, state });
      expect(old.headers.get('x-switchyard-policy-slot')).toBe(expectedSlot(`route-${i}`, 80));
      const fresh = await act({ episode_id: `fresh-${i}`, state });
      expect(fresh.headers.get('x-switchyard-policy-slot')).toBe(expectedSlot(`fresh-${i}`, 20));
    }
    await api('serving.setSplit', { split: 80 });
  });

  it('routes a request without episode_id by request_id and warns once', async () => {
    await act({ request_id: 'degraded-1', state });
    await act({ request_id: 'degraded-2', state });
    const warnings = logger.lines.filter((l) => l.msg?.startsWith('policy_router.degraded_mode'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.msg).toBe('policy_router.degraded_mode request_id=degraded-1');
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/switchyard_degraded_routing_total 2/);
  });
});

describe('bad input to /act', () => {
  const cases: [string, unknown, boolean, number, string][] = [
    ['not JSON', '{"state": [1,2', true, 400, 'body'],
    ['a JSON array', '[1,2,3]', true, 400, 'body'],
    ['state missing', { episode_id: 'x' }, false, 422, 'state'],
    ['state of the wrong length', { episode_id: 'x', state: [1, 2, 3] }, false, 422, 'state'],
    ['state with a string', { episode_id: 'x', state: [0, 'a', 0, 0] }, false, 422, 'state[1]'],
    ['state not an array', { episode_id: 'x', state: 'oops' }, false, 422, 'state'],
    ['episode_id a number', { episode_id: 7, state }, false, 422, 'episode_id'],
    ['an unknown field', { episodeId: 'x', state }, false, 422, 'episodeId'],
  ];
  for (const [name, body, raw, status, where] of cases) {
    it(`rejects ${name} with ${status} naming ${where}`, async () => {
      const res = await act(body, raw);
      expect(res.status).toBe(status);
      const err = ((await res.json()) as { error: { code: string; message: string; where: string } }).error;
      expect(err.code).toBe('SWY_ERR_INVALID_INPUT');
      expect(err.where).toBe(where);
      expect(err.message).toContain(where);
    });
  }

  it('keeps serving after bad input', async () => {
    const res = await act({ episode_id: 'after-bad', state });
    expect(res.status).toBe(200);
  });
});

describe('/metrics, /healthz, /readyz', () => {
  it('exposes the latency histogram per slot from 100 µs', async () => {
    const res = await fetch(`${base}/metrics`);
    const text = await res.text();
    expect(res.headers.get('content-type')).toContain('text/plain');
    expect(text).toMatch(/switchyard_act_latency_seconds_bucket\{le="0.0001",policy_slot="a"\} \d+/);
    expect(text).toMatch(/switchyard_act_latency_seconds_count\{policy_slot="b"\} [1-9]/);
    expect(text).toMatch(/switchyard_cache_miss_total\{policy_slot="a"\}/);
    expect(text).toMatch(/switchyard_in_flight_requests\{policy_slot="a"\} 0/);
    expect(text).toMatch(/switchyard_split_percent 80/);
  });

  const promtool = spawnSync('promtool', ['--version']).status === 0;
  if (!promtool) console.log('[skip] promtool check metrics: promtool is not installed (apt-get install prometheus)');
  it.skipIf(!promtool)('passes promtool check metrics', async () => {
    const text = await (await fetch(`${base}/metrics`)).text();
    const file = join(dir, 'metrics.txt');
    writeFileSync(file, text);
    const out = execFileSync('sh', ['-c', `promtool check metrics < ${file} 2>&1; echo rc=$?`]).toString();
    expect(out.trim().split('\n').pop()).toBe('rc=0');
  });

  it('answers health and readiness', async () => {
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ ready: true, mode: 'ab' });
  });
});

describe('the contract over HTTP and WebSocket', () => {
  it('lists the demo versions with one in production', async () => {
    const res = await api('policies.list', {});
    const body = (await res.json()) as { ok: boolean; value: { policies: { name: string; versions: { stage: string }[] }[] } };
    expect(body.ok).toBe(true);
    const p = body.value.policies.find((x) => x.name === 'cartpole-balance')!;
    expect(p.versions.length).toBeGreaterThanOrEqual(4);
    expect(p.versions.filter((v) => v.stage === 'production')).toHaveLength(1);
  });

  it('rejects invalid input with the field named and an unknown method', async () => {
    const bad = await api('serving.setSplit', { split: 150 });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ ok: false, error: { code: 'SWY_ERR_INVALID_INPUT', where: 'split' } });
    const unknown = await api('serving.explode', {});
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ ok: false, error: { code: 'SWY_ERR_UNKNOWN_METHOD' } });
    expect(engine.serving.state().split).toBe(80);
  });

  it('refuses a foreign Host or Origin (a web page cannot drive the server)', async () => {
    const evilOrigin = await api('serving.setSplit', { split: 0 }, { origin: 'https://evil.example' });
    expect(evilOrigin.status).toBe(403);
    const rebinding = await app.inject({ method: 'POST', url: '/api/serving.setSplit', headers: { host: 'evil.example:80' }, payload: { split: 0 } });
    expect(rebinding.statusCode).toBe(403);
    expect(engine.serving.state().split).toBe(80);
  });

  it('pushes serving.state on connect and serving.stats when asked', async () => {
    const ws = new WebSocket(`${base.replace('http', 'ws')}/api/events?token=${token}`);
    const got: { event: string; payload: Record<string, unknown> }[] = [];
    await new Promise<void>((resolve, reject) => {
      ws.on('message', (m) => {
        got.push(JSON.parse(String(m)) as { event: string; payload: Record<string, unknown> });
        if (got.length === 1) engine.pushStats();
        if (got.some((g) => g.event === 'serving.stats')) resolve();
      });
      ws.on('error', reject);
      setTimeout(() => reject(new Error('no events')), 5000);
    });
    ws.close();
    expect(got[0]!.event).toBe('serving.state');
    const stats = got.find((g) => g.event === 'serving.stats')!.payload as { slots: { slot: string; requests: number }[] };
    expect(stats.slots.map((s) => s.slot).sort()).toEqual(['a', 'b']);
    expect(stats.slots.reduce((n, s) => n + s.requests, 0)).toBeGreaterThan(300);
  });
});

describe('a server with a token', () => {
  it('needs the token on the control API but leaves /act open', async () => {
    const tokenApp = await createHttpServer(engine, { host: '127.0.0.1', port: 8123, token: 's3cret' });
    const host = { host: '127.0.0.1:8123' };
    const no = await tokenApp.inject({ method: 'POST', url: '/api/serving.getState', headers: host, payload: {} });
    expect(no.statusCode).toBe(401);
    expect(no.json()).toMatchObject({ ok: false, error: { code: 'SWY_ERR_UNAUTHORIZED' } });
    const yes = await tokenApp.inject({ method: 'POST', url: '/api/serving.getState', headers: { ...host, authorization: 'Bearer s3cret' }, payload: {} });
    expect(yes.statusCode).toBe(200);
    const a = await tokenApp.inject({ method: 'POST', url: '/act', headers: host, payload: { episode_id: 'tok', state } });
    expect(a.statusCode).toBe(200);
    await tokenApp.close();
  });

  it('refuses a non-loopback host without a token', async () => {
    await expect(createHttpServer(engine, { host: '0.0.0.0', port: 0 })).rejects.toThrow(/without --token/);
  });
});
