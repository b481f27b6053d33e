/**
 * One pass over a trace line's bytes that does, at once, what the summary pass needs from it: the
 * text the chain hashed (whitespace between tokens dropped, each object's members in key order,
 * strings and numbers copied as written, the two top-level chain members taken out) and the few
 * summary fields (`RecordScanner`'s: kind, seq, timestamp, slot, episode, latency, cache, error,
 * divergence). No JavaScript string is made for the line, no object for the record, and the bytes
 * are visited once.
 *
 * Before, a line was decoded into a string, scanned for the fields, and its bytes scanned again to
 * build the hashed text (`byte-chain.ts`), with module-level state and recursive calls per token;
 * for a reference-format trace (Python's `", "` and `": "`, its own key order) that cost 2.4x the
 * CPU of Switchyard's own format per record. Here the scan is one loop over locals with an explicit
 * stack, and a nested object is put in key order with native `copyWithin` moves inside the same
 * scratch buffer. Switchyard's own lines (already compact and sorted, chain members last) come out
 * as the same text `ownTail` gives, so both formats take this one way.
 *
 * As before, nothing here decides integrity: the caller accepts a record only when SHA-256 of the
 * built text matches its stored `record_hash`; anything else (a tampered record, an escaped key, a
 * key met twice where a field is read, non-ASCII bytes, bad syntax) returns -1 or fails the hash,
 * and the line goes the string way (`RecordScanner`, `FastChain.check`), which reports a broken
 * chain at the same record with the same reason. Whitespace is dropped only between tokens (`1 2`
 * is refused), so a line accepted here is JSON.
 */
import { CACHE_HIT, CACHE_MISS, CACHE_NONE, CACHE_OTHER, RecordFields } from './record-scan.js';
import { found, grownInt32 } from './byte-chain.js';

/** The summary fields of one record read from its bytes (the same meaning as `RecordScanner`'s). */
export class ByteRecord extends RecordFields {}

// Byte classes.
const C_VALUE = 0; // part of a number or literal
const C_SPACE = 1;
const C_QUOTE = 2;
const C_LBRACE = 3;
const C_RBRACE = 4;
const C_LBRACK = 5;
const C_RBRACK = 6;
const C_COMMA = 7;
const C_COLON = 8;
const C_BAD = 9; // control characters, non-ASCII: the string way
/** The byte classes, also the WebAssembly loop's table (`record-compact.wat`). */
export const CLS = new Uint8Array(256).fill(C_BAD);
for (let c = 0x21; c < 0x7f; c++) CLS[c] = C_VALUE;
for (const c of [0x20, 0x09, 0x0d]) CLS[c] = C_SPACE;
CLS[0x22] = C_QUOTE;
CLS[0x7b] = C_LBRACE;
CLS[0x7d] = C_RBRACE;
CLS[0x5b] = C_LBRACK;
CLS[0x5d] = C_RBRACK;
CLS[0x2c] = C_COMMA;
CLS[0x3a] = C_COLON;

// What the scan expects next.
const S_VALUE = 0; // a value (after ':' or ',' in an array)
const S_VALUE_OR_END = 1; // after '['
const S_KEY = 2; // after ',' in an object
const S_KEY_OR_END = 3; // after '{'
const S_COLON = 4;
const S_AFTER = 5; // after a value: ',' or the container's end
const S_DONE = 6; // the top-level object has closed

// Field contexts (which object's keys are looked up) and fields.
const X_NONE = 0;
const X_TOP = 1;
const X_LATENCY = 2;
const X_CACHE = 3;
const X_ROUTING = 4;
const X_REQUEST = 5;
const X_DIVERGENCE = 6;

const F_NONE = 0;
const F_KIND = 1;
const F_SEQ = 2;
const F_TIMESTAMP = 3;
const F_SCHEMA = 4;
const F_ERROR = 5;
const F_RESPONSE = 6;
const F_CACHE = 7;
const F_LATENCY = 8;
const F_ROUTING = 9;
const F_REQUEST = 10;
const F_DIVERGENCE = 11;
const F_TOTAL_MS = 12;
const F_STATUS = 13;
const F_SLOT = 14;
const F_DEGRADED = 15;
const F_EPISODE = 16;
const F_COSINE = 17;
const F_MAX_ABS = 18;
const F_PREV = 19;
const F_HASH = 20;

