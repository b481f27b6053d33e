/**
 * The chain's hashed text built from a line's bytes, without decoding it into a string (see
 * `FastChain.checkBytes`). Building that text as JavaScript strings (slices, joins, concatenation)
 * cost more than everything else in the summary pass together for a reference-format trace, and
 * kept the garbage collector busy; here it is copied into one scratch buffer that is reused for
 * every record, so a record costs a byte scan and one SHA-256 call.
 *
 * Two layouts:
 * - `ownTail`: Switchyard's `TraceWriter` line, which ends
 *   `,"prev_record_hash":"<64>","record_hash":"<64>"}` and is canonical before that tail, so the
 *   hashed text is the previous hash, the line up to the tail, and `}`.
 * - `sortedCompactBytes`: any other layout of plain ASCII JSON (Python's default `json.dumps`, with
 *   ", " and ": " and its own key order): whitespace between tokens dropped, each object's members
 *   sorted by key, strings and numbers copied as written, the two top-level chain members taken
 *   out. Python prints a number the same way with or without `sort_keys`, so this is the text a
 *   Python writer hashed.
 *
 * Neither decides anything about integrity: the caller accepts a record only when SHA-256 of the
 * scratch text equals the stored `record_hash`. A wrong guess here costs speed, never soundness.
 * Both return -1 for anything they do not handle plainly (escaped keys, duplicate keys, chain
 * values that are not 64-character strings, bad syntax); the caller then goes the string way.
 */

/** Where the last successful call found the chain values (byte offsets of their 64 characters in the line's buffer). */
export const found = { prev: -1, stored: -1 };

const TAIL_PREV = Buffer.from(',"prev_record_hash":"', 'latin1'); // 21 bytes
const TAIL_HASH = Buffer.from('","record_hash":"', 'latin1'); // 17 bytes
const TAIL = TAIL_PREV.length + 64 + TAIL_HASH.length + 64 + 2; // 168
const PREV_KEY = Buffer.from('"prev_record_hash"', 'latin1');
const HASH_KEY = Buffer.from('"record_hash"', 'latin1');

function startsWithAt(b: Uint8Array, at: number, pat: Uint8Array): boolean {
  for (let i = 0; i < pat.length; i++) if (b[at + i] !== pat[i]) return false;
  return true;
}

/** A scratch buffer of at least `n` bytes (kept and reused by the caller). */
export function ensureScratch(scratch: Buffer, n: number): Buffer {
  return scratch.length >= n ? scratch : Buffer.allocUnsafeSlow(Math.max(n, scratch.length * 2));
}

/** Whether the line `b[s, e)` ends in TraceWriter's chain tail (see `ownTail`). */
export function hasOwnTail(b: Uint8Array, s: number, e: number): boolean {
  return e - s > TAIL + 1 && b[e - 1] === 0x7d && b[e - 2] === 0x22 && startsWithAt(b, e - 83, TAIL_HASH) && startsWithAt(b, e - TAIL, TAIL_PREV);
}

/**
 * `b[s, e)` is one line. When it ends in TraceWriter's chain tail, writes the line's previous
 * hash and the text before the tail plus `}` into `out` (which must hold `e - s + 64` bytes) and
 * returns the length; -1 otherwise.
 */
export function ownTail(b: Uint8Array, s: number, e: number, out: Uint8Array): number {
  const n = e - s;
  if (n <= TAIL + 1 || b[e - 1] !== 0x7d || b[e - 2] !== 0x22 || !startsWithAt(b, e - 83, TAIL_HASH) || !startsWithAt(b, e - TAIL, TAIL_PREV)) return -1;
  found.prev = e - 147;
  found.stored = e - 66;
  out.set(new Uint8Array(b.buffer, b.byteOffset + e - 147, 64), 0);
  out.set(new Uint8Array(b.buffer, b.byteOffset + s, n - TAIL), 64);
  const len = 64 + n - TAIL;
  out[len] = 0x7d;
  return len + 1;
}

