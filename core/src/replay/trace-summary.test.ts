/**
 * The summary pass on real traces written by `TraceWriter` (plain and gzip), on a hand-written
 * "foreign" trace, on tampered copies; checked against a brute-force computation over
 * `JSON.parse` of every line. Also the paged accessor and the worker-thread path.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalizeJs } from '../trace/canonical-json.js';
import { sealRecord, GENESIS_HASH } from '../trace/chain.js';
import { verifyTrace } from '../trace/trace-reader.js';
import { referenceTrace, writeSyntheticTrace } from '../../test-support/replay-fixtures.js';
import { openTrace, summarizeTrace, type TraceSummary } from './trace-summary.js';

let dir: string;
let plain: string;
let gz: string;
const N = 3000;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'swy-replay-'));
  plain = await writeSyntheticTrace({ dir, requests: N, episodes: 40, sessionId: 'plain' });
  gz = await writeSyntheticTrace({ dir, requests: N, episodes: 40, sessionId: 'gz', gzip: true });
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

interface Brute {
  records: number;
  kinds: Record<string, number>;
  slots: Map<string, { requests: number; errors: number; hits: number; misses: number; latencies: number[] }>;
  episodes: Map<string, number>;
  shadow: { count: number; maxDiv: number };
  minSeq: number;
  maxSeq: number;
}

function brute(path: string): Brute {
  const text = path.endsWith('.gz') ? gunzipSync(readFileSync(path)).toString('utf8') : readFileSync(path, 'utf8');
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const b: Brute = { records: 0, kinds: {}, slots: new Map(), episodes: new Map(), shadow: { count: 0, maxDiv: -Infinity }, minSeq: Infinity, maxSeq: -Infinity };
  for (const l of lines) {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const r = JSON.parse(l) as Record<string, any>;
    b.records++;
    b.kinds[r.kind] = (b.kinds[r.kind] ?? 0) + 1;
    if (r.kind === 'request') {
      const slot = r.routing?.slot ?? 'prod';
      let s = b.slots.get(slot);
      if (!s) b.slots.set(slot, (s = { requests: 0, errors: 0, hits: 0, misses: 0, latencies: [] }));
      s.requests++;
      if (r.error) s.errors++;
      if (r.cache?.status === 'hit') s.hits++;
      if (r.cache?.status === 'miss') s.misses++;
      s.latencies.push(r.latency.total_ms);
      b.episodes.set(r.request.episode_id, (b.episodes.get(r.request.episode_id) ?? 0) + 1);
      b.minSeq = Math.min(b.minSeq, r.seq);
      b.maxSeq = Math.max(b.maxSeq, r.seq);
    }
    if (r.kind === 'shadow_result') {
      b.shadow.count++;
      if (r.divergence) b.shadow.maxDiv = Math.max(b.shadow.maxDiv, r.divergence.max_abs);
    }
  }
  return b;
}

/** Nearest-rank quantile. */
function exactQuantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.max(0, Math.ceil(q * s.length) - 1)]!;
}

function expectMatchesBrute(s: TraceSummary, b: Brute): void {
  expect(s.records).toBe(b.records);
  expect(s.kinds).toEqual(b.kinds);
  expect(s.slots.map((x) => x.slot).sort()).toEqual([...b.slots.keys()].sort());
  for (const st of s.slots) {
    const x = b.slots.get(st.slot)!;
    expect(st.requests).toBe(x.requests);
    expect(st.errors).toBe(x.errors);
    expect(st.cache.hits).toBe(x.hits);
    expect(st.cache.misses).toBe(x.misses);
    for (const [q, got] of [
      [0.5, st.latencyMs.p50],
      [0.9, st.latencyMs.p90],
      [0.99, st.latencyMs.p99],
    ] as const) {
      const want = exactQuantile(x.latencies, q);
      // log buckets of 2 %: the estimate is within 1 % of a sample of that rank
      expect(Math.abs(got! - want) / want).toBeLessThan(0.011);
    }
    expect(st.latencyMs.max).toBe(Math.max(...x.latencies));
    expect(st.latencyMs.min).toBe(Math.min(...x.latencies));
  }
  expect(s.overall.requests).toBe([...b.slots.values()].reduce((a, x) => a + x.requests, 0));
  expect(s.episodes.count).toBe(b.episodes.size);
  expect(s.episodes.approximate).toBe(false);
  const top = [...b.episodes.values()].sort((x, y) => y - x)[0];
  expect(s.episodes.top[0]!.requests).toBe(top);
  expect(s.seq.min).toBe(b.minSeq);
  expect(s.seq.max).toBe(b.maxSeq);
  expect(s.shadow.count).toBe(b.shadow.count);
  expect(s.shadow.divergence.max).toBe(b.shadow.maxDiv);
}

