import { describe, expect, it } from 'vitest';
import { canonicalizeJs, NumberToken } from '../trace/canonical-json.js';
import { chainHash, GENESIS_HASH, sealRecord } from '../trace/chain.js';
import { parseTraceLine } from '../trace/trace-reader.js';
import { found, ownTail, sortedCompactBytes } from './byte-chain.js';
import { ByteRecord, compactRecord } from './record-bytes.js';
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

describe('compactRecord', () => {
  const out = new Uint8Array(1 << 17);
  const rec = new ByteRecord();
  const scan = new RecordScanner();

  it('builds the text sortedCompactBytes builds, and reads the fields RecordScanner reads, for random reference-format lines', () => {
    const r = rng(17);
    const ref = new Uint8Array(1 << 17);
    let checked = 0;
    for (let i = 0; i < 1500; i++) {
      const x = randomRecord(r);
      const prev = (i % 16).toString(16).repeat(64);
      const line = pyLine(x, { record_hash: 'b'.repeat(64), prev_record_hash: prev });
      const b = bytes('xx' + line + '\nyy');
      const len = compactRecord(b, 2, 2 + line.length, out, rec);
      expect(len, line).toBeGreaterThan(0);
      expect(found.prev).toBe(2 + line.indexOf(prev));
      expect(text(out, 0, 64)).toBe(prev);
      expect(text(out, 64, len), line).toBe(canonicalizeJs(x));
      const want = sortedCompactBytes(b, 2, 2 + line.length, ref);
      expect(text(out, 0, len)).toBe(text(ref, 0, want));
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
      const len = compactRecord(b, 0, line.length, out, rec);
      expect(text(out, 0, len), line).toBe(text(ref, 0, ownTail(b, 0, line.length, ref)));
      expect(found.stored).toBe(line.length - 66);
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
    ]) {
      expect(compactRecord(bytes(bad), 0, bad.length, out, rec), bad).toBe(-1);
    }
  });

  it('a hashed text that verifies: the chain hash of a reference line over the built text is its record_hash', () => {
    const x = { kind: 'request', seq: 1, routing: { slot: 'b', policy: 'p' }, latency: { total_ms: 2.5 }, request: { episode_id: 'ep-1', state: [0.5, -1e-7] } };
    const hash = chainHash(GENESIS_HASH, canonicalizeJs(x));
    const line = pyLine(x, { prev_record_hash: GENESIS_HASH, record_hash: hash });
    const len = compactRecord(bytes(line), 0, line.length, out, rec);
    expect(chainHash(text(out, 0, 64), text(out, 64, len))).toBe(hash);
    expect(fieldsOf(rec)).toMatchObject({ kind: 'request', seq: 1, slot: 'b', latencyMs: 2.5, episodeId: 'ep-1' });
  });
});
