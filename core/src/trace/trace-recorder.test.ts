import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../platform/logger.js';
import { steppingClock } from '../../test-support/trace-fixtures.js';
import { readTrace, verifyTrace } from './trace-reader.js';
import { traceRecorder } from './trace-recorder.js';
import { TraceWriter } from './trace-writer.js';

const root = mkdtempSync(join(tmpdir(), 'swy-trace-recorder-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('traceRecorder', () => {
  it("maps the serving controller's records onto the trace format", async () => {
    const w = new TraceWriter({ dir: root, modelHash: 'abcdef0123456789', clock: steppingClock(), logger: silentLogger, hardware: {} });
    const rec = traceRecorder(w);
    const at = Date.UTC(2026, 0, 2, 3, 4, 6, 500);
    rec.request({
      seq: 7,
      requestId: 'r-7',
      at,
      body: { episode_id: 'ep', state: [0.5, 1] },
      slot: 'a',
      modelVersion: 'm@abcdef0123456789',
      routing: { slot: 'a', routingKey: 'ep', degraded: false, cached: true },
      latencyMs: 0.25,
      result: { actions: [[1, 2]], numActions: 1, actionDim: 2, cache: 'hit', denoiseSteps: 3, inferMs: 0.2 },
      error: null,
      steps: 10,
    });
    rec.request({
      seq: 8, requestId: 'r-8', at, body: { state: [0] }, slot: 'prod', modelVersion: 'm@x', routing: null, latencyMs: 1, result: null,
      error: { code: 'SWY_ERR_INFERENCE', message: 'boom' }, steps: 0,
    });
    rec.shadow({ seq: 7, requestId: 'r-7', routing: { slot: 'shadow', routing_key: 'ep' }, modelVersion: 'm@y', result: null, latencyMs: 2, error: { code: 'SWY_ERR_WORKER_DIED', message: 'gone' }, divergence: null });
    await w.close();
    expect((await verifyTrace(w.path)).ok).toBe(true);
    const recs: Record<string, unknown>[] = [];
    for await (const e of readTrace(w.path)) recs.push(e.record);
    expect(recs[1]).toMatchObject({
      seq: 7,
      timestamp: at / 1000,
      request: { episode_id: 'ep', request_id: 'r-7', state: [0.5, 1] },
      response: { actions: [[1, 2]], num_actions: 1, action_dim: 2 },
      latency: { total_ms: 0.25, stages: { infer_ms: 0.2 } },
      denoise: { steps_used: 3, steps_configured: 10, adaptive: true },
      cache: { status: 'hit' },
      routing: { slot: 'a', routing_key: 'ep', degraded: false, cached: true },
    });
    expect(recs[2]).toMatchObject({ seq: 8, response: null, error: { code: 'SWY_ERR_INFERENCE' }, request: { request_id: 'r-8', episode_id: null } });
    expect('routing' in recs[2]!).toBe(false);
    expect(recs[3]).toMatchObject({ kind: 'shadow_result', seq: 7, error: { code: 'SWY_ERR_WORKER_DIED' }, routing: { slot: 'shadow' } });
  });
});
