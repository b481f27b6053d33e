import { describe, expect, it, vi } from 'vitest';
import { IPC_EVENT_CHANNEL, IPC_INVOKE_CHANNEL, eventNames } from '../../core/src/contract/index.js';
import type { EventName, EventPayload, Result } from '../../core/src/contract/index.js';
import { registerBridge } from './ipc-bridge.js';
import type { BridgeEngine, BridgeLogger } from './ipc-bridge.js';
import { createSenderCheck } from './security.js';
import type { InvokeEventLike } from './security.js';
import { FakeIpcMain, FakeWebContents } from '../test-support/fake-electron.js';

/** A fake engine: records calls, answers with a canned Result, and can emit contract events. */
class FakeEngine implements BridgeEngine {
  readonly calls: Array<{ method: string; input: unknown }> = [];
  readonly listeners = new Map<string, Set<(p: unknown) => void>>();
  answer: (method: string, input: unknown) => Promise<Result<unknown>> = async (method) => ({ ok: true, value: { echoed: method } });
  api = {
    call: (method: string, input: unknown): Promise<Result<unknown>> => {
      this.calls.push({ method, input });
      return this.answer(method, input);
    },
  };
  events = {
    on: <E extends EventName>(e: E, h: (p: EventPayload<E>) => void): (() => void) => {
      const set = this.listeners.get(e) ?? new Set();
      this.listeners.set(e, set);
      const fn = h as (p: unknown) => void;
      set.add(fn);
      return () => set.delete(fn);
    },
  };
  emit(e: EventName, payload: unknown): void {
    for (const h of this.listeners.get(e) ?? []) h(payload);
  }
  listenerCount(): number {
    let n = 0;
    for (const s of this.listeners.values()) n += s.size;
    return n;
  }
}

const RENDERER_DIR = '/opt/switchyard/dist/renderer';
const APP_URL = `file://${RENDERER_DIR}/index.html`;

function setup() {
  const ipcMain = new FakeIpcMain({ clone: false });
  const engine = new FakeEngine();
  const appWindow = new FakeWebContents(1, APP_URL);
  const appIds = new Set<number>([appWindow.id]);
  const targets: FakeWebContents[] = [appWindow];
  const logger: BridgeLogger = { warn: vi.fn(), error: vi.fn() };
  const dispose = registerBridge({
    ipcMain,
    engine,
    isTrustedSender: createSenderCheck({ rendererDir: RENDERER_DIR, isAppWebContents: (wc) => appIds.has(wc.id) }),
    getTargets: () => targets,
    logger,
  });
  const fromApp = (): InvokeEventLike => ({ sender: appWindow, senderFrame: appWindow.mainFrame });
  const call = (event: InvokeEventLike, method: unknown, input?: unknown) => ipcMain.invoke(event, IPC_INVOKE_CHANNEL, method, input) as Promise<Result<unknown>>;
  return { ipcMain, engine, appWindow, appIds, targets, logger, dispose, fromApp, call };
}

const STATE = {
  mode: 'ab',
  split: 30,
  drain: 'none',
  slots: [],
  actUrl: null,
  rtc: false,
  maxConsecutiveCrashes: 5,
};

