/**
 * The trace chain (spec §4.3), checked at the speed of SHA-256 rather than of a JSON parser.
 *
 * `record_hash` is SHA-256 of the previous hash and the record's canonical JSON without the two
 * chain fields. A canonical writer (Switchyard's `TraceWriter`, a Python server using
 * `json.dumps(sort_keys=True, separators=(",", ":"))`) writes that canonical text itself, so the
 * line minus its chain members *is* the text that was hashed. The fast path hashes exactly that
 * (no parse, no number formatting) and compares. If it matches, the record is byte for byte what
 * its writer hashed: any later change to the line would change that hash, so tampering cannot pass
 * this way.
 *
 * When it does not match (a line with spaces, another key order, a number written `1e-7`, a
 * tampered line), the record goes the exact way: parsed with its number tokens kept, canonicalized
 * and hashed, as `verifyTrace` does. So a foreign trace that verifies in Python verifies here,
 * only slower, and a tampered record is reported with the same index and reason.
 *
 * What the fast path takes on trust is that the writer hashed *canonical* text. A writer that
 * hashed something else (e.g. `1e-7`) passes the fast path but fails in Python. To notice such a
 * writer without paying for every record, the first records and one in `auditEvery` are also
 * checked the exact way; a mismatch is reported as a break (`non_canonical_writer`). `mode: 'full'`
 * checks every record the exact way (what `switchyard trace verify` does).
 */
import { type JsonObject, NumberToken } from '../trace/canonical-json.js';
import { canonicalBody, chainHash, GENESIS_HASH } from '../trace/chain.js';
import { parseTraceLine } from '../trace/trace-reader.js';
import { ensureScratch, found, ownTail, sortedCompactBytes } from './byte-chain.js';
import * as nodeCrypto from 'node:crypto';

export type ChainMode = 'fast' | 'full' | 'off';

export type ChainBreakKind = 'prev_hash_mismatch' | 'record_hash_mismatch' | 'missing_chain_fields' | 'bad_json' | 'non_canonical_writer';

export interface ChainIntegrity {
  /** `verified`: every record checked verifies; `broken`: see `firstBroken`; `unchecked`: mode off. */
  status: 'verified' | 'broken' | 'unchecked';
  mode: ChainMode;
  /** Records checked (up to and including the first broken one). */
  checked: number;
  /** Records verified by hashing their text as written. */
  fastPath: number;
  /** Records verified by parsing and canonicalizing (foreign formatting, or `full` mode). */
  exactPath: number;
  /** Fast-path records re-checked the exact way to audit the writer. */
  audited: number;
  firstBroken: { index: number; line: number; kind: ChainBreakKind; reason: string } | null;
}

const HEX64 = /^[0-9a-f]{64}$/;

// One-shot SHA-256 of bytes (Node >= 20.12); without it, lines go the string way.
const sha256Once = (nodeCrypto as { hash?: (alg: string, data: Uint8Array, enc: 'hex') => string }).hash;
const bytesHash: ((data: Uint8Array) => string) | null = typeof sha256Once === 'function' ? (data) => sha256Once('sha256', data, 'hex') : null;

function asHash(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (v instanceof NumberToken) return v.value;
  return null;
}

export interface FastChainOptions {
  mode?: ChainMode;
  /** Audit one fast-path record in this many (default 1024), plus the first `auditFirst`. 0 turns the audit off. */
  auditEvery?: number;
  /** Audit the first this many records (default 16). */
  auditFirst?: number;
  /**
   * Checking a piece of a chain (a block of a file checked on its own thread): take the first
   * record's `prev_record_hash` as given and remember it in `firstPrev`; whoever joins the
   * pieces checks it against the previous piece's `lastHash`.
   */
  trustFirstPrev?: boolean;
}

export class FastChain {
  readonly mode: ChainMode;
  private readonly auditEvery: number;
  private readonly auditFirst: number;
  private trustNext: boolean;
  /** With `trustFirstPrev`: the first record's `prev_record_hash` (null when it has none or is not JSON). */
  firstPrev: string | null = null;
  private expected = GENESIS_HASH;
  private checked = 0;
  private fast = 0;
  private exact = 0;
  private audited = 0;
  private broken: ChainIntegrity['firstBroken'] = null;
  private readonly loc: ChainLocation = { prev: '', stored: '', body: '' };
  private readonly loc2: ChainLocation = { prev: '', stored: '', body: '' };

