/** Sample trace inputs for tests and the trace benchmark; deterministic. */
import type { TraceRequestInput } from '../src/trace/trace-writer.js';

/** A cart-pole-like request: 4 state floats, a chunk of 8 × 2 actions, stage timings. */
export function sampleRequest(i: number, extra: Partial<TraceRequestInput> = {}): TraceRequestInput {
  const state = [Math.sin(i) * 0.05, Math.cos(i) * 0.3, 0.001 * (i % 17), -0.25 + i * 1e-6];
  const actions: number[][] = [];
  for (let k = 0; k < 8; k++) actions.push([Math.tanh(state[0]! * 10 + k * 0.01), Math.fround(0.1 * k) - 0.35]);
  return {
    request: { episode_id: `ep-${i % 100}`, request_id: `req-${i}`, instruction: null, state },
    response: { actions },
    latency: { total_ms: 0.18 + (i % 7) * 0.013, stages: { queue_ms: 0.004, infer_ms: 0.12 } },
    denoise: { steps_used: 1, steps_configured: 1, adaptive: false },
    cache: { status: i % 3 === 0 ? 'miss' : 'hit' },
    ...extra,
  };
}

/** A fixed clock that advances `stepMs` per reading. */
export function steppingClock(startMs = Date.UTC(2026, 0, 2, 3, 4, 5, 678), stepMs = 1): { now(): number } {
  let t = startMs - stepMs;
  return { now: () => (t += stepMs) };
}
