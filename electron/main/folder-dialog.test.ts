/**
 * `Register export` in the desktop: the window asks for the native folder dialog through the
 * contract (`registry.chooseExportFolder`), then registers the folder picked. Electron's dialog and
 * ipcMain are FAKES (its binary cannot run here); the engine, store, doctor and ONNX are real.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { RegistrationJob, Result } from '../../core/src/contract/index.js';
import { createEngine, type Engine } from '../../core/src/engine.js';
import { silentLogger } from '../../core/src/platform/logger.js';
import { writeGoodExport } from '../../core/test-support/fault-fixtures.js';
import { installFolderDialog, type FolderDialogLike } from './folder-dialog.js';
import { registerBridge, type IpcMainLike } from './ipc-bridge.js';
import { createSenderCheck, type FrameLike, type InvokeEventLike, type WebContentsLike } from './security.js';

/** A FAKE ipcMain: keeps the handler and calls it as ipcRenderer.invoke would. */
class FakeIpcMain implements IpcMainLike {
  handler: ((event: InvokeEventLike, ...args: unknown[]) => unknown) | null = null;
  handle(_channel: string, listener: (event: InvokeEventLike, ...args: unknown[]) => unknown): void {
    this.handler = listener;
  }
  removeHandler(): void {
    this.handler = null;
  }
}

/** A FAKE of Electron's folder dialog: answers what the test queues, records what it was asked. */
class FakeDialog implements FolderDialogLike {
  readonly asked: { window: unknown; properties: string[] }[] = [];
  readonly answers: { canceled: boolean; filePaths: string[] }[] = [];
  async showOpenDialog(window: unknown, options: { properties: string[] }) {
    this.asked.push({ window, properties: options.properties });
    return this.answers.shift() ?? { canceled: true, filePaths: [] };
  }
}

const RENDERER_DIR = '/opt/switchyard/dist/renderer';
const frame: FrameLike = { url: `file://${RENDERER_DIR}/index.html`, parent: null };
const wc: WebContentsLike = { id: 7, mainFrame: frame, isDestroyed: () => false, send: () => {} };
const appWindow = { id: 'the app window' };
let dir: string;
let picked: string;
let engine: Engine;
const ipcMain = new FakeIpcMain();
const dialog = new FakeDialog();
let dispose: () => void;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'swy-folder-dialog-'));
  // A folder outside every root the server reads from: only the dialog can make it usable.
  picked = mkdtempSync(join(tmpdir(), 'swy-picked-'));
  engine = await createEngine({ storePath: join(dir, 'store.db'), statsIntervalMs: 0, logger: silentLogger, device: 'cpu' });
  dispose = registerBridge({
    ipcMain,
    engine,
    isTrustedSender: createSenderCheck({ rendererDir: RENDERER_DIR, isAppWebContents: (w) => w.id === wc.id }),
    getTargets: () => [wc],
    logger: { warn: () => {}, error: () => {} },
  });
}, 180_000);

afterAll(async () => {
  dispose?.();
  await engine?.close();
  rmSync(dir, { recursive: true, force: true });
  rmSync(picked, { recursive: true, force: true });
});

const invoke = async <T>(method: string, input: unknown = {}) =>
  structuredClone(await ipcMain.handler!({ sender: wc, senderFrame: frame }, method, input)) as Result<T>;

describe('Register export with the desktop folder dialog (fake dialog, real engine)', () => {
  it('refuses the folder before a dialog picked it, registers it after, and a dismissed dialog answers null', async () => {
    const exp = await writeGoodExport(join(picked, 'cartpole-3.0.0'), '1.0.0', (m) => (m.version = '3.0.0'));
    const before = await invoke('registry.registerExport', { path: exp });
    expect(!before.ok && before.error.code).toBe('SWY_ERR_PATH_NOT_ALLOWED');
    expect((await invoke<{ folderDialog: boolean }>('registry.registrations')).ok).toBe(true);

    const stop = installFolderDialog(engine, dialog, () => appWindow);
    try {
      const list = await invoke<{ folderDialog: boolean }>('registry.registrations');
      expect(list.ok && list.value.folderDialog).toBe(true);

      dialog.answers.push({ canceled: true, filePaths: [] });
      expect(await invoke('registry.chooseExportFolder')).toEqual({ ok: true, value: { path: null } });

      dialog.answers.push({ canceled: false, filePaths: [exp] });
      const chosen = await invoke<{ path: string }>('registry.chooseExportFolder');
      expect(chosen).toEqual({ ok: true, value: { path: exp } });
      expect(dialog.asked.at(-1)).toEqual({ window: appWindow, properties: expect.arrayContaining(['openDirectory']) });

      const started = await invoke<RegistrationJob>('registry.registerExport', { path: exp });
      if (!started.ok) throw new Error(started.error.message);
      let job = started.value;
      for (let i = 0; i < 1200 && job.finishedAt === null; i++) {
        await new Promise((r) => setTimeout(r, 50));
        const r = await invoke<{ jobs: RegistrationJob[] }>('registry.registrations');
        if (r.ok) job = r.value.jobs.find((j) => j.jobId === job.jobId) ?? job;
      }
      expect(job).toMatchObject({ state: 'registered', version: { ref: 'cartpole-balance@3.0.0', created: true } });
      // The picked folder, not its parent, became usable.
      const sibling = await invoke('registry.registerExport', { path: picked });
      expect(!sibling.ok && sibling.error.code).toBe('SWY_ERR_PATH_NOT_ALLOWED');
    } finally {
      stop();
    }
    const gone = await invoke('registry.chooseExportFolder');
    expect(!gone.ok && gone.error.code).toBe('SWY_ERR_CONFIG');
  }, 180_000);
});
