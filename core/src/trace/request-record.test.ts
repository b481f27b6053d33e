import { describe, expect, it } from 'vitest';
import { canonicalizeJs } from './canonical-json.js';
import { buildRequestRecord, requestRecordJson } from './request-record.js';
import { sampleRequest } from '../../test-support/trace-fixtures.js';
import type { Redaction, TraceRequestInput } from './trace-writer.js';

const REDACTIONS: Redaction[] = ['hash_only', 'full', 'none'];

function reference(seq: number, chunk: number, ts: number, inp: TraceRequestInput, r: Redaction): string {
  return canonicalizeJs(buildRequestRecord(seq, chunk, ts, inp, r));
}

/** Inputs covering every optional part and the number forms Python prints differently. */
function variants(i: number): TraceRequestInput[] {
  const base = sampleRequest(i);
  return [
    base,
    sampleRequest(i, { cache: null, latency: { total_ms: 0.5 } }),
    sampleRequest(i, { response: null, error: { code: 'SWY_ERR_INFERENCE', message: 'Slot a failed: "bad" \u00e9\n\ud83d\ude00' }, cache: null }),
    sampleRequest(i, { routing: { slot: 'b', routing_key: `ep-${i}`, degraded: i % 2 === 0, cached: i % 3 === 0 } }),
    sampleRequest(i, { latency: { total_ms: 1, stages: { z_ms: 2, infer_ms: 1e-7, queue_ms: 1e16 } } }),
    {
      ...base,
      request: { episode_id: null, request_id: null, instruction: 'pick up the \u2603', state: [0, -0, 1, 1e21, 5e-324, -1.5, 123456789012345680000] },
      response: { actions: [[1, 2], [Math.fround(0.1), -0]], num_actions: 2, action_dim: 2 },
    },
    { ...base, request: { ...base.request, image: 'aGVsbG8=', state: new Float32Array([0.1, 0.2, 0.3, 0.4]) } },
    { ...base, request: { ...base.request, image: '' }, response: { actions: [new Float32Array([0.5])] }, denoise: { steps_used: 3, steps_configured: 8, adaptive: true } },
    { ...base, response: { actions: [] }, denoise: { steps_used: 0, steps_configured: 0, adaptive: false } },
  ];
}

describe('the request record serializer', () => {
  it('writes the bytes the generic canonical serializer writes, for every redaction and optional part', () => {
    let n = 0;
    for (let i = 0; i < 60; i++) {
      for (const inp of variants(i)) {
        for (const r of REDACTIONS) {
          const seq = i === 7 ? 2 ** 53 + 2 : i + 1; // past the safe integers: a float in Python
          const ts = 1767322800000 + i * 0.37;
          const fast = requestRecordJson(seq, i % 50, ts, inp, r);
          expect(fast).not.toBeNull();
          expect(fast).toBe(reference(seq, i % 50, ts, inp, r));
          n++;
        }
      }
    }
    expect(n).toBe(60 * 9 * 3);
  });

  it('declines a record of an unexpected shape (the writer then uses the generic serializer)', () => {
    const base = sampleRequest(1);
    const odd: TraceRequestInput[] = [
      { ...base, request: { ...base.request, state: ['1' as unknown as number] } },
      { ...base, request: { ...base.request, episode_id: 5 as unknown as string } },
      { ...base, denoise: { ...base.denoise, steps_used: undefined as unknown as number } },
      { ...base, cache: { status: undefined as unknown as 'hit' } },
      { ...base, response: { actions: [[BigInt(1) as unknown as number]] } },
    ];
    for (const inp of odd) {
      expect(requestRecordJson(1, 0, 1000, inp, 'hash_only')).toBeNull();
      // The generic path still serializes it (or refuses it the way it always did).
      expect(() => reference(1, 0, 1000, inp, 'hash_only')).not.toThrow();
    }
  });
});