function expectTimelineSumsToTotals(s: TraceSummary): void {
  const t = s.timeline;
  expect(t.buckets).toBeGreaterThan(0);
  expect(t.buckets).toBeLessThanOrEqual(2000);
  for (const series of t.slots) {
    const st = s.slots.find((x) => x.slot === series.slot)!;
    expect(series.requests.length).toBe(t.buckets);
    expect(series.requests.reduce((a, x) => a + x, 0)).toBe(st.requests);
    expect(series.errors.reduce((a, x) => a + x, 0)).toBe(st.errors);
    const maxOfBuckets = Math.max(...series.maxMs.map((x) => x ?? -Infinity));
    expect(maxOfBuckets).toBe(st.latencyMs.max);
  }
  expect(t.shadow.count.reduce((a, x) => a + x, 0)).toBe(s.shadow.count);
}

describe('summarizeTrace on TraceWriter traces', () => {
  it('matches a brute-force computation (plain), timeline buckets sum to the totals, chain verifies', async () => {
    const { summary: s, index } = await summarizeTrace(plain, { threads: 0 });
    expectMatchesBrute(s, brute(plain));
    expectTimelineSumsToTotals(s);
    expect(s.chain.status).toBe('verified');
    expect(s.chain.checked).toBe(s.records);
    expect(s.chain.fastPath).toBe(s.records);
    expect(s.header?.sessionId).toBe('plain');
    expect(s.header?.policies.map((p) => p.slot)).toEqual(['a', 'b']);
    expect(s.header?.split).toBe(50);
    expect(s.modelHashes.sort()).toEqual(['aaaaaaaaaaaaaaaa', 'bbbbbbbbbbbbbbbb']);
    expect(s.footer?.totals?.requests).toBe(N);
    expect(s.warnings).toEqual([]);
    expect(s.partialLastLine).toBeNull();
    expect(s.episodes.perSlot).toEqual({ a: 20, b: 20 });
    expect(s.episodes.multiSlot).toBe(0);
    expect(index.records).toBe(s.records);
    // agrees with the exhaustive verifier
    expect((await verifyTrace(plain)).ok).toBe(true);
  });

  it('reads gzip the same way', async () => {
    const { summary: s } = await summarizeTrace(gz, { threads: 0 });
    expect(s.gzip).toBe(true);
    expectMatchesBrute(s, brute(gz));
    expectTimelineSumsToTotals(s);
    expect(s.chain.status).toBe('verified');
  });

  it('a plain file (timeline sized from its last record) and its gzip (timeline grown as read) give the same timeline', async () => {
    const a = (await summarizeTrace(plain, { threads: 0, timelineBuckets: 64 })).summary;
    const b = (await summarizeTrace(gz, { threads: 0, timelineBuckets: 64 })).summary;
    expect(a.timeline.bucketMs).toBeGreaterThan(1);
    expect(a.timeline).toEqual(b.timeline);
    const c = (await summarizeTrace(plain, { threads: 2, timelineBuckets: 64, chunkBytes: 4096 })).summary;
    expect(c.timeline).toEqual(b.timeline);
  }, 60_000);

  it('`full` chain mode agrees with `fast`', async () => {
    const { summary: s } = await summarizeTrace(plain, { threads: 0, chain: 'full' });
    expect(s.chain.status).toBe('verified');
    expect(s.chain.exactPath).toBe(s.records);
    expect(s.chain.fastPath).toBe(0);
  });

  it('worker threads give the same summary as one thread', async () => {
    const one = (await summarizeTrace(plain, { threads: 0 })).summary;
    const many = (await summarizeTrace(plain, { threads: 2 })).summary;
    expect(many.threads).toBe(2);
    const strip = (s: TraceSummary) => JSON.parse(JSON.stringify({ ...s, elapsedMs: 0, threads: 0 }, (k, v: unknown) => (typeof v === 'number' && !Number.isInteger(v) ? Number(v.toPrecision(10)) : v))) as unknown;
    expect(strip(many)).toEqual(strip(one));
  }, 180_000);

  it('blocks smaller than a line (the read buffer grows), one thread and two: the same summary, slots in file order', async () => {
    // Each block audits its first record, so tiny blocks audit more: everything else must agree.
    const strip = (s: TraceSummary) => JSON.parse(JSON.stringify({ ...s, chain: { ...s.chain, audited: 0 }, elapsedMs: 0, threads: 0, path: '', gzip: false, fileBytes: 0 }, (k, v: unknown) => (typeof v === 'number' && !Number.isInteger(v) ? Number(v.toPrecision(10)) : v))) as unknown;
    for (const [file, threads] of [[plain, 0], [plain, 2], [gz, 0], [gz, 2]] as const) {
      const one = strip((await summarizeTrace(file, { threads: 0 })).summary);
      const small = (await summarizeTrace(file, { threads, chunkBytes: 1024 })).summary;
      expect(small.chain.status).toBe('verified');
      // Slots in file order whichever thread met them first.
      expect(strip(small)).toEqual(one);
    }
  }, 120_000);

  it('a tampered line is reported by index and line; records before it verify', async () => {
    const lines = readFileSync(plain, 'utf8').split('\n');
    const target = 1234;
    lines[target] = lines[target]!.replace(/"total_ms":[0-9.]+/, '"total_ms":99.5');
    const tampered = join(dir, 'tampered.jsonl');
    writeFileSync(tampered, lines.join('\n'));
    for (const threads of [0, 2]) {
      const { summary: s } = await summarizeTrace(tampered, { threads });
      expect(s.chain.status).toBe('broken');
      expect(s.chain.firstBroken).toMatchObject({ index: target, line: target + 1, kind: 'record_hash_mismatch' });
      const v = await verifyTrace(tampered);
      expect(v.firstBrokenIndex).toBe(target);
      expect(s.chain.firstBroken!.reason).toBe(v.reason);
    }
  }, 180_000);

  it('a deleted record breaks the chain at the next one (prev_hash_mismatch), also across worker blocks', async () => {
    const lines = readFileSync(plain, 'utf8').split('\n');
    const del = 2000;
    lines.splice(del, 1);
    const cut = join(dir, 'deleted.jsonl');
    writeFileSync(cut, lines.join('\n'));
    for (const threads of [0, 2]) {
      const { summary: s } = await summarizeTrace(cut, { threads });
      expect(s.chain.firstBroken).toMatchObject({ index: del, kind: 'prev_hash_mismatch' });
    }
  }, 180_000);
});

