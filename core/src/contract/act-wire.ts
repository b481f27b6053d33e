/**
 * The robot endpoint's wire (`POST /act`) and what the serving controller tells a recorder about
 * each answered request. Types only: `/act` bodies are checked by hand in `serve/act-request.ts`
 * (every field error must name its field, and the check runs on every request), so there is no
 * schema here to keep in step. The trace writer and the server both depend on these, never on
 * each other.
 */
import type { Slot } from './schemas.js';

/** A `/act` body once checked (snake_case: the reference client's names). */
export interface ActRequest {
  episode_id?: string;
  request_id?: string;
  state: number[];
  instruction?: string;
  image?: string;
}

/** A `/act` answer. */
export interface ActResponse {
  actions: number[][];
  num_actions: number;
  action_dim: number;
  slot: Slot;
  model_version: string;
  latency_ms: number;
  cache: 'hit' | 'miss' | 'none';
  denoise_steps: number;
}

/** How a two-policy request was routed (the router's decision, as recorded). */
export interface ActRouting {
  slot: 'a' | 'b';
  routingKey: string;
  /** No episode id: the request id was hashed instead, so the episode cannot stay sticky. */
  degraded: boolean;
  /** The decision came from the sticky table, not from the current split. */
  cached: boolean;
}

/** What a policy answered for one request, as the runner reports it. */
export interface ActResult {
  /** `[num_actions][action_dim]` */
  actions: number[][];
  numActions: number;
  actionDim: number;
  cache: 'hit' | 'miss' | 'none';
  denoiseSteps: number;
  /** Time spent inside the worker's ONNX run(s), milliseconds. */
  inferMs: number;
}

/** One answered (or failed) primary request, for the recorder (the trace writer). */
export interface ActRecord {
  seq: number;
  requestId: string;
  /** Epoch milliseconds when the request was routed. */
  at: number;
  body: ActRequest;
  slot: Slot;
  modelVersion: string;
  routing: ActRouting | null;
  latencyMs: number;
  result: ActResult | null;
  error: { code: string; message: string } | null;
  steps: number;
}

/** The shadow slot's answer to a primary request, after the primary answer was sent. */
export interface ShadowRecord {
  seq: number;
  requestId: string;
  routing: { slot: 'shadow'; routing_key: string };
  modelVersion: string;
  result: ActResult | null;
  latencyMs: number;
  error: { code: string; message: string } | null;
  divergence: { cosine: number; maxAbs: number } | null;
}

/** Where the serving controller hands each record; it must never throw into the request path. */
export interface ActRecorder {
  request(rec: ActRecord): void;
  shadow(rec: ShadowRecord): void;
}
