/**
 * Python-compatible canonical JSON (spec §4.3): exactly what
 * `json.dumps(obj, sort_keys=True, separators=(",", ":"))` prints in CPython 3, with its
 * defaults `ensure_ascii=True` and `allow_nan=True`.
 *
 * - Keys sorted by Unicode code point (Python compares `str` by code point; JavaScript's
 *   default order is by UTF-16 code unit, which differs for astral characters).
 * - Strings: `"` and `\` backslash-escaped; `\n \r \t \b \f` by name; every other code unit
 *   outside 0x20..0x7e (control characters, DEL, all non-ASCII) as lowercase `\uXXXX`, astral
 *   characters as their UTF-16 surrogate pair. `/` is not escaped.
 * - Integers keep their digits, whatever their size. Floats print as Python's `repr`
 *   (shortest round-trip digits; scientific notation when the decimal exponent is < -4 or
 *   >= 16, with at least two exponent digits; `.0` added to a whole number); non-finite
 *   values as `NaN`, `Infinity`, `-Infinity`.
 *
 * Whether a number is an int or a float is decided from its token as written (`1.0` and `1`
 * differ; `JSON.parse` loses that), so text read from a file goes through `parseLossless`,
 * which keeps every number's token in a `NumberToken`.
 */

/** A JSON number kept as the token it was written as. Duck-compatible with lossless-json's `LosslessNumber`. */
export class NumberToken {
  constructor(readonly value: string) {}
  get isLosslessNumber(): true {
    return true;
  }
  valueOf(): number {
    return Number(this.value);
  }
  toString(): string {
    return this.value;
  }
  toJSON(): number {
    return Number(this.value);
  }
}

export type JsonValue = null | boolean | string | NumberToken | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

/** Anything with a number's token text: ours or lossless-json's `LosslessNumber`. */
interface LosslessLike {
  isLosslessNumber: true;
  value: string;
}

function isLosslessLike(v: object): v is LosslessLike {
  return (v as { isLosslessNumber?: unknown }).isLosslessNumber === true && typeof (v as { value?: unknown }).value === 'string';
}

// ---------------------------------------------------------------------------------------------
// Numbers

function pad2(n: number): string {
  return n < 10 ? '0' + n : String(n);
}

/**
 * Python's `repr(float)`. JavaScript's `Number#toExponential()` (no argument) yields the same
 * shortest round-trip digits as CPython's repr (V8 uses the shortest digits closest to the
 * value, like David Gay's mode 0); only the layout differs: Python uses fixed notation when
 * the decimal exponent is in [-4, 16), adding `.0` to a whole number, and scientific notation
 * with a signed, at least two-digit exponent otherwise. (`toExponential` is also about twice as
 * fast as `String(x)` in V8, which matters on the trace writer's path.)
 */
export function pyFloatRepr(x: number): string {
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  if (x !== x) return 'NaN';
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  const s = x.toExponential(); // "-d.ddde-7", "de+16"
  const e = s.indexOf('e');
  const neg = s.charCodeAt(0) === 45;
  const d0 = neg ? 1 : 0;
  // The significant digits without the point, and the decimal exponent of the first one.
  const digits = e - d0 > 1 ? s[d0] + s.slice(d0 + 2, e) : s.slice(d0, e);
  const exp = +s.slice(e + 1);
  let out: string;
  if (exp >= -4 && exp < 16) {
    if (exp < 0) out = '0.' + ZEROS.slice(0, -exp - 1) + digits;
    else if (exp + 1 >= digits.length) out = digits + ZEROS.slice(0, exp + 1 - digits.length) + '.0';
    else out = digits.slice(0, exp + 1) + '.' + digits.slice(exp + 1);
  } else {
    out = (digits.length > 1 ? digits[0] + '.' + digits.slice(1) : digits) + (exp < 0 ? 'e-' : 'e+') + pad2(exp < 0 ? -exp : exp);
  }
  return neg ? '-' + out : out;
}

const ZEROS = '0000000000000000';

