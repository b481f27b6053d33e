import { mulberry32 as seededRng } from '../platform/rng.js';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../engine.js';
import { createDemoEngine } from '../testing/demo-engine.js';
import { createHttpServer } from './http-server.js';

let engine: Engine;
let app: FastifyInstance;
let dir: string;
let cleanup: () => Promise<void>;
const host = { host: '127.0.0.1:8000' };

function mulberry32(seed: number): () => number {
  const rng = seededRng(seed);
  return () => rng.next();
}

function randomValue(rand: () => number, depth = 0): unknown {
  const k = Math.floor(rand() * (depth > 2 ? 5 : 8));
  switch (k) {
    case 0: return null;
    case 1: return rand() < 0.5;
    case 2: return (rand() - 0.5) * 10 ** Math.floor(rand() * 40 - 20);
    case 3: return Math.floor(rand() * 1e6);
    case 4: return String.fromCharCode(...Array.from({ length: Math.floor(rand() * 12) }, () => Math.floor(rand() * 0x2fff)));
    case 5: return Array.from({ length: Math.floor(rand() * 6) }, () => randomValue(rand, depth + 1));
    default: {
      const o: Record<string, unknown> = {};
      const keys = ['state', 'episode_id', 'request_id', 'instruction', 'image', 'x', '__proto__', 'constructor'];
      for (let i = 0; i < Math.floor(rand() * 4); i++) o[keys[Math.floor(rand() * keys.length)]!] = randomValue(rand, depth + 1);
      return o;
    }
  }
}

beforeAll(async () => {
  ({ engine, dir, cleanup } = await createDemoEngine());
  await engine.startServing({ a: 'cartpole-balance@1.0.0', b: 'cartpole-balance@2.0.0-iter', split: 50 });
  app = await createHttpServer(engine, { host: '127.0.0.1', port: 8000, bodyLimitBytes: 64 * 1024, maxBodyBytes: 64 * 1024 });
}, 180_000);

afterAll(async () => {
  await app?.close();
  await cleanup?.();
});

describe('/act under hostile input', () => {
  it('answers 10,000 random bodies with 4xx, never crashes, and keeps memory flat', async () => {
    expect(global.gc, 'vitest.config.ts runs the test processes with --expose-gc').toBeTypeOf('function');
    const rand = mulberry32(42);
    const statuses = new Map<number, number>();
    let heapAfterWarmup = 0;
    for (let i = 0; i < 10_000; i++) {
      const raw = rand() < 0.2;
      const payload = raw
        ? String.fromCharCode(...Array.from({ length: Math.floor(rand() * 40) }, () => Math.floor(rand() * 127)))
        : JSON.stringify(randomValue(rand));
      const res = await app.inject({ method: 'POST', url: '/act', headers: { ...host, 'content-type': 'application/json' }, payload });
      statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
      if (res.statusCode >= 500) throw new Error(`5xx for ${payload}: ${res.body}`);
      if (i === 1000) {
        global.gc!();
        heapAfterWarmup = process.memoryUsage().heapUsed;
      }
    }
    global.gc!();
    const growth = process.memoryUsage().heapUsed - heapAfterWarmup;
    process.stdout.write(`[act-robustness] heap growth after 9,000 hostile bodies, both after a full GC: ${(growth / 1024 / 1024).toFixed(1)} MiB\n`);
    // Both readings follow a full collection (vitest runs with --expose-gc), so garbage does not
    // count; 9,000 requests leaking even 1 KiB each would show as 9 MiB.
    expect(growth).toBeLessThan(8 * 1024 * 1024);
    expect([...statuses.keys()].every((s) => s === 200 || (s >= 400 && s < 500))).toBe(true);
    expect((statuses.get(400) ?? 0) + (statuses.get(422) ?? 0)).toBeGreaterThan(9000);
    const ok = await app.inject({ method: 'POST', url: '/act', headers: host, payload: { episode_id: 'still-alive', state: [0, 0, 0.01, 0] } });
    expect(ok.statusCode).toBe(200);
  }, 120_000);

  it('rejects an oversized body with 413 and keeps serving', async () => {
    const res = await app.inject({ method: 'POST', url: '/act', headers: { ...host, 'content-type': 'application/json' }, payload: JSON.stringify({ state: [0, 0, 0, 0], instruction: 'x'.repeat(100_000) }) });
    expect(res.statusCode).toBe(413);
    expect(res.json()).toMatchObject({ error: { code: 'SWY_ERR_BODY_TOO_LARGE', where: 'body' } });
    expect((await app.inject({ method: 'POST', url: '/act', headers: host, payload: { state: [0, 0, 0, 0] } })).statusCode).toBe(200);
  });

  it('rejects a form-encoded body, naming the body', async () => {
    const res = await app.inject({ method: 'POST', url: '/act', headers: { ...host, 'content-type': 'text/plain' }, payload: 'state=1' });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({ where: 'body' });
    expect(res.json().error.message).toMatch(/must be a JSON object/);
  });
});

describe('recording when the disk fails', () => {
  it('stops recording, says so once in the log and in metrics, and keeps serving', async () => {
    const traces = join(dir, 'doomed-traces');
    const writer = await engine.startRecording({ dir: traces });
    for (let i = 0; i < 20; i++) {
      const r = await app.inject({ method: 'POST', url: '/act', headers: host, payload: { episode_id: `d${i}`, state: [0, 0, 0.01, 0] } });
      expect(r.statusCode).toBe(200);
    }
    rmSync(traces, { recursive: true, force: true });
    // The writer notices a deleted file on its periodic check (about once a second).
    for (let round = 0; round < 40 && writer.stats.state === 'recording'; round++) {
      const r = await app.inject({ method: 'POST', url: '/act', headers: host, payload: { episode_id: `after-${round}`, state: [0, 0, 0.01, 0] } });
      expect(r.statusCode).toBe(200);
      await new Promise((res) => setTimeout(res, 100));
    }
    expect(writer.stats.state).toBe('failed');
    for (let i = 0; i < 5; i++) {
      const r = await app.inject({ method: 'POST', url: '/act', headers: host, payload: { episode_id: `late-${i}`, state: [0, 0, 0.01, 0] } });
      expect(r.statusCode).toBe(200);
    }
    const metrics = await (await app.inject({ method: 'GET', url: '/metrics', headers: host })).body;
    const dropped = Number(/switchyard_trace_records_dropped_total (\d+)/.exec(metrics)?.[1] ?? '0');
    expect(dropped).toBeGreaterThan(0);
  }, 180_000);
});

describe('/readyz before any policy is loaded', () => {
  it('is 503 while nothing serves, and /act says how to start', async () => {
    const ctx = await createDemoEngine();
    try {
      const idle = await createHttpServer(ctx.engine, { host: '127.0.0.1', port: 8000 });
      expect((await idle.inject({ method: 'GET', url: '/readyz', headers: host })).statusCode).toBe(503);
      expect((await idle.inject({ method: 'GET', url: '/healthz', headers: host })).statusCode).toBe(200);
      const act = await idle.inject({ method: 'POST', url: '/act', headers: host, payload: { state: [0, 0, 0, 0] } });
      expect(act.statusCode).toBe(503);
      expect(act.json().error.message).toMatch(/No policy is loaded/);
      await idle.close();
    } finally {
      await ctx.cleanup();
    }
  });
});
