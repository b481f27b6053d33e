/**
 * Registration from the workbench and the watched folder (issue 13 item 3), through the contract
 * of a real engine: real SQLite, real ONNX exports checked by doctor in worker threads, the demo's
 * suite and rules for the automatic evaluation.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RegistrationJob } from '../contract/index.js';
import type { Engine } from '../engine.js';
import { dumpStore, writeFaultyExport, writeGoodExport } from '../../test-support/fault-fixtures.js';
import { createDemoEngine } from '../../test-support/demo-engine.js';

let engine: Engine;
let dir: string;
let cleanup: () => Promise<void>;
const outside = mkdtempSync(join(tmpdir(), 'swy-reg-outside-'));
const events: RegistrationJob[] = [];

beforeAll(async () => {
  ({ engine, dir, cleanup } = await createDemoEngine());
  engine.events.on('registry.registerProgress', (j) => events.push(j));
}, 180_000);

afterAll(async () => {
  await cleanup?.();
  rmSync(outside, { recursive: true, force: true });
});

/** As the workbench calls it: an outside caller (path roots checked). */
async function call<T>(method: string, input: unknown): Promise<{ ok: true; value: T } | { ok: false; error: { code: string; message: string; where?: string } }> {
  return (await engine.api.call(method, input, { caller: 'token:default' })) as never;
}

async function finished(jobId: string, timeoutMs = 90_000): Promise<RegistrationJob> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await call<{ jobs: RegistrationJob[] }>('registry.registrations', {});
    if (!r.ok) throw new Error(r.error.message);
    const j = r.value.jobs.find((x) => x.jobId === jobId);
    if (j && j.finishedAt !== null && (j.evaluation === null || ['done', 'skipped', 'failed'].includes(j.evaluation.state))) return j;
    if (Date.now() > deadline) throw new Error(`registration ${jobId} did not finish within ${timeoutMs} ms: ${JSON.stringify(j)}`);
    await new Promise((res) => setTimeout(res, 50));
  }
}