const ascii = (s: string) => Uint8Array.from(s, (ch) => ch.charCodeAt(0));
/** Per context: [key bytes, field] pairs. */
const KEYS: [Uint8Array, number][][] = [];
KEYS[X_TOP] = [
  [ascii('kind'), F_KIND],
  [ascii('seq'), F_SEQ],
  [ascii('timestamp'), F_TIMESTAMP],
  [ascii('schema_version'), F_SCHEMA],
  [ascii('error'), F_ERROR],
  [ascii('response'), F_RESPONSE],
  [ascii('cache'), F_CACHE],
  [ascii('latency'), F_LATENCY],
  [ascii('routing'), F_ROUTING],
  [ascii('request'), F_REQUEST],
  [ascii('divergence'), F_DIVERGENCE],
  [ascii('prev_record_hash'), F_PREV],
  [ascii('record_hash'), F_HASH],
];
KEYS[X_LATENCY] = [[ascii('total_ms'), F_TOTAL_MS]];
KEYS[X_CACHE] = [[ascii('status'), F_STATUS]];
KEYS[X_ROUTING] = [
  [ascii('slot'), F_SLOT],
  [ascii('degraded'), F_DEGRADED],
];
KEYS[X_REQUEST] = [[ascii('episode_id'), F_EPISODE]];
KEYS[X_DIVERGENCE] = [
  [ascii('cosine'), F_COSINE],
  [ascii('max_abs'), F_MAX_ABS],
];
/** The context an object value of a field opens. */
const CHILD = new Uint8Array(32);
CHILD[F_CACHE] = X_CACHE;
CHILD[F_LATENCY] = X_LATENCY;
CHILD[F_ROUTING] = X_ROUTING;
CHILD[F_REQUEST] = X_REQUEST;
CHILD[F_DIVERGENCE] = X_DIVERGENCE;

/** The field the key at `b[k, k + len)` names in context `ctx`, or F_NONE. */
function fieldOf(ctx: number, b: Uint8Array, k: number, len: number): number {
  const list = KEYS[ctx];
  if (list === undefined) return F_NONE;
  for (let j = 0; j < list.length; j++) {
    const e = list[j]!;
    const name = e[0];
    if (name.length !== len) continue;
    let x = 0;
    while (x < len && b[k + x] === name[x]) x++;
    if (x === len) return e[1];
  }
  return F_NONE;
}

/** FNV-1a of bytes, as `record-compact.wat` hashes a key. */
function fnv(bytes: Uint8Array): number {
  let h = 0x811c9dc5 | 0;
  for (const c of bytes) h = Math.imul(h ^ c, 16777619);
  return h;
}

// The fields' keys by context and hash (open addressing; a slot's field 0 is empty).
const FH_SLOTS = 128;
const fhHash = new Int32Array(FH_SLOTS);
const fhCtx = new Uint8Array(FH_SLOTS);
const fhField = new Uint8Array(FH_SLOTS);
const fhName: Uint8Array[] = [];
KEYS.forEach((list, ctx) => {
  for (const [name, f] of list) {
    const h = fnv(name);
    let i = (h ^ ctx) & (FH_SLOTS - 1);
    while (fhField[i] !== F_NONE) i = (i + 1) & (FH_SLOTS - 1);
    fhHash[i] = h;
    fhCtx[i] = ctx;
    fhField[i] = f;
    fhName[i] = name;
  }
});

/** `fieldOf` for a key whose FNV-1a hash `h` is known: one probe, then its bytes compared. */
function fieldOfHash(ctx: number, h: number, b: Uint8Array, k: number, len: number): number {
  let i = (h ^ ctx) & (FH_SLOTS - 1);
  for (;;) {
    const f = fhField[i]!;
    if (f === F_NONE) return F_NONE;
    if (fhHash[i] === h && fhCtx[i] === ctx) {
      const name = fhName[i]!;
      if (name.length !== len) return F_NONE;
      for (let x = 0; x < len; x++) if (b[k + x] !== name[x]) return F_NONE;
      return f;
    }
    i = (i + 1) & (FH_SLOTS - 1);
  }
}

/** Marks field `f` as met in frame `i` of `seen`; true when it was met already (a key twice: the string way). */
function metTwice(seen: Int32Array, i: number, f: number): boolean {
  const bit = 1 << f;
  if ((seen[i]! & bit) !== 0) return true;
  seen[i] = seen[i]! | bit;
  return false;
}