// The scan's state lives here rather than in closures: one line at a time, on one thread.
let src: Uint8Array = new Uint8Array(0);
let pos = 0;
let end = 0;
let dst: Uint8Array = new Uint8Array(0);
let o = 0;
let prevAt = -1;
let storedAt = -1;
/** Members of the objects being built: the output offsets of each key's opening quote, its closing quote + 1, and the member's end. */
let mKey = new Int32Array(256);
let mKeyEnd = new Int32Array(256);
let mEnd = new Int32Array(256);
let mTop = 0;
let tmp: Uint8Array = new Uint8Array(4096);

function ws(): void {
  while (pos < end) {
    const c = src[pos]!;
    if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) pos++;
    else return;
  }
}

/** A string token copied as written; false when unterminated. */
function str(): boolean {
  const from = src;
  const to = dst;
  const stop = end;
  let i = pos + 1;
  let w = o;
  to[w++] = 0x22;
  while (i < stop) {
    const c = from[i++]!;
    to[w++] = c;
    if (c === 0x22) {
      pos = i;
      o = w;
      return true;
    }
    if (c === 0x5c && i < stop) to[w++] = from[i++]!;
  }
  return false;
}

function copy(to: Uint8Array, at: number, from: Uint8Array, s: number, e: number): void {
  if (e - s > 48) to.set(new Uint8Array(from.buffer, from.byteOffset + s, e - s), at);
  else for (let i = s; i < e; i++) to[at++] = from[i]!;
}

function value(depth: number): boolean {
  if (pos >= end || depth > 64) return false;
  const c = src[pos]!;
  if (c === 0x22) return str();
  if (c === 0x7b) return object(depth + 1, false);
  if (c === 0x5b) {
    if (numericArray()) return true;
    dst[o++] = 0x5b;
    pos++;
    ws();
    if (src[pos] === 0x5d) {
      pos++;
      dst[o++] = 0x5d;
      return true;
    }
    for (;;) {
      if (!value(depth + 1)) return false;
      ws();
      const d = src[pos++];
      if (d === 0x5d) {
        dst[o++] = 0x5d;
        return true;
      }
      if (d !== 0x2c) return false;
      dst[o++] = 0x2c;
      ws();
    }
  }
  // A number, true, false, null (or NaN / Infinity, as Python writes them): up to the next delimiter.
  const start = pos;
  while (pos < end) {
    const d = src[pos]!;
    if (d === 0x2c || d === 0x7d || d === 0x5d || d === 0x20 || d === 0x09 || d === 0x0a || d === 0x0d) break;
    dst[o++] = d;
    pos++;
  }
  return pos > start;
}

/** What a byte is inside an array of numbers: part of a value, whitespace, [ ] , or something that needs the general way (" {). */
const VALUE = 0;
const SPACE = 1;
const OPEN = 2;
const CLOSE = 3;
const COMMA = 4;
const OTHER = 5;
const CLASS = new Uint8Array(256);
for (const c of [0x20, 0x09, 0x0a, 0x0d]) CLASS[c] = SPACE;
CLASS[0x5b] = OPEN;
CLASS[0x5d] = CLOSE;
CLASS[0x2c] = COMMA;
CLASS[0x22] = OTHER;
CLASS[0x7b] = OTHER;
CLASS[0x7d] = OTHER;

/**
 * `pos` at '['. Arrays of numbers (nested or not: states, action chunks) are most of a record's
 * bytes: copy them in one loop, dropping whitespace, as long as no string or object appears
 * (false, with nothing consumed, sends it the general way). Whitespace between two characters
 * of values (`1 2`, not JSON) also goes the general way, which rejects it.
 */
function numericArray(): boolean {
  // Locals, not the module's bindings: this loop runs over most of the file's bytes.
  const from = src;
  const to = dst;
  const stop = end;
  const cls = CLASS;
  let i = pos;
  let w = o;
  let depth = 0;
  let gap = false;
  let lastValueChar = false;
  while (i < stop) {
    let c = from[i++]!;
    const k = cls[c]!;
    if (k === VALUE) {
      if (gap && lastValueChar) return false;
      // A run of a number's characters, the bulk of the bytes: one table look-up each.
      do {
        to[w++] = c;
        c = from[i++]!;
      } while (cls[c] === VALUE && i <= stop);
      i--;
      gap = false;
      lastValueChar = true;
      continue;
    }
    if (k === SPACE) {
      gap = true;
      continue;
    }
    if (k === OTHER) return false;
    gap = false;
    lastValueChar = false;
    to[w++] = c;
    if (k === OPEN) depth++;
    else if (k === CLOSE && --depth === 0) {
      pos = i;
      o = w;
      return true;
    }
  }
  return false;
}

