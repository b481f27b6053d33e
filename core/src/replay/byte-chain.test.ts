import { describe, expect, it } from 'vitest';
import { canonicalizeJs, NumberToken } from '../trace/canonical-json.js';
import { parseTraceLine } from '../trace/trace-reader.js';
import { chainHash, GENESIS_HASH, sealRecord } from '../trace/chain.js';
import { ownTail, sortedCompactBytes } from './byte-chain.js';
import { FastChain, sortedCompact, type ChainLocation } from './fast-chain.js';
import { rng } from '../../test-support/replay-fixtures.js';

/**
 * A line as Python's default `json.dumps` writes a record: ", " and ": ", keys in the writer's own
 * order (here reversed), numbers exactly as the canonical text has them (a Python writer prints a
 * number the same way with or without `sort_keys`).
 */
function pyLine(rec: Record<string, unknown>, chain: Record<string, string> = {}): string {
  const dump = (v: unknown): string => {
    if (v instanceof NumberToken) return v.value;
    if (Array.isArray(v)) return '[' + v.map(dump).join(', ') + ']';
    if (v !== null && typeof v === 'object') return '{' + Object.entries(v).reverse().map(([k, x]) => `${JSON.stringify(k)}: ${dump(x)}`).join(', ') + '}';
    return JSON.stringify(v);
  };
  return dump({ ...parseTraceLine(canonicalizeJs(rec)), ...chain });
}

function bytes(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, 'latin1'));
}

function text(out: Uint8Array, len: number): string {
  return Buffer.from(out.buffer, out.byteOffset, len).toString('latin1');
}

/** Random records with nesting, arrays of numbers and strings with escapes, keys in random order. */
function randomRecord(r: () => number, depth = 0): Record<string, unknown> {
  const keys = ['kind', 'seq', 'a', 'b_c', 'zeta', 'Z', 'state', 'nested', 'x y', 'list', 'empty', 'e'];
  const rec: Record<string, unknown> = {};
  const n = 1 + Math.floor(r() * 8);
  for (let i = 0; i < n; i++) {
    const k = keys[Math.floor(r() * keys.length)]!;
    const t = r();
    rec[k] =
      t < 0.2 ? Math.round((r() - 0.5) * 1e6) / 1e3
      : t < 0.35 ? Array.from({ length: Math.floor(r() * 5) }, () => Array.from({ length: 3 }, () => Math.round(r() * 1e4) / 1e2 - 50))
      : t < 0.5 ? `s "q" \\ ${Math.floor(r() * 100)} , : [ { ] }`
      : t < 0.6 ? null
      : t < 0.7 ? r() < 0.5
      : t < 0.8 && depth < 3 ? randomRecord(r, depth + 1)
      : t < 0.9 ? [1, 'two', { three: 3 }, [], {}]
      : {};
  }
  return rec;
}

describe('sortedCompactBytes', () => {
  it('builds the same text as the string scan for random reference-format lines', () => {
    const r = rng(11);
    const out = new Uint8Array(1 << 16);
    const loc: ChainLocation = { prev: '', stored: '', body: '' };
    for (let i = 0; i < 500; i++) {
      const rec = randomRecord(r);
      const prev = 'a'.repeat(64);
      const line = pyLine(rec, { record_hash: 'b'.repeat(64), prev_record_hash: prev });
      const b = bytes('xx' + line + 'yy');
      const len = sortedCompactBytes(b, 2, 2 + line.length, out);
      expect(len, line).toBeGreaterThan(0);
      expect(text(out, 64)).toBe(prev);
      expect(text(out, len).slice(64)).toBe(sortedCompact(line, loc)!.body);
      expect(text(out, len).slice(64)).toBe(canonicalizeJs(rec));
    }
  });

  it('refuses what it cannot handle plainly: escaped or duplicate keys, bad syntax, short chain values, missing chain fields', () => {
    const out = new Uint8Array(4096);
    const p = 'a'.repeat(64);
    const h = 'b'.repeat(64);
    const tail = `"prev_record_hash": "${p}", "record_hash": "${h}"`;
    for (const bad of [
      `{"k\\u0041": 1, ${tail}}`,
      `{"k": 1, "k": 2, ${tail}}`,
      `{"k": [1 2], ${tail}}`,
      `{"k": [1, 2, ${tail}}`,
      `{"k": 1, ${tail}} x`,
      `{"k": 1, "prev_record_hash": "short", "record_hash": "${h}"}`,
      `{"k": 1, "record_hash": "${h}"}`,
      `{"k`,
      `{"k": 1, ${tail}, "unterminated`,
      `{"k" 1, ${tail}}`,
    ]) {
      expect(sortedCompactBytes(bytes(bad), 0, bad.length, out), bad).toBe(-1);
    }
  });

  it('ownTail takes the TraceWriter layout only', () => {
    const out = new Uint8Array(4096);
    const { line } = sealRecord(GENESIS_HASH, canonicalizeJs({ kind: 'request', seq: 1 }));
    const l = line.trimEnd();
    const len = ownTail(bytes(l), 0, l.length, out);
    expect(text(out, len)).toBe(GENESIS_HASH + '{"kind":"request","seq":1}');
    const spaced = pyLine(JSON.parse(l) as Record<string, unknown>);
    expect(ownTail(bytes(spaced), 0, spaced.length, out)).toBe(-1);
  });
});

