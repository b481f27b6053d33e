/**
 * Pulls the few fields the replay summary needs out of one trace line without parsing the rest:
 * the action chunks, states and hashes that make up most of a record are skipped by scanning
 * brackets, never turned into objects or numbers. Any key order and any JSON whitespace are
 * understood (other servers' traces), unknown fields are skipped.
 *
 * The scanner checks the top-level structure (`{ "key": value, ... }` and nothing after it) and
 * the brackets and strings of every value; it does not validate what it skips (a bad number deep
 * inside an action row goes unnoticed here). That is enough for a summary: the chain check, which
 * hashes the line's exact text, notices any damage to the bytes.
 *
 * One `RecordScanner` is reused for every line: `scan()` overwrites its fields, so nothing is
 * allocated per record beyond a few short key strings.
 */

const Q = 0x22; // "
const BS = 0x5c; // \
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACK = 0x5b;
const RBRACK = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;

/** `cache.status`: none (absent or null), hit, miss, or something else. */
export const CACHE_NONE = 0;
export const CACHE_HIT = 1;
export const CACHE_MISS = 2;
export const CACHE_OTHER = 3;
export type CacheCode = 0 | 1 | 2 | 3;

function skipWs(s: string, p: number): number {
  for (;;) {
    const c = s.charCodeAt(p);
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) p++;
    else return p;
  }
}

/** `p` at an opening quote: the index after the closing quote, or -1. */
export function skipString(s: string, p: number): number {
  let q = p + 1;
  for (;;) {
    q = s.indexOf('"', q);
    if (q < 0) return -1;
    let b = q - 1;
    let k = 0;
    while (s.charCodeAt(b) === BS) {
      b--;
      k++;
    }
    if ((k & 1) === 0) return q + 1;
    q++;
  }
}

/** `p` at the first character of a value: the index after it, or -1 when it is malformed. */
export function skipValue(s: string, p: number): number {
  const c = s.charCodeAt(p);
  if (c === Q) return skipString(s, p);
  if (c === LBRACK) return skipArray(s, p);
  if (c === LBRACE) return skipObject(s, p);
  // number or literal: up to the next delimiter
  let i = p;
  const n = s.length;
  while (i < n) {
    const d = s.charCodeAt(i);
    if (d === COMMA || d === RBRACE || d === RBRACK || d === 0x20 || d === 0x0a || d === 0x0d || d === 0x09) break;
    i++;
  }
  return i > p ? i : -1;
}

/**
 * `p` at '['. Arrays of numbers (state vectors, action chunks, nested or not) are the bulk of a
 * trace: jump from bracket to bracket with `indexOf` (native speed) instead of visiting every
 * character, then make sure no string or object inside could have hidden a bracket; if one
 * could, walk the elements one by one.
 */
function skipArray(s: string, p: number): number {
  let depth = 0;
  let pos = p;
  let open = p;
  let close = -1;
  for (;;) {
    if (open === -2) open = s.indexOf('[', pos);
    if (close < pos) {
      close = s.indexOf(']', pos);
      // Unbalanced, or a bracket inside a string threw the count off: walk it properly.
      if (close < 0) return walkArray(s, p);
    }
    if (open >= 0 && open < close) {
      depth++;
      pos = open + 1;
      open = -2;
    } else {
      depth--;
      pos = close + 1;
      if (depth === 0) break;
    }
  }
  const q = s.indexOf('"', p);
  if (q < 0 || q >= pos) {
    const b = s.indexOf('{', p);
    if (b < 0 || b >= pos) return pos;
  }
  return walkArray(s, p);
}

function walkArray(s: string, p: number): number {
  p = skipWs(s, p + 1);
  if (s.charCodeAt(p) === RBRACK) return p + 1;
  for (;;) {
    const e = skipValue(s, p);
    if (e < 0) return -1;
    p = skipWs(s, e);
    const c = s.charCodeAt(p);
    if (c === COMMA) p = skipWs(s, p + 1);
    else if (c === RBRACK) return p + 1;
    else return -1;
  }
}