describe('ipc bridge', () => {
  it('registers exactly one handler, on the contract invoke channel', () => {
    const { ipcMain } = setup();
    expect([...ipcMain.handlers.keys()]).toEqual([IPC_INVOKE_CHANNEL]);
  });

  it('passes a valid call through to the engine and returns its Result', async () => {
    const { engine, call, fromApp } = setup();
    engine.answer = async () => ({ ok: true, value: { ...STATE, split: 30 } });
    const res = await call(fromApp(), 'serving.setSplit', { split: 30 });
    expect(engine.calls).toEqual([{ method: 'serving.setSplit', input: { split: 30 } }]);
    expect(res).toEqual({ ok: true, value: { ...STATE, split: 30 } });
  });

  it('passes an engine error value through unchanged', async () => {
    const { engine, call, fromApp } = setup();
    engine.answer = async () => ({ ok: false, error: { code: 'SWY_ERR_NOT_SERVING', message: 'Nothing is serving.' } });
    const res = await call(fromApp(), 'serving.getState', {});
    expect(res).toEqual({ ok: false, error: { code: 'SWY_ERR_NOT_SERVING', message: 'Nothing is serving.' } });
  });

  it('treats an omitted input as {} for a method without arguments', async () => {
    const { engine, call, fromApp } = setup();
    const res = await call(fromApp(), 'app.info');
    expect(res.ok).toBe(true);
    expect(engine.calls).toEqual([{ method: 'app.info', input: {} }]);
  });

  it('answers SWY_ERR_UNKNOWN_METHOD for a method not in the contract, without calling the engine', async () => {
    const { engine, call, fromApp } = setup();
    for (const m of ['serving.deleteEverything', '__proto__', 'toString', 42, undefined]) {
      const res = await call(fromApp(), m, {});
      expect(res.ok).toBe(false);
      if (!res.ok) expect(res.error.code).toBe('SWY_ERR_UNKNOWN_METHOD');
    }
    expect(engine.calls).toEqual([]);
  });

  it('answers SWY_ERR_INVALID_INPUT with the field path for serving.setSplit split 150, without calling the engine', async () => {
    const { engine, call, fromApp } = setup();
    const res = await call(fromApp(), 'serving.setSplit', { split: 150 });
    expect(res.ok).toBe(false);
    if (!res.ok) {
      expect(res.error.code).toBe('SWY_ERR_INVALID_INPUT');
      expect(res.error.where).toBe('split');
      expect(res.error.message).toMatch(/serving\.setSplit/);
    }
    expect(engine.calls).toEqual([]);
  });

  it('rejects other invalid inputs: wrong type, extra keys, nested path, non-object', async () => {
    const { engine, call, fromApp } = setup();
    const cases: Array<[string, unknown, string]> = [
      ['serving.setSplit', { split: '50' }, 'split'],
      ['serving.setSplit', { split: 50, evil: true }, 'evil'],
      ['serving.restoreSlot', { slot: 'c' }, 'slot'],
      ['versions.get', { policy: 'cartpole-balance', label: '' }, 'label'],
      ['app.info', 'not an object', '(input)'],
    ];
    for (const [method, input, where] of cases) {
      const res = await call(fromApp(), method, input);
      expect(res.ok, `${method} ${JSON.stringify(input)}`).toBe(false);
      if (!res.ok) {
        expect(res.error.code).toBe('SWY_ERR_INVALID_INPUT');
        expect(res.error.where).toBe(where);
      }
    }
    expect(engine.calls).toEqual([]);
  });

  it('refuses an untrusted sender (a frame at https://evil.example) with SWY_ERR_FORBIDDEN_SENDER, engine never called', async () => {
    const { engine, call, appWindow, logger } = setup();
    const res = await call({ sender: appWindow, senderFrame: { url: 'https://evil.example/', parent: null } }, 'serving.setSplit', { split: 50 });
    expect(res).toMatchObject({ ok: false, error: { code: 'SWY_ERR_FORBIDDEN_SENDER' } });
    expect(engine.calls).toEqual([]);
    expect(logger.warn).toHaveBeenCalled();
  });

  it('refuses the app URL from a webContents that is not an app window, an iframe, or a gone frame', async () => {
    const { engine, call, appWindow } = setup();
    const stranger = new FakeWebContents(99, APP_URL);
    const senders: InvokeEventLike[] = [
      { sender: stranger, senderFrame: stranger.mainFrame },
      { sender: appWindow, senderFrame: { url: APP_URL, parent: appWindow.mainFrame } },
      { sender: appWindow, senderFrame: null },
      { sender: appWindow, senderFrame: { url: 'file:///etc/passwd', parent: null } },
      { sender: appWindow, senderFrame: { url: `file://${RENDERER_DIR}/../../secret.html`, parent: null } },
    ];
    for (const ev of senders) {
      const res = await call(ev, 'app.info', {});
      expect(res).toMatchObject({ ok: false, error: { code: 'SWY_ERR_FORBIDDEN_SENDER' } });
    }
    expect(engine.calls).toEqual([]);
  });

  it('checks the sender before the method: an untrusted sender learns nothing about method names', async () => {
    const { call, appWindow } = setup();
    const res = await call({ sender: appWindow, senderFrame: { url: 'https://evil.example/', parent: null } }, 'no.such.method', {});
    expect(res).toMatchObject({ ok: false, error: { code: 'SWY_ERR_FORBIDDEN_SENDER' } });
  });

  it('turns an engine that throws or rejects into an error value, never a rejection', async () => {
    const { engine, call, fromApp } = setup();
    engine.api.call = () => {
      throw new Error('boom');
    };
    await expect(call(fromApp(), 'app.info', {})).resolves.toMatchObject({ ok: false, error: { code: 'SWY_ERR_INTERNAL' } });
    engine.api.call = () => Promise.reject(new Error('async boom'));
    const res = await call(fromApp(), 'app.info', {});
    expect(res).toMatchObject({ ok: false, error: { code: 'SWY_ERR_INTERNAL' } });
    if (!res.ok) expect(res.error.message).toContain('async boom');
  });

  it('turns a malformed or uncloneable engine result into SWY_ERR_INTERNAL', async () => {
    const { engine, call, fromApp } = setup();
    engine.answer = async () => 'not a result' as unknown as Result<unknown>;
    await expect(call(fromApp(), 'app.info', {})).resolves.toMatchObject({ ok: false, error: { code: 'SWY_ERR_INTERNAL' } });
    engine.answer = async () => ({ ok: true, value: { fn: () => 1 } });
    await expect(call(fromApp(), 'app.info', {})).resolves.toMatchObject({ ok: false, error: { code: 'SWY_ERR_INTERNAL' } });
  });

  it('a throwing trust check means untrusted, not a rejection', async () => {
    const ipcMain = new FakeIpcMain({ clone: false });
    const engine = new FakeEngine();
    registerBridge({
      ipcMain,
      engine,
      isTrustedSender: () => {
        throw new Error('frame gone');
      },
      getTargets: () => [],
      logger: { warn: vi.fn(), error: vi.fn() },
    });
    const wc = new FakeWebContents(1, APP_URL);
    const res = await ipcMain.invoke({ sender: wc, senderFrame: wc.mainFrame }, IPC_INVOKE_CHANNEL, 'app.info', {});
    expect(res).toMatchObject({ ok: false, error: { code: 'SWY_ERR_FORBIDDEN_SENDER' } });
    expect(engine.calls).toEqual([]);
  });

  it('subscribes to every contract event once', () => {
    const { engine } = setup();
    expect([...engine.listeners.keys()].sort()).toEqual([...eventNames].sort());
    for (const set of engine.listeners.values()) expect(set.size).toBe(1);
  });

  it('forwards events as { event, payload } to trusted live windows only', () => {
    const { engine, appWindow, appIds, targets } = setup();
    const second = new FakeWebContents(2, `file://${RENDERER_DIR}/index.html#/traffic`);
    const destroyed = new FakeWebContents(3, APP_URL);
    destroyed.destroyed = true;
    const navigatedAway = new FakeWebContents(4, 'https://evil.example/');
    const notAppWindow = new FakeWebContents(5, APP_URL);
    for (const wc of [second, destroyed, navigatedAway]) appIds.add(wc.id);
    targets.push(second, destroyed, navigatedAway, notAppWindow);

    engine.emit('serving.state', STATE);
    const expected = [{ channel: IPC_EVENT_CHANNEL, args: [{ event: 'serving.state', payload: STATE }] }];
    expect(appWindow.sent).toEqual(expected);
    expect(second.sent).toEqual(expected);
    expect(destroyed.sent).toEqual([]);
    expect(navigatedAway.sent).toEqual([]);
    expect(notAppWindow.sent).toEqual([]);
  });

  it('a window whose send throws does not stop delivery to the others', () => {
    const { engine, appWindow, appIds, targets, logger } = setup();
    const broken = new FakeWebContents(2, APP_URL);
    broken.send = () => {
      throw new Error('render process gone');
    };
    appIds.add(2);
    targets.unshift(broken);
    expect(() => engine.emit('serving.stats', { at: 'now', windowMs: 1000, slots: [] })).not.toThrow();
    expect(appWindow.sent).toHaveLength(1);
    expect(logger.warn).toHaveBeenCalled();
  });

  it('dispose removes the handler and unsubscribes; events stop; dispose is idempotent', async () => {
    const { ipcMain, engine, appWindow, dispose, fromApp } = setup();
    dispose();
    expect(ipcMain.handlers.size).toBe(0);
    expect(engine.listenerCount()).toBe(0);
    engine.emit('serving.state', STATE);
    expect(appWindow.sent).toEqual([]);
    await expect(ipcMain.invoke(fromApp(), IPC_INVOKE_CHANNEL, 'app.info', {})).rejects.toThrow(/No handler/);
    expect(() => dispose()).not.toThrow();
  });

  it('can be registered again after dispose (a second live registration throws, like Electron)', () => {
    const ipcMain = new FakeIpcMain({ clone: false });
    const engine = new FakeEngine();
    const opts = { ipcMain, engine, isTrustedSender: () => true, getTargets: () => [], logger: { warn: vi.fn(), error: vi.fn() } };
    const d1 = registerBridge(opts);
    expect(() => registerBridge(opts)).toThrow(/second handler/);
    d1();
    const d2 = registerBridge(opts);
    expect(ipcMain.handlers.size).toBe(1);
    d2();
  });
});