/** A copy of `a` twice as long (scratch stacks grow by doubling). */
export function grownInt32(a: Int32Array): Int32Array<ArrayBuffer> {
  const n = new Int32Array(a.length * 2);
  n.set(a);
  return n;
}

function pushMember(k: number, ke: number, me: number): void {
  if (mTop === mKey.length) {
    const grow = grownInt32;
    mKey = grow(mKey);
    mKeyEnd = grow(mKeyEnd);
    mEnd = grow(mEnd);
  }
  mKey[mTop] = k;
  mKeyEnd[mTop] = ke;
  mEnd[mTop] = me;
  mTop++;
}

/** Compares the keys (their text between the quotes) of members i and j: <0, 0 (equal), >0. */
function cmpKeys(i: number, j: number): number {
  const d = dst;
  const a = mKey[i]! + 1;
  const ae = mKeyEnd[i]! - 1;
  const b = mKey[j]! + 1;
  const be = mKeyEnd[j]! - 1;
  const la = ae - a;
  const lb = be - b;
  const l = la < lb ? la : lb;
  for (let x = 0; x < l; x++) {
    const c = d[a + x]! - d[b + x]!;
    if (c !== 0) return c;
  }
  return la - lb;
}

let order = new Int32Array(64);

/** Puts the members base..mTop-1 (written at `first`..o) in key order; false on a duplicate key. */
/** The sorted order of members base..base+n-1 (relative), null when already sorted, undefined on a duplicate key. */
function sortOrder(base: number, n: number): Int32Array | null | undefined {
  let sorted = true;
  for (let i = base + 1; i < base + n; i++) {
    const c = cmpKeys(i - 1, i);
    if (c === 0) return undefined;
    if (c > 0) sorted = false;
  }
  if (sorted) return null;
  if (order.length < n) order = new Int32Array(n * 2);
  // Insertion sort: objects in traces have a handful of members (a big one costs time, not correctness).
  for (let i = 0; i < n; i++) {
    const m = base + i;
    let j = i;
    while (j > 0) {
      const c = cmpKeys(order[j - 1]!, m);
      if (c === 0) return undefined;
      if (c < 0) break;
      order[j] = order[j - 1]!;
      j--;
    }
    order[j] = m;
  }
  const rel = new Int32Array(n);
  for (let i = 0; i < n; i++) rel[i] = order[i]! - base;
  return rel;
}

/**
 * Key orders seen before, by a hash of the keys in written order: the members' order sorted
 * (positions, relative), or null when they were sorted already. A writer repeats a handful of
 * shapes, so sorting is done once per shape. A hash collision gives a wrong order, hence a text
 * whose SHA-256 does not match: the record then goes the string way (speed, never soundness).
 */
const orders = new Map<number, Int32Array | null>();

/** Puts the members base..mTop-1 (written at `first`..o, keys hashing to `shape`) in key order; false on a duplicate key. */
function sortMembers(base: number, first: number, shape: number): boolean {
  const n = mTop - base;
  let known = orders.get(shape);
  if (known === undefined || (known !== null && known.length !== n)) {
    known = sortOrder(base, n);
    if (known === undefined) return false;
    if (orders.size < 4096) orders.set(shape, known);
  }
  if (known === null) return true;
  if (order.length < n) order = new Int32Array(n * 2);
  for (let i = 0; i < n; i++) order[i] = base + known[i]!;
  const len = o - first;
  if (tmp.length < len) tmp = new Uint8Array(len * 2);
  let t = 0;
  for (let i = 0; i < n; i++) {
    const m = order[i]!;
    if (i > 0) tmp[t++] = 0x2c;
    copy(tmp, t, dst, mKey[m]!, mEnd[m]!);
    t += mEnd[m]! - mKey[m]!;
  }
  copy(dst, first, tmp, 0, t);
  return true;
}