/** `p` inside an object (after its `{` or after a member): the index after the object's closing brace, or -1. */
function skipRest(s: string, p: number): number {
  const n = s.length;
  let depth = 1;
  let pos = p;
  let nq = -1;
  let no = -1;
  let nc = -1;
  for (;;) {
    if (nq < pos) {
      nq = s.indexOf('"', pos);
      if (nq < 0) nq = n;
    }
    if (no < pos) {
      no = s.indexOf('{', pos);
      if (no < 0) no = n;
    }
    if (nc < pos) {
      nc = s.indexOf('}', pos);
      if (nc < 0) return -1;
    }
    if (nq < nc && nq < no) {
      const e = skipString(s, nq);
      if (e < 0) return -1;
      pos = e;
    } else if (no < nc) {
      depth++;
      pos = no + 1;
    } else {
      pos = nc + 1;
      if (--depth === 0) return pos;
    }
  }
}

/**
 * `p` at '{'. Matches braces with `indexOf` jumps over the three characters that matter (`"`,
 * `{`, `}`), so arrays and numbers inside are passed over at native speed.
 */
function skipObject(s: string, p: number): number {
  return skipRest(s, p + 1);
}

/**
 * A copy of `s` that does not keep a larger string alive. V8 makes `slice` of 13 or more
 * characters a view into its parent: a short id kept in a table would pin the whole 1 MiB block
 * of lines it was cut from.
 */
export function detach(s: string): string {
  return s.length < 13 ? s : (JSON.parse(JSON.stringify(s)) as string);
}

/** The text of a JSON string value at [p, e) (quotes included), decoded. */
function stringValue(s: string, p: number, e: number): string | null {
  if (s.charCodeAt(p) !== Q) return null;
  const inner = s.slice(p + 1, e - 1);
  if (inner.indexOf('\\') < 0) return inner;
  try {
    return JSON.parse(s.slice(p, e)) as string;
  } catch {
    return null;
  }
}

const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22];

/**
 * The number at [p, e). Plain decimals of up to 15 significant digits (seq, timestamps,
 * latencies) are computed without allocating a string: digits / 10^k is exact then (both are
 * exact doubles and the division rounds once). Anything else goes through `Number()`.
 */
