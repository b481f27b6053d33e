import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import vm from 'node:vm';
import ts from 'typescript';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { IPC_EVENT_CHANNEL, IPC_INVOKE_CHANNEL } from '../../core/src/contract/index.js';
import type { PreloadBridge } from '../../core/src/contract/index.js';

/**
 * A fake `electron` module for the preload: the Electron binary is unavailable here, and a
 * preload only ever touches contextBridge and ipcRenderer.
 */
const fake = vi.hoisted(() => {
  const exposed = new Map<string, unknown>();
  const listeners = new Map<string, Set<(...args: unknown[]) => void>>();
  return {
    exposed,
    listeners,
    contextBridge: { exposeInMainWorld: (key: string, api: unknown) => void exposed.set(key, api) },
    ipcRenderer: {
      invoke: vi.fn(async (..._args: unknown[]): Promise<unknown> => ({ ok: true, value: 'pong' })),
      on(channel: string, l: (...args: unknown[]) => void) {
        const set = listeners.get(channel) ?? new Set();
        listeners.set(channel, set);
        set.add(l);
        return this;
      },
      removeListener(channel: string, l: (...args: unknown[]) => void) {
        listeners.get(channel)?.delete(l);
        return this;
      },
    },
  };
});

vi.mock('electron', () => ({ contextBridge: fake.contextBridge, ipcRenderer: fake.ipcRenderer }));

const SOURCE_PATH = new URL('./preload.cts', import.meta.url);

function emit(channel: string, message: unknown): void {
  const fakeEvent = { sender: { secret: 'ipcRenderer internals' } };
  for (const l of fake.listeners.get(channel) ?? []) l(fakeEvent, message);
}

function transpile(module: ts.ModuleKind): string {
  const src = readFileSync(SOURCE_PATH, 'utf8');
  return ts.transpileModule(src, { compilerOptions: { module, target: ts.ScriptTarget.ES2022 } }).outputText;
}

/**
 * Vite does not transform `.cts`, so the source is transpiled (as tsc would, but to ESM) into a
 * temporary module and imported through Vitest, where vi.mock('electron') replaces electron.
 */
async function loadPreload(): Promise<PreloadBridge> {
  const dir = mkdtempSync(path.join(tmpdir(), 'swy-preload-'));
  const file = path.join(dir, 'preload.mjs');
  writeFileSync(file, transpile(ts.ModuleKind.ESNext));
  vi.resetModules();
  fake.exposed.clear();
  fake.listeners.clear();
  try {
    await import(/* @vite-ignore */ pathToFileURL(file).href);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return fake.exposed.get('switchyard') as PreloadBridge;
}

describe('preload', () => {
  beforeEach(() => fake.ipcRenderer.invoke.mockClear());

  it('inlines channel names equal to the contract constants', () => {
    const src = readFileSync(SOURCE_PATH, 'utf8');
    expect(src).toContain(`const INVOKE_CHANNEL = '${IPC_INVOKE_CHANNEL}';`);
    expect(src).toContain(`const EVENT_CHANNEL = '${IPC_EVENT_CHANNEL}';`);
  });

  it('exposes exactly invoke and subscribe on window.switchyard, and nothing else', async () => {
    const api = await loadPreload();
    expect([...fake.exposed.keys()]).toEqual(['switchyard']);
    expect(Object.keys(api).sort()).toEqual(['invoke', 'subscribe']);
    expect(typeof api.invoke).toBe('function');
    expect(typeof api.subscribe).toBe('function');
  });

  it('invoke sends (method, input) on the invoke channel and returns the answer', async () => {
    const api = await loadPreload();
    await expect(api.invoke('serving.setSplit', { split: 30 })).resolves.toEqual({ ok: true, value: 'pong' });
    expect(fake.ipcRenderer.invoke).toHaveBeenCalledWith(IPC_INVOKE_CHANNEL, 'serving.setSplit', { split: 30 });
  });

  it('subscribe delivers only its event, only the payload, and unsubscribe stops it', async () => {
    const api = await loadPreload();
    const got: unknown[] = [];
    const off = api.subscribe('serving.state', (p) => got.push(p));
    emit(IPC_EVENT_CHANNEL, { event: 'serving.stats', payload: 'other' });
    emit(IPC_EVENT_CHANNEL, { event: 'serving.state', payload: { split: 40 } });
    emit(IPC_EVENT_CHANNEL, null);
    emit('some-other-channel', { event: 'serving.state', payload: 'wrong channel' });
    expect(got).toEqual([{ split: 40 }]);
    off();
    expect(fake.listeners.get(IPC_EVENT_CHANNEL)?.size ?? 0).toBe(0);
    emit(IPC_EVENT_CHANNEL, { event: 'serving.state', payload: { split: 50 } });
    expect(got).toEqual([{ split: 40 }]);
  });

  it('runs as sandboxed CommonJS that requires nothing but electron', () => {
    const js = transpile(ts.ModuleKind.CommonJS);
    const required: string[] = [];
    const sandboxRequire = (id: string) => {
      required.push(id);
      if (id === 'electron') return { contextBridge: fake.contextBridge, ipcRenderer: fake.ipcRenderer };
      throw new Error(`a sandboxed preload cannot require ${id}`);
    };
    fake.exposed.clear();
    const module = { exports: {} };
    vm.runInNewContext(js, { require: sandboxRequire, module, exports: module.exports });
    expect(required).toEqual(['electron']);
    expect(Object.keys(fake.exposed.get('switchyard') as object).sort()).toEqual(['invoke', 'subscribe']);
  });
});