  constructor(opts: FastChainOptions = {}) {
    this.mode = opts.mode ?? 'fast';
    this.auditEvery = opts.auditEvery ?? 1024;
    this.auditFirst = opts.auditFirst ?? 16;
    this.trustNext = opts.trustFirstPrev ?? false;
  }

  /** The hash the next record must name (the last verified record's `record_hash`). */
  get lastHash(): string {
    return this.expected;
  }

  /** Whether more records need checking (false once broken, or when off). */
  get active(): boolean {
    return this.broken === null && this.mode !== 'off';
  }

  get integrity(): ChainIntegrity {
    return {
      status: this.mode === 'off' ? 'unchecked' : this.broken ? 'broken' : 'verified',
      mode: this.mode,
      checked: this.checked,
      fastPath: this.fast,
      exactPath: this.exact,
      audited: this.audited,
      firstBroken: this.broken,
    };
  }

  /** The line at `index` is not JSON (`why`); it breaks the chain there. */
  badLine(index: number, line: number, why: string): void {
    if (!this.active) return;
    this.checked++;
    this.trustNext = false;
    this.broken = { index, line, kind: 'bad_json', reason: `line ${line} is not valid JSON: ${why}` };
  }

  /** The file could not be read past record `index`. */
  unreadable(index: number, line: number, why: string): void {
    if (!this.active) return;
    this.broken = { index, line, kind: 'bad_json', reason: `the file cannot be read past record ${index}: ${why}` };
  }

  /** Checks record `index` (its text `s`; `ascii` when it is pure ASCII). Returns false when it breaks the chain. */
  check(s: string, ascii: boolean, index: number, line: number): boolean {
    if (!this.active) return this.mode === 'off';
    this.checked++;
    if (this.mode === 'fast' && ascii) {
      const compact = locateChain(s, this.loc);
      // Another writer's layout (spaces after separators, its own key order, as Python's default
      // `json.dumps` writes): the same text with whitespace dropped and keys sorted, numbers and
      // strings copied as written, is what a Python writer hashed.
      const hit = (l: ChainLocation | null) => l !== null && (this.trustNext || l.prev === this.expected) && chainHash(l.prev, l.body) === l.stored;
      const loc = hit(compact) ? compact : hit(sortedCompact(s, this.loc2)) ? this.loc2 : null;
      if (loc !== null) {
        if (this.auditEvery > 0 && (index < this.auditFirst || index % this.auditEvery === 0)) {
          this.audited++;
          if (!this.audit(s, loc.body, index, line)) return false;
        }
        if (this.trustNext) {
          this.trustNext = false;
          this.firstPrev = loc.prev;
        }
        this.fast++;
        this.expected = loc.stored;
        return true;
      }
    }
    return this.exactCheck(s, index, line);
  }

  /**
   * `check` for a line given as bytes `b[s, e)` (newline and CR excluded) as well as its decoded
   * text: the hashed text is built in a reused buffer (`byte-chain.ts`) instead of as strings.
   * Same results as `check`: anything the byte path does not verify goes the string way, so a
   * tampered record is reported with the same index and reason.
   */
  checkBytes(b: Uint8Array, s: number, e: number, text: string, ascii: boolean, index: number, line: number): boolean {
    if (!this.active) return this.mode === 'off';
    if (this.mode === 'fast' && ascii && bytesHash) {
      if (this.scratch.length < e - s + 64) {
        this.scratch = ensureScratch(this.scratch, e - s + 64);
        this.scratchU8 = new Uint8Array(this.scratch.buffer, this.scratch.byteOffset, this.scratch.length);
      }
      const out = this.scratchU8;
      let len = ownTail(b, s, e, out);
      let ok = len > 0 && this.hitBytes(b, out, len);
      if (!ok) {
        len = sortedCompactBytes(b, s, e, out);
        ok = len > 0 && this.hitBytes(b, out, len);
      }
      if (ok) {
        this.checked++;
        if (this.auditEvery > 0 && (index < this.auditFirst || index % this.auditEvery === 0)) {
          this.audited++;
          if (!this.audit(text, this.scratch.toString('latin1', 64, len), index, line)) return false;
        }
        if (this.trustNext) {
          this.trustNext = false;
          this.firstPrev = this.scratch.toString('latin1', 0, 64);
        }
        this.fast++;
        this.expected = this.lastComputed;
        return true;
      }
    }
    return this.check(text, ascii, index, line);
  }