function numberValue(s: string, p: number, e: number): number {
  let i = p;
  let neg = false;
  if (s.charCodeAt(i) === 0x2d) {
    neg = true;
    i++;
  }
  let m = 0;
  let digits = 0;
  let frac = -1;
  for (; i < e; i++) {
    const c = s.charCodeAt(i);
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
  const c = s.charCodeAt(p);
  if (c === 0x2d || (c >= 0x30 && c <= 0x39) || c === 0x4e /* NaN */ || c === 0x49 /* Infinity */) return +s.slice(p, e);
  return NaN;
}

/** Whether the string value at p is exactly the JSON string `quoted` (quotes included). */
function isString(s: string, p: number, e: number, quoted: string): boolean {
  return e - p === quoted.length && s.startsWith(quoted, p);
}

const Mode = { Top: 0, Latency: 1, Cache: 2, Routing: 3, Request: 4, Divergence: 5 } as const;
type Mode = (typeof Mode)[keyof typeof Mode];

/** Whether the key at `k` (its opening quote) with `len` characters between the quotes is `name`. */
function keyIs(s: string, k: number, len: number, name: string): boolean {
  if (len !== name.length) return false;
  for (let i = 0; i < len; i++) if (s.charCodeAt(k + 1 + i) !== name.charCodeAt(i)) return false;
  return true;
}

/** The summary fields of one record, read from its text (`RecordScanner`) or its bytes (`ByteRecord`). */
export class RecordFields {
  /** `kind`, or null when absent or not a string. */
  kind: string | null = null;
  /** NaN when absent. */
  seq = NaN;
  /** Seconds since the epoch; NaN when absent. */
  timestamp = NaN;
  /** `schema_version`; NaN when absent. */
  schemaVersion = NaN;
  /** `routing.slot`. */
  slot: string | null = null;
  degraded = false;
  episodeId: string | null = null;
  /** `latency.total_ms`. */
  latencyMs = NaN;
  cache: CacheCode = CACHE_NONE;
  /** `error` present and not null. */
  error = false;
  /** `response` present and not null. */
  hasResponse = false;
  /** A shadow result's `divergence`; NaN when absent or null. */
  divCosine = NaN;
  divMaxAbs = NaN;
  hasDivergence = false;

  reset(): void {
    this.kind = null;
    this.seq = NaN;
    this.timestamp = NaN;
    this.schemaVersion = NaN;
    this.slot = null;
    this.degraded = false;
    this.episodeId = null;
    this.latencyMs = NaN;
    this.cache = CACHE_NONE;
    this.error = false;
    this.hasResponse = false;
    this.divCosine = NaN;
    this.divMaxAbs = NaN;
    this.hasDivergence = false;
  }
}

export class RecordScanner extends RecordFields {
  /** Why the last `scan` failed. */
  problem = '';
  /** Set by a member handler when nothing else in the current object is needed. */
  private restSkippable = false;

  override reset(): void {
    super.reset();
    this.problem = '';
    this.nbs = -1;
  }

  /** Scans one line; false (with `problem`) when it is not a JSON object. */
  scan(s: string): boolean {
    this.reset();
    const p = skipWs(s, 0);
    if (s.charCodeAt(p) !== LBRACE) return this.fail('a trace line must be a JSON object');
    const e = this.object(s, p, Mode.Top);
    if (e < 0) return false;
    if (skipWs(s, e) !== s.length) return this.fail('unexpected text after the JSON object');
    return true;
  }

  private fail(why: string): false {
    this.problem = why;
    return false;
  }

  /** Next backslash at or after the last lookup (the line's length when none): keys with escapes are rare. */
  private nbs = -1;

  /** Walks the members of the object at p; returns the index after it or -1. */
  private object(s: string, p: number, mode: Mode): number {
    p++;
    let c = s.charCodeAt(p);
    if (c <= 0x20) {
      p = skipWs(s, p);
      c = s.charCodeAt(p);
    }
    if (c === RBRACE) return p + 1;
    for (;;) {
      if (c !== Q) {
        this.fail('expected a property name in double quotes');
        return -1;
      }
      const q = s.indexOf('"', p + 1);
      if (q < 0) {
        this.fail('unterminated string');
        return -1;
      }
      if (this.nbs < p) {
        this.nbs = s.indexOf('\\', p);
        if (this.nbs < 0) this.nbs = s.length;
      }
      let keyEnd = q + 1;
      let k = p;
      let klen = q - p - 1;
      let ks = s;
      if (this.nbs < q) {
        // An escaped key: decode it and match the decoded text.
        keyEnd = skipString(s, p);
        if (keyEnd < 0) {
          this.fail('unterminated string');
          return -1;
        }
        let key: string;
        try {
          key = JSON.parse(s.slice(p, keyEnd)) as string;
        } catch {
          this.fail('invalid escape in a property name');
          return -1;
        }
        ks = '"' + key + '"';
        k = 0;
        klen = key.length;
      }
      p = keyEnd;
      c = s.charCodeAt(p);
      if (c <= 0x20) {
        p = skipWs(s, p);
        c = s.charCodeAt(p);
      }
      if (c !== COLON) {
        this.fail("expected ':'");
        return -1;
      }
      p++;
      if (s.charCodeAt(p) <= 0x20) p = skipWs(s, p);
      const ve = this.value(s, p, mode, ks, k, klen);
      if (ve < 0) {
        if (!this.problem) this.fail('malformed value');
        return -1;
      }
      p = ve;
      if (this.restSkippable) {
        // Nothing more to read here: jump to the end of this object.
        this.restSkippable = false;
        return skipRest(s, p);
      }
      c = s.charCodeAt(p);
      if (c <= 0x20) {
        p = skipWs(s, p);
        c = s.charCodeAt(p);
      }
      if (c === COMMA) {
        p++;
        c = s.charCodeAt(p);
        if (c <= 0x20) {
          p = skipWs(s, p);
          c = s.charCodeAt(p);
        }
        continue;
      }
      if (c === RBRACE) return p + 1;
      this.fail("expected ',' or '}'");
      return -1;
    }
  }

  /** Handles one member's value at p (key `ks[k..]`, `klen` long); returns the index after it or -1. */
  private value(s: string, p: number, mode: Mode, ks: string, k: number, klen: number): number {
    const c = s.charCodeAt(p);
    switch (mode) {
      case Mode.Top: {
        switch (ks.charCodeAt(k + 1)) {
          case 0x6b: // k
            if (keyIs(ks, k, klen, 'kind')) {
              const e = skipValue(s, p);
              if (e > 0) this.kind = isString(s, p, e, '"request"') ? 'request' : isString(s, p, e, '"shadow_result"') ? 'shadow_result' : stringValue(s, p, e);
              return e;
            }
            break;
          case 0x73: // s
            if (keyIs(ks, k, klen, 'seq')) {
              const e = skipValue(s, p);
              if (e > 0) this.seq = numberValue(s, p, e);
              return e;
            }
            if (keyIs(ks, k, klen, 'schema_version')) {
              const e = skipValue(s, p);
              if (e > 0) this.schemaVersion = e === p + 1 && c === 0x31 ? 1 : numberValue(s, p, e);
              return e;
            }
            break;
          case 0x74: // t
            if (keyIs(ks, k, klen, 'timestamp')) {
              const e = skipValue(s, p);
              if (e > 0) this.timestamp = numberValue(s, p, e);
              return e;
            }
            break;
          case 0x63: // c
            if (keyIs(ks, k, klen, 'cache')) return c === LBRACE ? this.object(s, p, Mode.Cache) : skipValue(s, p);
            break;
          case 0x65: // e
            if (keyIs(ks, k, klen, 'error')) {
              const e = skipValue(s, p);
              this.error = e > 0 && c !== 0x6e; // not null
              return e;
            }
            break;
          case 0x72: // r
            if (keyIs(ks, k, klen, 'response')) {
              const e = skipValue(s, p);
              this.hasResponse = e > 0 && c !== 0x6e;
              return e;
            }
            if (keyIs(ks, k, klen, 'routing')) return c === LBRACE ? this.object(s, p, Mode.Routing) : skipValue(s, p);
            if (keyIs(ks, k, klen, 'request')) return c === LBRACE ? this.object(s, p, Mode.Request) : skipValue(s, p);
            break;
          case 0x6c: // l
            if (keyIs(ks, k, klen, 'latency')) return c === LBRACE ? this.object(s, p, Mode.Latency) : skipValue(s, p);
            break;
          case 0x64: // d
            if (keyIs(ks, k, klen, 'divergence')) {
              if (c === LBRACE) {
                this.hasDivergence = true;
                return this.object(s, p, Mode.Divergence);
              }
              return skipValue(s, p);
            }
            break;
        }
        return skipValue(s, p);
      }
      case Mode.Latency:
        if (keyIs(ks, k, klen, 'total_ms')) {
          const e = skipValue(s, p);
          if (e > 0) this.latencyMs = numberValue(s, p, e);
          return e;
        }
        return skipValue(s, p);
      case Mode.Cache:
        if (keyIs(ks, k, klen, 'status')) {
          const e = skipValue(s, p);
          if (e > 0) {
            this.cache = isString(s, p, e, '"hit"') ? CACHE_HIT : isString(s, p, e, '"miss"') ? CACHE_MISS : c === 0x6e ? CACHE_NONE : CACHE_OTHER;
          }
          return e;
        }
        return skipValue(s, p);
      case Mode.Routing: {
        const e = skipValue(s, p);
        if (e > 0) {
          if (keyIs(ks, k, klen, 'slot')) this.slot = isString(s, p, e, '"a"') ? 'a' : isString(s, p, e, '"b"') ? 'b' : isString(s, p, e, '"prod"') ? 'prod' : stringValue(s, p, e);
          else if (keyIs(ks, k, klen, 'degraded')) this.degraded = c === 0x74; // true
        }
        return e;
      }
      case Mode.Request: {
        const e = skipValue(s, p);
        if (e > 0 && keyIs(ks, k, klen, 'episode_id')) {
          this.episodeId = stringValue(s, p, e);
          this.restSkippable = true;
        }
        return e;
      }
      case Mode.Divergence: {
        const e = skipValue(s, p);
        if (e > 0) {
          if (keyIs(ks, k, klen, 'cosine')) this.divCosine = numberValue(s, p, e);
          else if (keyIs(ks, k, klen, 'max_abs')) this.divMaxAbs = numberValue(s, p, e);
        }
        return e;
      }
    }
    return skipValue(s, p);
  }
}