function object(depth: number, top: boolean): boolean {
  pos++; // {
  dst[o++] = 0x7b;
  const first = o;
  const base = mTop;
  ws();
  if (src[pos] === 0x7d) {
    pos++;
    dst[o++] = 0x7d;
    return true;
  }
  let written = 0;
  let shape = 0x811c9dc5 | 0; // FNV-1a over the keys' bytes, in written order
  for (;;) {
    ws();
    if (src[pos] !== 0x22) return false;
    const ks = pos;
    // The key is copied as it is scanned (dropped again if it is a chain member). Keys with
    // escapes are decoded before sorting by a real writer: leave them to the string way.
    const k = written > 0 ? o + 1 : o;
    // Locals: the module's bindings are reloaded on every access in a loop.
    const from = src;
    const to = dst;
    const stop = end;
    let w = k;
    let ke = pos;
    to[w++] = 0x22;
    for (;;) {
      if (++ke >= stop) return false;
      const ch = from[ke]!;
      if (ch === 0x22) break;
      if (ch === 0x5c) return false;
      to[w++] = ch;
    }
    ke++;
    to[w++] = 0x22;
    pos = ke;
    // Python's ": " (one space) without a call; anything else the general way.
    if (src[pos] !== 0x3a) ws();
    if (src[pos++] !== 0x3a) return false;
    if (src[pos] === 0x20) pos++;
    ws();
    if (top && ke - ks === PREV_KEY.length && startsWithAt(src, ks, PREV_KEY)) {
      if (prevAt >= 0 || !chainValue()) return false;
      prevAt = pos - 65;
    } else if (top && ke - ks === HASH_KEY.length && startsWithAt(src, ks, HASH_KEY)) {
      if (storedAt >= 0 || !chainValue()) return false;
      storedAt = pos - 65;
    } else {
      if (written++ > 0) dst[o] = 0x2c;
      for (let i = k + 1; i < w - 1; i++) shape = Math.imul(shape ^ to[i]!, 16777619);
      o = w;
      const kEnd = o;
      dst[o++] = 0x3a;
      if (!value(depth)) return false;
      pushMember(k, kEnd, o);
    }
    if (src[pos] !== 0x2c && src[pos] !== 0x7d) ws();
    const d = src[pos++];
    if (d === 0x7d) break;
    if (d !== 0x2c) return false;
    // Python's ", ".
    if (src[pos] === 0x20) pos++;
  }
  const ok = sortMembers(base, first, Math.imul(shape ^ (mTop - base), 16777619));
  mTop = base;
  if (!ok) return false;
  dst[o++] = 0x7d;
  return true;
}

/** A chain value: a string of exactly 64 characters without escapes (the caller compares it). */
function chainValue(): boolean {
  if (src[pos] !== 0x22 || pos + 65 >= end || src[pos + 65] !== 0x22) return false;
  for (let i = pos + 1; i < pos + 65; i++) if (src[i] === 0x5c || src[i] === 0x22) return false;
  pos += 66;
  return true;
}

/**
 * `b[s, e)` is one pure-ASCII line. Writes its previous hash and its sorted compact text
 * without the chain members into `out` (which must hold `e - s + 64` bytes: the text is never
 * longer than the line) and returns the length; -1 when it cannot (see the module comment).
 */
export function sortedCompactBytes(b: Uint8Array, s: number, e: number, out: Uint8Array): number {
  src = b;
  pos = s;
  end = e;
  dst = out;
  o = 64;
  prevAt = -1;
  storedAt = -1;
  mTop = 0;
  try {
    ws();
    if (src[pos] !== 0x7b) return -1;
    if (!object(1, true)) return -1;
    ws();
    if (pos !== end || prevAt < 0 || storedAt < 0) return -1;
    out.set(new Uint8Array(b.buffer, b.byteOffset + prevAt, 64), 0);
    found.prev = prevAt;
    found.stored = storedAt;
    return o;
  } finally {
    src = dst = EMPTY;
  }
}

const EMPTY = new Uint8Array(0);