  /**
   * `check` for a line whose hashed text `compactRecord` has already built in `out[0, len)`
   * (previous hash, then the body; `found` names where the chain values sit in `b`). `text` makes
   * the line's string, only when needed (an audited record, or one that does not verify this way
   * and goes the string way, so a broken chain is reported as `check` reports it).
   */
  checkBuilt(b: Uint8Array, out: Uint8Array, outBuf: Buffer, len: number, text: () => string, index: number, line: number): boolean {
    if (!this.active) return this.mode === 'off';
    if (this.mode === 'fast' && bytesHash && this.hitBytes(b, out, len)) {
      this.checked++;
      if (this.auditEvery > 0 && (index < this.auditFirst || index % this.auditEvery === 0)) {
        this.audited++;
        if (!this.audit(text(), outBuf.toString('latin1', 64, len), index, line)) return false;
      }
      if (this.trustNext) {
        this.trustNext = false;
        this.firstPrev = outBuf.toString('latin1', 0, 64);
      }
      this.fast++;
      this.expected = this.lastComputed;
      return true;
    }
    return this.check(text(), true, index, line);
  }

  private scratch: Buffer = Buffer.allocUnsafeSlow(8192);
  private scratchU8 = new Uint8Array(this.scratch.buffer, this.scratch.byteOffset, this.scratch.length);
  private lastComputed = '';

  /** Whether the text in `out[0, len)` (previous hash + body) hashes to the stored hash at `found.stored`, and the previous hash is the expected one. */
  private hitBytes(b: Uint8Array, out: Uint8Array, len: number): boolean {
    if (!this.trustNext) {
      const exp = this.expected;
      for (let i = 0; i < 64; i++) if (out[i] !== exp.charCodeAt(i)) return false;
    }
    const h = bytesHash!(out.subarray(0, len));
    const at = found.stored;
    for (let i = 0; i < 64; i++) if (b[at + i] !== h.charCodeAt(i)) return false;
    this.lastComputed = h;
    return true;
  }

  /** The exact way: parse keeping number tokens, canonicalize, hash (as `ChainVerifier`). */
  private exactCheck(s: string, index: number, line: number): boolean {
    let rec: JsonObject;
    try {
      rec = parseTraceLine(s);
    } catch (e) {
      this.trustNext = false;
      this.broken = { index, line, kind: 'bad_json', reason: `line ${line} is not valid JSON: ${(e as Error).message}` };
      return false;
    }
    const prev = asHash(rec.prev_record_hash);
    const stored = asHash(rec.record_hash);
    if (this.trustNext) {
      this.trustNext = false;
      if (prev !== null) this.firstPrev = this.expected = prev;
    }
    if (prev === null || stored === null) {
      const missing = [prev === null ? 'prev_record_hash' : null, stored === null ? 'record_hash' : null].filter(Boolean).join(' and ');
      this.broken = { index, line, kind: 'missing_chain_fields', reason: `the record has no ${missing} (a string of 64 hex digits)` };
      return false;
    }
    if (prev !== this.expected) {
      this.broken = { index, line, kind: 'prev_hash_mismatch', reason: prevMismatchReason(this.expected, prev) };
      return false;
    }
    const computed = chainHash(this.expected, canonicalBody(rec));
    if (computed !== stored) {
      this.broken = {
        index,
        line,
        kind: 'record_hash_mismatch',
        reason: HEX64.test(stored)
          ? `record_hash does not match the record's content (the record was changed after it was written): stored ${stored.slice(0, 16)}…, computed ${computed.slice(0, 16)}…`
          : `record_hash is not 64 lowercase hex digits: ${JSON.stringify(stored.slice(0, 80))}`,
      };
      return false;
    }
    this.exact++;
    this.expected = stored;
    return true;
  }

