import { describe, expect, it } from 'vitest';
import { canonicalizeJs } from '../trace/canonical-json.js';
import { chainHash, GENESIS_HASH, sealRecord } from '../trace/chain.js';
import { FastChain, locateChain, type ChainLocation } from './fast-chain.js';

function chainOf(records: Record<string, unknown>[]): string[] {
  let prev = GENESIS_HASH;
  return records.map((r) => {
    const s = sealRecord(prev, canonicalizeJs(r));
    prev = s.hash;
    return s.line.trimEnd();
  });
}

const recs = Array.from({ length: 40 }, (_, i) => ({ kind: 'request', seq: i + 1, latency: { total_ms: 0.5 + i }, request: { state: [i * 0.1, -1] } }));

function run(lines: string[], mode: 'fast' | 'full' = 'fast'): FastChain {
  const c = new FastChain({ mode });
  lines.forEach((l, i) => c.active && c.check(l, true, i, i + 1));
  return c;
}

describe('FastChain', () => {
  it('verifies TraceWriter lines by their text, and the same chain the exact way', () => {
    const lines = chainOf(recs);
    const fast = run(lines);
    expect(fast.integrity).toMatchObject({ status: 'verified', checked: 40, fastPath: 40, exactPath: 0, audited: 16 });
    expect(run(lines, 'full').integrity).toMatchObject({ status: 'verified', fastPath: 0, exactPath: 40 });
  });

  it('reports a changed number at its index even when the text stays compact', () => {
    const lines = chainOf(recs);
    lines[7] = lines[7]!.replace('"seq":8', '"seq":9');
    expect(run(lines).integrity.firstBroken).toMatchObject({ index: 7, kind: 'record_hash_mismatch' });
  });

  it('accepts a reformatted record whose canonical form is unchanged (as Python would)', () => {
    const lines = chainOf(recs);
    lines[3] = lines[3]!.replace('"seq":4', '"seq": 4').replace('"total_ms":3.5', '"total_ms":3.50');
    const c = run(lines);
    expect(c.integrity).toMatchObject({ status: 'verified', exactPath: 1, fastPath: 39 });
  });

  it('first record must name 64 zeros', () => {
    const lines = chainOf(recs).slice(1);
    expect(run(lines).integrity.firstBroken).toMatchObject({ index: 0, kind: 'prev_hash_mismatch' });
    expect(run(lines).integrity.firstBroken!.reason).toMatch(/must be 64 zeros/);
  });

  it('catches a writer that hashed non-canonical text (the audit), although every raw hash matches', () => {
    let prev = GENESIS_HASH;
    const lines = recs.map((r) => {
      const body = JSON.stringify(r); // 0.5 stays 0.5, but 1.0 would be printed 1: not Python's text for floats
      const hash = chainHash(prev, body);
      const line = body.slice(0, -1) + `,"prev_record_hash":"${prev}","record_hash":"${hash}"}`;
      prev = hash;
      return line;
    });
    const c = run(lines);
    // record 0: state [0, -1] is printed "[0,-1]" by JSON.stringify but "[0.0,-1.0]" canonically
    expect(c.integrity.firstBroken).toMatchObject({ index: 0, kind: 'non_canonical_writer' });
  });

  it('missing chain fields and bad JSON', () => {
    const lines = chainOf(recs);
    lines[2] = '{"kind":"request","seq":3}';
    expect(run(lines).integrity.firstBroken).toMatchObject({ index: 2, kind: 'missing_chain_fields' });
    const c = new FastChain();
    c.badLine(0, 1, 'nope');
    expect(c.integrity.firstBroken).toMatchObject({ index: 0, line: 1, kind: 'bad_json' });
  });

  it('trustFirstPrev checks a piece of a chain and tells where it starts', () => {
    const lines = chainOf(recs);
    const c = new FastChain({ trustFirstPrev: true });
    lines.slice(10).forEach((l, i) => c.check(l, true, i, i + 11));
    expect(c.integrity.status).toBe('verified');
    expect(c.firstPrev).toBe(/"prev_record_hash":"([0-9a-f]{64})"/.exec(lines[10]!)![1]);
    expect(c.lastHash).toBe(/"record_hash":"([0-9a-f]{64})"/.exec(lines[39]!)![1]);
  });
});

