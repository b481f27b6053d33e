/**
 * `switchyard replay`, spawned from source: the summary, the chain's verdict, re-runs against
 * demo exports, and the exit codes (0 ok, 1 --fail-on holds, 2 unreadable trace or bad flag,
 * 3 broken chain).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeDemoExports } from '../../demo/cartpole-policies.js';
import { readExport } from '../../runtime/export.js';
import { PolicyRunner } from '../../runtime/policy-runner.js';
import { recordPolicyTrace, writeSyntheticTrace } from '../../../test-support/replay-fixtures.js';
import { runCliAsync } from '../../../test-support/cli-process.js';

let dir: string;
let synthetic: string;
let recorded: string;
let v100: string;
let v110: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'swy-replay-cli-'));
  const dirs = await writeDemoExports(join(dir, 'exports'));
  v100 = dirs.find((d) => d.endsWith('-1.0.0'))!;
  v110 = dirs.find((d) => d.endsWith('-1.1.0'))!;
  synthetic = await writeSyntheticTrace({ dir, requests: 400, episodes: 8, sessionId: 'cli' });
  const runner = await PolicyRunner.start({ export: await readExport(v100), slot: 'prod', device: 'cpu' });
  try {
    recorded = await recordPolicyTrace({ dir, requests: 60, episodes: 3, sessionId: 'cli-rec', act: (episodeId, state) => runner.act({ episodeId, state }) });
  } finally {
    await runner.close();
  }
}, 180_000);

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const replay = (...args: string[]) => runCliAsync(['replay', ...args, '--store', join(dir, 'store.db')]);

describe('switchyard replay TRACE (summary)', () => {
  it('prints per-slot statistics, the chain, episodes and shadow results; exit 0', async () => {
    const r = await replay(synthetic);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Session\s+cli, started 2026-01-02T03:04:05.678Z/);
    expect(r.stdout).toMatch(/Models\s+a model-a@aaaaaaaaaaaaaaaa, b model-b@bbbbbbbbbbbbbbbb; split 50% to a/);
    expect(r.stdout).toMatch(/Chain\s+OK: all \d+ records verify/);
    expect(r.stdout).toMatch(/slot\s+requests\s+errors\s+error %\s+cache hit\s+p50 ms\s+p90 ms\s+p99 ms\s+max ms\s+episodes/);
    expect(r.stdout).toMatch(/\na\s+200\s+/);
    expect(r.stdout).toMatch(/\nall\s+400\s+/);
    expect(r.stdout).toMatch(/Episodes\s+8 \(a 4, b 4\)/);
    expect(r.stdout).toMatch(/Shadow\s+39 results, 0 errors; divergence \(max abs\) max /);
    expect(r.stdout).toMatch(/\s+0: 6 · \[1e-3,1e-2\): \d+ · \[1e-2,1e-1\): \d+/);
  });

  it('--json prints the summary object', async () => {
    const r = await replay(synthetic, '--json');
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { ok: boolean; summary: { overall: { requests: number }; timeline: { slots: unknown[] }; chain: { status: string } } };
    expect(out.ok).toBe(true);
    expect(out.summary.overall.requests).toBe(400);
    expect(out.summary.timeline.slots).toHaveLength(2);
    expect(out.summary.chain.status).toBe('verified');
  });

  it('a tampered record: exit 3 and the record named', async () => {
    const lines = readFileSync(synthetic, 'utf8').split('\n');
    lines[17] = lines[17]!.replace('"schema_version":1', '"schema_version":1,"injected":true');
    const p = join(dir, 'tampered.jsonl');
    writeFileSync(p, lines.join('\n'));
    const r = await replay(p);
    expect(r.status).toBe(3);
    expect(r.stdout).toMatch(/Chain\s+BROKEN at record 17 \(0-based\), line 18: record_hash_mismatch/);
    expect(r.stdout).toContain('cannot be trusted');
  });

  it('an unreadable trace, or a file that is not a trace: exit 2 with a message', async () => {
    const r = await replay(join(dir, 'nope.jsonl'));
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/Trace file not found: .*nope\.jsonl/);
    const notTrace = join(dir, 'notes.txt');
    writeFileSync(notTrace, 'hello\nworld\n');
    const n = await replay(notTrace);
    expect(n.status).toBe(2);
    expect(n.stderr).toContain('is not a trace: none of its 2 lines is a JSON object');
  });

  it('re-run flags without --model: exit 2 naming them', async () => {
    const r = await replay(synthetic, '--fail-on', 'divergence>0.1');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--fail-on applies to a re-run: add --model');
  });
});

describe('switchyard replay TRACE --model', () => {
  it('the same version: divergence 0, exit 0, a JSONL report', async () => {
    const out = join(dir, 'same.jsonl');
    const r = await replay(recorded, '--model', v100, '--device', 'cpu', '--fail-on', 'divergence>0.01', '--output', out);
    expect(r.status, r.stderr + r.stdout).toBe(0);
    expect(r.stdout).toMatch(/Re-run\s+.* against .*cartpole-balance-1\.0\.0 \(cartpole-lqr@[0-9a-f]{16}\) on cpu/);
    expect(r.stdout).toMatch(/\nall\s+60\s+0\s+60\s+0\s+0\s+0\s+1\.0000/);
    expect(r.stdout).toMatch(/Fail-on\s+divergence>0\.01: observed 0 -> does not hold/);
    const lines = readFileSync(out, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(61);
    expect(JSON.parse(lines[0]!)).toMatchObject({ kind: 'rerun_request', seq: 1, divergence: { max_abs: 0 } });
    expect(JSON.parse(lines[60]!)).toMatchObject({ kind: 'rerun_summary', requests: 60 });
  }, 180_000);

  it('another version: `--fail-on divergence>0.01` exits 1', async () => {
    const r = await replay(recorded, '--model', v110, '--device', 'cpu', '--diff', 'actions', '--fail-on', 'divergence>0.01', '--json');
    expect(r.status, r.stderr).toBe(1);
    const out = JSON.parse(r.stdout) as { rerun: { overall: { actions: { max: number } }; failOn: { tripped: boolean } } };
    expect(out.rerun.overall.actions.max).toBeGreaterThan(0.01);
    expect(out.rerun.failOn.tripped).toBe(true);
  }, 180_000);

  it('a bad --fail-on expression: exit 2, the message names the flag, nothing is loaded', async () => {
    const r = await replay(recorded, '--model', v110, '--fail-on', 'divergance>0.1');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--fail-on "divergance>0\.1": unknown metric "divergance"/);
    expect(r.stderr).toContain('[--fail-on]');
  });

  it('a bad --diff, a bad --device, an unknown version: exit 2', async () => {
    const a = await replay(recorded, '--model', v110, '--diff', 'speed');
    expect(a.status).toBe(2);
    expect(a.stderr).toContain('--diff "speed"');
    const b = await replay(recorded, '--model', v110, '--device', 'tpu');
    expect(b.status).toBe(2);
    expect(b.stderr).toMatch(/--device/);
    const c = await replay(recorded, '--model', 'cartpole-balance@9.9.9');
    expect(c.status).toBe(2);
    expect(c.stderr).toMatch(/cartpole-balance@9\.9\.9/);
  }, 180_000);
});
