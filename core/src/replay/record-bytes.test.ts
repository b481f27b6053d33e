import { beforeAll, describe, expect, it } from 'vitest';
import { canonicalizeJs, NumberToken } from '../trace/canonical-json.js';
import { chainHash, GENESIS_HASH, sealRecord } from '../trace/chain.js';
import { parseTraceLine } from '../trace/trace-reader.js';
import { found, ownTail, sortedCompactBytes } from './byte-chain.js';
import { ByteRecord, compactRecord } from './record-bytes.js';
import { loadRecordCompactModule, WasmCompactor } from './record-wasm.js';
import { RecordScanner } from './record-scan.js';
import { rng } from '../../test-support/replay-fixtures.js';

/** Python's default `json.dumps`: ", " and ": ", keys in the writer's order (here reversed). */
function pyLine(rec: Record<string, unknown>, chain: Record<string, string> = {}): string {
  const dump = (v: unknown): string => {
    if (v instanceof NumberToken) return v.value;
    if (Array.isArray(v)) return '[' + v.map(dump).join(', ') + ']';
    if (v !== null && typeof v === 'object') return '{' + Object.entries(v).reverse().map(([k, x]) => `${JSON.stringify(k)}: ${dump(x)}`).join(', ') + '}';
    return JSON.stringify(v);
  };
  return dump({ ...parseTraceLine(canonicalizeJs(rec)), ...chain });
}

const bytes = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));
const text = (out: Uint8Array, from: number, len: number) => Buffer.from(out.buffer, out.byteOffset, len).toString('latin1', from);

function fieldsOf(r: ByteRecord | RecordScanner) {
  return {
    kind: r.kind,
    seq: r.seq,
    timestamp: r.timestamp,
    schemaVersion: r.schemaVersion,
    slot: r.slot,
    degraded: r.degraded,
    episodeId: r.episodeId,
    latencyMs: r.latencyMs,
    cache: r.cache,
    error: r.error,
    hasResponse: r.hasResponse,
    divCosine: r.divCosine,
    divMaxAbs: r.divMaxAbs,
    hasDivergence: r.hasDivergence,
  };
}

/** Random records: the summary's fields (of every type, sometimes absent), nesting, awkward strings. */
function randomRecord(r: () => number): Record<string, unknown> {
  const pick = <T,>(xs: T[]): T => xs[Math.floor(r() * xs.length)]!;
  const strs = ['a', ']', '}', '{', '[', '"', '\\', 'x"y', '', 'seq', '"slot": "a"', ', ', ': ', 'a b'];
  // Keys without escapes (an escaped key goes the string way, tested below).
  const keys = ['a', ']', '}', '{', '[', '', 'seq', 'slot', ', ', ': ', 'a b', 'Z', 'kind'];
  const value = (depth: number): unknown => {
    const t = r();
    if (depth > 3 || t < 0.3) return pick([1, -2.5, 1e-7, 0, 123456.789, true, false, null, pick(strs)]);
    if (t < 0.6) return Array.from({ length: Math.floor(r() * 4) }, () => value(depth + 1));
    return Object.fromEntries(Array.from({ length: Math.floor(r() * 4) }, (_, i) => [pick(keys) + i, value(depth + 1)]));
  };
  const fields: [string, () => unknown][] = [
    ['kind', () => pick(['request', 'shadow_result', 'header', 'x', 3, null])],
    ['seq', () => pick([Math.floor(r() * 1e6), 'seven', null, -4])],
    ['timestamp', () => pick([Math.round(r() * 2e12) / 1000, 1.5e9, 0.1])],
    ['schema_version', () => pick([1, 2, '1'])],
    ['routing', () => pick([{ junk: value(1), slot: pick(['a', 'b', 'prod', 'shadow', ']', 4]), degraded: pick([true, false, null]) }, 'x', null])],
    ['request', () => ({ state: [r(), value(2)], episode_id: pick([pick(strs) + Math.floor(r() * 5), 12, null]), instruction: 'pick up, then: place' })],
    ['latency', () => pick([{ stages: value(1), total_ms: pick([r() * 10, '3', null]) }, [1, 2]])],
    ['cache', () => pick([{ status: pick(['hit', 'miss', null, 'other', 1, { a: 1 }, []]) }, null])],
    ['error', () => pick([null, { code: 'E' }, 'boom', 0, []])],
    ['divergence', () => pick([null, { cosine: r(), max_abs: r() }, { cosine: 'x' }, 5])],
    ['response', () => pick([null, value(0)])],
    ['unknown', () => value(0)],
  ];
  const rec: Record<string, unknown> = {};
  for (const [k, f] of fields) if (r() < 0.85) rec[k] = f();
  return rec;
}

/**
 * One line's hashed text the two ways: `compactRecord` (JavaScript) and the WebAssembly loop
 * (`record-compact.wat` + `compactFromTape`), which must agree byte for byte, field for field.
 * Each returns the text (previous hash, then the body) and the stored hash, or null when refused.
 */
