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
  if (c === LBRACE || c === LBRACK) {
    let depth = 0;
    const n = s.length;
    for (let i = p; i < n; i++) {
      const d = s.charCodeAt(i);
      if (d === Q) {
        const e = skipString(s, i);
        if (e < 0) return -1;
        i = e - 1;
      } else if (d === LBRACE || d === LBRACK) depth++;
      else if (d === RBRACE || d === RBRACK) {
        if (--depth === 0) return i + 1;
      }
    }
    return -1;
  }
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

function numberValue(s: string, p: number, e: number): number {
  const c = s.charCodeAt(p);
  if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return +s.slice(p, e);
  if (c === 0x4e /* NaN */ || c === 0x49 /* Infinity */) return +s.slice(p, e);
  return NaN;
}

const enum Mode {
  Top,
  Latency,
  Cache,
  Routing,
  Request,
  Divergence,
  Denoise,
}

export class RecordScanner {
  /** `kind`, or null when absent or not a string. */
  kind: string | null = null;
  /** NaN when absent. */
  seq = NaN;
  /** Seconds since the epoch; NaN when absent. */
  timestamp = NaN;
  chunkId = NaN;
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
  stepsUsed = NaN;
  /** A shadow result's `divergence`; NaN when absent or null. */
  divCosine = NaN;
  divMaxAbs = NaN;
  hasDivergence = false;
  /** The chain fields' values (null when absent or not strings) and their members' spans (-1 when absent). */
  prevHash: string | null = null;
  recordHash: string | null = null;
  prevStart = -1;
  prevEnd = -1;
  hashStart = -1;
  hashEnd = -1;
  /** Top-level members, and whether any top-level key has an escape or repeats a chain field. */
  members = 0;
  oddKeys = false;
  /** Why the last `scan` failed. */
  problem = '';

  private reset(): void {
    this.kind = null;
    this.seq = NaN;
    this.timestamp = NaN;
    this.chunkId = NaN;
    this.slot = null;
    this.degraded = false;
    this.episodeId = null;
    this.latencyMs = NaN;
    this.cache = CACHE_NONE;
    this.error = false;
    this.hasResponse = false;
    this.stepsUsed = NaN;
    this.divCosine = NaN;
    this.divMaxAbs = NaN;
    this.hasDivergence = false;
    this.prevHash = null;
    this.recordHash = null;
    this.prevStart = this.prevEnd = this.hashStart = this.hashEnd = -1;
    this.members = 0;
    this.oddKeys = false;
    this.problem = '';
  }