  private audit(s: string, body: string, index: number, line: number): boolean {
    let canonical: string;
    try {
      canonical = canonicalBody(parseTraceLine(s));
    } catch (e) {
      this.trustNext = false;
      this.broken = { index, line, kind: 'bad_json', reason: `line ${line} is not valid JSON: ${(e as Error).message}` };
      return false;
    }
    if (canonical === body) return true;
    this.broken = {
      index,
      line,
      kind: 'non_canonical_writer',
      reason:
        `record_hash covers the record's text as written, but that text is not canonical JSON (spec §4.3), so other verifiers compute a different hash and reject it. ` +
        `The writer of this trace does not follow the format (found by sampling; \`switchyard trace verify\` checks every record).`,
    };
    return false;
  }
}

/** Why a record's `prev_record_hash` is wrong (the words of `ChainVerifier`). */
export function prevMismatchReason(expected: string, found: string): string {
  return expected === GENESIS_HASH
    ? `prev_record_hash of the first record must be 64 zeros, found ${found.slice(0, 16)}…`
    : `prev_record_hash does not match the previous record's record_hash (a record was deleted, inserted or reordered before this one): expected ${expected.slice(0, 16)}…, found ${found.slice(0, 16)}…`;
}

export interface ChainLocation {
  /** The text of `prev_record_hash`'s value. */
  prev: string;
  /** The text of `record_hash`'s value. */
  stored: string;
  /** The line without the two chain members (the text a canonical writer hashed). */
  body: string;
}

const PREV_MEMBER = '"prev_record_hash":"';
const HASH_MEMBER = '"record_hash":"';
const TAIL_PREV = ',' + PREV_MEMBER; // 21 characters
const TAIL_HASH = '","record_hash":"'; // 17 characters
const TAIL = TAIL_PREV.length + 64 + TAIL_HASH.length + 64 + 2; // 168

/**
 * Finds the chain members in a compact line and the text without them. Soundness does not rest
 * on this finding the "right" members: the caller accepts a record only when SHA-256 of the
 * expected previous hash and `body` equals `stored`, which (barring a SHA-256 collision) means
 * `body` is exactly the text the writer hashed and the line has not changed since.
 *
 * Common case, O(1): the line ends `,"prev_record_hash":"<64>","record_hash":"<64>"}` (how
 * `TraceWriter` seals records). Otherwise the two members are looked up by their key text (other
 * writers put them in sorted position) and cut out with one adjacent comma each. Null when they
 * are not found in that form.
 */
export function locateChain(s: string, out: ChainLocation): ChainLocation | null {
  const n = s.length;
  if (n > TAIL + 1 && s.charCodeAt(n - 1) === 0x7d && s.charCodeAt(n - 2) === 0x22 && s.startsWith(TAIL_HASH, n - 83) && s.startsWith(TAIL_PREV, n - TAIL)) {
    out.prev = s.slice(n - 147, n - 83);
    out.stored = s.slice(n - 66, n - 2);
    out.body = s.slice(0, n - TAIL) + '}';
    return out;
  }
  const a = s.lastIndexOf(PREV_MEMBER);
  const b = s.lastIndexOf(HASH_MEMBER);
  if (a < 0 || b < 0) return null;
  const aEnd = a + PREV_MEMBER.length + 64 + 1;
  const bEnd = b + HASH_MEMBER.length + 64 + 1;
  if (s.charCodeAt(aEnd - 1) !== 0x22 || s.charCodeAt(bEnd - 1) !== 0x22) return null;
  out.prev = s.slice(a + PREV_MEMBER.length, aEnd - 1);
  out.stored = s.slice(b + HASH_MEMBER.length, bEnd - 1);
  // Cut the later member first so the earlier one's offsets stay valid.
  const first = a < b ? a : b;
  const firstEnd = a < b ? aEnd : bEnd;
  const second = a < b ? b : a;
  const secondEnd = a < b ? bEnd : aEnd;
  if (second < firstEnd) return null;
  const t = cutMember(s, second, secondEnd);
  const body = t === null ? null : cutMember(t, first, firstEnd);
  if (body === null) return null;
  out.body = body;
  return out;
}

function cutMember(text: string, start: number, end: number): string | null {
  if (text.charCodeAt(start - 1) === 0x2c) return text.slice(0, start - 1) + text.slice(end);
  if (text.charCodeAt(end) === 0x2c) return text.slice(0, start) + text.slice(end + 1);
  if (text.charCodeAt(start - 1) === 0x7b && text.charCodeAt(end) === 0x7d) return text.slice(0, start) + text.slice(end);
  return null;
}

