import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../platform/logger.js';
import { sampleRequest, steppingClock } from '../../test-support/trace-fixtures.js';
import { TraceWriter } from './trace-writer.js';
import { runTraceVerify } from './verify-command.js';

const root = mkdtempSync(join(tmpdir(), 'swy-trace-verify-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let good: string;

beforeAll(async () => {
  const w = new TraceWriter({ dir: root, modelHash: 'abcdef0123456789', clock: steppingClock(), logger: silentLogger, sessionId: 'cli', hardware: {} });
  for (let i = 0; i < 5; i++) w.writeRequest(sampleRequest(i));
  await w.close();
  good = w.path;
});

async function run(path: string, json = false): Promise<{ code: number; out: string }> {
  let out = '';
  const code = await runTraceVerify(path, { json, out: (t) => void (out += t) });
  return { code, out };
}

describe('switchyard trace verify', () => {
  it('exits 0 with a readable report for a good trace', async () => {
    const r = await run(good);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/Chain: +OK, all 7 records verify/);
    expect(r.out).toMatch(/Session: +cli, started 2026-01-02T03:04:05.678Z, model abcdef0123456789/);
    expect(r.out).toMatch(/5 request/);
  });

  it('exits 1 and names the record and line of a tampered trace; --json prints one object', async () => {
    const ls = readFileSync(good, 'utf8').split('\n');
    ls[3] = ls[3]!.replace(/"seq":3/, '"seq":4');
    const bad = join(root, 'tampered.jsonl');
    writeFileSync(bad, ls.join('\n'));
    const r = await run(bad);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/BROKEN at record 3 \(0-based\), line 4/);
    const j = await run(bad, true);
    expect(j.code).toBe(1);
    expect(j.out.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(j.out)).toMatchObject({ ok: false, readable: true, firstBrokenIndex: 3, firstBrokenLine: 4, brokenKind: 'record_hash_mismatch', records: 7 });
  });

  it('exits 2 when the file cannot be read', async () => {
    const r = await run(join(root, 'nope.jsonl'));
    expect(r.code).toBe(2);
    expect(r.out).toMatch(/Cannot read the trace: Trace file not found/);
    const j = await run(join(root, 'nope.jsonl'), true);
    expect(JSON.parse(j.out)).toMatchObject({ ok: false, readable: false, error: { code: 'SWY_ERR_NOT_FOUND' } });
  });
});
