// A FAKE of the `electron` module (the binary cannot be fetched here), just enough for the real
// dist/electron/main/main.js to run its local start inside the packaged layout under plain Node:
// app lifecycle, session hardening, menu, ipcMain and a BrowserWindow that records what it loads.
// Once main has loaded the renderer page, the probe below acts as that page (through the very
// IPC handler main registered) and as a robot (HTTP /act), then quits the app the way a window
// close does and prints one `PROBE {json}` line for electron/packaged-layout.test.ts.
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const INVOKE_CHANNEL = 'switchyard:invoke';
const handlers = new Map();

class FakeApp extends EventEmitter {
  isPackaged = true;
  enableSandbox() {}
  whenReady() {
    return Promise.resolve();
  }
  getPath(name) {
    return `${process.env.SWITCHYARD_PROBE_USERDATA ?? process.cwd()}/${name}`;
  }
  getVersion() {
    return '0.0.0-fake';
  }
  quit() {
    let prevented = false;
    this.emit('will-quit', { preventDefault: () => (prevented = true) });
    if (!prevented) process.exit(process.exitCode ?? 0);
  }
  exit(code = 0) {
    process.exit(code);
  }
}

export const app = new FakeApp();
export const dialog = {
  showErrorBox(title, message) {
    console.error(`[fake-electron] error box: ${title}: ${message}`);
    process.exitCode = 1;
  },
  showMessageBox: async () => ({ response: 0 }),
};
export const Menu = { buildFromTemplate: (t) => t, setApplicationMenu() {} };
export const session = {
  defaultSession: { webRequest: { onHeadersReceived() {} }, setPermissionRequestHandler() {}, setPermissionCheckHandler() {} },
};
export const ipcMain = {
  handle(channel, fn) {
    handlers.set(channel, fn);
  },
  removeHandler(channel) {
    handlers.delete(channel);
  },
};

let nextId = 1;
class FakeWebContents extends EventEmitter {
  id = nextId++;
  mainFrame = { url: '', parent: null };
  sent = [];
  isDestroyed() {
    return false;
  }
  send(channel, ...args) {
    this.sent.push([channel, ...args]);
  }
  setWindowOpenHandler() {}
}

export class BrowserWindow extends EventEmitter {
  constructor(options) {
    super();
    this.options = options;
    this.webContents = new FakeWebContents();
    app.emit('web-contents-created', {}, this.webContents);
  }
  isDestroyed() {
    return false;
  }
  show() {}
  async loadURL(url) {
    this.webContents.mainFrame.url = url;
    this.emit('ready-to-show');
  }
  async loadFile(file, options = {}) {
    this.webContents.mainFrame.url = pathToFileURL(file).href;
    this.hash = options.hash ?? null;
    this.emit('ready-to-show');
    setImmediate(() => void probe(this, file));
  }
}

/** The shared objects this process mapped: where each native addon was really loaded from. */
function nativeFiles() {
  const maps = readFileSync('/proc/self/maps', 'utf8');
  return [...new Set(maps.split('\n').map((l) => l.split(/\s+/)[5] ?? '').filter((p) => /\.node$|libonnxruntime/.test(p)))];
}

async function probe(win, page) {
  const out = { node: process.version, page, preload: win.options.webPreferences?.preload ?? null };
  try {
    const wc = win.webContents;
    const invoke = async (method, input) => {
      const r = await handlers.get(INVOKE_CHANNEL)({ sender: wc, senderFrame: wc.mainFrame }, method, input);
      if (!r.ok) throw new Error(`${method}: ${r.error.code}: ${r.error.message}`);
      return r.value;
    };
    out.info = await invoke('app.info', {});
    out.serving = await invoke('serving.getState', {});

    // main opened /act because the probe started it with --serve-port.
    if (!out.serving.actUrl) throw new Error('main opened no /act port (start it with --serve-port N)');
    const act = await fetch(out.serving.actUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ episode_id: 'packaged-probe', state: [0, 0, 0.01, 0] }),
    });
    out.act = { status: act.status, body: await act.json() };

    const version = 'cartpole-balance@production';
    const suite = 'cartpole-frozen-v1';
    out.evalStart = await invoke('eval.start', { version, suite });
    const deadline = Date.now() + 240_000;
    let run;
    for (;;) {
      run = (await invoke('eval.runs', { version, suite })).runs.find((r) => r.id === out.evalStart.runId);
      if (run && run.status !== 'running') break;
      if (Date.now() > deadline) throw new Error(`evaluation ${out.evalStart.runId} still running after 240 s`);
      await new Promise((r) => setTimeout(r, 250));
    }
    out.evalRun = run;

    // Replay (main started with --trace FILE --data-root DIR when the test gives them): the window's
    // page, the list, and the file opened and summarized by the packaged summary pass.
    out.hash = win.hash;
    out.replayList = await invoke('replay.list', {});
    if (out.replayList.initial) {
      const job = await invoke('replay.open', { path: out.replayList.initial });
      let st = job;
      while (st.status === 'running') {
        if (Date.now() > deadline) throw new Error(`replay job ${job.jobId} still running`);
        await new Promise((r) => setTimeout(r, 100));
        st = await invoke('replay.job', { jobId: job.jobId });
      }
      out.replayJob = st;
      if (st.status === 'done') out.replaySummary = await invoke('replay.summary', { traceId: st.traceId });
    }
    out.native = nativeFiles();
  } catch (e) {
    out.error = e instanceof Error ? (e.stack ?? e.message) : String(e);
    process.exitCode = 1;
  }
  console.log(`PROBE ${JSON.stringify(out)}`);
  app.quit();
}