/**
 * The canonical text of a number token: a token without `.`, `e`, `E` is a Python int and keeps
 * its digits (`-0` is int zero, printed `0`); `NaN`/`Infinity`/`-Infinity` print as they are;
 * anything else is a float, parsed (correctly rounded, as Python does) and printed as its repr.
 */
export function canonicalNumberToken(token: string): string {
  if (token === 'NaN' || token === 'Infinity' || token === '-Infinity') return token;
  let isFloat = false;
  for (let i = 0; i < token.length; i++) {
    const c = token.charCodeAt(i);
    if (c === 46 /* . */ || c === 101 /* e */ || c === 69 /* E */) {
      isFloat = true;
      break;
    }
  }
  if (!isFloat) {
    // JSON integers have no leading zeros, so the digits are already Python's; int("-0") is 0.
    if (!/^-?(?:0|[1-9]\d*)$/.test(token)) throw new TypeError(`not a JSON number token: ${JSON.stringify(token)}`);
    return token === '-0' ? '0' : token;
  }
  const x = Number(token);
  if (Number.isNaN(x)) throw new TypeError(`not a JSON number token: ${JSON.stringify(token)}`);
  return pyFloatRepr(x);
}

// ---------------------------------------------------------------------------------------------
// Strings

const SAFE_STRING = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;
const HEX = '0123456789abcdef';

function escapeUnit(c: number): string {
  switch (c) {
    case 0x22:
      return '\\"';
    case 0x5c:
      return '\\\\';
    case 0x0a:
      return '\\n';
    case 0x0d:
      return '\\r';
    case 0x09:
      return '\\t';
    case 0x08:
      return '\\b';
    case 0x0c:
      return '\\f';
    default:
      return '\\u' + HEX[(c >> 12) & 15] + HEX[(c >> 8) & 15] + HEX[(c >> 4) & 15] + HEX[c & 15];
  }
}

/** A string as Python's `json.dumps` (ensure_ascii) prints it, quotes included. */
export function pyQuote(s: string): string {
  if (SAFE_STRING.test(s)) return '"' + s + '"';
  let out = '"';
  let last = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 && c <= 0x7e && c !== 0x22 && c !== 0x5c) continue;
    if (i > last) out += s.slice(last, i);
    // Iterating code units escapes an astral character as its surrogate pair, as Python does.
    out += escapeUnit(c);
    last = i + 1;
  }
  if (last < s.length) out += s.slice(last);
  return out + '"';
}

function isHigh(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff;
}

/** Compares two strings by Unicode code point, like Python's `str` ordering. */
export function compareCodePoints(a: string, b: string): number {
  const n = a.length < b.length ? a.length : b.length;
  for (let i = 0; i < n; i++) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(i);
    if (ca === cb) continue;
    if (ca < 0xd800 && cb < 0xd800) return ca - cb;
    // A surrogate is involved: compare whole code points. If the units before i form the start
    // of a pair (equal high surrogate in both), the pair begins at i - 1.
    const at = i > 0 && isHigh(a.charCodeAt(i - 1)) ? i - 1 : i;
    return (a.codePointAt(at) ?? 0) - (b.codePointAt(at) ?? 0);
  }
  return a.length - b.length;
}

const SURROGATE = /[\ud800-\udfff]/;

interface KeyInfo {
  quoted: string;
  surrogate: boolean;
}

/** Keys seen before, quoted: records repeat the same few dozen keys. Bounded. */
const keyCache = new Map<string, KeyInfo>();

function keyInfo(k: string): KeyInfo {
  let info = keyCache.get(k);
  if (info === undefined) {
    info = { quoted: pyQuote(k), surrogate: SURROGATE.test(k) };
    if (keyCache.size < 4096) keyCache.set(k, info);
  }
  return info;
}

function sortedKeys(o: object): string[] {
  const keys = Object.keys(o);
  if (keys.length < 2) return keys;
  // Fast path: already in order (records are built with sorted keys). Code-unit order is
  // code-point order unless a surrogate is involved.
  let prev = keys[0]!;
  if (keyInfo(prev).surrogate) return keys.sort(compareCodePoints);
  for (let i = 1; i < keys.length; i++) {
    const k = keys[i]!;
    if (!(prev < k) || keyInfo(k).surrogate) return keys.sort(compareCodePoints);
    prev = k;
  }
  return keys;
}

