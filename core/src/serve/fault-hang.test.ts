/**
 * Fault: a policy that hangs inside native code. A real ONNX `Loop` export whose trip count
 * comes from the input (≈6 µs an iteration here: state[0] = 1e6 holds the worker for seconds),
 * a real worker, a real server on loopback.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../engine.js';
import type { PolicyRunner } from '../runtime/policy-runner.js';
import { createDemoEngine } from '../../test-support/demo-engine.js';
import { writeHangExport } from '../../test-support/fault-exports.js';
import { createHttpServer } from './http-server.js';

const HANG = [1e6, 0, 0, 0];
const FINE = [1, 0, 0, 0];
const LONG_HANG = [3e6, 0, 0, 0];
let tmp: string;
let engine: Engine;
let app: FastifyInstance;
let base: string;
let cleanup: () => Promise<void>;
const limits: { alive: number; max: number }[] = [];

async function act(state: number[], extra: Record<string, unknown> = {}): Promise<Response> {
  return fetch(`${base}/act`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ state, ...extra }) });
}

async function metric(name: string, labels: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line === undefined ? 0 : Number(line.split(' ').pop());
}

const runner = (): PolicyRunner => engine.serving.slotSpec('prod')!.runner as unknown as PolicyRunner;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'swy-hang-'));
  ({ engine, cleanup } = await createDemoEngine({ actTimeoutMs: 400, maxConsecutiveCrashes: 3, maxAbandonedWorkers: 1, onAbandonedLimit: (alive, max) => limits.push({ alive, max }) }));
  await engine.startServing({ single: await writeHangExport(join(tmp, 'hang')) });
  app = await createHttpServer(engine, { host: '127.0.0.1', port: 0 });
  await app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
}, 180_000);

afterAll(async () => {
  await app?.close();
  await cleanup?.();
  rmSync(tmp, { recursive: true, force: true });
});

describe('a request that never returns', () => {
  it('loads and answers small inputs (warm-up passes)', async () => {
    expect((await act(FINE)).status).toBe(200);
  });

  it('answers 504 naming the slot, abandons the worker, and serves again once a fresh one is warm', async () => {
    const hung = act(HANG, { request_id: 'the-hang' });
    // Queued behind the hang on the same slot: it must not wait forever either.
    await new Promise((r) => setTimeout(r, 50));
    const behind = act(FINE, { request_id: 'behind' });
    const res = await hung;
    expect(res.status).toBe(504);
    const body = (await res.json()) as { error: { code: string; where: string; message: string } };
    expect(body.error).toMatchObject({ code: 'SWY_ERR_ACT_TIMEOUT', where: 'prod' });
    expect(body.error.message).toMatch(/Slot prod .* did not answer within 400 ms/);
    expect([503, 504]).toContain((await behind).status);

    // Until the fresh worker is warm the slot has no live worker: not ready, 503 + Retry-After.
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { slots: { slot: string; ready: boolean }[] }).slots).toEqual([{ slot: 'prod', ready: false }]);
    const during = await act(FINE);
    expect(during.status).toBe(503);
    expect(during.headers.get('retry-after')).toBe('1');
    expect(((await during.json()) as { error: { code: string } }).error.code).toBe('SWY_ERR_SLOT_RESTARTING');

    await runner().whenReady();
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    expect((await act(FINE)).status).toBe(200);

    expect(await metric('switchyard_worker_abandoned_total', 'policy_slot="prod"')).toBe(1);
    expect(await metric('switchyard_requests_total', 'policy_slot="prod",outcome="timeout"')).toBeGreaterThanOrEqual(1);
    expect(await metric('switchyard_requests_total', 'policy_slot="prod",outcome="unavailable"')).toBeGreaterThanOrEqual(1);
    expect(await metric('switchyard_worker_failures_total', 'policy_slot="prod"')).toBeGreaterThanOrEqual(1);
    // The 503s while the worker was replaced do not count toward the drain; the timeout does.
    expect(engine.serving.state().slots[0]!.crashes).toBe(await metric('switchyard_worker_failures_total', 'policy_slot="prod"'));
  }, 180_000);

  it('says so when more abandoned workers are alive than allowed', async () => {
    // Two abandonments close together, each inside a Loop long enough (3e6 steps: several
    // seconds) to outlive the other's deadline and the warm-up between them; the second pushes
    // past max 1. Relying on the first test's shorter hang still running made this depend on the
    // machine's speed (it failed on a quiet machine where that Loop had already returned).
    const first = await act(LONG_HANG);
    expect(first.status).toBe(504);
    await runner().whenReady();
    const res = await act(LONG_HANG);
    expect(res.status).toBe(504);
    expect(limits.length).toBeGreaterThanOrEqual(1);
    expect(limits[0]).toEqual({ alive: 2, max: 1 });
    await runner().whenReady();
  }, 180_000);
});