type Build = (b: Uint8Array, s: number, e: number, rec: ByteRecord) => { text: string; stored: string } | null;

const jsOut = new Uint8Array(1 << 17);
const buildJs: Build = (b, s, e, rec) => {
  const len = compactRecord(b, s, e, jsOut, rec);
  if (len < 0) return null;
  return { text: text(jsOut, 0, len), stored: Buffer.from(b.subarray(found.stored, found.stored + 64)).toString('latin1') };
};

let wasm: WasmCompactor | null = null;
const buildWasm: Build = (b, s, e, rec) => {
  // The block is copied in as the summary pass copies it (a whole block, then its lines).
  expect(wasm!.load(b)).toBe(true);
  const len = wasm!.compact(s, e, rec);
  if (len < 0) return null;
  return { text: text(wasm!.heap, wasm!.out, wasm!.out + len), stored: text(wasm!.heap, found.stored, found.stored + 64) };
};

beforeAll(async () => {
  // wabt is a development dependency: in a checkout the loop must load (no silent fallback here).
  const mod = await loadRecordCompactModule();
  expect(mod, 'record-compact.wat did not assemble').not.toBeNull();
  wasm = new WasmCompactor(mod!);
});

describe.each([
  ['compactRecord (JavaScript)', buildJs],
  ['the WebAssembly loop', buildWasm],
] as const)('%s', (_name, build) => {
  const rec = new ByteRecord();
  const scan = new RecordScanner();

  it('builds the text sortedCompactBytes builds, and reads the fields RecordScanner reads, for random reference-format lines', () => {
    const r = rng(17);
    const ref = new Uint8Array(1 << 17);
    let checked = 0;
    for (let i = 0; i < 1500; i++) {
      const x = randomRecord(r);
      const prev = (i % 16).toString(16).repeat(64);
      const stored = (i % 7).toString(16).repeat(64);
      const line = pyLine(x, { record_hash: stored, prev_record_hash: prev });
      const b = bytes('xx' + line + '\nyy');
      const got = build(b, 2, 2 + line.length, rec);
      expect(got, line).not.toBeNull();
      expect(got!.text.slice(0, 64)).toBe(prev);
      expect(got!.stored).toBe(stored);
      expect(got!.text.slice(64), line).toBe(canonicalizeJs(x));
      const want = sortedCompactBytes(b, 2, 2 + line.length, ref);
      expect(got!.text).toBe(text(ref, 0, want));
      expect(scan.scan(line)).toBe(true);
      expect(fieldsOf(rec), line).toEqual(fieldsOf(scan));
      checked++;
    }
    expect(checked).toBe(1500);
  });

  it("Switchyard's own lines: the same text as ownTail, the same fields as RecordScanner", () => {
    const r = rng(4);
    const ref = new Uint8Array(1 << 17);
    let prev = GENESIS_HASH;
    for (let i = 0; i < 500; i++) {
      const s = sealRecord(prev, canonicalizeJs(randomRecord(r)));
      prev = s.hash;
      const line = s.line.trimEnd();
      const b = bytes(line);
      const got = build(b, 0, line.length, rec);
      expect(got?.text, line).toBe(text(ref, 0, ownTail(b, 0, line.length, ref)));
      expect(got!.stored).toBe(s.hash);
      scan.scan(line);
      expect(fieldsOf(rec), line).toEqual(fieldsOf(scan));
    }
  });

  it('refuses what it cannot handle plainly, so the line goes the string way', () => {
    const p = 'a'.repeat(64);
    const h = 'b'.repeat(64);
    const tail = `"prev_record_hash": "${p}", "record_hash": "${h}"`;
    for (const bad of [
      `{"k\\u0041": 1, ${tail}}`,
      `{"k": 1, "k": 2, ${tail}}`,
      `{"kind": "request", "kind": "request", ${tail}}`,
      `{"routing": {"slot": "a", "slot": "b"}, ${tail}}`,
      `{"k": [1 2], ${tail}}`,
      `{"k": 1 2, ${tail}}`,
      `{"k": [1, 2, ${tail}}`,
      `{"k": [1, 2,], ${tail}}`,
      `{"k": 1, ${tail},}`,
      `{"k": 1, ${tail}} x`,
      `{"k": 1, ${tail}}{}`,
      `{"k": 1, "prev_record_hash": "short", "record_hash": "${h}"}`,
      `{"k": 1, "prev_record_hash": "${p.slice(1)}\\"", "record_hash": "${h}"}`,
      `{"k": 1, "record_hash": "${h}"}`,
      `{"k": 1, ${tail}, "record_hash": "${h}"}`,
      `{"k`,
      `{"k": 1, ${tail}, "unterminated`,
      `{"k" 1, ${tail}}`,
      `{"k": 1 ${tail}}`,
      `[1, ${tail}]`,
      `"x"`,
      `{"k": {"a": 1]}, ${tail}}`,
      `{"k": "\u0001", "\u0002": 1, ${tail}}`,
      `{"k": [{"a": 1,}], ${tail}}`,
      `{"k": [{"a": 1, "a": 2}], ${tail}}`,
      `${'['.repeat(70)}${']'.repeat(70)}`,
      `{"k": ${'['.repeat(70)}${']'.repeat(70)}, ${tail}}`,
    ]) {
      expect(build(bytes(bad), 0, bad.length, rec), bad).toBeNull();
    }
  });

  it('a line cut short inside the block (a narrower end than the line) is refused, not read past', () => {
    const x = { kind: 'request', seq: 12345, request: { state: [1, 2, 3] } };
    const line = pyLine(x, { prev_record_hash: GENESIS_HASH, record_hash: 'c'.repeat(64) });
    const b = bytes(line + '\n');
    const cut = line.indexOf('12345') + 3; // inside a number
    expect(build(b, 0, cut, rec)).toBeNull();
    expect(build(b, 0, line.indexOf('3]') + 1, rec)).toBeNull(); // inside an array of numbers
  });

  it('a hashed text that verifies: the chain hash of a reference line over the built text is its record_hash', () => {
    const x = { kind: 'request', seq: 1, routing: { slot: 'b', policy: 'p' }, latency: { total_ms: 2.5 }, request: { episode_id: 'ep-1', state: [0.5, -1e-7] } };
    const hash = chainHash(GENESIS_HASH, canonicalizeJs(x));
    const line = pyLine(x, { prev_record_hash: GENESIS_HASH, record_hash: hash });
    const got = build(bytes(line), 0, line.length, rec);
    expect(chainHash(got!.text.slice(0, 64), got!.text.slice(64))).toBe(hash);
    expect(got!.stored).toBe(hash);
    expect(fieldsOf(rec)).toMatchObject({ kind: 'request', seq: 1, slot: 'b', latencyMs: 2.5, episodeId: 'ep-1' });
  });
});