// ---------------------------------------------------------------------------------------------
// Serialization

/**
 * Trace fields whose numbers are floats in Python, whatever their value (see `canonicalizeJs`).
 * The rule applies to the whole subtree under such a key.
 */
export const TRACE_FLOAT_FIELDS: ReadonlySet<string> = new Set(['state', 'actions', 'latency', 'divergence', 'timestamp']);

const NO_FLOAT_FIELDS: ReadonlySet<string> = new Set();

function emit(v: unknown, float: boolean, floatKeys: ReadonlySet<string>): string {
  switch (typeof v) {
    case 'string':
      return pyQuote(v);
    case 'number':
      // See canonicalizeJs for the int/float rule for JS numbers.
      if (!float && Number.isSafeInteger(v) && !Object.is(v, -0)) return String(v);
      return pyFloatRepr(v);
    case 'bigint':
      return v.toString();
    case 'boolean':
      return v ? 'true' : 'false';
    case 'object': {
      if (v === null) return 'null';
      if (Array.isArray(v)) {
        const n = v.length;
        if (n === 0) return '[]';
        if (float && typeof v[0] === 'number') {
          // Fast path for float vectors (state, action rows).
          let out = '[' + pyFloatRepr(v[0]);
          let i = 1;
          for (; i < n; i++) {
            const x: unknown = v[i];
            if (typeof x !== 'number') break;
            out += ',' + pyFloatRepr(x);
          }
          if (i === n) return out + ']';
          for (; i < n; i++) out += ',' + emitItem(v[i], float, floatKeys);
          return out + ']';
        }
        let out = '[' + emitItem(v[0], float, floatKeys);
        for (let i = 1; i < n; i++) out += ',' + emitItem(v[i], float, floatKeys);
        return out + ']';
      }
      if (ArrayBuffer.isView(v) && !(v instanceof DataView)) {
        const arr = v as unknown as ArrayLike<number | bigint>;
        if (arr.length === 0) return '[]';
        let out = '[' + emit(arr[0], float, floatKeys);
        for (let i = 1; i < arr.length; i++) out += ',' + emit(arr[i], float, floatKeys);
        return out + ']';
      }
      if (isLosslessLike(v)) return canonicalNumberToken(v.value);
      const toJSON = (v as { toJSON?: unknown }).toJSON;
      if (typeof toJSON === 'function') return emit(toJSON.call(v), float, floatKeys);
      if (v instanceof Map || v instanceof Set) throw new TypeError('canonical JSON: Map and Set are not JSON values');
      const rec = v as Record<string, unknown>;
      let out = '{';
      let first = true;
      for (const k of sortedKeys(rec)) {
        const item = rec[k];
        if (item === undefined || typeof item === 'function' || typeof item === 'symbol') continue;
        out += (first ? '' : ',') + keyInfo(k).quoted + ':' + emit(item, float || floatKeys.has(k), floatKeys);
        first = false;
      }
      return out + '}';
    }
    default:
      // undefined, functions, symbols: like JSON.stringify inside arrays.
      return 'null';
  }
}

function emitItem(v: unknown, float: boolean, floatKeys: ReadonlySet<string>): string {
  return v === undefined || typeof v === 'function' || typeof v === 'symbol' ? 'null' : emit(v, float, floatKeys);
}

/**
 * Canonical JSON of a value parsed by `parseLossless` (numbers are `NumberToken`s, or
 * lossless-json `LosslessNumber`s): the number text comes from each token.
 * Plain JS numbers, if any, follow the rule of `canonicalizeJs` with no float fields.
 */
export function canonicalize(value: unknown): string {
  return emit(value, false, NO_FLOAT_FIELDS);
}

