/**
 * Turns queued trace records into sealed lines: canonical JSON, then the hash chain. One
 * function for both places it runs: inline in the trace writer, and in the sealing thread
 * (`trace-sealer-worker.ts`), which serving uses so that neither the serialization nor the
 * SHA-256 of a record runs on the thread that answers `/act`.
 *
 * Everything an item holds must survive a structured clone unchanged (it is posted to the
 * thread): plain objects, arrays, typed arrays, strings and numbers do.
 */
import { canonicalizeJs } from './canonical-json.js';
import { sealRecord } from './chain.js';
import { buildRequestRecord, buildShadowRecord, requestRecordJson } from './request-record.js';
import type { Redaction, TraceRequestInput, TraceShadowInput } from './trace-input.js';

export type SealItem =
  | { k: 'request'; seq: number; chunk: number; ts: number; input: TraceRequestInput }
  | { k: 'shadow'; ts: number; input: TraceShadowInput }
  /** A record already in canonical form (header, footer, or a record that could not be posted as is). */
  | { k: 'text'; body: string };

export interface SealedBatch {
  /** The sealed lines, newline-terminated, pure ASCII. */
  text: string;
  /** How many records `text` holds. */
  n: number;
  /** The chain's hash after the last of them (the `prevHash` given when none was sealed). */
  hash: string;
  /** One description per record that could not be serialized and was left out. */
  errors: string[];
}

/** Canonical JSON of one item, without the chain fields. Throws for a value JSON cannot hold. */
export function recordBody(item: SealItem, redaction: Redaction): string {
  switch (item.k) {
    case 'request':
      // The record's own serializer; the generic one when its shape is unexpected.
      return (
        requestRecordJson(item.seq, item.chunk, item.ts, item.input, redaction) ??
        canonicalizeJs(buildRequestRecord(item.seq, item.chunk, item.ts, item.input, redaction))
      );
    case 'shadow':
      return canonicalizeJs(buildShadowRecord(item.ts, item.input));
    case 'text':
      return item.body;
  }
}

export function sealBatch(prevHash: string, items: readonly SealItem[], redaction: Redaction): SealedBatch {
  let text = '';
  let hash = prevHash;
  let n = 0;
  const errors: string[] = [];
  for (const item of items) {
    let body: string;
    try {
      body = recordBody(item, redaction);
    } catch (e) {
      // A value that cannot be serialized (a Map, a cycle): that record is dropped, the rest kept.
      errors.push(describeError(e));
      continue;
    }
    const sealed = sealRecord(hash, body);
    hash = sealed.hash;
    text += sealed.line;
    n++;
  }
  return { text, n, hash, errors };
}

export function describeError(e: unknown): string {
  if (e && typeof e === 'object') {
    const code = (e as { code?: unknown }).code;
    const msg = (e as { message?: unknown }).message;
    return typeof code === 'string' ? `${code}: ${String(msg ?? '')}` : String(msg ?? e);
  }
  return String(e);
}

/** `workerData` of the sealing thread. */
export interface SealerInit {
  prevHash: string;
  redaction: Redaction;
}

/** Main thread → sealing thread: seal these, in order, after everything posted before. */
export interface SealRequest {
  id: number;
  items: SealItem[];
}

/**
 * Sealing thread → main thread, one per request, in the order they were posted. The lines come
 * as bytes in a transferred buffer, not as a string: a string would be copied once by the clone
 * and once more when the stream encodes it, both on the thread answering `/act` (with
 * `--record-images full`, ~22 KB a record); a transferred buffer is handed over without a copy and
 * written as it is.
 */
export interface SealReply {
  id: number;
  /** The sealed lines' ASCII bytes (`SealedBatch.text`, latin1-encoded). */
  bytes: Uint8Array;
  n: number;
  hash: string;
  errors: string[];
}

/** The reply for a sealed batch, and the buffer to transfer with it. */
export function sealReply(id: number, sealed: SealedBatch): { reply: SealReply; transfer: ArrayBuffer[] } {
  // Its own ArrayBuffer (never Buffer's shared pool), so that transferring it detaches nothing else.
  const bytes = Buffer.allocUnsafeSlow(sealed.text.length);
  bytes.write(sealed.text, 0, 'latin1');
  return { reply: { id, bytes, n: sealed.n, hash: sealed.hash, errors: sealed.errors }, transfer: [bytes.buffer as ArrayBuffer] };
}