const MAX_DEPTH = 64;
// The container stack (one frame per open object or array).
const stObj = new Uint8Array(MAX_DEPTH + 1); // 1: object
const stFirst = new Int32Array(MAX_DEPTH + 1); // output offset after its '{'
const stBase = new Int32Array(MAX_DEPTH + 1); // its first member in the member arrays
const stShape = new Int32Array(MAX_DEPTH + 1); // FNV-1a of its keys, in written order
const stCtx = new Uint8Array(MAX_DEPTH + 1);
const stField = new Uint8Array(MAX_DEPTH + 1); // the field of the member being read
const stSeen = new Int32Array(MAX_DEPTH + 1); // fields met in it (a field twice: the string way)
const stSkip = new Uint8Array(MAX_DEPTH + 1); // the member being read is a chain member (not copied)
const stMark = new Int32Array(MAX_DEPTH + 1); // output offset where the member being read starts (its comma)
// Members of the open objects: output offsets of each key's opening quote, its closing quote + 1, and the member's end.
let mKey = new Int32Array(512);
let mKeyEnd = new Int32Array(512);
let mEnd = new Int32Array(512);

function growMembers(): void {
  const grow = grownInt32;
  mKey = grow(mKey);
  mKeyEnd = grow(mKeyEnd);
  mEnd = grow(mEnd);
}

/** Compares the keys of members i and j (their bytes in `d`): <0, 0 (equal), >0. */
function cmpKeys(d: Uint8Array, i: number, j: number): number {
  const a = mKey[i]! + 1;
  const b = mKey[j]! + 1;
  const la = mKeyEnd[i]! - 1 - a;
  const lb = mKeyEnd[j]! - 1 - b;
  const l = la < lb ? la : lb;
  for (let x = 0; x < l; x++) {
    const c = d[a + x]! - d[b + x]!;
    if (c !== 0) return c;
  }
  return la - lb;
}

/**
 * Key orders seen before, by the hash of the keys in written order: the sorted positions
 * (relative), or null when they were sorted already. A writer repeats a handful of shapes, so each
 * is sorted once. A hash collision gives a wrong order, hence a text whose SHA-256 does not match:
 * the record then goes the string way (speed, never soundness).
 */
const ORDER_SLOTS = 1024;
// Direct-mapped by shape (a Map lookup per object cost more than the moves it saves).
const orderShape = new Int32Array(ORDER_SLOTS);
const orderCount = new Int32Array(ORDER_SLOTS).fill(-1);
const orderOf: (Int32Array | null)[] = new Array<Int32Array | null>(ORDER_SLOTS).fill(null);

/** The order of members base..base+n-1 of an object of this shape: cached, else sorted now (see `sortOrder`). */
function orderFor(d: Uint8Array, base: number, n: number, shape: number): Int32Array | null | undefined {
  const slot = (shape ^ (shape >>> 15)) & (ORDER_SLOTS - 1);
  if (orderShape[slot] === shape && orderCount[slot] === n) return orderOf[slot]!;
  const o = sortOrder(d, base, n);
  if (o === undefined) return undefined;
  orderShape[slot] = shape;
  orderCount[slot] = n;
  orderOf[slot] = o;
  return o;
}

/** The sorted order of members base..base+n-1 (relative), null when already sorted, undefined on a duplicate key. */
function sortOrder(d: Uint8Array, base: number, n: number): Int32Array | null | undefined {
  let sorted = true;
  for (let i = base + 1; i < base + n; i++) {
    const c = cmpKeys(d, i - 1, i);
    if (c === 0) return undefined;
    if (c > 0) sorted = false;
  }
  if (sorted) return null;
  const order = new Int32Array(n);
  // Insertion sort: objects in traces have a handful of members (a big one costs time, not correctness).
  for (let i = 0; i < n; i++) {
    let j = i;
    while (j > 0) {
      const c = cmpKeys(d, base + order[j - 1]!, base + i);
      if (c === 0) return undefined;
      if (c < 0) break;
      order[j] = order[j - 1]!;
      j--;
    }
    order[j] = i;
  }
  return order;
}

