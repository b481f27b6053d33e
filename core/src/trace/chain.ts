/**
 * The trace's tamper-evident chain (spec §4.3). Every record carries `prev_record_hash` and
 * `record_hash`; the first `prev_record_hash` is 64 zeros; `record_hash` is the hex SHA-256 of
 * the ASCII previous hash followed by the record's canonical JSON without the two chain fields.
 * In Python:
 *
 *     body = {k: v for k, v in rec.items() if k not in ("prev_record_hash", "record_hash")}
 *     canon = json.dumps(body, sort_keys=True, separators=(",", ":"))
 *     rec["record_hash"] == hashlib.sha256((prev + canon).encode("ascii")).hexdigest()
 */
import * as nodeCrypto from 'node:crypto';
import { canonicalize, NumberToken, type JsonObject, type JsonValue } from './canonical-json.js';

export const GENESIS_HASH = '0'.repeat(64);
export const PREV_HASH_FIELD = 'prev_record_hash';
export const RECORD_HASH_FIELD = 'record_hash';

// One-shot `crypto.hash` (Node >= 20.12) is about 1.5x faster than createHash for small inputs.
const oneShot = (nodeCrypto as { hash?: (alg: string, data: string, enc: 'hex') => string }).hash;

/** hex SHA-256 of `prevHash + canonicalBody` (both ASCII, so UTF-8 and ASCII bytes agree). */
export function chainHash(prevHash: string, canonicalBody: string): string {
  const data = prevHash + canonicalBody;
  return oneShot ? oneShot('sha256', data, 'hex') : nodeCrypto.createHash('sha256').update(data, 'utf8').digest('hex');
}

/**
 * Seals one record: given its canonical JSON (without chain fields) and the previous hash,
 * returns its hash and the line to write (newline included). The line is the canonical body
 * with the two chain fields appended; readers strip them again, so the line itself need not be
 * sorted.
 */
export function sealRecord(prevHash: string, canonicalBody: string): { hash: string; line: string } {
  const hash = chainHash(prevHash, canonicalBody);
  const tail = `"${PREV_HASH_FIELD}":"${prevHash}","${RECORD_HASH_FIELD}":"${hash}"}\n`;
  const line = canonicalBody === '{}' ? '{' + tail : canonicalBody.slice(0, -1) + ',' + tail;
  return { hash, line };
}

/** Canonical JSON of a parsed record without its chain fields. */
export function canonicalBody(record: JsonObject): string {
  const body: JsonObject = {};
  for (const k of Object.keys(record)) {
    if (k === PREV_HASH_FIELD || k === RECORD_HASH_FIELD) continue;
    const v = record[k]!;
    if (k === '__proto__') Object.defineProperty(body, k, { value: v, enumerable: true, writable: true, configurable: true });
    else body[k] = v;
  }
  return canonicalize(body);
}

export type ChainBreak = 'prev_hash_mismatch' | 'record_hash_mismatch' | 'missing_chain_fields';

export type ChainStep = { ok: true; hash: string } | { ok: false; kind: ChainBreak; reason: string; expected?: string; found?: string };

const HEX64 = /^[0-9a-f]{64}$/;

function asHash(v: JsonValue | undefined): string | null {
  if (typeof v === 'string') return v;
  if (v instanceof NumberToken) return v.value;
  return null;
}

/** Walks a chain record by record; `check` returns the first problem of each record. */
export class ChainVerifier {
  private prev = GENESIS_HASH;

  /** The hash the next record must name as its `prev_record_hash`. */
  get expectedPrev(): string {
    return this.prev;
  }

  check(record: JsonObject): ChainStep {
    const prev = asHash(record[PREV_HASH_FIELD]);
    const stored = asHash(record[RECORD_HASH_FIELD]);
    if (prev === null || stored === null) {
      const missing = [prev === null ? PREV_HASH_FIELD : null, stored === null ? RECORD_HASH_FIELD : null].filter(Boolean).join(' and ');
      return { ok: false, kind: 'missing_chain_fields', reason: `the record has no ${missing} (a string of 64 hex digits)` };
    }
    if (prev !== this.prev) {
      return {
        ok: false,
        kind: 'prev_hash_mismatch',
        reason:
          this.prev === GENESIS_HASH
            ? `prev_record_hash of the first record must be 64 zeros, found ${prev.slice(0, 16)}…`
            : `prev_record_hash does not match the previous record's record_hash (a record was deleted, inserted or reordered before this one): expected ${this.prev.slice(0, 16)}…, found ${prev.slice(0, 16)}…`,
        expected: this.prev,
        found: prev,
      };
    }
    const computed = chainHash(this.prev, canonicalBody(record));
    if (computed !== stored) {
      return {
        ok: false,
        kind: 'record_hash_mismatch',
        reason: HEX64.test(stored)
          ? `record_hash does not match the record's content (the record was changed after it was written): stored ${stored.slice(0, 16)}…, computed ${computed.slice(0, 16)}…`
          : `record_hash is not 64 lowercase hex digits: ${JSON.stringify(stored.slice(0, 80))}`,
        expected: computed,
        found: stored,
      };
    }
    this.prev = stored;
    return { ok: true, hash: stored };
  }
}
