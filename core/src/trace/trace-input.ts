/**
 * What the trace writer is given for one record (spec §4.3 field names). Its own module so that
 * the record builder (request-record.ts) and the writer both read it without importing each other.
 */
export type Redaction = 'hash_only' | 'full' | 'none';

export interface TracePolicyRef {
  slot: string;
  model_id: string;
  model_hash: string;
}

export interface TraceRouting {
  slot: string;
  routing_key: string;
  degraded: boolean;
  cached: boolean;
}

export interface TraceError {
  code: string;
  message: string;
}

export interface TraceLatency {
  total_ms: number;
  /** Named stage timings in milliseconds, e.g. `{ queue_ms, infer_ms }`. */
  stages?: Record<string, number>;
}

export interface TraceResponse {
  /** `[num_actions][action_dim]` */
  actions: ReadonlyArray<ArrayLike<number>>;
  num_actions?: number;
  action_dim?: number;
}

/** What `writeRequest` takes: the trace's own field names (spec §4.3). */
export interface TraceRequestInput {
  /** The caller's own request sequence number; the writer counts from 1 when left out. */
  seq?: number;
  /** Epoch milliseconds of the request; the writer's clock at the call when left out. */
  at?: number;
  /** Index of this action chunk within its episode; counted per episode when left out. */
  chunk_id?: number;
  request: {
    episode_id?: string | null;
    request_id?: string | null;
    instruction?: string | null;
    state: ArrayLike<number>;
    /** The base64 image as received; stored per the redaction mode, never as is by default. */
    image?: string | null;
  };
  /** null when the request failed. */
  response: TraceResponse | null;
  latency: TraceLatency;
  denoise: { steps_used: number; steps_configured: number; adaptive: boolean };
  cache?: { status: 'hit' | 'miss' } | null;
  error?: TraceError | null;
  /** Two-policy mode only. */
  routing?: TraceRouting | null;
}

export interface TraceShadowInput {
  /** The `seq` of the request this answers (what `writeRequest` returned). */
  seq: number;
  /** Epoch milliseconds; the writer's clock at the call when left out. */
  at?: number;
  routing?: Partial<TraceRouting> | null;
  response: TraceResponse | null;
  latency: TraceLatency;
  error?: TraceError | null;
  /** Divergence from the primary answer; see `actionDivergence`. */
  divergence?: { cosine: number; max_abs: number } | null;
}