describe('FastChain.checkBytes', () => {
  const r = rng(3);
  const recs = Array.from({ length: 60 }, (_, i) => ({ kind: 'request', seq: i + 1, latency: { total_ms: 0.5 + i }, request: { state: [i * 0.1, -1], episode_id: `ep-${i % 4}` }, extra: randomRecord(r) }));

  function own(): string[] {
    let prev = GENESIS_HASH;
    return recs.map((x) => {
      const s = sealRecord(prev, canonicalizeJs(x));
      prev = s.hash;
      return s.line.trimEnd();
    });
  }
  function reference(): string[] {
    let prev = GENESIS_HASH;
    return recs.map((x) => {
      const hash = chainHash(prev, canonicalizeJs(x));
      const line = pyLine(x, { prev_record_hash: prev, record_hash: hash });
      prev = hash;
      return line;
    });
  }
  /** Each line checked through its bytes, inside a larger buffer as in a block of a file. */
  function run(lines: string[], opts: { trustFirstPrev?: boolean } = {}): FastChain {
    const c = new FastChain(opts);
    const buf = bytes(lines.join('\n') + '\n');
    let s = 0;
    lines.forEach((l, i) => {
      if (c.active) c.checkBytes(buf, s, s + l.length, l, true, i, i + 1);
      s += l.length + 1;
    });
    return c;
  }
  function runText(lines: string[]): FastChain {
    const c = new FastChain();
    lines.forEach((l, i) => c.active && c.check(l, true, i, i + 1));
    return c;
  }

  it('verifies both formats on the byte path, audits included, as the text check does', () => {
    for (const lines of [own(), reference()]) {
      const c = run(lines);
      expect(c.integrity).toMatchObject({ status: 'verified', checked: 60, fastPath: 60, exactPath: 0, audited: 16 });
      expect(c.lastHash).toBe(runText(lines).lastHash);
    }
  });

  it('reports tampering, deletion and reordering at the same record and with the same reason as the text check', () => {
    for (const make of [own, reference]) {
      const base = make();
      const cases: string[][] = [];
      const edited = [...base];
      edited[37] = edited[37]!.replace(/"seq": ?38/, (m) => m.replace('38', '39'));
      cases.push(edited);
      cases.push(base.filter((_, i) => i !== 21));
      const swapped = [...base];
      [swapped[40], swapped[41]] = [swapped[41]!, swapped[40]!];
      cases.push(swapped);
      const spaced = [...base];
      spaced[50] = spaced[50]!.replace(/"seq": ?51/, '"seq":  51 ');
      cases.push(spaced);
      for (const lines of cases) {
        const a = run(lines).integrity;
        const b = runText(lines).integrity;
        expect(a.status).toBe(b.status);
        expect(a.firstBroken).toEqual(b.firstBroken);
      }
      expect(run(cases[0]!).integrity.firstBroken).toMatchObject({ index: 37, kind: 'record_hash_mismatch' });
      expect(run(cases[1]!).integrity.firstBroken).toMatchObject({ index: 21, kind: 'prev_hash_mismatch' });
    }
  });

  it('a piece of a chain: firstPrev and lastHash as the text check gives them', () => {
    for (const lines of [own(), reference()]) {
      const c = run(lines.slice(10), { trustFirstPrev: true });
      expect(c.integrity.status).toBe('verified');
      expect(c.firstPrev).toBe(/"prev_record_hash": ?"([0-9a-f]{64})"/.exec(lines[10]!)![1]);
      expect(c.lastHash).toBe(/"record_hash": ?"([0-9a-f]{64})"/.exec(lines[59]!)![1]);
    }
  });
});
