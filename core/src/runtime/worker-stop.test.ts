/**
 * A worker given up on while ONNX Runtime runs must not take the process with it. Real worker,
 * real runtime, real hang-loop export; each case runs in its own child process because the bug
 * it pins is an abort of the whole process.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeHangExport } from '../../test-support/fault-exports.js';

const fixture = join(import.meta.dirname, '..', '..', 'test-support', 'stop-while-native.ts');
// ≈6 µs an iteration on this machine: about 1.5 s inside one native call, long enough to be
// given up on (200 ms deadline) and short enough to wait for its return.
const TRIPS = 250_000;
let tmp: string;
let dir: string;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'swy-stop-'));
  dir = await writeHangExport(join(tmp, 'hang'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function run(mode: 'abandon' | 'close'): { status: number | null; signal: NodeJS.Signals | null; out: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', fixture, mode, dir, String(TRIPS)], { encoding: 'utf8', timeout: 90_000 });
  return { status: r.status, signal: r.signal, out: r.stdout + r.stderr };
}

describe('stopping a worker that is inside an ONNX Runtime call', () => {
  it('abandoning it after the act deadline: the process lives on when the call returns, and a fresh worker serves', () => {
    const r = run('abandon');
    expect(r.out).not.toContain('Napi::Error');
    expect(r.out).toContain('outcome SWY_ERR_ACT_TIMEOUT');
    expect(r.out).toMatch(/native call returned after \d+ ms; abandoned alive 0/);
    expect(r.out).toContain('fresh worker answered 1 action(s)');
    expect(r.out).toContain('survived');
    expect({ status: r.status, signal: r.signal }).toEqual({ status: 0, signal: null });
  }, 120_000);

  it('closing the slot while it runs: the process lives on when the call returns', () => {
    const r = run('close');
    expect(r.out).not.toContain('Napi::Error');
    expect(r.out).toContain('outcome SWY_ERR_NOT_SERVING');
    expect(r.out).toContain('survived');
    expect({ status: r.status, signal: r.signal }).toEqual({ status: 0, signal: null });
  }, 120_000);
});