/**
 * The canonical text of a pure-ASCII line written with other separators and key order: each
 * object's members sorted by key, whitespace between tokens dropped, strings and numbers copied
 * as written (a Python writer's `json.dumps` prints numbers the same way with or without
 * `sort_keys`), and the top-level chain members taken out. No values are decoded, so it runs at
 * the speed of a scan. Null for anything it does not handle plainly (escapes in keys, duplicate
 * keys, bad syntax): the caller then goes the exact way. As with `locateChain`, a record is only
 * accepted when the hash of this text matches, so a wrong guess costs speed, never soundness.
 */
export function sortedCompact(s: string, out: ChainLocation): ChainLocation | null {
  const n = s.length;
  let i = 0;
  let prev: string | null = null;
  let stored: string | null = null;
  const ws = () => {
    while (i < n) {
      const c = s.charCodeAt(i);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) i++;
      else break;
    }
  };
  /** A string token (quotes included), as written. */
  const str = (): string | null => {
    const start = i;
    let j = i + 1;
    for (;;) {
      const q = s.indexOf('"', j);
      if (q < 0) return null;
      let bs = 0;
      for (let k = q - 1; k > start && s.charCodeAt(k) === 0x5c; k--) bs++;
      if (bs % 2 === 0) {
        i = q + 1;
        return s.slice(start, i);
      }
      j = q + 1;
    }
  };
  const value = (depth: number): string | null => {
    ws();
    if (i >= n || depth > 64) return null;
    const c = s.charCodeAt(i);
    if (c === 0x22) return str();
    if (c === 0x7b) return object(depth + 1, false);
    if (c === 0x5b) {
      i++;
      ws();
      if (s.charCodeAt(i) === 0x5d) {
        i++;
        return '[]';
      }
      const parts: string[] = [];
      for (;;) {
        const v = value(depth + 1);
        if (v === null) return null;
        parts.push(v);
        ws();
        const d = s.charCodeAt(i++);
        if (d === 0x5d) return '[' + parts.join(',') + ']';
        if (d !== 0x2c) return null;
      }
    }
    // A number, true, false, null (or NaN / Infinity, as Python writes them): up to the next delimiter.
    const start = i;
    while (i < n) {
      const d = s.charCodeAt(i);
      if (d === 0x2c || d === 0x7d || d === 0x5d || d === 0x20 || d === 0x09 || d === 0x0a || d === 0x0d) break;
      i++;
    }
    return i > start ? s.slice(start, i) : null;
  };
  const object = (depth: number, top: boolean): string | null => {
    i++; // {
    ws();
    if (s.charCodeAt(i) === 0x7d) {
      i++;
      return '{}';
    }
    const keys: string[] = [];
    const vals: string[] = [];
    for (;;) {
      ws();
      if (s.charCodeAt(i) !== 0x22) return null;
      const k = str();
      if (k === null || k.includes('\\')) return null;
      ws();
      if (s.charCodeAt(i++) !== 0x3a) return null;
      const v = value(depth);
      if (v === null) return null;
      if (top && k === '"prev_record_hash"') prev = v;
      else if (top && k === '"record_hash"') stored = v;
      else {
        keys.push(k);
        vals.push(v);
      }
      ws();
      const d = s.charCodeAt(i++);
      if (d === 0x7d) break;
      if (d !== 0x2c) return null;
    }
    const order = keys.map((_, j) => j);
    // Keys are plain ASCII here, so UTF-16 order is Python's code point order.
    order.sort((a, b) => (keys[a]! < keys[b]! ? -1 : keys[a]! > keys[b]! ? 1 : 0));
    let text = '{';
    for (let j = 0; j < order.length; j++) {
      const o = order[j]!;
      if (j > 0) {
        if (keys[o] === keys[order[j - 1]!]) return null; // duplicate key
        text += ',';
      }
      text += keys[o] + ':' + vals[o];
    }
    return text + '}';
  };
  ws();
  if (s.charCodeAt(i) !== 0x7b) return null;
  const body = object(1, true);
  ws();
  if (body === null || i !== n || prev === null || stored === null) return null;
  const p = prev as string;
  const h = stored as string;
  if (p.length < 2 || h.length < 2 || p.charCodeAt(0) !== 0x22 || h.charCodeAt(0) !== 0x22) return null;
  out.prev = p.slice(1, -1);
  out.stored = h.slice(1, -1);
  out.body = body;
  return out;
}
