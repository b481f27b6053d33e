/**
 * The `request` record of a trace: how it is built (`buildRequestRecord`, the reference, serialized
 * by the generic `canonicalizeJs`), and a serializer written for its fixed shape
 * (`requestRecordJson`) that produces the same canonical text without building the object,
 * sorting keys or looking up which fields are floats. The trace writer runs the second on every
 * request (it was the largest part of the trace's cost on the serving thread); when a record
 * does not have the expected shape (a field of an unexpected type) it returns null and the writer
 * falls back to the first. Tests hold the two to the same bytes.
 */
import { createHash } from 'node:crypto';
import { canonicalizeJs, pyFloatRepr, pyQuote } from './canonical-json.js';
import type { Redaction, TraceLatency, TraceRequestInput, TraceResponse, TraceShadowInput } from './trace-input.js';

export const TRACE_SCHEMA_VERSION = 1;

/** First 16 hex of SHA-256 of the base64 text (spec §4.3). */
export function imageSha256(base64: string): string {
  return createHash('sha256').update(base64, 'utf8').digest('hex').slice(0, 16);
}

export function latencyObject(l: TraceLatency): Record<string, unknown> {
  return l.stages ? { stages: l.stages, total_ms: l.total_ms } : { total_ms: l.total_ms };
}

export function responseObject(r: TraceResponse | null): Record<string, unknown> | null {
  if (!r) return null;
  const numActions = r.num_actions ?? r.actions.length;
  const actionDim = r.action_dim ?? r.actions[0]?.length ?? 0;
  return { action_dim: actionDim, actions: r.actions, num_actions: numActions };
}

/** The record object, keys in sorted order (the generic serializer then need not sort). */
export function buildRequestRecord(seq: number, chunk: number, ts: number, inp: TraceRequestInput, redaction: Redaction): Record<string, unknown> {
  const rq = inp.request;
  const request: Record<string, unknown> = { episode_id: rq.episode_id ?? null };
  const image = rq.image;
  if (redaction === 'full') request.image = image ?? null;
  if (redaction !== 'none') request.image_sha256 = image ? imageSha256(image) : null;
  request.instruction = rq.instruction ?? null;
  request.request_id = rq.request_id ?? null;
  request.state = rq.state;
  const rec: Record<string, unknown> = {};
  if (inp.cache) rec.cache = { status: inp.cache.status };
  rec.chunk_id = chunk;
  rec.denoise = { adaptive: inp.denoise.adaptive, steps_configured: inp.denoise.steps_configured, steps_used: inp.denoise.steps_used };
  if (inp.error) rec.error = { code: inp.error.code, message: inp.error.message };
  rec.kind = 'request';
  rec.latency = latencyObject(inp.latency);
  rec.request = request;
  rec.response = responseObject(inp.response);
  if (inp.routing) rec.routing = { cached: inp.routing.cached, degraded: inp.routing.degraded, routing_key: inp.routing.routing_key, slot: inp.routing.slot };
  rec.schema_version = TRACE_SCHEMA_VERSION;
  rec.seq = seq;
  rec.timestamp = ts / 1000;
  return rec;
}

/** The `shadow_result` record object, keys in sorted order. */
export function buildShadowRecord(ts: number, inp: TraceShadowInput): Record<string, unknown> {
  return {
    divergence: inp.divergence ? { cosine: inp.divergence.cosine, max_abs: inp.divergence.max_abs } : null,
    error: inp.error ? { code: inp.error.code, message: inp.error.message } : null,
    kind: 'shadow_result',
    latency: latencyObject(inp.latency),
    response: responseObject(inp.response),
    routing: inp.routing ?? null,
    schema_version: TRACE_SCHEMA_VERSION,
    seq: inp.seq,
    timestamp: ts / 1000,
  };
}

/** Thrown inside the fast path when the record is not of the expected shape. */
const SHAPE = new Error('shape');

/** A JS number outside the float fields: an int when it is a safe integer (canonicalizeJs's rule). */
function intOrFloat(v: unknown): string {
  if (typeof v !== 'number') throw SHAPE;
  return Number.isSafeInteger(v) && !Object.is(v, -0) ? String(v) : pyFloatRepr(v);
}

function str(v: unknown): string {
  if (typeof v !== 'string') throw SHAPE;
  return pyQuote(v);
}

