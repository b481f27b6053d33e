/**
 * Electron main process: the thin desktop shell. Compiled to dist/electron/main/main.js.
 *
 *   electron dist/electron/main/main.js [--store PATH] [--dev-url URL] [--serve-port N]
 *   electron dist/electron/main/main.js --remote URL [--token T]
 *
 * Local mode: creates the engine in this process, registers the one IPC bridge and loads the
 * built renderer (dist/renderer/index.html) with the sandboxed preload. No HTTP port is opened
 * unless --serve-port asks for one (then with a generated token, as `switchyard serve`). Remote
 * mode: loads the bench server's own workbench (https://, or http:// on loopback), without a
 * preload and without a bridge, so that page talks to its server over HTTP and can never reach
 * this machine's engine; the token rides in a request header, never in the URL.
 *
 * All policy (CSP, trusted URLs, window options, argv) lives in security.ts / args.ts / menu.ts,
 * which are unit-tested without the Electron binary.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BrowserWindow, Menu, app, dialog, ipcMain, session } from 'electron';
import type { WebContents } from 'electron';
import { parseArgs, remoteWorkbenchUrl } from './args.js';
import type { LaunchConfig } from './args.js';
import { registerBridge } from './ipc-bridge.js';
import { createOpenTraceDialog } from './open-trace-dialog.js';
import { installFolderDialog } from './folder-dialog.js';
import { buildMenuTemplate } from './menu.js';
import {
  createSenderCheck,
  createWindowOptions,
  isAppPageUrl,
  isSameOrigin,
  remoteAuthHeaders,
  resolveAppPaths,
  withContentSecurityPolicy,
} from './security.js';

/** The engine module's own types: Engine must satisfy the bridge's BridgeEngine, checked here. */
type EngineModule = typeof import('../../core/src/engine.js');
type DesktopEngine = Awaited<ReturnType<EngineModule['createEngine']>>;

/**
 * Loaded with a dynamic import, resolved relative to this file at run time:
 * dist/electron/main/main.js -> dist/core/src/engine.js (tsconfig.build.json compiles core and
 * electron into dist/ with rootDir '.'). Dynamic, so that a failure to load the engine (a native
 * module built for another ABI, a missing build) ends in a readable dialog, not a silent crash.
 */
async function loadEngine(storePath: string, servePort: number | undefined, replay: { trace?: string; dataRoots?: string[] }): Promise<DesktopEngine> {
  const mod: EngineModule = await import('../../core/src/engine.js');
  // --data-root folders: listed on the Replay page and open to it (as `switchyard console`).
  const engine = await mod.createEngine({ storePath, dataRoots: (replay.dataRoots ?? []).map((d) => path.resolve(d)) });
  try {
    if (replay.trace !== undefined) {
      // --trace FILE: read from the start (a missing file stops the start with a dialog naming it).
      const file = path.resolve(replay.trace);
      engine.replay.setInitialTrace(file);
      engine.pathRoots.add(file);
    }
    // Same start as `switchyard console`: the demo workspace on an empty store and the demo pair
    // served. An HTTP port (/act, the control API with a token) only with --serve-port.
    const { startDesktopServices } = await import('../../core/src/console-session.js');
    const services = await startDesktopServices(engine, servePort === undefined ? {} : { port: servePort });
    if (services.url !== null) console.log(`[switchyard] serving on ${services.url} (token in ${services.runtimeFile ?? 'memory'})`);
    const closeEngine = engine.close.bind(engine);
    return Object.assign(engine, {
      close: async () => {
        await services.close();
        await closeEngine();
      },
    });
  } catch (e) {
    await engine.close();
    throw e;
  }
}

const mainDir = path.dirname(fileURLToPath(import.meta.url));
const paths = resolveAppPaths(mainDir);

// Before 'ready': every renderer is sandboxed, whatever its webPreferences say.
app.enableSandbox();

const appContents = new Map<number, WebContents>();
let engine: DesktopEngine | undefined;
let disposeBridge: (() => void) | undefined;
let storePathInUse: string | undefined;

function fatal(title: string, message: string, code: number): void {
  console.error(`[switchyard] ${title}: ${message}`);
  try {
    dialog.showErrorBox(title, message);
  } catch {
    // No display: the console line above is all we can do.
  }
  app.exit(code);
}

function hardenSession(isAllowedUrl: (url: string) => boolean): void {
  const ses = session.defaultSession;
  ses.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: withContentSecurityPolicy(details.responseHeaders) });
  });
  ses.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  ses.setPermissionCheckHandler(() => false);

  app.on('web-contents-created', (_event, contents) => {
    const guard = (e: { preventDefault(): void }, url: string) => {
      if (!isAllowedUrl(url)) {
        e.preventDefault();
        console.warn(`[switchyard] blocked navigation to ${url}`);
      }
    };
    contents.on('will-navigate', guard);
    contents.on('will-redirect', guard);
    contents.on('will-attach-webview', (e) => e.preventDefault());
    contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  });
}

