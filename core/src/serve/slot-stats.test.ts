import { describe, expect, it } from 'vitest';
import type { PolicyExport, SlotRunner } from '../runtime/types.js';
import { createMetricsRegistry, ServingMetrics } from './metrics.js';
import { countFailure, countRefusal, countSuccess, LatencyRing, makeSlotRuntime, slotCounters, takeWindow } from './slot-stats.js';

const exp = {
  dir: '/exports/x',
  manifest: { policy: 'p', version: '1', model_id: 'm', kind: 'direct', observation: { name: 'obs', dim: 1 }, action: { name: 'a', dim: 1, chunk: 1 } },
  modelHash: '0'.repeat(16),
  modelVersion: `m@${'0'.repeat(16)}`,
  sizeBytes: 1,
  files: [],
  modelPath: '/exports/x/policy.onnx',
} satisfies PolicyExport;
const runner: SlotRunner = { export: exp, ready: true, act: () => Promise.reject(new Error('unused')), close: () => Promise.resolve() };
const out = (cache: 'hit' | 'miss' | 'none') => ({ actions: [[0]], numActions: 1, actionDim: 1, cache, denoiseSteps: 0, inferMs: 0 });

function setup() {
  const registry = createMetricsRegistry();
  const metrics = new ServingMetrics(registry);
  metrics.initSlots(['a']);
  return { registry, metrics, s: makeSlotRuntime({ slot: 'a', ref: 'p@1', runner }, metrics) };
}

describe('slot numbers', () => {
  it('keeps the live window apart from the cumulative counters', async () => {
    const { s, metrics, registry } = setup();
    countSuccess(s, out('hit'), 4);
    countSuccess(s, out('miss'), 2);
    countRefusal(s, metrics, 'client_error');
    const w = takeWindow(s, 1000);
    expect(w).toMatchObject({ slot: 'a', requests: 3, errors: 1, rps: 3, p50Ms: 2, p99Ms: 4, cacheHits: 1, cacheMisses: 1 });
    // The window is reset, the counters and the latency mark are not.
    expect(takeWindow(s, 1000)).toMatchObject({ requests: 3, errors: 1, rps: 0, p50Ms: null });
    expect(slotCounters(s)).toMatchObject({ requests: 3, errors: 1, latencyCount: 2, drained: false });
    expect(await registry.metrics()).toMatch(/switchyard_requests_total\{policy_slot="a",outcome="client_error"\} 1/);
  });

  it('counts a refusal without moving the slot toward a drain, and a failure toward it', () => {
    const { s, metrics } = setup();
    countRefusal(s, metrics, 'unavailable');
    expect(s.consecutiveFailures).toBe(0);
    countFailure(s, metrics, 'server_error', { at: 't', code: 'SWY_ERR_WORKER_DIED', message: 'gone', crash: true });
    countFailure(s, metrics, 'server_error', { at: 't', code: 'SWY_ERR_INFERENCE', message: 'nan', crash: false });
    expect(s).toMatchObject({ consecutiveFailures: 2, failures: 2, workerCrashes: 1, requestFailures: 1, totalErrors: 3 });
    expect(s.lastError?.code).toBe('SWY_ERR_INFERENCE');
  });

  it('keeps the newest latencies only, with a running mark', () => {
    const ring = new LatencyRing(3);
    for (let i = 1; i <= 5; i++) ring.push(i);
    expect(ring.count).toBe(5);
    expect(ring.since(0)).toEqual([3, 4, 5]);
    expect(ring.since(4)).toEqual([5]);
    expect(ring.since(5)).toEqual([]);
  });
});