/**
 * Puts the members base..top-1 of the object whose members start at `first` (output `o`) in key
 * order. Moves go through the scratch's upper half (`tmp`). False on a duplicate key.
 */
function sortMembers(d: Uint8Array, base: number, top: number, first: number, o: number, shape: number, tmp: number): boolean {
  const n = top - base;
  const known = orderFor(d, base, n, shape);
  if (known === undefined) return false;
  if (known === null) return true;
  // The members as written go up to tmp, then come back down in order.
  d.copyWithin(tmp, first, o);
  const shift = tmp - first;
  let t = first;
  for (let i = 0; i < n; i++) {
    const m = base + known[i]!;
    if (i > 0) d[t++] = 0x2c;
    const a = mKey[m]! + shift;
    const len = mEnd[m]! - mKey[m]!;
    if (len > 32) d.copyWithin(t, a, a + len);
    else for (let x = 0; x < len; x++) d[t + x] = d[a + x]!;
    t += len;
  }
  return true;
}

const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22];

/** The number written at `b[p, e)` (as `RecordScanner` reads it): plain decimals of up to 15 digits without a string. */
function numberAt(b: Uint8Array, p: number, e: number): number {
  let i = p;
  let neg = false;
  if (b[i] === 0x2d) {
    neg = true;
    i++;
  }
  let m = 0;
  let digits = 0;
  let frac = -1;
  for (; i < e; i++) {
    const c = b[i]!;
    if (c >= 0x30 && c <= 0x39) {
      m = m * 10 + (c - 0x30);
      if (m !== 0) digits++;
    } else if (c === 0x2e && frac < 0) frac = i;
    else break;
  }
  if (i === e && digits <= 15 && i > p + (neg ? 1 : 0)) {
    const k = frac < 0 ? 0 : e - frac - 1;
    if (k <= 22) {
      const v = k === 0 ? m : m / POW10[k]!;
      return neg ? -v : v;
    }
  }
  const c = b[p]!;
  if (c === 0x2d || (c >= 0x30 && c <= 0x39) || c === 0x4e /* NaN */ || c === 0x49 /* Infinity */) return +latin1(b, p, e);
  return NaN;
}

/** A Buffer over the last block's memory, kept: making one per call cost more than the decode. */
let view: Buffer = Buffer.alloc(0);

function latin1(b: Uint8Array, p: number, e: number): string {
  if (view.buffer !== b.buffer || view.byteOffset !== b.byteOffset || view.length !== b.length) view = Buffer.from(b.buffer, b.byteOffset, b.length);
  return view.toString('latin1', p, e);
}

/**
 * Short strings met again and again (episode ids, slot names), by a hash of their bytes: the same
 * string object comes back, so no string is made per record and its hash (for the episode table)
 * is computed once.
 */
const strings = new Map<number, string>();

/** The JSON string token at `b[p, e)` (quotes included), decoded. */
function stringAt(b: Uint8Array, p: number, e: number): string | null {
  let h = 0x811c9dc5 | 0;
  let escaped = false;
  for (let i = p + 1; i < e - 1; i++) {
    const c = b[i]!;
    if (c === 0x5c) escaped = true;
    h = Math.imul(h ^ c, 16777619);
  }
  h = Math.imul(h ^ (e - p), 16777619);
  const known = strings.get(h);
  if (known !== undefined && known.length === e - p - 2 && !escaped) {
    let x = 0;
    while (x < known.length && known.charCodeAt(x) === b[p + 1 + x]) x++;
    if (x === known.length) return known;
  }
  let s: string;
  if (escaped) {
    try {
      s = JSON.parse(latin1(b, p, e)) as string;
    } catch {
      return null;
    }
  } else {
    // A flat copy (see `detach`): it must not pin the block it was cut from.
    s = latin1(b, p + 1, e - 1);
    if (strings.size >= 8192) strings.clear();
    strings.set(h, s);
  }
  return s;
}

/** Whether `b[p, e)` is exactly the string token `"<name>"`. */
function isToken(b: Uint8Array, p: number, e: number, name: Uint8Array): boolean {
  if (e - p !== name.length + 2) return false;
  for (let x = 0; x < name.length; x++) if (b[p + 1 + x] !== name[x]) return false;
  return true;
}

const T_REQUEST = ascii('request');
const T_SHADOW = ascii('shadow_result');
const T_HIT = ascii('hit');
const T_MISS = ascii('miss');
const T_PROD = ascii('prod');

