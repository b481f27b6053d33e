import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SwitchyardError } from '../contract/errors.js';
import { silentLogger } from '../platform/logger.js';
import { notePythonSkips, python3 } from '../../test-support/python.js';
import { canonicalize, NumberToken, parseLossless, type JsonObject } from './canonical-json.js';
import { canonicalBody, chainHash, GENESIS_HASH } from './chain.js';
import { sampleRequest, steppingClock } from '../../test-support/trace-fixtures.js';
import { readTrace, TraceReader, verifyTrace } from './trace-reader.js';
import { TraceWriter } from './trace-writer.js';

const root = mkdtempSync(join(tmpdir(), 'swy-trace-reader-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

/** A trace of header + 10 requests + footer; request i has action value 0.1234567 + i / 1000 first. */
async function writeTrace(opts: { gzip?: boolean } = {}): Promise<string> {
  const w = new TraceWriter({
    dir: join(root, `w${n++}`),
    modelHash: 'abcdef0123456789',
    clock: steppingClock(),
    logger: silentLogger,
    hardware: { cpu_count: 2 },
    gzip: opts.gzip ?? false,
  });
  for (let i = 0; i < 10; i++) {
    const r = sampleRequest(i);
    r.response = { actions: [[0.1234567 + i / 1000, -1], [0.5, 1e-7]] };
    w.writeRequest(r);
  }
  await w.close();
  return w.path;
}

function lines(path: string): string[] {
  return readFileSync(path, 'utf8').split('\n').slice(0, -1);
}

function writeLines(ls: string[], suffix = ''): string {
  const p = join(root, `edited-${n++}.jsonl`);
  writeFileSync(p, ls.join('\n') + '\n' + suffix);
  return p;
}

let base: string;
beforeAll(async () => {
  base = await writeTrace();
});

describe('verifyTrace', () => {
  it('verifies a written trace', async () => {
    const v = await verifyTrace(base);
    expect(v).toMatchObject({ ok: true, records: 12, kinds: { header: 1, request: 10, footer: 1 }, warnings: [] });
    expect(v.firstBrokenIndex).toBeUndefined();
    expect(v.partialLastLine).toBeUndefined();
  });

  it('reports a changed digit of an action at the right record and line', async () => {
    const ls = lines(base);
    // Record 4 (0-based) is request i = 3: its first action is 0.1264567.
    expect(ls[4]).toContain('[0.1264567,-1.0]');
    ls[4] = ls[4]!.replace('0.1264567', '0.1264568');
    const v = await verifyTrace(writeLines(ls));
    expect(v).toMatchObject({ ok: false, firstBrokenIndex: 4, firstBrokenLine: 5, brokenKind: 'record_hash_mismatch', records: 12 });
    expect(v.reason).toMatch(/record_hash does not match/);
  });

  it('reports a deleted line and a reordered pair by index', async () => {
    const deleted = lines(base);
    deleted.splice(3, 1);
    expect(await verifyTrace(writeLines(deleted))).toMatchObject({ ok: false, firstBrokenIndex: 3, firstBrokenLine: 4, brokenKind: 'prev_hash_mismatch', records: 11 });

    const swapped = lines(base);
    [swapped[6], swapped[7]] = [swapped[7]!, swapped[6]!];
    const v = await verifyTrace(writeLines(swapped));
    expect(v).toMatchObject({ ok: false, firstBrokenIndex: 6, brokenKind: 'prev_hash_mismatch' });
    expect(v.reason).toMatch(/deleted, inserted or reordered/);

    const firstGone = lines(base).slice(1);
    expect(await verifyTrace(writeLines(firstGone))).toMatchObject({ ok: false, firstBrokenIndex: 0, brokenKind: 'prev_hash_mismatch' });
  });

  it('reports a malformed line in the middle as bad JSON with its line number', async () => {
    const ls = lines(base);
    ls.splice(5, 0, '');
    ls[8] = ls[8]!.slice(0, 40);
    const p = writeLines(ls);
    // The blank line is skipped (it still counts as a line), the cut one is bad JSON.
    const v = await verifyTrace(p);
    expect(v).toMatchObject({ ok: false, firstBrokenIndex: 7, firstBrokenLine: 9, brokenKind: 'bad_json', records: 12 });
    await expect(async () => {
      for await (const _ of readTrace(p)) void _;
    }).rejects.toThrow(/:9: not valid JSON/);
  });

  it('reports and skips a partial last line while the earlier records verify', async () => {
    const p = join(root, `partial-${n++}.jsonl`);
    writeFileSync(p, readFileSync(base));
    const size = readFileSync(p).length;
    const lastLen = lines(base).at(-1)!.length;
    truncateSync(p, size - 1 - Math.floor(lastLen / 2));
    const v = await verifyTrace(p);
    expect(v).toMatchObject({ ok: true, records: 11, partialLastLine: { line: 12, bytes: lastLen - Math.floor(lastLen / 2) } });
    expect(v.footer).toBeUndefined();
    expect(v.warnings.join('\n')).toMatch(/no footer/);
    expect(v.warnings.join('\n')).toMatch(/incomplete/);

    const reader = new TraceReader(p);
    const kinds: (string | undefined)[] = [];
    for await (const e of reader) kinds.push(e.kind);
    expect(kinds).toHaveLength(11);
    expect(reader.partialLastLine).toEqual({ line: 12, bytes: lastLen - Math.floor(lastLen / 2) });
  });

  it('reads a truncated gzip trace up to where it was cut', async () => {
    const gz = await writeTrace({ gzip: true });
    expect(await verifyTrace(gz)).toMatchObject({ ok: true, gzip: true, records: 12 });
    const all = readFileSync(gz);
    const cut = join(root, `cut-${n++}.jsonl.gz`);
    writeFileSync(cut, all.subarray(0, Math.floor(all.length * 0.6)));
    const v = await verifyTrace(cut);
    expect(v.ok).toBe(true);
    expect(v.gzip).toBe(true);
    expect(v.records).toBeLessThan(12);
  });

  it('accepts a trace with no newline after its last record', async () => {
    const p = join(root, `nonl-${n++}.jsonl`);
    writeFileSync(p, readFileSync(base, 'utf8').replace(/\n$/, ''));
    expect(await verifyTrace(p)).toMatchObject({ ok: true, records: 12 });
  });

  it('throws SwitchyardError for a file it cannot read', async () => {
    await expect(verifyTrace(join(root, 'missing.jsonl'))).rejects.toMatchObject({ code: 'SWY_ERR_NOT_FOUND' });
    const d = join(root, `dir-${n++}`);
    mkdirSync(d);
    await expect(verifyTrace(d)).rejects.toBeInstanceOf(SwitchyardError);
  });
});

describe('TraceReader', () => {
  it('streams entries with token-preserving numbers and plain records, ignoring unknown fields', async () => {
    const rec = { kind: 'request', schema_version: 1, seq: 1, future_field: { x: [1, 2.5] }, state: [1.0] };
    const body = canonicalize(rec);
    const hash = chainHash(GENESIS_HASH, '{"future_field":{"x":[1,2.5]},"kind":"request","schema_version":1,"seq":1,"state":[1]}');
    // Written by hand with non-canonical spacing and key order, floats as "1.0".
    const line = `{"state": [1.0], "seq": 1, "schema_version": 1, "kind": "request", "future_field": {"x": [1, 2.5]}, "prev_record_hash": "${GENESIS_HASH}", "record_hash": "${hash}"}`;
    const p = writeLines([line]);
    const entries = [];
    for await (const e of readTrace(p)) entries.push(e);
    expect(entries).toHaveLength(1);
    const e = entries[0]!;
    expect(e.kind).toBe('request');
    expect(e.record).toMatchObject({ seq: 1, state: [1] });
    expect((e.lossless.state as NumberToken[])[0]!.value).toBe('1.0');
    expect(canonicalBody(e.lossless)).toBe('{"future_field":{"x":[1,2.5]},"kind":"request","schema_version":1,"seq":1,"state":[1.0]}');
    expect(body).toBe('{"future_field":{"x":[1,2.5]},"kind":"request","schema_version":1,"seq":1,"state":[1]}');
    // The hash above was computed over "state":[1] (an int), so it must NOT verify: 1.0 is a float.
    expect(await verifyTrace(p)).toMatchObject({ ok: false, firstBrokenIndex: 0, brokenKind: 'record_hash_mismatch' });
  });

  it('reads gzip by magic bytes whatever the name, and CRLF line ends', async () => {
    const text = readFileSync(base, 'utf8').replace(/\n/g, '\r\n');
    const p = join(root, `crlf-${n++}.txt`);
    writeFileSync(p, gzipSync(text));
    expect(await verifyTrace(p)).toMatchObject({ ok: true, gzip: true, records: 12 });
  });

  it('hands on the lines of a file many chunks long in order, and stops reading when the consumer does', async () => {
    // About 1.2 MB: several of the reader's chunks, with lines cut across chunk ends.
    const rows = Array.from({ length: 30_000 }, (_, i) => (i % 1000 === 7 ? '' : `{"i":${i},"pad":"${'x'.repeat(i % 50)}"}`));
    const p = writeLines(rows, '{"i":"partial"');
    const got: { index: number; line: number; terminated: boolean }[] = [];
    let last = '';
    for await (const l of new TraceReader(p).lines()) {
      got.push({ index: l.index, line: l.line, terminated: l.terminated });
      last = l.text;
    }
    const nonBlank = rows.filter((r) => r !== '').length;
    expect(got.length).toBe(nonBlank + 1);
    expect(got.every((g, k) => g.index === k)).toBe(true);
    expect(got[8]).toEqual({ index: 8, line: 10, terminated: true }); // line 8 (i = 7) is blank
    expect(got.at(-1)).toEqual({ index: nonBlank, line: rows.length + 1, terminated: false });
    expect(last).toBe('{"i":"partial"');

    const reader = new TraceReader(p);
    let seen = 0;
    for await (const _l of reader.lines()) if (++seen === 5) break;
    expect(seen).toBe(5);
    expect(reader.gzip).toBe(false);
  });
});

const PY_VERIFY = `
import gzip, hashlib, json, sys
path = sys.argv[1]
with open(path, "rb") as f:
    magic = f.read(2)
opener = gzip.open if magic == b"\\x1f\\x8b" else open
prev = "0" * 64
n = 0
with opener(path, "rt", encoding="utf-8") as f:
    for i, line in enumerate(f):
        rec = json.loads(line)
        if rec["prev_record_hash"] != prev:
            print(f"BROKEN {i} prev"); sys.exit(1)
        body = {k: v for k, v in rec.items() if k not in ("prev_record_hash", "record_hash")}
        h = hashlib.sha256((prev + json.dumps(body, sort_keys=True, separators=(",", ":"))).encode("ascii")).hexdigest()
        if h != rec["record_hash"]:
            print(f"BROKEN {i} hash"); sys.exit(1)
        prev = h
        n += 1
print(f"OK {n}")
`;

const PY_WRITE = readFileSync(new URL('./fixtures/make-python-chain.py', import.meta.url), 'utf8');

function python(args: string[]): { ok: boolean; out: string } {
  const r = spawnSync('python3', args, { encoding: 'utf8', env: { ...process.env, PYTHONIOENCODING: 'utf-8' } });
  if (r.error) throw r.error;
  return { ok: r.status === 0, out: r.stdout + r.stderr };
}

notePythonSkips('python3 interop checks of the chain');

describe('interoperability with a Python implementation of the chain', () => {
  it.skipIf(!python3.available)('Python verifies traces Switchyard wrote (plain and gzip)', async () => {
    for (const p of [base, await writeTrace({ gzip: true })]) {
      const r = python(['-c', PY_VERIFY, p]);
      expect(r.out.trim()).toBe('OK 12');
    }
  });

  it.skipIf(!python3.available)('Switchyard verifies a trace Python wrote, and finds a tampered copy', async () => {
    const p = join(root, `py-${n++}.jsonl`);
    const r = python(['-c', PY_WRITE, p]);
    expect(r.ok, r.out).toBe(true);
    const v = await verifyTrace(p);
    expect(v).toMatchObject({ ok: true, records: 22, kinds: { header: 1, request: 20, footer: 1 } });
    expect(v.header).toMatchObject({ session_id: 'py', hardware: { vram_bytes: 85899345920 } });

    const ls = lines(p);
    ls[7] = ls[7]!.replace('"chunk_id": 2', '"chunk_id": 3');
    expect(await verifyTrace(writeLines(ls))).toMatchObject({ ok: false, firstBrokenIndex: 7, brokenKind: 'record_hash_mismatch' });
    // Rewriting 1.0 as 1 changes the value's type for Python, so the hash breaks too.
    const ls2 = lines(p);
    ls2[2] = ls2[2]!.replace('"state": [1.0,', '"state": [1,');
    expect(await verifyTrace(writeLines(ls2))).toMatchObject({ ok: false, firstBrokenIndex: 2 });
  });
});

describe('reference vectors: the chain formula pinned without Python', () => {
  // Computed once with Python's hashlib: sha256((prev + canonical_body).encode("ascii")).hexdigest().
  //   python3 -c 'import hashlib; print(hashlib.sha256(("0"*64 + "{\"a\":1}").encode("ascii")).hexdigest())'
  it('chainHash matches hashlib on fixed inputs', () => {
    expect(chainHash(GENESIS_HASH, '{"a":1}')).toBe('fc6cee09194dd2578bd7664604fcb72a539066fd34544cea0009c43eb6cdc289');
    expect(chainHash('ab'.repeat(32), '{}')).toBe('ccef0dfbce606b6e9381e0d525e93cac220fabfca3b2150d242e74e49913cece');
  });

  it("every record_hash of a trace Python wrote (fixtures/python-chain.jsonl) is recomputed exactly", async () => {
    const path = new URL('./fixtures/python-chain.jsonl', import.meta.url);
    const text = readFileSync(path, 'utf8');
    const records = text.trim().split('\n').map((l) => parseLossless(l) as JsonObject);
    expect(records).toHaveLength(22);
    let prev = GENESIS_HASH;
    for (const [i, rec] of records.entries()) {
      expect(String(rec['prev_record_hash']), `record ${i}`).toBe(prev);
      const recomputed = chainHash(prev, canonicalBody(rec));
      expect(recomputed, `record ${i}`).toBe(String(rec['record_hash']));
      prev = recomputed;
    }
    // The last hash Python printed for this file, so a change to the fixture itself is noticed.
    expect(prev).toBe('cfe4bdca45dfc019f7483f03f51b4771274c3aa1db0febc22c2b960c85dc7156');
    expect(await verifyTrace(fileURLToPath(path))).toMatchObject({ ok: true, records: 22 });
  });
});