describe('locateChain', () => {
  const out: ChainLocation = { prev: '', stored: '', body: '' };
  const p = 'a'.repeat(64);
  const h = 'b'.repeat(64);
  it('the TraceWriter layout, the sorted (Python) layout, and a record of only chain fields', () => {
    expect(locateChain(`{"x":1,"prev_record_hash":"${p}","record_hash":"${h}"}`, out)).toEqual({ prev: p, stored: h, body: '{"x":1}' });
    expect(locateChain(`{"a":1,"prev_record_hash":"${p}","record_hash":"${h}","z":2}`, out)).toEqual({ prev: p, stored: h, body: '{"a":1,"z":2}' });
    expect(locateChain(`{"prev_record_hash":"${p}","record_hash":"${h}","z":2}`, out)?.body).toBe('{"z":2}');
    expect(locateChain(`{"prev_record_hash":"${p}","record_hash":"${h}"}`, out)?.body).toBe('{}');
    expect(locateChain(`{"record_hash":"${h}","x":1,"prev_record_hash":"${p}"}`, out)?.body).toBe('{"x":1}');
    expect(locateChain('{"x":1}', out)).toBeNull();
    expect(locateChain(`{"x":1,"prev_record_hash":"short","record_hash":"${h}"}`, out)).toBeNull();
  });
});

/** A line as the reference (Python) server writes it: `json.dumps(record)`, insertion order, ", " and ": ". */
function pyDumps(v: unknown): string {
  if (Array.isArray(v)) return '[' + v.map(pyDumps).join(', ') + ']';
  if (v !== null && typeof v === 'object') return '{' + Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}: ${pyDumps(x)}`).join(', ') + '}';
  return canonicalizeJs(v);
}

function referenceChain(records: Record<string, unknown>[]): string[] {
  let prev = GENESIS_HASH;
  return records.map((r) => {
    const hash = chainHash(prev, canonicalizeJs(r));
    // The reference writer puts the chain fields first and its own fields in its own order.
    const line = pyDumps({ prev_record_hash: prev, record_hash: hash, ...r });
    prev = hash;
    return line;
  });
}

describe('FastChain on the reference format', () => {
  const ref = Array.from({ length: 40 }, (_, i) => ({ seq: i + 1, kind: 'request', timestamp: 1796000000.25 + i, request: { state: [i * 0.1 + 0.05, -1.25], episode_id: `ep-${i % 3}` }, latency: { total_ms: 0.5 + i, stages: { infer_ms: 0.125 } }, evidence: { kind: 'tether.rollout_evidence', schema_version: 1, outcome: { status: 'success', error_slug: null } } }));

  it('verifies spaced, reordered lines without parsing them (sorted compact text), audits included', () => {
    const lines = referenceChain(ref);
    expect(lines[0]).toMatch(/^\{"prev_record_hash": "0{64}", "record_hash": "[0-9a-f]{64}", "seq": 1, "kind": "request"/);
    const c = run(lines);
    expect(c.integrity).toMatchObject({ status: 'verified', checked: 40, fastPath: 40, exactPath: 0, audited: 16 });
    expect(run(lines, 'full').integrity).toMatchObject({ status: 'verified', exactPath: 40 });
  });

  it('still names a changed value in the reference format at its index', () => {
    const lines = referenceChain(ref);
    lines[9] = lines[9]!.replace('"total_ms": 9.5', '"total_ms": 9.25');
    expect(run(lines).integrity.firstBroken).toMatchObject({ index: 9, kind: 'record_hash_mismatch' });
  });
});