/** A trace as another server might write it: Python-style chain fields in sorted position, spaces, extra fields. */
function foreignTrace(): string {
  let prev = GENESIS_HASH;
  const out: string[] = [];
  const add = (rec: Record<string, unknown>, spaced = false) => {
    const { hash } = sealRecord(prev, canonicalizeJs(rec));
    // What json.dumps(record_with_chain, sort_keys=True, ...) prints: the chain fields in sorted position.
    let text = canonicalizeJs({ ...rec, prev_record_hash: prev, record_hash: hash });
    prev = hash;
    // Python's default separators.
    if (spaced) text = text.replace(/,"/g, ', "').replace(/":/g, '": ');
    out.push(text);
  };
  add({ kind: 'header', schema_version: 1, session_id: 'other-server', started_at: '2026-03-01T00:00:00.000Z', model_hash: '0123456789abcdef', server: { name: 'vla-serve', build: 42 } });
  for (let i = 1; i <= 20; i++) {
    add(
      {
        kind: 'request',
        schema_version: 1,
        seq: i,
        chunk_id: 0,
        timestamp: 1772323200 + i * 0.05,
        request: { episode_id: `e${i % 3}`, request_id: `r${i}`, instruction: 'pick up the cube', state: [0.5, -0.25], image_sha256: null, extra: { camera: 'wrist' } },
        response: { actions: [[0.1, 0.2]], num_actions: 1, action_dim: 2 },
        latency: { total_ms: i, stages: { vision_ms: 1.5 } },
        denoise: { steps_used: 10, steps_configured: 10, adaptive: false },
        gpu: { util: 0.93, status: 'busy' },
        ...(i % 5 === 0 ? { error: { code: 'E', message: 'boom' } } : {}),
      },
      i % 2 === 0,
    );
  }
  return out.join('\n') + '\n';
}

describe('reference-format traces (read the byte way)', () => {
  it('the summary matches a brute-force computation, one thread and two, and every record verifies without parsing', async () => {
    const p = join(dir, 'reference.jsonl');
    writeFileSync(p, referenceTrace(400));
    const b = brute(p);
    // Both byte loops (the WebAssembly one by default, the JavaScript one it replaced).
    for (const [threads, byteLoop] of [[0, 'wasm'], [2, 'wasm'], [0, 'js'], [2, 'js']] as const) {
      const { summary: s, byteLoop: used } = await summarizeTrace(p, { threads, chunkBytes: 8192, byteLoop });
      expect(used).toBe(byteLoop);
      expectMatchesBrute(s, b);
      expect(s.slots.map((x) => x.slot)).toEqual(['b', 'a']);
      expect(s.header?.sessionId).toBe('ref');
      expect(s.footer?.totals).toEqual({ requests: 400 });
      expect(s.chain).toMatchObject({ status: 'verified', fastPath: 410, exactPath: 0 });
    }
    expect((await verifyTrace(p)).ok).toBe(true);
  });

  it('deletions, edits and swaps at many positions: the broken record and reason verifyTrace gives', async () => {
    const lines = referenceTrace(120).split('\n');
    const cases: { name: string; edit: (l: string[]) => void }[] = [];
    for (const at of [1, 2, 17, 18, 60, lines.length - 3]) {
      cases.push({ name: `delete ${at}`, edit: (l) => void l.splice(at, 1) });
      cases.push({ name: `edit ${at}`, edit: (l) => void (l[at] = l[at]!.replace('"schema_version": 1', '"schema_version": 2')) });
      cases.push({ name: `edit number ${at}`, edit: (l) => void (l[at] = l[at]!.replace(/"seq": (\d+)/, (_m, d: string) => `"seq": ${Number(d) + 1}`)) });
      cases.push({ name: `swap ${at}`, edit: (l) => void ([l[at], l[at + 1]] = [l[at + 1]!, l[at]!]) });
      cases.push({ name: `respace ${at}`, edit: (l) => void (l[at] = l[at]!.replace('"kind": ', '"kind" :  ')) });
    }
    let k = 0;
    for (const c of cases) {
      const copy = [...lines];
      c.edit(copy);
      const p = join(dir, 'reference-damaged.jsonl');
      writeFileSync(p, copy.join('\n'));
      const v = await verifyTrace(p);
      for (const [threads, byteLoop] of k++ % 6 === 0 ? ([[0, 'wasm'], [2, 'wasm'], [0, 'js']] as const) : ([[0, 'wasm']] as const)) {
        const { summary: s } = await summarizeTrace(p, { threads, chunkBytes: 4096, byteLoop });
        expect({ c: c.name, threads, byteLoop, index: s.chain.firstBroken?.index, reason: s.chain.firstBroken?.reason }).toEqual({ c: c.name, threads, byteLoop, index: v.firstBrokenIndex, reason: v.reason });
      }
    }
  }, 180_000);
});

describe('chain checked in blocks agrees with verifyTrace wherever the damage is', () => {
  it('deletions, edits and swaps at many positions, small blocks, one thread and two', async () => {
    const small = await writeSyntheticTrace({ dir, requests: 300, episodes: 10, sessionId: 'small' });
    const lines = readFileSync(small, 'utf8').split('\n');
    const cases: { name: string; edit: (l: string[]) => void }[] = [];
    for (const at of [1, 2, 3, 37, 38, 39, 150, lines.length - 3]) {
      cases.push({ name: `delete ${at}`, edit: (l) => void l.splice(at, 1) });
      cases.push({ name: `edit ${at}`, edit: (l) => void (l[at] = l[at]!.replace('"schema_version":1', '"schema_version":2')) });
      cases.push({ name: `swap ${at}`, edit: (l) => void ([l[at], l[at + 1]] = [l[at + 1]!, l[at]!]) });
    }
    let k = 0;
    for (const c of cases) {
      const copy = [...lines];
      c.edit(copy);
      const p = join(dir, 'damaged.jsonl');
      writeFileSync(p, copy.join('\n'));
      const v = await verifyTrace(p);
      // Worker threads for a few cases (they take a moment to start); blocks of ~2 records everywhere.
      for (const threads of k++ % 8 === 0 ? [0, 2] : [0]) {
        const { summary: s } = await summarizeTrace(p, { threads, chunkBytes: 2048 });
        expect({ c: c.name, threads, index: s.chain.firstBroken?.index, reason: s.chain.firstBroken?.reason }).toEqual({ c: c.name, threads, index: v.firstBrokenIndex, reason: v.reason });
      }
    }
  }, 180_000);
});

describe('traces from other servers', () => {
  it('unknown fields ignored, no footer, spaces, a partial last line reported and skipped', async () => {
    const text = foreignTrace() + '{"kind":"request","seq":21,"timest';
    const p = join(dir, 'foreign.jsonl');
    writeFileSync(p, text);
    const { summary: s } = await summarizeTrace(p, { threads: 0 });
    expect(s.records).toBe(21);
    expect(s.kinds).toEqual({ header: 1, request: 20 });
    expect(s.partialLastLine).toEqual({ line: 22, bytes: '{"kind":"request","seq":21,"timest'.length });
    expect(s.footer).toBeNull();
    expect(s.warnings.some((w) => w.startsWith('no footer'))).toBe(true);
    expect(s.warnings.some((w) => w.includes('incomplete'))).toBe(true);
    expect(s.header?.sessionId).toBe('other-server');
    expect(s.header?.record.server).toEqual({ name: 'vla-serve', build: 42 });
    expect(s.slots.map((x) => x.slot)).toEqual(['prod']);
    const prod = s.slots[0]!;
    expect(prod.requests).toBe(20);
    expect(prod.errors).toBe(4);
    expect(prod.cache.none).toBe(20);
    expect(prod.latencyMs.min).toBe(1);
    expect(prod.latencyMs.max).toBe(20);
    expect(s.episodes.count).toBe(3);
    // spaced lines verify by their text too (sorted and compacted), as compact ones do
    expect(s.chain.status).toBe('verified');
    expect(s.chain.exactPath).toBe(0);
    expect(s.chain.fastPath).toBe(21);
    expect((await verifyTrace(p)).ok).toBe(true);
  });

  it('a malformed line in the middle is counted, named, and breaks the chain there', async () => {
    const lines = foreignTrace().split('\n');
    lines.splice(5, 0, '{"kind":"request", oops}');
    const p = join(dir, 'malformed.jsonl');
    writeFileSync(p, lines.join('\n'));
    const { summary: s } = await summarizeTrace(p, { threads: 0 });
    expect(s.badLines.count).toBe(1);
    expect(s.badLines.first[0]!.line).toBe(6);
    expect(s.chain.firstBroken).toMatchObject({ index: 5, line: 6, kind: 'bad_json' });
    expect(s.slots[0]!.requests).toBe(20);
  });

  it('gzip of a foreign trace with a partial last line', async () => {
    const p = join(dir, 'foreign.jsonl.gz');
    writeFileSync(p, gzipSync(Buffer.from(foreignTrace() + '{"kind":"req')));
    const { summary: s } = await summarizeTrace(p, { threads: 0 });
    expect(s.gzip).toBe(true);
    expect(s.records).toBe(21);
    expect(s.partialLastLine?.line).toBe(22);
    expect(s.chain.status).toBe('verified');
  });

  it('an unreadable path is an error with a message, not a summary', async () => {
    await expect(summarizeTrace(join(dir, 'missing.jsonl'))).rejects.toMatchObject({ code: 'SWY_ERR_NOT_FOUND' });
    await expect(summarizeTrace(dir)).rejects.toMatchObject({ code: 'SWY_ERR_INVALID_INPUT' });
  });

  it('stops when cancelled', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(summarizeTrace(plain, { signal: ac.signal })).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('many episodes: approximate counts within a few percent, heaviest episodes kept', async () => {
    const p = await writeSyntheticTrace({ dir, requests: 4000, episodes: 3000, sessionId: 'many', shadowEvery: 0 });
    const { summary: s } = await summarizeTrace(p, { threads: 0, maxTrackedEpisodes: 500 });
    expect(s.episodes.approximate).toBe(true);
    expect(Math.abs(s.episodes.count - 3000) / 3000).toBeLessThan(0.05);
    // episodes 0..999 have 2 requests, the others 1: the top list holds only 2-request episodes
    expect(s.episodes.top.every((t) => t.requests >= 2)).toBe(true);
  });
});

describe('paged access', () => {
  it('by record index, seeking with the index (plain) or streaming from the start (gzip)', async () => {
    for (const path of [plain, gz]) {
      const lines = (path === gz ? gunzipSync(readFileSync(gz)).toString('utf8') : readFileSync(plain, 'utf8')).split('\n').filter(Boolean);
      const t = await openTrace(path, { threads: 0, indexEvery: 64 });
      const page = await t.page({ fromIndex: 1000, limit: 25, records: true });
      expect(page.rows.map((r) => r.index)).toEqual(Array.from({ length: 25 }, (_, i) => 1000 + i));
      expect(page.rows.map((r) => r.line)).toEqual(Array.from({ length: 25 }, (_, i) => 1001 + i));
      expect(page.rows.map((r) => r.record)).toEqual(lines.slice(1000, 1025).map((l) => JSON.parse(l)));
      expect(page.nextIndex).toBe(1025);
      expect(page.streamedFromStart).toBe(path === gz);
      if (path === plain) expect(page.recordsRead).toBeLessThan(200);
      const last = await t.page({ fromIndex: t.summary.records - 2, limit: 10 });
      expect(last.rows.map((r) => r.kind)).toEqual(['request', 'footer']);
      expect(last.nextIndex).toBeNull();
    }
  });

  it('by seq range: the request and its shadow result, in seq order', async () => {
    const t = await openTrace(plain, { threads: 0, indexEvery: 64 });
    const page = await t.page({ fromSeq: 2001, toSeq: 2010 });
    const seqs = page.rows.filter((r) => r.kind === 'request').map((r) => r.seq);
    expect(seqs).toEqual(Array.from({ length: 10 }, (_, i) => 2001 + i));
    const shadow = page.rows.find((r) => r.kind === 'shadow_result');
    expect(shadow?.seq).toBe(2001);
    expect(shadow?.divergence).not.toBeNull();
    const req = page.rows.find((r) => r.kind === 'request' && r.seq === 2001)!;
    expect(req.slot).toMatch(/^[ab]$/);
    expect(req.episodeId).toMatch(/^episode-/);
    expect(req.state).toHaveLength(4);
    expect(req.actions).toHaveLength(8);
    expect(page.recordsRead).toBeLessThan(300);
    const only = await t.page({ fromSeq: 2001, toSeq: 2010, kinds: ['shadow_result'] });
    expect(only.rows.map((r) => r.kind)).toEqual(['shadow_result']);
  });

  it('rejects a bad query with a message naming the field', async () => {
    const t = await openTrace(plain, { threads: 0 });
    await expect(t.page({ fromIndex: 0, fromSeq: 1 })).rejects.toMatchObject({ code: 'SWY_ERR_INVALID_INPUT' });
    await expect(t.page({ fromIndex: 0, limit: 0 })).rejects.toMatchObject({ where: 'limit' });
  });
});