function installMenu(): void {
  const template = buildMenuTemplate({
    appName: 'Switchyard',
    isMac: process.platform === 'darwin',
    onAbout: () => {
      const detail = [
        `Electron ${process.versions.electron ?? '?'}, Chromium ${process.versions.chrome ?? '?'}, Node ${process.versions.node}`,
        storePathInUse !== undefined ? `Store: ${storePathInUse}` : undefined,
      ]
        .filter((l): l is string => l !== undefined)
        .join('\n');
      void dialog.showMessageBox({ type: 'info', title: 'About Switchyard', message: `Switchyard ${app.getVersion()}`, detail });
    },
  });
  Menu.setApplicationMenu(Menu.buildFromTemplate(template));
}

function createWindow(preloadPath: string | undefined): BrowserWindow {
  // DevTools only in a development (unpackaged) run.
  const win = new BrowserWindow(createWindowOptions({ preloadPath, devTools: !app.isPackaged }));
  const wc = win.webContents;
  const id = wc.id;
  appContents.set(id, wc);
  win.on('closed', () => appContents.delete(id));
  win.once('ready-to-show', () => win.show());
  wc.once('did-fail-load', (_e, code, description, url) => {
    console.error(`[switchyard] failed to load ${url}: ${description} (${code})`);
    if (!win.isDestroyed()) win.show();
  });
  return win;
}

async function startLocal(config: Extract<LaunchConfig, { mode: 'local' }>): Promise<void> {
  // A dev server is trusted only in an unpackaged run.
  const devUrl = app.isPackaged ? undefined : config.devUrl;
  const page = { rendererDir: paths.rendererDir, devUrl };
  hardenSession((url) => isAppPageUrl(url, page));
  installMenu();

  if (devUrl === undefined && !existsSync(paths.rendererIndex)) {
    fatal('Switchyard: renderer not built', `${paths.rendererIndex} is missing. Run "npm run build" first.`, 1);
    return;
  }

  const storePath = config.storePath !== undefined ? path.resolve(config.storePath) : path.join(app.getPath('userData'), 'switchyard.db');
  storePathInUse = storePath;
  try {
    engine = await loadEngine(storePath, config.servePort, { ...(config.trace !== undefined ? { trace: config.trace } : {}), ...(config.dataRoots ? { dataRoots: config.dataRoots } : {}) });
  } catch (e) {
    const err = e as { code?: unknown; message?: unknown };
    const code = typeof err.code === 'string' ? `${err.code}: ` : '';
    fatal('Switchyard could not start', `${code}${String(err.message ?? e)}\nStore: ${storePath}`, 1);
    return;
  }

  disposeBridge = registerBridge({
    ipcMain,
    engine,
    isTrustedSender: createSenderCheck({ ...page, isAppWebContents: (wc) => appContents.has(wc.id) }),
    getTargets: () => appContents.values(),
    localMethods: {
      'replay.openDialog': createOpenTraceDialog({
        // Modal to the focused window when there is one.
        dialog: { showOpenDialog: (o) => { const w = BrowserWindow.getFocusedWindow(); return w ? dialog.showOpenDialog(w, o) : dialog.showOpenDialog(o); } },
        engine,
      }),
    },
  });

  const win = createWindow(paths.preload);
  // `Register export` on Versions opens the system's folder dialog over this window.
  installFolderDialog(engine, dialog, () => (win.isDestroyed() ? null : win));
  // With --trace the window opens on the Replay page, which opens the file first.
  const hash = config.trace !== undefined ? '/replay' : undefined;
  if (devUrl !== undefined) await win.loadURL(hash ? `${devUrl}#${hash}` : devUrl);
  else await win.loadFile(paths.rendererIndex, hash ? { hash } : {});
}

async function startRemote(config: Extract<LaunchConfig, { mode: 'remote' }>): Promise<void> {
  hardenSession((url) => isSameOrigin(url, config.url));
  installMenu();
  // The token goes in a header on requests to that server only, never in the URL.
  const addAuth = remoteAuthHeaders(config.url, config.token);
  session.defaultSession.webRequest.onBeforeSendHeaders((details, callback) => callback({ requestHeaders: addAuth(details) }));
  // No preload: the remote workbench uses its HTTP transport and never sees window.switchyard.
  const win = createWindow(undefined);
  await win.loadURL(remoteWorkbenchUrl(config.url));
}

let shutDown = false;
let shuttingDown = false;
app.on('will-quit', (event) => {
  if (shutDown) return;
  event.preventDefault();
  if (shuttingDown) return;
  shuttingDown = true;
  const done = () => {
    shutDown = true;
    app.quit();
  };
  const timer = setTimeout(() => {
    console.error('[switchyard] engine did not close within 5 s; exiting');
    app.exit(1);
  }, 5000);
  void (async () => {
    try {
      disposeBridge?.();
      await engine?.close();
    } catch (e) {
      console.error('[switchyard] error while closing the engine', e);
    } finally {
      clearTimeout(timer);
      done();
    }
  })();
});

app.on('window-all-closed', () => app.quit());

async function main(): Promise<void> {
  const parsed = parseArgs(process.argv.slice(1), process.env);
  await app.whenReady();
  if (!parsed.ok) {
    fatal('Switchyard: bad arguments', parsed.message, 2);
    return;
  }
  if (parsed.config.mode === 'remote') await startRemote(parsed.config);
  else await startLocal(parsed.config);
}

main().catch((e: unknown) => {
  fatal('Switchyard failed to start', e instanceof Error ? (e.stack ?? e.message) : String(e), 1);
});