/**
 * Canonical JSON of a value built in JavaScript, where a number does not say whether it is an
 * int or a float. The rule:
 *
 *   - a `bigint` is an int; a `NumberToken`/`LosslessNumber` follows its token;
 *   - a JS `number` anywhere under a property named in `floatKeys` (default
 *     `TRACE_FLOAT_FIELDS`: state, actions, latency, divergence, timestamp) is a float, so `1`
 *     prints `1.0`, as it does for a Python server whose observations and actions are floats;
 *   - any other JS `number` is an int when it is a safe integer (seq, chunk_id, num_actions,
 *     action_dim, steps_used, steps_configured, schema_version, split, counts), a float otherwise.
 *
 * The writer writes exactly this text (plus the chain fields), so a reader that parses tokens
 * and canonicalizes gets the same bytes back, and so does Python.
 */
export function canonicalizeJs(value: unknown, floatKeys: ReadonlySet<string> = TRACE_FLOAT_FIELDS): string {
  return emit(value, false, floatKeys);
}

// ---------------------------------------------------------------------------------------------
// Parsing

export class JsonSyntaxError extends SyntaxError {
  /** 0-based offset in the text (UTF-16 units). */
  readonly position: number;
  constructor(message: string, position: number) {
    super(`${message} at column ${position + 1}`);
    this.name = 'JsonSyntaxError';
    this.position = position;
  }
}

class Parser {
  pos = 0;
  constructor(readonly s: string) {}

  fail(what: string): never {
    const got = this.pos < this.s.length ? JSON.stringify(this.s[this.pos]) : 'end of text';
    throw new JsonSyntaxError(`${what}, got ${got}`, this.pos);
  }

