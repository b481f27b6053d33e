/**
 * `switchyard doctor`, `register` and `status`, run as the real CLI in a child process (through
 * tsx, since the tests run from source).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildDemoWorkspace } from '../../demo/demo-workspace.js';
import { fixedClock } from '../../platform/clock.js';
import { dumpStore, writeFaultyExport, writeGoodExport } from '../../../test-support/fault-fixtures.js';
import { openDatabase } from '../../store/database.js';
import { Registry } from '../../store/registry.js';

const REPO = fileURLToPath(new URL('../../../..', import.meta.url));
let root: string;
let store: string;

function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const script = "import('./core/src/cli/main.ts').then((m) => m.main(['node', 'switchyard', ...process.argv.slice(1)]))";
  const child = spawn(process.execPath, ['--import', 'tsx', '-e', script, ...args], { cwd: REPO, env: { ...process.env, NO_COLOR: '1' } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += String(d)));
  child.stderr.on('data', (d: Buffer) => (stderr += String(d)));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr })));
}

function dump(path: string): string {
  const db = openDatabase(path, { readonly: true });
  try {
    return dumpStore(db);
  } finally {
    db.close();
  }
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'swy-cli-runtime-'));
  store = join(root, 'store.db');
  const db = openDatabase(store);
  await buildDemoWorkspace({ registry: new Registry(db, fixedClock()), dir: join(root, 'demo') });
  db.close();
});
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('switchyard doctor', () => {
  it('prints a table of passed checks and the numbers, exit 0; JSON with --json', async () => {
    const dir = await writeGoodExport(join(root, 'good'), '1.2.0');
    const [table, json] = await Promise.all([cli('doctor', dir, '--device', 'cpu', '--runs', '20'), cli('doctor', dir, '--device', 'cpu', '--runs', '20', '--json')]);
    expect(table.code, table.stderr).toBe(0);
    for (const check of ['manifest', 'files', 'load', 'io-shapes', 'warmup', 'finite-outputs']) expect(table.stdout).toMatch(new RegExp(`^${check} +ok +`, 'm'));
    expect(table.stdout).toMatch(/^model version +cartpole-robust-chunk4@[0-9a-f]{16}$/m);
    expect(table.stdout).toMatch(/^act\(\) latency +p50 .* over 20 runs/m);
    expect(table.stdout).toMatch(/^OK: /m);
    expect(json.code, json.stderr).toBe(0);
    const report = JSON.parse(json.stdout) as { ok: boolean; provider: string; latency: { runs: number } };
    expect(report).toMatchObject({ ok: true, provider: 'cpu', latency: { runs: 20 } });
  });

  it('exits 1 and says why, on the terminal and in JSON', async () => {
    const shapes = await writeFaultyExport(join(root, 'shapes'), 'obs-dim-mismatch');
    const nan = await writeFaultyExport(join(root, 'nan'), 'nan-output');
    const [text, json] = await Promise.all([cli('doctor', shapes, '--device', 'cpu'), cli('doctor', nan, '--device', 'cpu', '--json')]);
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/^io-shapes +FAILED +policy\.onnx input 'obs' has shape \[N, 4\] but switchyard\.json \(observation\.dim 5\)/m);
    expect(text.stdout).toMatch(/^warmup +skipped +not run: the io-shapes check failed/m);
    expect(text.stderr).toMatch(/^switchyard: doctor failed: io-shapes check failed: .* \[policy\.onnx: input 'obs'\] \(SWY_ERR_MODEL_LOAD\)$/m);
    expect(json.code).toBe(1);
    const report = JSON.parse(json.stdout) as { ok: boolean; error: { check: string; code: string; message: string } };
    expect(report.ok).toBe(false);
    expect(report.error).toMatchObject({ check: 'warmup', code: 'SWY_ERR_MODEL_LOAD' });
    expect(report.error.message).toMatch(/non-finite action/);
  });

  it('rejects a bad --runs before doing anything', async () => {
    const r = await cli('doctor', root, '--runs', 'many');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--runs must be a whole number from 0 to 1000000, got "many"/);
  });
});

describe('switchyard register', () => {
  it('registers a good export with its doctor report; refuses a broken one, writing nothing', async () => {
    const before = dump(store);
    const broken = await writeFaultyExport(join(root, 'reg-broken'), 'truncated');
    const fresh = join(root, 'fresh', 'store.db');
    const [text, json, elsewhere] = await Promise.all([
      cli('register', broken, '--store', store, '--device', 'cpu'),
      cli('register', broken, '--store', store, '--device', 'cpu', '--json'),
      cli('register', broken, '--store', fresh, '--device', 'cpu'),
    ]);
    expect(text.code).toBe(1);
    expect(text.stderr).toMatch(/^switchyard: Not registered: .*reg-broken failed doctor: load check failed: .*truncated or not ONNX.* \(SWY_ERR_MODEL_LOAD\)$/m);
    expect(json.code).toBe(1);
    const body = JSON.parse(json.stdout) as { ok: boolean; error: { code: string }; doctor: { error: { check: string } } };
    expect(body).toMatchObject({ ok: false, error: { code: 'SWY_ERR_MODEL_LOAD' }, doctor: { error: { check: 'load' } } });
    expect(elsewhere.code).toBe(1);
    expect(existsSync(fresh)).toBe(false); // not even an empty store was created
    expect(dump(store)).toBe(before);

    const good = await writeGoodExport(join(root, 'reg-good'), '1.1.0', (m) => (m.version = '1.3.0'));
    const ok = await cli('register', good, '--store', store, '--device', 'cpu', '--runs', '10');
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^Registered cartpole-balance@1\.3\.0 as cartpole-highgain@[0-9a-f]{16} \(candidate\)\. Doctor: ok on cpu, act\(\) p50 [\d.]+ ms\.$/m);
    const db = openDatabase(store, { readonly: true });
    const reg = new Registry(db, fixedClock());
    expect(reg.find('cartpole-balance', '1.3.0')?.doctorStatus).toBe('ok');
    expect(reg.getDoctorReport('cartpole-balance', '1.3.0')).toMatchObject({ ok: true, latency: { runs: 10 } });
    db.close();
  });
});

describe('switchyard status', () => {
  it('shows production and since when, candidates and doctor status; JSON with --json; an unknown policy exits 1', async () => {
    const [table, one, json, unknown] = await Promise.all([
      cli('status', '--store', store),
      cli('status', 'cartpole-balance', '--store', store),
      cli('status', '--store', store, '--json'),
      cli('status', 'nope', '--store', store),
    ]);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/^cartpole-balance +1\.0\.0 +cartpole-lqr@[0-9a-f]{16} +2026-01-01T\S+ +ok +- +.*2\.0\.0-iter, 1\.2\.0, 1\.1\.0/m);
    expect(one.code).toBe(0);
    expect(one.stdout).toMatch(/^1\.0\.0 +production +cartpole-lqr@[0-9a-f]{16} +ok /m);
    expect(one.stdout).toMatch(/^2\.0\.0-iter +candidate +cartpole-iter-chunk4@[0-9a-f]{16} +ok /m);
    expect(json.code).toBe(0);
    const body = JSON.parse(json.stdout) as { ok: boolean; policies: { policy: string; production: { label: string }; productionSince: string; candidates: { label: string; doctorStatus: string }[] }[] };
    expect(body.ok).toBe(true);
    const cp = body.policies.find((p) => p.policy === 'cartpole-balance')!;
    expect(cp.production.label).toBe('1.0.0');
    expect(cp.productionSince).toMatch(/^2026-01-01T/);
    expect(cp.candidates.every((c) => c.doctorStatus === 'ok')).toBe(true);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/No policy named nope in the store \(registered: cartpole-balance\)\. .*\(SWY_ERR_NOT_FOUND\)/);
  });
});
