/**
 * Fault: bad input must never drain production. Real demo exports in real workers, a real
 * server on loopback; only a failure of the policy itself (here a real ONNX model that answers
 * NaN) counts toward the drain.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../engine.js';
import { createDemoEngine } from '../../test-support/demo-engine.js';
import { writeFlakyExport } from '../../test-support/fault-exports.js';
import { createHttpServer } from './http-server.js';

let engine: Engine;
let app: FastifyInstance;
let base: string;
let cleanup: () => Promise<void>;
const state = [0.01, 0, 0.02, 0];

async function act(body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${base}/act`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
}

async function metric(name: string, labels: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line === undefined ? 0 : Number(line.split(' ').pop());
}

beforeAll(async () => {
  ({ engine, cleanup } = await createDemoEngine({ maxConsecutiveCrashes: 3 }));
  await engine.startServing({ single: 'cartpole-balance@production' });
  app = await createHttpServer(engine, { host: '127.0.0.1', port: 0, maxBodyBytes: 64 * 1024 });
  await app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
}, 180_000);

afterAll(async () => {
  await app?.close();
  await cleanup?.();
});

describe('numbers the model cannot take', () => {
  it('answers 1e39 (finite in JSON, Infinity as float32) with 422 naming the field, and never drains', async () => {
    for (let i = 0; i < 10; i++) {
      const res = await act({ episode_id: 'overflow', state: [1e39, 0, 0, 0] });
      expect(res.status).toBe(422);
      const body = (await res.json()) as { error: { code: string; where: string; message: string } };
      expect(body.error).toMatchObject({ code: 'SWY_ERR_INVALID_INPUT', where: 'state[0]' });
      expect(body.error.message).toMatch(/float32/);
    }
    const st = engine.serving.state();
    expect(st.drain).toBe('none');
    expect(st.slots[0]).toMatchObject({ consecutiveFailures: 0, crashes: 0, drained: false });
    expect((await act({ episode_id: 'overflow', state })).status).toBe(200);
    expect(await metric('switchyard_requests_total', 'policy_slot="none",outcome="client_error"')).toBeGreaterThanOrEqual(10);
    expect(await metric('switchyard_worker_failures_total', 'policy_slot="prod"')).toBe(0);
  });

  it('accepts the largest float32 and refuses just past it', async () => {
    expect((await act({ state: [3.4e38, 0, 0, 0] })).status).not.toBe(422);
    expect((await act({ state: [0, -3.5e38, 0, 0] })).status).toBe(422);
  });

  it('refuses wrong dimensions, types and nesting with a 4xx naming the field', async () => {
    const cases: [unknown, number, string][] = [
      [{ state: [0, 0, 0] }, 422, 'state'],
      [{ state: [0, 0, '1', 0] }, 422, 'state[2]'],
      [{ state: [[0], 0, 0, 0] }, 400, 'body'],
      [{ state: state, image: { nested: true } }, 422, 'image'],
      ['{"state":[0,0,0,0],"x":{"y":{"z":1}}}', 400, 'body'],
      // The body as a whole unreadable: 400 as on every route. A wrong field of a readable body:
      // 422, even one named `body` (the status follows what failed, not the `where` text).
      ['{"state": [0, 0', 400, 'body'],
      [[0, 0, 0, 0], 400, 'body'],
      [{ state, body: 1 }, 422, 'body'],
    ];
    for (const [body, status, where] of cases) {
      const res = await act(body);
      expect(res.status, JSON.stringify(body)).toBe(status);
      expect(((await res.json()) as { error: { where: string } }).error.where).toBe(where);
    }
    expect(engine.serving.state().slots[0]!.crashes).toBe(0);
  });
});

describe('the body that parses for seconds', () => {
  it('refuses a body over --max-body-bytes with 413 before reading it', async () => {
    const res = await act({ state, image: 'A'.repeat(100_000) });
    expect(res.status).toBe(413);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('SWY_ERR_BODY_TOO_LARGE');
    expect(body.error.message).toMatch(/65536 byte limit.*--max-body-bytes/);
  });

  it('refuses a deeply nested body without parsing it', async () => {
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    const res = await act(`{"state":${deep.slice(0, 60_000)}}`);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/nested deeper than 2/);
  });

  it('brackets inside strings do not count as nesting', async () => {
    const res = await act({ episode_id: '[[[{{{', state });
    expect(res.status).toBe(200);
  });
});

describe('the edge of /act', () => {
  it('refuses a foreign Host when the server has no token (DNS rebinding)', async () => {
    const res = await app.inject({ method: 'POST', url: '/act', headers: { host: 'evil.example:80', 'content-type': 'application/json' }, payload: JSON.stringify({ state }) });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ error: { code: 'SWY_ERR_FORBIDDEN_SENDER', where: 'Host' } });
  });

  it('echoes the body request_id in X-Request-ID; a header wins over a generated id', async () => {
    const withBody = await act({ request_id: 'body-id-1', state }, { 'x-request-id': 'header-id' });
    expect(withBody.headers.get('x-request-id')).toBe('body-id-1');
    const withHeader = await act({ state }, { 'x-request-id': 'header-id-2' });
    expect(withHeader.headers.get('x-request-id')).toBe('header-id-2');
    const generated = await act({ state });
    expect(generated.headers.get('x-request-id')).toMatch(/^req-/);
    const refused = await act({ state: [1e39, 0, 0, 0] }, { 'x-request-id': 'bad-one' });
    expect(refused.headers.get('x-request-id')).toBe('bad-one');
  });

  it('sets socket timeouts and a connection cap on the server', () => {
    expect(app.server.headersTimeout).toBe(10_000);
    expect(app.server.requestTimeout).toBe(30_000);
    expect(app.server.keepAliveTimeout).toBe(65_000);
    expect(app.server.maxConnections).toBe(1024);
  });

  it('answers unknown paths with a JSON 404', async () => {
    for (const path of ['/v1/act', '/predict', '/model.onnx', '/favicon.ico']) {
      const res = await fetch(`${base}${path}`);
      expect(res.status, path).toBe(404);
      expect(res.headers.get('content-type'), path).toMatch(/application\/json/);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('SWY_ERR_NOT_FOUND');
    }
  });

  it('counts every outcome per slot', async () => {
    const before = await metric('switchyard_requests_total', 'policy_slot="prod",outcome="ok"');
    await act({ state });
    expect(await metric('switchyard_requests_total', 'policy_slot="prod",outcome="ok"')).toBe(before + 1);
    for (const o of ['ok', 'client_error', 'unavailable', 'timeout', 'server_error']) {
      const text = await (await fetch(`${base}/metrics`)).text();
      expect(text).toContain(`switchyard_requests_total{policy_slot="prod",outcome="${o}"}`);
    }
  });
});

describe('a policy that fails on valid input', () => {
  it('counts non-finite output as a crash and drains after --max-consecutive-crashes', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'swy-nan-'));
    const { engine: e2, cleanup: c2 } = await createDemoEngine({ maxConsecutiveCrashes: 3 });
    const flaky = await writeFlakyExport(join(tmp, 'flaky'), { limit: 100 });
    await e2.startServing({ single: flaky });
    const app2 = await createHttpServer(e2, { host: '127.0.0.1', port: 0 });
    try {
      const post = (s: number[]) => app2.inject({ method: 'POST', url: '/act', headers: { host: '127.0.0.1:0', 'content-type': 'application/json' }, payload: JSON.stringify({ state: s }) });
      expect((await post([1, 0, 0, 0])).statusCode).toBe(200);
      for (let i = 0; i < 3; i++) expect((await post([500, 0, 0, 0])).statusCode).toBe(500);
      expect(e2.serving.state().drain).toBe('degraded');
      const drained = await post([1, 0, 0, 0]);
      expect(drained.statusCode).toBe(503);
      expect(drained.headers['retry-after']).toBeDefined();
    } finally {
      await app2.close();
      await c2();
      rmSync(tmp, { recursive: true, force: true });
    }
  }, 180_000);
});
