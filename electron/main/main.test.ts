/**
 * The app entry's wiring, run against a FAKE `electron` module (the Electron binary is
 * unavailable here) and a fake engine: the window gets the secure options and the preload, the
 * session gets the CSP and denies permissions, navigation and pop-ups are refused, the bridge
 * answers the app window only, events reach the window, and quitting closes the engine.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { IPC_EVENT_CHANNEL, IPC_INVOKE_CHANNEL } from '../../core/src/contract/index.js';
import { CONTENT_SECURITY_POLICY } from './security.js';

type Listener = (...args: unknown[]) => unknown;

const fx = vi.hoisted(() => {
  class Emitter {
    readonly listeners = new Map<string, Listener[]>();
    on(name: string, l: Listener) {
      this.listeners.set(name, [...(this.listeners.get(name) ?? []), l]);
      return this;
    }
    once(name: string, l: Listener) {
      return this.on(name, l);
    }
    emit(name: string, ...args: unknown[]) {
      for (const l of this.listeners.get(name) ?? []) l(...args);
    }
  }
  let nextId = 1;
  class FakeWebContents extends Emitter {
    readonly id = nextId++;
    readonly sent: unknown[][] = [];
    mainFrame = { url: '', parent: null };
    windowOpenHandler: Listener | undefined;
    isDestroyed() {
      return false;
    }
    send(...args: unknown[]) {
      this.sent.push(args);
    }
    setWindowOpenHandler(h: Listener) {
      this.windowOpenHandler = h;
    }
  }
  class FakeBrowserWindow extends Emitter {
    static readonly created: FakeBrowserWindow[] = [];
    readonly webContents = new FakeWebContents();
    loaded: string | undefined;
    constructor(readonly options: { webPreferences?: Record<string, unknown> }) {
      super();
      FakeBrowserWindow.created.push(this);
      fake.app.emit('web-contents-created', {}, this.webContents);
    }
    async loadFile(file: string) {
      this.loaded = file;
      this.webContents.mainFrame.url = pathToFileURL(file).href;
    }
    async loadURL(url: string) {
      this.loaded = url;
      this.webContents.mainFrame.url = url;
    }
    show() {}
    isDestroyed() {
      return false;
    }
  }
  class FakeApp extends Emitter {
    isPackaged = false;
    sandboxed = false;
    exitCode: number | undefined;
    quitCalls = 0;
    enableSandbox() {
      this.sandboxed = true;
    }
    whenReady() {
      return Promise.resolve();
    }
    getPath() {
      return '/nonexistent/userData';
    }
    getVersion() {
      return '0.0.0-test';
    }
    exit(code: number) {
      this.exitCode = code;
    }
    quit() {
      this.quitCalls++;
    }
  }
  // A FAKE ipcMain (Electron's binary is unavailable): records handlers like the real one.
  class FakeIpcMain {
    readonly handlers = new Map<string, Listener>();
    handle(channel: string, l: Listener) {
      if (this.handlers.has(channel)) throw new Error(`second handler for ${channel}`);
      this.handlers.set(channel, l);
    }
    removeHandler(channel: string) {
      this.handlers.delete(channel);
    }
  }
  const session = {
    headersHook: undefined as Listener | undefined,
    sendHeadersHook: undefined as Listener | undefined,
    permissionRequest: undefined as Listener | undefined,
    permissionCheck: undefined as Listener | undefined,
  };
  const engineListeners = new Map<string, Set<Listener>>();
  const engine = {
    calls: [] as Array<[string, unknown]>,
    closed: false,
    api: {
      call: async (method: string, input: unknown) => {
        engine.calls.push([method, input]);
        return { ok: true, value: { method } };
      },
    },
    events: {
      on(e: string, h: Listener) {
        const s = engineListeners.get(e) ?? new Set<Listener>();
        engineListeners.set(e, s);
        s.add(h);
        return () => s.delete(h);
      },
    },
    emit(e: string, p: unknown) {
      for (const h of engineListeners.get(e) ?? []) h(p);
    },
    async close() {
      engine.closed = true;
    },
    // `Register export`'s folder dialog is installed here by main.ts.
    chooser: null as (() => Promise<string | null>) | null,
    registration: {
      setFolderChooser(c: (() => Promise<string | null>) | null) {
        engine.chooser = c;
      },
    },
  };
  const fake = {
    app: new FakeApp(),
    ipcMain: new FakeIpcMain(),
    session,
    engine,
    createEngine: vi.fn(async (_config: unknown) => engine),
    FakeBrowserWindow,
    FakeWebContents,
    menuTemplate: undefined as unknown,
    errors: [] as string[],
    openDialogs: [] as { win: unknown; options: unknown }[],
  };
  return fake;
});

vi.mock('electron', () => ({
  app: fx.app,
  ipcMain: fx.ipcMain,
  BrowserWindow: fx.FakeBrowserWindow,
  Menu: {
    buildFromTemplate: (t: unknown) => {
      fx.menuTemplate = t;
      return t;
    },
    setApplicationMenu: () => undefined,
  },
  dialog: {
    showErrorBox: (title: string, msg: string) => void fx.errors.push(`${title}: ${msg}`),
    showMessageBox: async () => ({ response: 0 }),
    // A FAKE native folder dialog: records what it was asked, answers with a picked folder.
    showOpenDialog: async (win: unknown, options: unknown) => {
      fx.openDialogs.push({ win, options });
      return { canceled: false, filePaths: ['/home/lab/exports/cartpole-2.1.0'] };
    },
  },
  session: {
    defaultSession: {
      webRequest: {
        onHeadersReceived: (l: Listener) => void (fx.session.headersHook = l),
        onBeforeSendHeaders: (l: Listener) => void (fx.session.sendHeadersHook = l),
      },
      setPermissionRequestHandler: (l: Listener) => void (fx.session.permissionRequest = l),
      setPermissionCheckHandler: (l: Listener) => void (fx.session.permissionCheck = l),
    },
  },
}));
vi.mock('../../core/src/engine.js', () => ({ createEngine: fx.createEngine }));
// The console session loads ONNX workers and opens a port; the fake engine has neither.
const services = vi.hoisted(() => ({ startDesktopServices: vi.fn(async (..._args: unknown[]) => ({ actUrl: null, url: null, runtimeFile: null, close: async () => {} })) }));
vi.mock('../../core/src/console-session.js', () => services);
// In a source checkout the built renderer may not exist yet; main only checks that it does.
vi.mock('node:fs', async (importOriginal) => ({ ...(await importOriginal<typeof import('node:fs')>()), existsSync: () => true }));

const STORE = path.resolve('/tmp/swy-main-test/store.db');
const savedArgv = process.argv;

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`timed out waiting for ${what}; errors: ${fx.errors.join(' | ')}`);
}

describe('main.ts wiring (fake electron)', () => {
  let win: InstanceType<typeof fx.FakeBrowserWindow>;

  beforeAll(async () => {
    process.argv = ['/usr/bin/electron', '--inspect=0', 'dist/electron/main/main.js', '--store', STORE];
    await import('./main.js');
    await until(() => fx.FakeBrowserWindow.created[0]?.loaded !== undefined, 'the window to load');
    win = fx.FakeBrowserWindow.created[0]!;
  });
  afterAll(() => {
    process.argv = savedArgv;
  });

  it('sandboxes every renderer and creates the engine on the --store path', () => {
    expect(fx.app.sandboxed).toBe(true);
    expect(fx.createEngine).toHaveBeenCalledOnce();
    expect(fx.createEngine.mock.calls[0]?.[0]).toMatchObject({ storePath: STORE });
    expect(fx.errors).toEqual([]);
  });

  it('gives Register export the native folder dialog, over the app window, for folders only', async () => {
    expect(fx.engine.chooser).not.toBeNull();
    await expect(fx.engine.chooser!()).resolves.toBe('/home/lab/exports/cartpole-2.1.0');
    expect(fx.openDialogs).toHaveLength(1);
    expect(fx.openDialogs[0]!.win).toBe(win);
    expect(fx.openDialogs[0]!.options).toMatchObject({ properties: expect.arrayContaining(['openDirectory']) });
  });

  it('opens no HTTP port unless --serve-port asks for one', () => {
    expect(services.startDesktopServices).toHaveBeenCalledOnce();
    expect(services.startDesktopServices.mock.calls[0]?.[1]).toEqual({});
  });

  it('allows DevTools in a development (unpackaged) run', () => {
    expect(fx.app.isPackaged).toBe(false);
    expect(win.options.webPreferences!['devTools']).toBe(true);
  });

  it('opens one window with secure options, the compiled preload, and the built renderer', () => {
    expect(fx.FakeBrowserWindow.created).toHaveLength(1);
    const wp = win.options.webPreferences!;
    expect(wp).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: true });
    expect(String(wp['preload'])).toMatch(/electron[\\/]preload[\\/]preload\.cjs$/);
    expect(win.loaded).toMatch(/renderer[\\/]index\.html$/);
    expect(fx.menuTemplate).toBeDefined();
  });

  it('sets the CSP on every response and denies every permission', () => {
    const cb = vi.fn();
    fx.session.headersHook!({ responseHeaders: { 'content-type': ['text/html'] } }, cb);
    expect(cb.mock.calls[0]?.[0].responseHeaders['Content-Security-Policy']).toEqual([CONTENT_SECURITY_POLICY]);
    const grant = vi.fn();
    fx.session.permissionRequest!(win.webContents, 'media', grant, {});
    expect(grant).toHaveBeenCalledWith(false);
    expect(fx.session.permissionCheck!(win.webContents, 'geolocation', 'file://', {})).toBe(false);
  });

  it('refuses navigation away from the app page and every pop-up', () => {
    const away = { preventDefault: vi.fn() };
    win.webContents.emit('will-navigate', away, 'https://evil.example/');
    expect(away.preventDefault).toHaveBeenCalled();
    const home = { preventDefault: vi.fn() };
    win.webContents.emit('will-navigate', home, win.webContents.mainFrame.url);
    expect(home.preventDefault).not.toHaveBeenCalled();
    expect(win.webContents.windowOpenHandler!({ url: 'https://evil.example/' })).toEqual({ action: 'deny' });
  });

  it('the bridge answers the app window and refuses anything else', async () => {
    const handler = fx.ipcMain.handlers.get(IPC_INVOKE_CHANNEL)!;
    const own = { sender: win.webContents, senderFrame: win.webContents.mainFrame };
    await expect(handler(own, 'app.info', {})).resolves.toEqual({ ok: true, value: { method: 'app.info' } });
    const evil = { sender: win.webContents, senderFrame: { url: 'https://evil.example/', parent: null } };
    await expect(handler(evil, 'app.info', {})).resolves.toMatchObject({ ok: false, error: { code: 'SWY_ERR_FORBIDDEN_SENDER' } });
    // The app's own URL in a webContents that is not one of the app's windows (a stray view).
    const stray = new fx.FakeWebContents();
    stray.mainFrame.url = win.webContents.mainFrame.url;
    await expect(handler({ sender: stray, senderFrame: stray.mainFrame }, 'app.info', {})).resolves.toMatchObject({
      ok: false,
      error: { code: 'SWY_ERR_FORBIDDEN_SENDER' },
    });
    expect(fx.engine.calls).toEqual([['app.info', {}]]);
  });

  it('forwards engine events to the window', () => {
    fx.engine.emit('serving.stats', { at: 't', windowMs: 1000, slots: [] });
    expect(win.webContents.sent).toContainEqual([IPC_EVENT_CHANNEL, { event: 'serving.stats', payload: { at: 't', windowMs: 1000, slots: [] } }]);
  });

  it('on quit, removes the bridge and closes the engine before letting the app quit', async () => {
    const ev = { preventDefault: vi.fn() };
    fx.app.emit('will-quit', ev);
    expect(ev.preventDefault).toHaveBeenCalled();
    await until(() => fx.app.quitCalls > 0, 'app.quit');
    expect(fx.engine.closed).toBe(true);
    expect(fx.ipcMain.handlers.size).toBe(0);
    const again = { preventDefault: vi.fn() };
    fx.app.emit('will-quit', again);
    expect(again.preventDefault).not.toHaveBeenCalled();
  });
});

describe('a packaged app in remote mode (fake electron)', () => {
  let remote: InstanceType<typeof fx.FakeBrowserWindow>;
  const TOKEN = 'remote-token-0123456789abcdef';

  beforeAll(async () => {
    fx.app.isPackaged = true;
    process.argv = ['/opt/Switchyard/switchyard', '--remote', 'https://bench-01.lab:8443', '--token', TOKEN];
    const before = fx.FakeBrowserWindow.created.length;
    vi.resetModules();
    await import('./main.js');
    await until(() => fx.FakeBrowserWindow.created[before]?.loaded !== undefined, 'the remote window to load');
    remote = fx.FakeBrowserWindow.created[before]!;
  });
  afterAll(() => {
    process.argv = savedArgv;
    fx.app.isPackaged = false;
  });

  it('turns DevTools off in a packaged build', () => {
    expect(remote.options.webPreferences!['devTools']).toBe(false);
  });

  it('loads the server page without the token in the URL, and sends it in a header to that server only', () => {
    expect(remote.loaded).toBe('https://bench-01.lab:8443/');
    expect(remote.loaded).not.toContain(TOKEN);
    expect(remote.options.webPreferences!['preload']).toBeUndefined();
    const hook = fx.session.sendHeadersHook!;
    const seen = (url: string) => {
      const cb = vi.fn();
      hook({ url, requestHeaders: { Accept: '*/*' } }, cb);
      return (cb.mock.calls[0]?.[0] as { requestHeaders: Record<string, string> }).requestHeaders;
    };
    expect(seen('https://bench-01.lab:8443/api/app.info')).toMatchObject({ Authorization: `Bearer ${TOKEN}`, Accept: '*/*' });
    expect(seen('wss://bench-01.lab:8443/api/events')).toMatchObject({ Authorization: `Bearer ${TOKEN}` });
    expect(seen('https://evil.example/')).not.toHaveProperty('Authorization');
    expect(seen('http://bench-01.lab:8443/')).not.toHaveProperty('Authorization');
  });
});