/** A scalar value of field `f` at `b[p, e)` (a string token when `str`). */
function scalarField(rec: ByteRecord, f: number, b: Uint8Array, p: number, e: number, str: boolean): void {
  switch (f) {
    case F_KIND:
      if (str) rec.kind = isToken(b, p, e, T_REQUEST) ? 'request' : isToken(b, p, e, T_SHADOW) ? 'shadow_result' : stringAt(b, p, e);
      return;
    case F_SEQ:
      if (!str) rec.seq = numberAt(b, p, e);
      return;
    case F_TIMESTAMP:
      if (!str) rec.timestamp = numberAt(b, p, e);
      return;
    case F_SCHEMA:
      if (!str) rec.schemaVersion = e === p + 1 && b[p] === 0x31 ? 1 : numberAt(b, p, e);
      return;
    case F_TOTAL_MS:
      if (!str) rec.latencyMs = numberAt(b, p, e);
      return;
    case F_COSINE:
      if (!str) rec.divCosine = numberAt(b, p, e);
      return;
    case F_MAX_ABS:
      if (!str) rec.divMaxAbs = numberAt(b, p, e);
      return;
    case F_STATUS:
      rec.cache = !str ? (b[p] === 0x6e ? CACHE_NONE : CACHE_OTHER) : isToken(b, p, e, T_HIT) ? CACHE_HIT : isToken(b, p, e, T_MISS) ? CACHE_MISS : CACHE_OTHER;
      return;
    case F_SLOT:
      if (str) rec.slot = e - p === 3 && b[p + 1] === 0x61 ? 'a' : e - p === 3 && b[p + 1] === 0x62 ? 'b' : isToken(b, p, e, T_PROD) ? 'prod' : stringAt(b, p, e);
      return;
    case F_DEGRADED:
      rec.degraded = b[p] === 0x74;
      return;
    case F_EPISODE:
      if (str) rec.episodeId = stringAt(b, p, e);
      return;
  }
}

/** A value of field `f` starts with byte `c` (fields read from the first byte whatever the value). */
function valueStart(rec: ByteRecord, f: number, c: number): void {
  if (f === F_ERROR) rec.error = c !== 0x6e;
  else if (f === F_RESPONSE) rec.hasResponse = c !== 0x6e;
  else if (f === F_STATUS && (c === 0x7b || c === 0x5b)) rec.cache = CACHE_OTHER;
}

// The object stack of `compactFromTape` (one frame per open object; arrays are not on it).
const oDepth = new Int32Array(MAX_DEPTH + 1); // container depth of the object
const oFirst = new Int32Array(MAX_DEPTH + 1); // offset after its '{'
const oBase = new Int32Array(MAX_DEPTH + 1); // its first member in the member arrays
const oShape = new Int32Array(MAX_DEPTH + 1); // its keys' hashes folded, in written order
const oCtx = new Uint8Array(MAX_DEPTH + 1);
const oField = new Uint8Array(MAX_DEPTH + 1); // the field of the member being read
const oSeen = new Int32Array(MAX_DEPTH + 1);
const oCur = new Int32Array(MAX_DEPTH + 1); // the member being read (index), -1 for a chain member or none
const oVal = new Int32Array(MAX_DEPTH + 1); // where its value starts
const oScalar = new Uint8Array(MAX_DEPTH + 1); // 1: its value is a number or literal of a field, 2: a string of a field

/** Where `compactFromTape` found the chain values in the output (offsets of their 64 characters). */
export const tapeChain = { prev: -1, stored: -1 };

/**
 * The rest of `compactRecord` after the WebAssembly byte loop (`record-compact.wat`): the line's
 * text without whitespace, members as written, is in `d` (`d32` is the same memory); the `tape`
 * (a byte offset) lists its `n` objects and keys. Reads the summary fields into `rec` and writes,
 * at `cmd`, the moves that put every object's members in key order (the same cached orders as
 * `compactRecord`), innermost objects first, the record last without its two chain members:
 * per object `first, end, n` and its members' `[start, end)` in key order (`place` in the .wat
 * carries them out). Returns the end of those moves (a byte offset), or -1 where `compactRecord`
 * would refuse the line (a field's key twice, a chain value not a plain 64-character string, a
 * duplicate key, no chain members). `tapeChain` names where the chain values are.
 */