  ws(): void {
    const s = this.s;
    let p = this.pos;
    for (;;) {
      const c = s.charCodeAt(p);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) p++;
      else break;
    }
    this.pos = p;
  }

  value(): JsonValue {
    const s = this.s;
    const c = s.charCodeAt(this.pos);
    switch (c) {
      case 0x22 /* " */:
        return this.string();
      case 0x7b /* { */:
        return this.object();
      case 0x5b /* [ */:
        return this.array();
      case 0x74 /* t */:
        return this.literal('true', true);
      case 0x66 /* f */:
        return this.literal('false', false);
      case 0x6e /* n */:
        return this.literal('null', null);
      case 0x4e /* N */:
        return this.literal('NaN', new NumberToken('NaN'));
      case 0x49 /* I */:
        return this.literal('Infinity', new NumberToken('Infinity'));
      default:
        if (c === 0x2d /* - */ || (c >= 0x30 && c <= 0x39)) return this.number();
        return this.fail('expected a JSON value');
    }
  }

  literal<T>(word: string, v: T): T {
    if (!this.s.startsWith(word, this.pos)) this.fail(`expected ${word}`);
    this.pos += word.length;
    return v;
  }

  number(): NumberToken {
    const s = this.s;
    const start = this.pos;
    let p = start;
    if (s.charCodeAt(p) === 0x2d) {
      p++;
      if (s.startsWith('Infinity', p)) {
        this.pos = p + 8;
        return new NumberToken('-Infinity');
      }
    }
    let c = s.charCodeAt(p);
    if (c === 0x30) p++;
    else if (c >= 0x31 && c <= 0x39) {
      do p++;
      while ((c = s.charCodeAt(p)) >= 0x30 && c <= 0x39);
    } else {
      this.pos = p;
      this.fail('expected a digit');
    }
    if (s.charCodeAt(p) === 0x2e) {
      p++;
      c = s.charCodeAt(p);
      if (!(c >= 0x30 && c <= 0x39)) {
        this.pos = p;
        this.fail('expected a digit after the decimal point');
      }
      do p++;
      while ((c = s.charCodeAt(p)) >= 0x30 && c <= 0x39);
    }
    c = s.charCodeAt(p);
    if (c === 0x65 || c === 0x45) {
      p++;
      c = s.charCodeAt(p);
      if (c === 0x2b || c === 0x2d) p++;
      c = s.charCodeAt(p);
      if (!(c >= 0x30 && c <= 0x39)) {
        this.pos = p;
        this.fail('expected a digit in the exponent');
      }
      do p++;
      while ((c = s.charCodeAt(p)) >= 0x30 && c <= 0x39);
    }
    this.pos = p;
    return new NumberToken(s.slice(start, p));
  }

  string(): string {
    const s = this.s;
    let p = this.pos + 1;
    let out = '';
    let chunk = p;
    for (;;) {
      const c = s.charCodeAt(p);
      if (c === 0x22) {
        out += s.slice(chunk, p);
        this.pos = p + 1;
        return out;
      }
      if (c === 0x5c) {
        out += s.slice(chunk, p);
        const e = s.charCodeAt(p + 1);
        switch (e) {
          case 0x22:
            out += '"';
            break;
          case 0x5c:
            out += '\\';
            break;
          case 0x2f:
            out += '/';
            break;
          case 0x62:
            out += '\b';
            break;
          case 0x66:
            out += '\f';
            break;
          case 0x6e:
            out += '\n';
            break;
          case 0x72:
            out += '\r';
            break;
          case 0x74:
            out += '\t';
            break;
          case 0x75: {
            const hex = s.slice(p + 2, p + 6);
            if (!/^[0-9a-fA-F]{4}$/.test(hex)) {
              this.pos = p;
              this.fail('invalid \\u escape');
            }
            out += String.fromCharCode(parseInt(hex, 16));
            p += 4;
            break;
          }
          default:
            this.pos = p;
            this.fail('invalid escape');
        }
        p += 2;
        chunk = p;
        continue;
      }
      if (c < 0x20 || Number.isNaN(c)) {
        this.pos = p;
        this.fail(Number.isNaN(c) ? 'unterminated string' : 'control character in string');
      }
      p++;
    }
  }

  array(): JsonValue[] {
    this.pos++;
    const out: JsonValue[] = [];
    this.ws();
    if (this.s.charCodeAt(this.pos) === 0x5d) {
      this.pos++;
      return out;
    }
    for (;;) {
      this.ws();
      out.push(this.value());
      this.ws();
      const c = this.s.charCodeAt(this.pos);
      if (c === 0x2c) {
        this.pos++;
        continue;
      }
      if (c === 0x5d) {
        this.pos++;
        return out;
      }
      this.fail("expected ',' or ']'");
    }
  }

  object(): JsonObject {
    this.pos++;
    const out: JsonObject = {};
    this.ws();
    if (this.s.charCodeAt(this.pos) === 0x7d) {
      this.pos++;
      return out;
    }
    for (;;) {
      this.ws();
      if (this.s.charCodeAt(this.pos) !== 0x22) this.fail('expected a property name in double quotes');
      const key = this.string();
      this.ws();
      if (this.s.charCodeAt(this.pos) !== 0x3a) this.fail("expected ':'");
      this.pos++;
      this.ws();
      const v = this.value();
      // Like Python's dict, a repeated key keeps the last value. Never let "__proto__" reach the prototype.
      if (key === '__proto__') Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
      else out[key] = v;
      this.ws();
      const c = this.s.charCodeAt(this.pos);
      if (c === 0x2c) {
        this.pos++;
        continue;
      }
      if (c === 0x7d) {
        this.pos++;
        return out;
      }
      this.fail("expected ',' or '}'");
    }
  }
}

/**
 * Parses JSON as Python's `json.loads` does (NaN, Infinity and -Infinity accepted), keeping every
 * number as a `NumberToken` with its text. Throws `JsonSyntaxError` with the column.
 */
export function parseLossless(text: string): JsonValue {
  const p = new Parser(text);
  p.ws();
  const v = p.value();
  p.ws();
  if (p.pos !== text.length) p.fail('unexpected text after the JSON value');
  return v;
}

/** A parsed value with every `NumberToken` turned into a JS number (precision beyond 2^53 is lost). */
export function toPlain(v: JsonValue): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (v instanceof NumberToken) return Number(v.value);
  if (Array.isArray(v)) return v.map(toPlain);
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v)) {
    const item = toPlain(v[k]!);
    if (k === '__proto__') Object.defineProperty(out, k, { value: item, enumerable: true, writable: true, configurable: true });
    else out[k] = item;
  }
  return out;
}
