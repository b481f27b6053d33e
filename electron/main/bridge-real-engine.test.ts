/**
 * The IPC bridge into a REAL engine: a temporary SQLite store with the demo workspace, real ONNX
 * policies in worker threads serving two slots. Only Electron is faked (ipcMain and the window's
 * webContents), because its binary cannot run here. Every contract method is called through the
 * invoke channel the way the renderer's preload calls it, and its answer checked.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IPC_INVOKE_CHANNEL, methodNames } from '../../core/src/contract/index.js';
import type { MethodName, Result } from '../../core/src/contract/index.js';
import { createEngine, type Engine } from '../../core/src/engine.js';
import { DEMO_SUITE_NAME } from '../../core/src/eval/demo-suite.js';
import { silentLogger } from '../../core/src/platform/logger.js';
import { appWindow, bridgeForWindow, FakeIpcMain, type FakeWebContents } from '../test-support/fake-electron.js';

let dir: string;
let engine: Engine;
let ipcMain: FakeIpcMain;
let win: FakeWebContents;
let dispose: () => void;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'swy-bridge-real-'));
  engine = await createEngine({ storePath: join(dir, 'store.db'), statsIntervalMs: 0, logger: silentLogger, device: 'cpu' });
  await engine.buildDemo();
  await engine.startServing({ a: 'cartpole-balance@production', b: 'cartpole-balance@1.1.0', split: 50 });
  ipcMain = new FakeIpcMain();
  win = appWindow();
  dispose = bridgeForWindow({ ipcMain, engine, win });
}, 120_000);

afterAll(async () => {
  dispose?.();
  await engine?.close();
  rmSync(dir, { recursive: true, force: true });
});

const invoke = (method: string, input: unknown = {}) =>
  ipcMain.invoke({ sender: win, senderFrame: win.mainFrame }, IPC_INVOKE_CHANNEL, method, input) as Promise<Result<Record<string, unknown>>>;

async function ok(method: MethodName, input: unknown = {}): Promise<Record<string, unknown>> {
  const r = await invoke(method, input);
  if (!r.ok) throw new Error(`${method} answered ${r.error.code}: ${r.error.message}`);
  return r.value;
}

async function refused(method: MethodName, input: unknown, code: string, message: RegExp): Promise<void> {
  const r = await invoke(method, input);
  expect(r.ok, `${method} should be refused`).toBe(false);
  if (!r.ok) {
    expect(r.error.code, `${method}: ${r.error.message}`).toBe(code);
    expect(r.error.message).toMatch(message);
  }
}

const called = new Set<string>();
const POLICY = 'cartpole-balance';

describe('the IPC bridge into a real engine on the demo workspace', () => {
  it('answers every contract method, values and refusals alike, as values that cross IPC', async () => {
    const track = (m: MethodName) => called.add(m);

    track('app.info');
    expect(await ok('app.info')).toMatchObject({ version: expect.any(String) });

    track('policies.list');
    const { policies } = (await ok('policies.list')) as { policies: { name: string; productionLabel: string | null; versions: unknown[] }[] };
    expect(policies).toEqual([expect.objectContaining({ name: POLICY, productionLabel: '1.0.0' })]);
    expect(policies[0]!.versions).toHaveLength(4);

    track('versions.get');
    expect(await ok('versions.get', { policy: POLICY, label: '1.0.0' })).toMatchObject({ stage: 'production', doctorStatus: 'ok' });
    await refused('versions.get', { policy: POLICY, label: '9.9.9' }, 'SWY_ERR_NOT_FOUND', /9\.9\.9/);

    track('suites.list');
    expect(((await ok('suites.list')) as { suites: { name: string }[] }).suites.map((s) => s.name)).toContain(DEMO_SUITE_NAME);

    track('rules.list');
    expect(((await ok('rules.list')) as { rules: unknown[] }).rules.length).toBeGreaterThanOrEqual(2);

    track('serving.getState');
    expect(await ok('serving.getState')).toMatchObject({ mode: 'ab', split: 50 });

    track('serving.setSplit');
    const sentBefore = win.events.length;
    expect(await ok('serving.setSplit', { split: 30 })).toMatchObject({ split: 30 });
    // The state change reaches the window as an event.
    expect(win.events.slice(sentBefore)).toContainEqual({ event: 'serving.state', payload: expect.objectContaining({ split: 30 }) });
    await refused('serving.setSplit', { split: 101 }, 'SWY_ERR_INVALID_INPUT', /split/);

    track('serving.restoreSlot');
    // Slot a is not drained: restoring it changes nothing and says so with the state.
    expect(await ok('serving.restoreSlot', { slot: 'a' })).toMatchObject({ drain: 'none', slots: [expect.objectContaining({ slot: 'a', drained: false }), expect.anything()] });

    track('eval.start');
    const started = (await ok('eval.start', { version: `${POLICY}@1.1.0`, suite: DEMO_SUITE_NAME })) as { runId: number; alreadyRunning: boolean };
    expect(started).toMatchObject({ runId: expect.any(Number), alreadyRunning: false });

    track('eval.cancel');
    expect(await ok('eval.cancel', { runId: started.runId })).toMatchObject({ runId: started.runId });

    track('eval.runs');
    const { runs } = (await ok('eval.runs', { version: `${POLICY}@1.1.0` })) as { runs: { id?: number; runId?: number }[] };
    expect(runs.length).toBeGreaterThanOrEqual(1);

    track('compare.get');
    // Neither version has a completed run of the suite yet: a coded refusal saying what to run.
    await refused('compare.get', { candidate: `${POLICY}@1.1.0`, baseline: `${POLICY}@1.0.0`, suite: DEMO_SUITE_NAME }, 'SWY_ERR_NOT_FOUND', /has no completed evaluation on suite cartpole-frozen-v1 .*Evaluate it/);

    track('gate.run');
    await refused('gate.run', { rulesPath: join(dir, 'no-such-rules.yaml'), candidate: `${POLICY}@1.1.0` }, 'SWY_ERR_NOT_FOUND', /no-such-rules\.yaml/);

    track('verdicts.list');
    expect(await ok('verdicts.list', { policy: POLICY })).toMatchObject({ verdicts: [] });

    track('lifecycle.promote');
    // 1.1.0 (serving in slot b) to staging, so the canary below can ramp it.
    await refused('lifecycle.promote', { version: `${POLICY}@1.1.0`, to: 'staging', actor: 'bridge-test' }, 'SWY_ERR_VERDICT_REQUIRED', /needs a GO verdict/);
    expect(await ok('lifecycle.promote', { version: `${POLICY}@1.1.0`, to: 'staging', force: true, reason: 'bridge test', actor: 'bridge-test' })).toMatchObject({
      to: 'staging',
      forced: true,
    });

    track('lifecycle.history');
    const history = (await ok('lifecycle.history', { policy: POLICY })) as { entries: { to: string; reason: string; forced: boolean }[] };
    expect(history.entries).toContainEqual(expect.objectContaining({ label: '1.1.0', to: 'staging', reason: 'bridge test', forced: true }));

    track('lifecycle.archive');
    expect(await ok('lifecycle.archive', { version: `${POLICY}@2.0.0-iter`, reason: 'bridge test', actor: 'bridge-test' })).toMatchObject({ version: { label: '2.0.0-iter', stage: 'archived' }, reason: 'bridge test' });
    await refused('lifecycle.archive', { version: `${POLICY}@1.0.0`, reason: 'bridge test' }, 'SWY_ERR_PROTECTED_VERSION', /is the production version and cannot be archived/);

    track('lifecycle.rollback');
    // 1.0.0 is the only version that was ever in production: nothing to go back to.
    await refused('lifecycle.rollback', { policy: POLICY, reason: 'bridge test' }, 'SWY_ERR_NOT_FOUND', /no earlier production version to roll back to/);

    track('canary.start');
    const canary = await ok('canary.start', { policy: POLICY, candidate: `${POLICY}@1.1.0`, intervalMs: 86_400_000, force: true, reason: 'bridge test', actor: 'bridge-test' });
    expect(canary).toMatchObject({ state: 'ramping' });

    track('canary.status');
    expect(await ok('canary.status')).toMatchObject({ canary: { state: 'ramping' } });

    track('canary.pause');
    expect(await ok('canary.pause', { actor: 'bridge-test' })).toMatchObject({ state: 'paused' });

    track('canary.resume');
    expect(await ok('canary.resume', { actor: 'bridge-test' })).toMatchObject({ state: 'ramping' });

    track('canary.abort');
    expect(await ok('canary.abort', { reason: 'bridge test', actor: 'bridge-test' })).toMatchObject({ state: 'aborted' });
    expect(win.events.some((m) => m.event === 'canary.progress')).toBe(true);

    track('serving.history');
    const servingHistory = (await ok('serving.history', { sinceMs: 60_000 })) as { samples: unknown[]; events: unknown[] };
    expect(Array.isArray(servingHistory.samples) && Array.isArray(servingHistory.events)).toBe(true);

    track('eval.results');
    expect(await ok('eval.results', { runId: started.runId, format: 'csv' })).toMatchObject({ runId: started.runId, format: 'csv', text: expect.any(String) });
    await refused('eval.results', { runId: 999_999 }, 'SWY_ERR_NOT_FOUND', /999999/);

    // Replay: the record folder is empty, so every trace-bound method refuses by name.
    track('replay.list');
    expect(await ok('replay.list')).toMatchObject({ traces: expect.any(Array) });
    track('replay.open');
    await refused('replay.open', { path: '/etc/passwd' }, 'SWY_ERR_PATH_NOT_ALLOWED', /passwd|allowed|folder/i);
    // Without the main process's own answer (open-trace-dialog.test.ts), the engine says where the dialog lives.
    track('replay.openDialog');
    await refused('replay.openDialog', {}, 'SWY_ERR_UNAVAILABLE', /desktop app/);
    track('replay.cancel');
    await refused('replay.cancel', { jobId: 'no-such-job' }, 'SWY_ERR_NOT_FOUND', /no-such-job/);
    track('replay.job');
    await refused('replay.job', { jobId: 'no-such-job' }, 'SWY_ERR_NOT_FOUND', /no-such-job/);
    track('replay.rerunResult');
    await refused('replay.rerunResult', { jobId: 'no-such-job' }, 'SWY_ERR_NOT_FOUND', /no-such-job/);
    for (const [method, input] of [
      ['replay.summary', { traceId: 'no-such-trace' }],
      ['replay.timeline', { traceId: 'no-such-trace', bins: 10 }],
      ['replay.episodes', { traceId: 'no-such-trace' }],
      ['replay.episode', { traceId: 'no-such-trace', episodeId: 'ep-1' }],
      ['replay.at', { traceId: 'no-such-trace', tMs: 0 }],
      ['replay.rerun', { traceId: 'no-such-trace', version: `${POLICY}@1.1.0` }],
    ] as const) {
      track(method);
      await refused(method, input, 'SWY_ERR_NOT_FOUND', /no-such-trace/);
    }

    track('demo.traffic.get');
    expect(await ok('demo.traffic.get')).toMatchObject({ running: false });
    // No HTTP server in the desktop bridge: the robots have no /act to drive, and it says so.
    track('demo.traffic.set');
    await refused('demo.traffic.set', { on: true, robots: 1 }, 'SWY_ERR_NOT_SERVING', /HTTP server|\/act/);

    // Registration from the workbench (issue 13): no dialog in this engine, paths under the roots only.
    track('registry.registrations');
    expect(await ok('registry.registrations')).toMatchObject({ jobs: [], folderDialog: false, watching: [] });
    track('registry.doctorReport');
    expect(await ok('registry.doctorReport', { policy: POLICY, label: '1.0.0' })).toMatchObject({ report: { ok: true } });
    track('registry.registerExport');
    await refused('registry.registerExport', { path: '/etc' }, 'SWY_ERR_PATH_NOT_ALLOWED', /outside the folders/);
    track('registry.cancelRegistration');
    await refused('registry.cancelRegistration', { jobId: 'no-such-job' }, 'SWY_ERR_NOT_FOUND', /no-such-job/);
    track('registry.chooseExportFolder');
    await refused('registry.chooseExportFolder', {}, 'SWY_ERR_CONFIG', /no folder dialog/);

    track('shadow.evidence');
    expect(await ok('shadow.evidence', { candidate: `${POLICY}@1.1.0` })).toMatchObject({ recorded: false, requests: 0, baseline: `${POLICY}@1.0.0` });

    // Every method of the contract went through the bridge into the engine.
    expect([...called].sort()).toEqual([...methodNames].sort());
  }, 180_000);

  it('refuses what is not a contract method, and input the schema rejects, before the engine sees it', async () => {
    const unknown = await invoke('engine.close', {});
    expect(unknown).toMatchObject({ ok: false, error: { code: 'SWY_ERR_UNKNOWN_METHOD' } });
    const bad = await invoke('versions.get', { policy: POLICY });
    expect(bad).toMatchObject({ ok: false, error: { code: 'SWY_ERR_INVALID_INPUT', where: expect.stringContaining('label') } });
  });
});