function strOrNull(v: unknown): string {
  return v === null || v === undefined ? 'null' : str(v);
}

function bool(v: unknown): string {
  if (typeof v !== 'boolean') throw SHAPE;
  return v ? 'true' : 'false';
}

/** A vector under a float field: plain numbers only (anything else goes the generic way). */
function floatVec(v: unknown): string {
  if (!Array.isArray(v)) {
    if (ArrayBuffer.isView(v) && !(v instanceof DataView) && !(v instanceof BigInt64Array) && !(v instanceof BigUint64Array)) {
      const a = v as unknown as ArrayLike<number>;
      if (a.length === 0) return '[]';
      let out = '[' + pyFloatRepr(a[0]!);
      for (let i = 1; i < a.length; i++) out += ',' + pyFloatRepr(a[i]!);
      return out + ']';
    }
    throw SHAPE;
  }
  const n = v.length;
  if (n === 0) return '[]';
  let out = '[';
  for (let i = 0; i < n; i++) {
    const x: unknown = v[i];
    if (typeof x !== 'number') throw SHAPE;
    out += (i === 0 ? '' : ',') + pyFloatRepr(x);
  }
  return out + ']';
}

/**
 * Canonical JSON of the `request` record (without chain fields), byte for byte what
 * `canonicalizeJs(buildRequestRecord(...))` gives; null when the input is not of the shape
 * this serializer knows (the caller then uses the generic path).
 */
export function requestRecordJson(seq: number, chunk: number, ts: number, inp: TraceRequestInput, redaction: Redaction): string | null {
  try {
    let out = '{';
    const cache = inp.cache;
    if (cache) out += '"cache":{"status":' + str(cache.status) + '},';
    out += '"chunk_id":' + intOrFloat(chunk);
    const d = inp.denoise;
    out += ',"denoise":{"adaptive":' + bool(d.adaptive) + ',"steps_configured":' + intOrFloat(d.steps_configured) + ',"steps_used":' + intOrFloat(d.steps_used) + '}';
    const err = inp.error;
    if (err) out += ',"error":{"code":' + str(err.code) + ',"message":' + str(err.message) + '}';
    out += ',"kind":"request","latency":';
    const l = inp.latency;
    // Stage names are free-form: the generic serializer sorts them (latency is a float field).
    if (l.stages) out += canonicalizeJs({ latency: latencyObject(l) }).slice('{"latency":'.length, -1);
    else {
      if (typeof l.total_ms !== 'number') throw SHAPE;
      out += '{"total_ms":' + pyFloatRepr(l.total_ms) + '}';
    }
    const rq = inp.request;
    out += ',"request":{"episode_id":' + strOrNull(rq.episode_id);
    const image = rq.image;
    if (redaction === 'full') out += ',"image":' + strOrNull(image);
    if (redaction !== 'none') {
      if (image && typeof image !== 'string') throw SHAPE;
      out += ',"image_sha256":' + (image ? '"' + imageSha256(image) + '"' : 'null');
    }
    out += ',"instruction":' + strOrNull(rq.instruction) + ',"request_id":' + strOrNull(rq.request_id) + ',"state":' + floatVec(rq.state) + '}';
    const r = inp.response;
    if (!r) out += ',"response":null';
    else {
      const rows = r.actions;
      if (!Array.isArray(rows)) throw SHAPE;
      const numActions = r.num_actions ?? rows.length;
      const actionDim = r.action_dim ?? (rows[0] as ArrayLike<number> | undefined)?.length ?? 0;
      out += ',"response":{"action_dim":' + intOrFloat(actionDim) + ',"actions":[';
      for (let i = 0; i < rows.length; i++) out += (i === 0 ? '' : ',') + floatVec(rows[i]);
      out += '],"num_actions":' + intOrFloat(numActions) + '}';
    }
    const rt = inp.routing;
    if (rt) out += ',"routing":{"cached":' + bool(rt.cached) + ',"degraded":' + bool(rt.degraded) + ',"routing_key":' + str(rt.routing_key) + ',"slot":' + str(rt.slot) + '}';
    out += ',"schema_version":' + TRACE_SCHEMA_VERSION + ',"seq":' + intOrFloat(seq) + ',"timestamp":' + pyFloatRepr(ts / 1000) + '}';
    return out;
  } catch (e) {
    if (e === SHAPE) return null;
    throw e;
  }
}
