/**
 * `replay.openDialog` through the IPC bridge into a REAL engine (temporary SQLite store, a real
 * trace file in a folder the engine does not know). Electron's dialog, ipcMain and webContents are
 * FAKES: the Electron binary cannot run on these machines.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IPC_INVOKE_CHANNEL } from '../../core/src/contract/index.js';
import type { ReplayProgressPayload, Result } from '../../core/src/contract/index.js';
import { createEngine, type Engine } from '../../core/src/engine.js';
import { silentLogger } from '../../core/src/platform/logger.js';
import { writeSyntheticTrace } from '../../core/test-support/replay-fixtures.js';
import { appWindow, bridgeForWindow, FakeIpcMain, FakeWebContents } from '../test-support/fake-electron.js';
import { createOpenTraceDialog, TRACE_DIALOG_OPTIONS, type DialogLike, type OpenDialogOptionsLike } from './open-trace-dialog.js';
import type { WebContentsLike } from './security.js';

/** A FAKE of Electron's `dialog`: answers with what the test queued, and records what it was asked. */
class FakeDialog implements DialogLike {
  readonly asked: OpenDialogOptionsLike[] = [];
  next: { canceled: boolean; filePaths: string[] } | Error = { canceled: true, filePaths: [] };
  showOpenDialog(options: OpenDialogOptionsLike): Promise<{ canceled: boolean; filePaths: string[] }> {
    this.asked.push(options);
    const n = this.next;
    return n instanceof Error ? Promise.reject(n) : Promise.resolve(n);
  }
}

let dir: string;
let trace: string;
let engine: Engine;
const dialog = new FakeDialog();
const ipcMain = new FakeIpcMain();
const win = appWindow();
const stranger = new FakeWebContents(2, 'https://example.com/');
let dispose: () => void;

function call<T>(method: string, input: unknown = {}, from: WebContentsLike = win): Promise<Result<T>> {
  return ipcMain.invoke({ sender: from, senderFrame: from.mainFrame }, IPC_INVOKE_CHANNEL, method, input) as Promise<Result<T>>;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'swy-open-dialog-'));
  // A folder the engine was never told about: the dialog is the only way in.
  const elsewhere = join(dir, 'elsewhere');
  mkdirSync(elsewhere);
  trace = await writeSyntheticTrace({ dir: elsewhere, requests: 300, episodes: 6 });
  engine = await createEngine({ storePath: join(dir, 'store', 'store.db'), statsIntervalMs: 0, logger: silentLogger, device: 'cpu' });
  dispose = bridgeForWindow({ ipcMain, engine, win, localMethods: { 'replay.openDialog': createOpenTraceDialog({ dialog, engine }) } });
}, 120_000);

afterAll(async () => {
  dispose?.();
  await engine?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('replay.openDialog in the desktop app', () => {
  it('the file is outside the known folders: replay.open refuses it by path', async () => {
    const r = await call('replay.open', { path: trace });
    expect(r).toMatchObject({ ok: false, error: { code: 'SWY_ERR_PATH_NOT_ALLOWED' } });
  });

  it('a cancelled dialog opens nothing', async () => {
    dialog.next = { canceled: true, filePaths: [] };
    const r = await call<{ path: string | null; job: unknown }>('replay.openDialog');
    expect(r).toEqual({ ok: true, value: { path: null, job: null } });
    expect(dialog.asked.at(-1)).toEqual(TRACE_DIALOG_OPTIONS);
    expect(TRACE_DIALOG_OPTIONS.filters[0]!.extensions).toEqual(['jsonl', 'gz']);
  });

  it('the chosen file is opened as replay.open does, and its summary follows', async () => {
    dialog.next = { canceled: false, filePaths: [trace] };
    const r = await call<{ path: string; job: ReplayProgressPayload }>('replay.openDialog');
    if (!r.ok) throw new Error(r.error.message);
    expect(r.value.path).toBe(trace);
    expect(r.value.job).toMatchObject({ kind: 'open', path: expect.stringContaining('elsewhere') });
    const jobId = r.value.job.jobId;
    let job: ReplayProgressPayload | null = null;
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const j = await call<ReplayProgressPayload>('replay.job', { jobId });
      if (!j.ok) throw new Error(j.error.message);
      job = j.value;
      if (job.status !== 'running') break;
      await new Promise((res) => setTimeout(res, 50));
    }
    expect(job?.status).toBe('done');
    const s = await call('replay.summary', { traceId: job!.traceId });
    expect(s).toMatchObject({ ok: true, value: { overall: { requests: 300 }, chain: { status: 'verified' } } });
    // Exactly that file is now readable by path, not its folder.
    expect(await call('replay.open', { path: trace })).toMatchObject({ ok: true });
    expect(await call('replay.open', { path: join(dir, 'elsewhere', 'other.jsonl') })).toMatchObject({ ok: false, error: { code: 'SWY_ERR_PATH_NOT_ALLOWED' } });
  });

  async function settle(jobId: string): Promise<ReplayProgressPayload> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const j = await call<ReplayProgressPayload>('replay.job', { jobId });
      if (!j.ok) throw new Error(j.error.message);
      if (j.value.status !== 'running' || Date.now() > deadline) return j.value;
      await new Promise((res) => setTimeout(res, 50));
    }
  }

  it('a dialog that fails, and a missing file, are coded errors; an untrusted sender never reaches the dialog', async () => {
    dialog.next = new Error('no display');
    expect(await call('replay.openDialog')).toMatchObject({ ok: false, error: { code: 'SWY_ERR_INTERNAL', message: expect.stringContaining('no display') } });
    // A file gone between the dialog and the read: the open job fails with the engine's own error.
    dialog.next = { canceled: false, filePaths: [join(dir, 'gone.jsonl')] };
    const gone = await call<{ path: string; job: ReplayProgressPayload }>('replay.openDialog');
    if (!gone.ok) throw new Error(gone.error.message);
    expect(await settle(gone.value.job.jobId)).toMatchObject({ status: 'failed', error: { code: 'SWY_ERR_NOT_FOUND' } });
    const asked = dialog.asked.length;
    expect(await call('replay.openDialog', {}, stranger)).toMatchObject({ ok: false, error: { code: 'SWY_ERR_FORBIDDEN_SENDER' } });
    expect(await call('replay.openDialog', { path: '/etc/passwd' })).toMatchObject({ ok: false, error: { code: 'SWY_ERR_INVALID_INPUT' } });
    expect(dialog.asked.length).toBe(asked);
  });
});