describe('Register export (a path under the known folders)', () => {
  it('checks a good export with doctor, pushing each check as it runs, registers it as a candidate and keeps the report', async () => {
    const exp = await writeGoodExport(join(dir, 'drops', 'good-1.4.0'), '1.2.0', (m) => (m.version = '1.4.0'));
    const started = await call<RegistrationJob>('registry.registerExport', { path: exp });
    if (!started.ok) throw new Error(started.error.message);
    expect(started.value).toMatchObject({ source: 'page', state: 'checking', dir: exp });
    const job = await finished(started.value.jobId);
    expect(job.state).toBe('registered');
    expect(job.version).toMatchObject({ ref: 'cartpole-balance@1.4.0', created: true });
    expect(job.checks.map((c) => `${c.name}:${c.status}`)).toEqual(['manifest:passed', 'files:passed', 'load:passed', 'io-shapes:passed', 'warmup:passed', 'finite-outputs:passed']);
    expect(job.checks.every((c) => c.detail !== null && c.detail.length > 0)).toBe(true);

    // Progress: the first check ran before the last, and the timed runs were counted.
    const mine = events.filter((e) => e.jobId === job.jobId);
    const running = mine.map((e) => e.checks.find((c) => c.status === 'running')?.name).filter(Boolean);
    expect(running[0]).toBe('manifest');
    expect(running).toContain('finite-outputs');
    expect(mine.some((e) => e.runs.total === 50 && e.runs.done > 0 && e.finishedAt === null)).toBe(true);
    expect(mine.at(-1)!.state).toBe('registered');

    const v = await call<{ stage: string; doctorStatus: string }>('versions.get', { policy: 'cartpole-balance', label: '1.4.0' });
    expect(v.ok && v.value).toMatchObject({ stage: 'candidate', doctorStatus: 'ok' });
    const rep = await call<{ report: { ok: boolean; checks: unknown[]; latency: { runs: number } } }>('registry.doctorReport', { policy: 'cartpole-balance', label: '1.4.0' });
    expect(rep.ok && rep.value.report).toMatchObject({ ok: true, latency: { runs: 50 } });
    expect(rep.ok && rep.value.report.checks).toHaveLength(6);
  }, 180_000);

  it('refuses a broken export with the failing check and why, writing nothing to the store', async () => {
    const exp = await writeFaultyExport(join(dir, 'drops', 'bad-shapes'), 'obs-dim-mismatch');
    const before = dumpStore(engine.db);
    const started = await call<RegistrationJob>('registry.registerExport', { path: exp });
    if (!started.ok) throw new Error(started.error.message);
    const job = await finished(started.value.jobId);
    expect(job.state).toBe('rejected');
    expect(job.error).toMatchObject({ check: 'io-shapes', message: expect.stringMatching(/input 'obs' has shape \[N, 4\] but switchyard\.json \(observation\.dim 5\)/) });
    expect(job.checks.map((c) => `${c.name}:${c.status}`)).toEqual(['manifest:passed', 'files:passed', 'load:passed', 'io-shapes:failed', 'warmup:skipped', 'finite-outputs:skipped']);
    expect(job.report).toMatchObject({ ok: false });
    expect(dumpStore(engine.db)).toBe(before);
  }, 180_000);

  it('refuses a path outside the known folders before looking at it, and a missing one by name', async () => {
    const exp = await writeGoodExport(join(outside, 'elsewhere'), '1.0.0', (m) => (m.version = '7.0.0'));
    const r = await call('registry.registerExport', { path: exp });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatchObject({ code: 'SWY_ERR_PATH_NOT_ALLOWED', where: 'path' });
    const missing = await call('registry.registerExport', { path: join(dir, 'drops', 'nope') });
    expect(!missing.ok && missing.error).toMatchObject({ code: 'SWY_ERR_NOT_FOUND', message: expect.stringContaining('does not exist') });
    const list = await call<{ folders: { path: string; kind: string }[]; folderDialog: boolean }>('registry.registrations', {});
    expect(list.ok && list.value.folders.map((f) => f.path)).toContain(dir);
    expect(list.ok && list.value.folderDialog).toBe(false);
  });

  it('has no folder dialog on a headless server; a dialog the desktop installs makes the folder picked usable', async () => {
    const none = await call('registry.chooseExportFolder', {});
    expect(!none.ok && none.error).toMatchObject({ code: 'SWY_ERR_CONFIG', message: expect.stringContaining('no folder dialog') });
    const picked = join(outside, 'picked');
    mkdirSync(picked, { recursive: true });
    engine.registration.setFolderChooser(async () => picked);
    try {
      const r = await call<{ path: string }>('registry.chooseExportFolder', {});
      expect(r.ok && r.value.path).toBe(picked);
      const exp = await writeGoodExport(join(picked, 'x'), '1.0.0', (m) => (m.version = '7.1.0'));
      const started = await call<RegistrationJob>('registry.registerExport', { path: exp });
      expect(started.ok).toBe(true);
      if (started.ok) expect((await finished(started.value.jobId)).state).toBe('registered');
    } finally {
      engine.registration.setFolderChooser(null);
    }
  }, 180_000);
});

describe('cancelling a registration', () => {
  it('stops doctor at its next step and writes nothing', async () => {
    const exp = await writeGoodExport(join(dir, 'drops', 'cancel-1.6.0'), '1.0.0', (m) => (m.version = '1.6.0'));
    const before = dumpStore(engine.db);
    // In process: the cancel lands before doctor's first step, which waits on the file system.
    const job = await engine.registration.register(exp, 'test');
    expect(engine.registration.cancel(job.jobId).state).toBe('checking');
    const done = await finished(job.jobId);
    expect(done).toMatchObject({ state: 'cancelled', version: null, error: { message: expect.stringContaining('nothing was written') } });
    expect(done.checks.every((c) => c.status !== 'running' && c.status !== 'pending')).toBe(true);
    expect(dumpStore(engine.db)).toBe(before);
    const again = await call('registry.cancelRegistration', { jobId: 'reg-nope' });
    expect(!again.ok && again.error.code).toBe('SWY_ERR_NOT_FOUND');
  }, 180_000);
});

