/**
 * Connects the serving controller's recorder hook (`ServingController#setRecorder`) to a
 * `TraceWriter`: maps its `ActRecord`/`ShadowRecord` onto the trace's field names. Like the
 * writer, it never throws into the request path.
 */
import type { ActRecord, ActRecorder, ShadowRecord } from '../contract/index.js';
import type { TraceRequestInput, TraceWriter } from './trace-writer.js';

export function traceRecorder(writer: TraceWriter): ActRecorder {
  return {
    request(rec: ActRecord): void {
      try {
        writer.writeRequest(toRequestInput(rec));
      } catch {
        // writeRequest does not throw; a malformed record from the caller must not either.
      }
    },
    shadow(rec: ShadowRecord): void {
      try {
        writer.writeShadowResult({
          seq: rec.seq,
          routing: { slot: rec.routing.slot, routing_key: rec.routing.routing_key },
          response: rec.result ? { actions: rec.result.actions, num_actions: rec.result.numActions, action_dim: rec.result.actionDim } : null,
          latency: rec.result ? { total_ms: rec.latencyMs, stages: { infer_ms: rec.result.inferMs } } : { total_ms: rec.latencyMs },
          error: rec.error,
          divergence: rec.divergence ? { cosine: rec.divergence.cosine, max_abs: rec.divergence.maxAbs } : null,
        });
      } catch {
        // as above
      }
    },
  };
}

/**
 * `denoise.adaptive` is true when the policy ran fewer steps than configured (a warm start);
 * a direct policy (no configured steps) reports 0/0.
 */
export function toRequestInput(rec: ActRecord): TraceRequestInput {
  const r = rec.result;
  const body = rec.body;
  return {
    seq: rec.seq,
    at: rec.at,
    request: {
      episode_id: body.episode_id ?? null,
      request_id: body.request_id ?? rec.requestId,
      instruction: body.instruction ?? null,
      state: body.state,
      image: body.image ?? null,
    },
    response: r ? { actions: r.actions, num_actions: r.numActions, action_dim: r.actionDim } : null,
    latency: r ? { total_ms: rec.latencyMs, stages: { infer_ms: r.inferMs } } : { total_ms: rec.latencyMs },
    denoise: { steps_used: r?.denoiseSteps ?? 0, steps_configured: rec.steps, adaptive: r !== null && rec.steps > 0 && r.denoiseSteps < rec.steps },
    cache: r && r.cache !== 'none' ? { status: r.cache } : null,
    error: rec.error,
    routing: rec.routing ? { slot: rec.routing.slot, routing_key: rec.routing.routingKey, degraded: rec.routing.degraded, cached: rec.routing.cached } : null,
  };
}