export function compactFromTape(d: Uint8Array, d32: Int32Array, tape: number, n: number, cmd: number, rec: ByteRecord): number {
  rec.reset();
  let top = 0; // frames in use; frame `top` is the innermost open object
  let mTop = 0;
  let prevAt = -1;
  let storedAt = -1;
  let c = cmd >> 2;
  let q = tape >> 2;
  const qEnd = q + 4 * n;
  for (; q < qEnd; q += 4) {
    const head = d32[q]!;
    const kind = head & 15;
    const depth = head >> 4;
    const at = d32[q + 1]!;
    if (kind === 2) {
      // A key of the innermost object: the member before it ends at its comma.
      const cur = oCur[top]!;
      if (cur >= 0) {
        mEnd[cur] = at - 1;
        if (oScalar[top] !== 0) scalarField(rec, oField[top]!, d, oVal[top]!, at - 1, oScalar[top] === 2);
      }
      const ke = d32[q + 2]!;
      const ctx = oCtx[top]!;
      const kh = d32[q + 3]!;
      const f = ctx === X_NONE ? F_NONE : fieldOfHash(ctx, kh, d, at + 1, ke - at - 2);
      oShape[top] = Math.imul(oShape[top]! ^ kh, 16777619);
      const v = ke + 1; // after the ':'
      oVal[top] = v;
      oScalar[top] = 0;
      oField[top] = F_NONE;
      if (f !== F_NONE) {
        if (metTwice(oSeen, top, f)) return -1;
        if (f === F_PREV || f === F_HASH) {
          // A chain member: a plain 64-character string, kept aside, left out of the text.
          const x = v + 1;
          if (d[v] !== 0x22 || d[v + 65] !== 0x22) return -1;
          for (let y = x; y < x + 64; y++) if (d[y] === 0x5c || d[y] === 0x22) return -1;
          if (f === F_PREV) prevAt = x;
          else storedAt = x;
          oCur[top] = -1;
          continue;
        }
        oField[top] = f;
        const c0 = d[v]!;
        valueStart(rec, f, c0);
        if (c0 === 0x22) oScalar[top] = 2;
        else if (c0 !== 0x7b && c0 !== 0x5b) oScalar[top] = 1;
        else if (c0 === 0x7b && f === F_DIVERGENCE) rec.hasDivergence = true;
      }
      if (mTop === mKey.length) growMembers();
      mKey[mTop] = at;
      oCur[top] = mTop++;
      // The key's end, for sorting (`cmpKeys`).
      mKeyEnd[mTop - 1] = ke;
      continue;
    }
    if (kind === 1) {
      let ctx = X_NONE;
      if (depth === 1) ctx = X_TOP;
      else if (top > 0 && oDepth[top] === depth - 1 && oField[top] !== F_NONE) ctx = CHILD[oField[top]!]!;
      if (++top > MAX_DEPTH) return -1;
      oDepth[top] = depth;
      oFirst[top] = at + 1;
      oBase[top] = mTop;
      oShape[top] = 0x811c9dc5 | 0;
      oCtx[top] = ctx;
      oField[top] = F_NONE;
      oSeen[top] = 0;
      oCur[top] = -1;
      oScalar[top] = 0;
      continue;
    }
    // kind 3: the innermost object closes at `at`.
    const cur = oCur[top]!;
    if (cur >= 0) {
      mEnd[cur] = at;
      if (oScalar[top] !== 0) scalarField(rec, oField[top]!, d, oVal[top]!, at, oScalar[top] === 2);
    }
    const base = oBase[top]!;
    const count = mTop - base;
    const shape = Math.imul(oShape[top]! ^ count, 16777619);
    if (depth === 1 || count > 1) {
      const known = orderFor(d, base, count, shape);
      if (known === undefined) return -1;
      // The record is always moved (its chain members go); another object only when out of order.
      if (depth === 1 || known !== null) {
        d32[c] = oFirst[top]!;
        d32[c + 1] = at;
        d32[c + 2] = count;
        c += 3;
        for (let i = 0; i < count; i++) {
          const m = base + (known === null ? i : known[i]!);
          d32[c] = mKey[m]!;
          d32[c + 1] = mEnd[m]!;
          c += 2;
        }
      }
    }
    if (depth === 1) {
      if (prevAt < 0 || storedAt < 0) return -1;
      tapeChain.prev = prevAt;
      tapeChain.stored = storedAt;
      return c << 2;
    }
    mTop = base;
    top--;
  }
  return -1;
}