describe('the WebAssembly loop\'s memory', () => {
  it('a block it cannot hold is refused as a whole (the caller reads it the JavaScript way), and the next one loads', async () => {
    const mod = await loadRecordCompactModule();
    const small = new WasmCompactor(mod!, 8 << 20);
    const x = { kind: 'request', seq: 1, request: { state: [1, 2] } };
    const line = pyLine(x, { prev_record_hash: GENESIS_HASH, record_hash: chainHash(GENESIS_HASH, canonicalizeJs(x)) });
    const rec = new ByteRecord();
    expect(small.load(bytes(line + '\n'))).toBe(true);
    expect(small.compact(0, line.length, rec)).toBeGreaterThan(0);
    // A 4 MiB block needs about 13 MiB here: over the limit, nothing loaded, every line refused.
    const big = bytes(line + '\n' + ' '.repeat(4 << 20) + '\n');
    expect(small.load(big)).toBe(false);
    expect(small.compact(0, line.length, rec)).toBe(-1);
    expect(small.load(bytes(line + '\n'))).toBe(true);
    expect(small.compact(0, line.length, rec)).toBeGreaterThan(0);
    expect(rec.kind).toBe('request');
  });
});

describe('both loops on damaged lines', () => {
  it('bytes inserted, deleted or replaced at random: the two loops refuse the same lines and build the same text and fields for the rest', () => {
    const r = rng(23);
    const recJs = new ByteRecord();
    const recWasm = new ByteRecord();
    // The bytes a damaged line is likeliest to trip on: structure, quotes, escapes, spaces, digits.
    const alphabet = '{}[]:," \\\t0123456789.-eEtrufalsn' + 'az';
    let accepted = 0;
    let refused = 0;
    for (let i = 0; i < 3000; i++) {
      const x = randomRecord(r);
      const prev = (i % 16).toString(16).repeat(64);
      let line = pyLine(x, { record_hash: 'e'.repeat(64), prev_record_hash: prev });
      for (let k = 0, edits = 1 + Math.floor(r() * 3); k < edits; k++) {
        const at = Math.floor(r() * (line.length + 1));
        const ch = alphabet[Math.floor(r() * alphabet.length)]!;
        const op = r();
        line = op < 0.4 ? line.slice(0, at) + ch + line.slice(at) : op < 0.7 ? line.slice(0, at) + line.slice(at + 1) : line.slice(0, at) + ch + line.slice(at + 1);
      }
      const b = bytes(line + '\n');
      const js = buildJs(b, 0, line.length, recJs);
      const wa = buildWasm(b, 0, line.length, recWasm);
      expect(wa, line).toEqual(js);
      if (js) {
        expect(fieldsOf(recWasm), line).toEqual(fieldsOf(recJs));
        accepted++;
      } else refused++;
    }
    // Both kinds happened (the damage is not all fatal, nor all harmless).
    expect(accepted).toBeGreaterThan(300);
    expect(refused).toBeGreaterThan(300);
  });
});