describe('registrations at once', () => {
  it('checks two at a time and refuses a third, saying which are running', async () => {
    const { writeBusyExport } = await import('../../test-support/fault-exports.js');
    const jobs: RegistrationJob[] = [];
    for (const n of [1, 2]) jobs.push(await engine.registration.register(await writeBusyExport(join(dir, 'drops', `busy-${n}`), { version: `9.9.${n}-busy`, trips: 200_000 }), 'test'));
    const third = await call('registry.registerExport', { path: await writeBusyExport(join(dir, 'drops', 'busy-3'), { version: '9.9.3-busy', trips: 200_000 }) });
    expect(!third.ok && third.error).toMatchObject({ code: 'SWY_ERR_CONFLICT', message: expect.stringContaining('2 registrations are being checked') });
    for (const j of jobs) engine.registration.cancel(j.jobId);
    for (const j of jobs) expect((await finished(j.jobId)).state).toBe('cancelled');
  }, 180_000);
});

describe('a watched folder', () => {
  it('shows an export that appears there, registers it and evaluates it against production with the candidate->staging gate', async () => {
    const watched = join(dir, 'watched');
    mkdirSync(watched, { recursive: true });
    await engine.registration.watch(watched, { settleMs: 100, pollMs: 50 });
    const list = await call<{ watching: string[]; folders: { path: string; kind: string }[] }>('registry.registrations', {});
    expect(list.ok && list.value.watching).toEqual([watched]);
    expect(list.ok && list.value.folders).toContainEqual({ path: watched, kind: 'watch' });

    await writeGoodExport(join(watched, 'cartpole-1.5.0'), '1.2.0', (m) => (m.version = '1.5.0'));
    const deadline = Date.now() + 30_000;
    let jobId: string | undefined;
    while (!jobId && Date.now() < deadline) {
      jobId = events.find((e) => e.source === 'watch' && e.dir === join(watched, 'cartpole-1.5.0'))?.jobId;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(jobId, 'the watched export shows up as a registration').toBeDefined();
    const job = await finished(jobId!, 240_000);
    expect(job).toMatchObject({ source: 'watch', state: 'registered', version: { ref: 'cartpole-balance@1.5.0', created: true } });
    // 1.2.0's model: the demo's candidate->staging rules give it GO (demo-rules.ts).
    expect(job.evaluation).toMatchObject({ state: 'done', suite: 'cartpole-frozen-v1', verdict: 'GO', verdictId: expect.any(Number), passRate: expect.any(Number) });
    expect(job.evaluation!.rulesFile).toMatch(/candidate-to-staging|staging/);
    const mine = events.filter((e) => e.jobId === jobId);
    expect(mine.some((e) => e.evaluation?.state === 'evaluating')).toBe(true);
    const v = await call<{ lastVerdict: string }>('versions.get', { policy: 'cartpole-balance', label: '1.5.0' });
    expect(v.ok && v.value.lastVerdict).toBe('GO');
  }, 300_000);

  it('shows a broken export there as rejected with its failing check', async () => {
    const watched = join(dir, 'watched');
    await writeFaultyExport(join(watched, 'broken'), 'nan-output');
    const deadline = Date.now() + 60_000;
    let job: RegistrationJob | undefined;
    while (Date.now() < deadline) {
      job = [...events].reverse().find((e) => e.source === 'watch' && e.dir === join(watched, 'broken') && e.finishedAt !== null);
      if (job) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(job).toMatchObject({ state: 'rejected', error: { check: 'warmup' }, evaluation: null });
  }, 180_000);
});
