import { describe, expect, it } from 'vitest';
import type { RegistrationJob } from '@contract';
import { FakeClient, flush } from '../testing/fake-client';
import { createRegistrationStore, mergeJob } from './registration-store';

function job(over: Partial<RegistrationJob> = {}): RegistrationJob {
  return {
    jobId: 'reg-1',
    seq: 0,
    source: 'page',
    dir: '/data/exports/cartpole-1.4.0',
    startedAt: '2026-12-02T10:00:00.000Z',
    finishedAt: null,
    state: 'checking',
    checks: (['manifest', 'files', 'load', 'io-shapes', 'warmup', 'finite-outputs'] as const).map((name, i) => ({ name, status: i === 0 ? 'running' : 'pending', detail: null })),
    runs: { done: 0, total: 0 },
    fraction: 0,
    version: null,
    error: null,
    report: null,
    evaluation: null,
    ...over,
  };
}

describe('mergeJob', () => {
  it('keeps the newer copy of a job when an event and an answer cross on the wire', () => {
    const newer = job({ seq: 5, state: 'registered', finishedAt: '2026-12-02T10:00:02.000Z' });
    const held = mergeJob([], newer);
    expect(mergeJob(held, job({ seq: 1 }))).toBe(held);
    expect(mergeJob(held, job({ seq: 6, state: 'registered' }))[0]!.seq).toBe(6);
  });

  it('lists the newest registration first', () => {
    const a = job({ jobId: 'a', startedAt: '2026-12-02T10:00:00.000Z' });
    const b = job({ jobId: 'b', startedAt: '2026-12-02T10:05:00.000Z' });
    expect(mergeJob(mergeJob([], a), b).map((j) => j.jobId)).toEqual(['b', 'a']);
  });
});

describe('registration store', () => {
  it('registers a path, follows its progress events and reloads the versions once it is registered or judged', async () => {
    const client = new FakeClient();
    client.on('registry.registrations', () => ({ ok: true, value: { jobs: [], folders: [{ path: '/data', kind: 'store' }], watching: [], folderDialog: false } }));
    client.on('registry.registerExport', () => ({ ok: true, value: job() }));
    let reloads = 0;
    const store = createRegistrationStore(client, () => reloads++);
    const stop = store.getState().listen();
    await flush();
    expect(store.getState().folders).toEqual([{ path: '/data', kind: 'store' }]);

    expect(await store.getState().register('  /data/exports/cartpole-1.4.0 ')).toBe(true);
    expect(client.callsOf('registry.registerExport')).toEqual([{ path: '/data/exports/cartpole-1.4.0' }]);
    expect(store.getState().mine).toBe('reg-1');
    client.emit('registry.registerProgress', job({ seq: 3, fraction: 0.5 }));
    expect(store.getState().jobs[0]!.fraction).toBe(0.5);
    expect(reloads).toBe(0);
    client.emit('registry.registerProgress', job({ seq: 4, state: 'registered', fraction: 1, version: { ref: 'cartpole-balance@1.4.0', modelVersion: 'm@h', created: true } }));
    expect(reloads).toBe(1);
    // A watched export's verdict is a change of the store too.
    client.emit('registry.registerProgress', job({ jobId: 'w', source: 'watch', seq: 9, state: 'registered', evaluation: { state: 'done', suite: 's', rulesFile: null, runId: 1, fraction: 1, passRate: 1, verdict: 'GO', verdictId: 3, note: '' } }));
    expect(reloads).toBe(2);
    stop();
  });

  it('says what to give when the path is empty, and keeps a refusal to show beside the form', async () => {
    const client = new FakeClient();
    client.on('registry.registerExport', () => ({ ok: false, error: { code: 'SWY_ERR_PATH_NOT_ALLOWED', message: 'path: /etc is outside the folders', where: 'path' } }));
    const store = createRegistrationStore(client);
    expect(await store.getState().register('   ')).toBe(false);
    expect(store.getState().actionError).toMatchObject({ code: 'SWY_ERR_INVALID_INPUT', where: 'path' });
    expect(client.callsOf('registry.registerExport')).toHaveLength(0);
    expect(await store.getState().register('/etc')).toBe(false);
    expect(store.getState().actionError).toMatchObject({ code: 'SWY_ERR_PATH_NOT_ALLOWED' });
    store.getState().dismissError();
    expect(store.getState().actionError).toBeNull();
  });
});

describe('the desktop folder dialog', () => {
  it('returns the folder picked and re-reads the folders; a dismissed dialog changes nothing; a headless refusal is kept', async () => {
    const client = new FakeClient();
    let answer: { ok: true; value: { path: string | null } } | { ok: false; error: { code: 'SWY_ERR_CONFIG'; message: string } } = { ok: true, value: { path: '/home/lab/exports/cartpole-2.1.0' } };
    client.on('registry.chooseExportFolder', () => answer);
    client.on('registry.registrations', () => ({ ok: true, value: { jobs: [], folders: [], watching: [], folderDialog: true } }));
    const store = createRegistrationStore(client);
    expect(await store.getState().choose()).toBe('/home/lab/exports/cartpole-2.1.0');
    await flush();
    expect(client.callsOf('registry.registrations')).toHaveLength(1);
    answer = { ok: true, value: { path: null } };
    expect(await store.getState().choose()).toBeNull();
    expect(client.callsOf('registry.registrations')).toHaveLength(1);
    answer = { ok: false, error: { code: 'SWY_ERR_CONFIG', message: 'This server has no folder dialog' } };
    expect(await store.getState().choose()).toBeNull();
    expect(store.getState().actionError).toMatchObject({ code: 'SWY_ERR_CONFIG' });
  });
});