/**
 * `b[s, e)` is one line of pure ASCII. Writes the previous hash (at 0) and the line's sorted
 * compact text without the chain members (from 64) into `out`, which must hold `2 * (e - s + 64)`
 * bytes (the upper half is room for moves), fills `rec`, sets `found` to the chain values' offsets
 * in `b`, and returns the text's end; -1 when it cannot (see the module comment; `rec` is then
 * undefined).
 */
export function compactRecord(b: Uint8Array, s: number, e: number, out: Uint8Array, rec: ByteRecord): number {
  rec.reset();
  const cls = CLS;
  const tmp = 64 + (e - s) + 64;
  let i = s;
  let w = 64;
  let st = S_VALUE;
  let depth = 0;
  let mTop = 0;
  let prevAt = -1;
  let storedAt = -1;
  while (i < e) {
    const c = b[i]!;
    switch (cls[c]) {
      case C_SPACE:
        i++;
        continue;
      case C_VALUE: {
        if (st > S_VALUE_OR_END || depth === 0) return -1;
        // Runs of a number's (or literal's) characters. The byte after the line (its newline, or
        // none at the end of the buffer) is never one, so the runs stop at the line's end by
        // themselves; a run past `e` (a caller's narrower line) is refused below.
        let x = c;
        if (stObj[depth] === 0) {
          // In an array (states, action chunks: most of a record's bytes): number after number,
          // "," or ", " between them, in one loop; anything else ends it and goes the general way.
          for (;;) {
            do {
              out[w++] = x;
              x = b[++i]!;
            } while (cls[x] === C_VALUE);
            if (x !== 0x2c) break;
            let y = b[i + 1]!;
            let skip = 1;
            if (y === 0x20) {
              y = b[i + 2]!;
              skip = 2;
            }
            if (cls[y] !== C_VALUE) break;
            out[w++] = 0x2c;
            i += skip;
            x = y;
          }
          if (i > e) return -1;
          st = S_AFTER;
          continue;
        }
        const p = i;
        do {
          out[w++] = x;
          x = b[++i]!;
        } while (cls[x] === C_VALUE);
        if (i > e) return -1;
        const f = stField[depth]!;
        if (f !== F_NONE) {
          valueStart(rec, f, c);
          scalarField(rec, f, b, p, i, false);
        }
        st = S_AFTER;
        continue;
      }
      case C_QUOTE: {
        if (st === S_KEY || st === S_KEY_OR_END) {
          // A key: copied where it goes (after a comma when members precede it), matched, hashed.
          const d = depth;
          const mark = w;
          const k = w !== stFirst[d]! ? w + 1 : w;
          let j = i + 1;
          let q = k;
          out[q++] = 0x22;
          let h = stShape[d]!;
          for (;;) {
            if (j >= e) return -1;
            const ch = b[j++]!;
            if (ch === 0x22) break;
            // An escaped key is decoded before sorting by a real writer: the string way.
            if (ch === 0x5c || ch < 0x20) return -1;
            out[q++] = ch;
            h = Math.imul(h ^ ch, 16777619);
          }
          out[q++] = 0x22;
          stShape[d] = Math.imul(h ^ 0x22, 16777619);
          i = j;
          const ctx = stCtx[d]!;
          const f = ctx === X_NONE ? F_NONE : fieldOf(ctx, out, k + 1, q - k - 2);
          stMark[d] = mark;
          if (f !== F_NONE && metTwice(stSeen, d, f)) return -1;
          if (f === F_PREV || f === F_HASH) {
            // A chain member: checked for form, its place remembered, left out of the text.
            while (cls[b[i]!] === C_SPACE && i < e) i++;
            if (b[i] !== 0x3a) return -1;
            i++;
            while (cls[b[i]!] === C_SPACE && i < e) i++;
            if (i + 65 >= e || b[i] !== 0x22 || b[i + 65] !== 0x22) return -1;
            for (let x = i + 1; x < i + 65; x++) if (b[x] === 0x5c || b[x] === 0x22) return -1;
            if (f === F_PREV) prevAt = i + 1;
            else storedAt = i + 1;
            i += 66;
            stSkip[d] = 1;
            stField[d] = F_NONE;
            w = mark;
            st = S_AFTER;
            continue;
          }
          if (k !== mark) out[mark] = 0x2c;
          if (mTop === mKey.length) growMembers();
          mKey[mTop] = k;
          mKeyEnd[mTop] = q;
          mTop++;
          stSkip[d] = 0;
          stField[d] = f;
          w = q;
          st = S_COLON;
          continue;
        }
        if (st > S_VALUE_OR_END || depth === 0) return -1;
        // A string value, copied as written.
        const p = i;
        out[w++] = 0x22;
        i++;
        for (;;) {
          if (i >= e) return -1;
          const ch = b[i++]!;
          out[w++] = ch;
          if (ch === 0x22) break;
          if (ch === 0x5c) {
            if (i >= e) return -1;
            out[w++] = b[i++]!;
          }
        }
        const f = stField[depth]!;
        if (f !== F_NONE && stObj[depth] === 1) {
          valueStart(rec, f, 0x22);
          scalarField(rec, f, b, p, i, true);
        }
        st = S_AFTER;
        continue;
      }
      case C_LBRACE: {
        if (st > S_VALUE_OR_END) return -1;
        if (depth === MAX_DEPTH) return -1;
        let ctx = X_NONE;
        if (depth === 0) {
          ctx = X_TOP;
        } else if (stObj[depth] === 1) {
          const f = stField[depth]!;
          if (f !== F_NONE) {
            valueStart(rec, f, c);
            ctx = CHILD[f]!;
            if (f === F_DIVERGENCE) rec.hasDivergence = true;
          }
        }
        out[w++] = 0x7b;
        i++;
        depth++;
        stObj[depth] = 1;
        stFirst[depth] = w;
        stBase[depth] = mTop;
        stShape[depth] = 0x811c9dc5 | 0;
        stCtx[depth] = ctx;
        stField[depth] = F_NONE;
        stSeen[depth] = 0;
        stSkip[depth] = 1; // no member yet
        st = S_KEY_OR_END;
        continue;
      }
      case C_LBRACK: {
        if (st > S_VALUE_OR_END || depth === 0 || depth === MAX_DEPTH) return -1;
        if (stObj[depth] === 1 && stField[depth] !== F_NONE) valueStart(rec, stField[depth]!, c);
        out[w++] = 0x5b;
        i++;
        depth++;
        stObj[depth] = 0;
        stField[depth] = F_NONE;
        st = S_VALUE_OR_END;
        continue;
      }
      case C_COMMA: {
        if (st !== S_AFTER) return -1;
        i++;
        if (stObj[depth] === 1) {
          if (stSkip[depth] === 0) mEnd[mTop - 1] = w;
          st = S_KEY;
        } else {
          out[w++] = 0x2c;
          st = S_VALUE;
        }
        continue;
      }
      case C_COLON:
        if (st !== S_COLON) return -1;
        out[w++] = 0x3a;
        i++;
        st = S_VALUE;
        continue;
      case C_RBRACE: {
        if ((st !== S_AFTER && st !== S_KEY_OR_END) || stObj[depth] !== 1) return -1;
        i++;
        const base = stBase[depth]!;
        if (st === S_AFTER && stSkip[depth] === 0) mEnd[mTop - 1] = w;
        if (mTop - base > 1 && !sortMembers(out, base, mTop, stFirst[depth]!, w, Math.imul(stShape[depth]! ^ (mTop - base), 16777619), tmp)) return -1;
        mTop = base;
        out[w++] = 0x7d;
        depth--;
        st = depth === 0 ? S_DONE : S_AFTER;
        continue;
      }
      case C_RBRACK:
        if ((st !== S_AFTER && st !== S_VALUE_OR_END) || stObj[depth] !== 0) return -1;
        out[w++] = 0x5d;
        i++;
        depth--;
        st = S_AFTER;
        continue;
      default:
        return -1;
    }
  }
  if (st !== S_DONE || prevAt < 0 || storedAt < 0) return -1;
  for (let x = 0; x < 64; x++) out[x] = b[prevAt + x]!;
  found.prev = prevAt;
  found.stored = storedAt;
  return w;
}