  /** Scans one line; false (with `problem`) when it is not a JSON object. */
  scan(s: string): boolean {
    this.reset();
    let p = skipWs(s, 0);
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

  /** Walks the members of the object at p; returns the index after it or -1. */
  private object(s: string, p: number, mode: Mode): number {
    p = skipWs(s, p + 1);
    if (s.charCodeAt(p) === RBRACE) return p + 1;
    for (;;) {
      if (s.charCodeAt(p) !== Q) {
        this.fail('expected a property name in double quotes');
        return -1;
      }
      const keyStart = p;
      const keyEnd = skipString(s, p);
      if (keyEnd < 0) {
        this.fail('unterminated string');
        return -1;
      }
      let key = s.slice(p + 1, keyEnd - 1);
      if (key.indexOf('\\') >= 0) {
        try {
          key = JSON.parse(s.slice(p, keyEnd)) as string;
        } catch {
          this.fail('invalid escape in a property name');
          return -1;
        }
        if (mode === Mode.Top) this.oddKeys = true;
      }
      p = skipWs(s, keyEnd);
      if (s.charCodeAt(p) !== COLON) {
        this.fail("expected ':'");
        return -1;
      }
      p = skipWs(s, p + 1);
      const vs = p;
      const ve = this.value(s, vs, mode, key);
      if (ve < 0) {
        if (!this.problem) this.fail('malformed value');
        return -1;
      }
      if (mode === Mode.Top) {
        this.members++;
        if (key === 'prev_record_hash') {
          if (this.prevStart >= 0) this.oddKeys = true;
          this.prevStart = keyStart;
          this.prevEnd = ve;
          this.prevHash = stringValue(s, vs, ve);
        } else if (key === 'record_hash') {
          if (this.hashStart >= 0) this.oddKeys = true;
          this.hashStart = keyStart;
          this.hashEnd = ve;
          this.recordHash = stringValue(s, vs, ve);
        }
      }
      p = skipWs(s, ve);
      const c = s.charCodeAt(p);
      if (c === COMMA) {
        p = skipWs(s, p + 1);
        continue;
      }
      if (c === RBRACE) return p + 1;
      this.fail("expected ',' or '}'");
      return -1;
    }
  }

  /** Handles one member's value; returns the index after it or -1. */
  private value(s: string, p: number, mode: Mode, key: string): number {
    const c = s.charCodeAt(p);
    switch (mode) {
      case Mode.Top:
        switch (key) {
          case 'kind': {
            const e = skipValue(s, p);
            if (e > 0) this.kind = stringValue(s, p, e);
            return e;
          }
          case 'seq': {
            const e = skipValue(s, p);
            if (e > 0) this.seq = numberValue(s, p, e);
            return e;
          }
          case 'timestamp': {
            const e = skipValue(s, p);
            if (e > 0) this.timestamp = numberValue(s, p, e);
            return e;
          }
          case 'chunk_id': {
            const e = skipValue(s, p);
            if (e > 0) this.chunkId = numberValue(s, p, e);
            return e;
          }
          case 'error': {
            const e = skipValue(s, p);
            this.error = e > 0 && !(c === 0x6e && s.startsWith('null', p));
            return e;
          }
          case 'response': {
            const e = skipValue(s, p);
            this.hasResponse = e > 0 && c !== 0x6e;
            return e;
          }
          case 'latency':
            return c === LBRACE ? this.object(s, p, Mode.Latency) : skipValue(s, p);
          case 'cache':
            return c === LBRACE ? this.object(s, p, Mode.Cache) : skipValue(s, p);
          case 'routing':
            return c === LBRACE ? this.object(s, p, Mode.Routing) : skipValue(s, p);
          case 'request':
            return c === LBRACE ? this.object(s, p, Mode.Request) : skipValue(s, p);
          case 'divergence':
            if (c === LBRACE) {
              this.hasDivergence = true;
              return this.object(s, p, Mode.Divergence);
            }
            return skipValue(s, p);
          case 'denoise':
            return c === LBRACE ? this.object(s, p, Mode.Denoise) : skipValue(s, p);
          default:
            return skipValue(s, p);
        }
      case Mode.Latency:
        if (key === 'total_ms') {
          const e = skipValue(s, p);
          if (e > 0) this.latencyMs = numberValue(s, p, e);
          return e;
        }
        return skipValue(s, p);
      case Mode.Cache:
        if (key === 'status') {
          const e = skipValue(s, p);
          if (e > 0) {
            const v = stringValue(s, p, e);
            this.cache = v === 'hit' ? CACHE_HIT : v === 'miss' ? CACHE_MISS : v === null ? CACHE_NONE : CACHE_OTHER;
          }
          return e;
        }
        return skipValue(s, p);
      case Mode.Routing: {
        const e = skipValue(s, p);
        if (e > 0) {
          if (key === 'slot') this.slot = stringValue(s, p, e);
          else if (key === 'degraded') this.degraded = c === 0x74; // true
        }
        return e;
      }
      case Mode.Request: {
        const e = skipValue(s, p);
        if (e > 0 && key === 'episode_id') this.episodeId = stringValue(s, p, e);
        return e;
      }
      case Mode.Divergence: {
        const e = skipValue(s, p);
        if (e > 0) {
          if (key === 'cosine') this.divCosine = numberValue(s, p, e);
          else if (key === 'max_abs') this.divMaxAbs = numberValue(s, p, e);
        }
        return e;
      }
      case Mode.Denoise: {
        const e = skipValue(s, p);
        if (e > 0 && key === 'steps_used') this.stepsUsed = numberValue(s, p, e);
        return e;
      }
    }
  }
}
