/**
 * FAKES of Electron's ipcMain and of a window's webContents, for the bridge tests: the Electron
 * binary cannot run on these machines. Test-only (outside tsconfig.build, so never in dist or the
 * package); the tests of electron/main share these instead of each writing its own.
 */
import { IPC_EVENT_CHANNEL } from '../../core/src/contract/index.js';
import { registerBridge, type BridgeEngine, type BridgeEventMessage, type BridgeOptions, type IpcMainLike } from '../main/ipc-bridge.js';
import { createSenderCheck, type FrameLike, type InvokeEventLike, type WebContentsLike } from '../main/security.js';

type Handler = (event: InvokeEventLike, ...args: unknown[]) => unknown;

/**
 * Records handlers like the real ipcMain, throws on a second handler for one channel (as Electron
 * does), and invokes a channel the way a renderer's `ipcRenderer.invoke` would: no handler or a
 * handler's throw is a rejection, and the answer is structured-cloned (a value that cannot cross
 * IPC fails here too) unless `clone: false`, for tests that look at the very object returned.
 */
export class FakeIpcMain implements IpcMainLike {
  readonly handlers = new Map<string, Handler>();
  constructor(private readonly opts: { clone?: boolean } = {}) {}
  handle(channel: string, listener: Handler): void {
    if (this.handlers.has(channel)) throw new Error(`Attempted to register a second handler for '${channel}'`);
    this.handlers.set(channel, listener);
  }
  removeHandler(channel: string): void {
    this.handlers.delete(channel);
  }
  async invoke(event: InvokeEventLike, channel: string, ...args: unknown[]): Promise<unknown> {
    const h = this.handlers.get(channel);
    if (!h) throw new Error(`No handler registered for '${channel}'`);
    const answer = await h(event, ...args);
    return this.opts.clone === false ? answer : structuredClone(answer);
  }
}

/** A window's webContents: an id, a top frame showing `url`, and what was sent to it (cloned, as IPC does). */
export class FakeWebContents implements WebContentsLike {
  readonly sent: Array<{ channel: string; args: unknown[] }> = [];
  destroyed = false;
  readonly mainFrame: FrameLike;
  constructor(
    readonly id: number,
    url: string,
  ) {
    this.mainFrame = { url, parent: null };
  }
  isDestroyed(): boolean {
    return this.destroyed;
  }
  send(channel: string, ...args: unknown[]): void {
    if (this.destroyed) throw new Error('Object has been destroyed');
    this.sent.push({ channel, args: structuredClone(args) });
  }
  /** The bridge's event messages sent to this window, in order. */
  get events(): BridgeEventMessage[] {
    return this.sent.filter((s) => s.channel === IPC_EVENT_CHANNEL).map((s) => s.args[0] as BridgeEventMessage);
  }
}

/** Where the packaged app's renderer would live; the app window's page is its index.html. */
export const RENDERER_DIR = '/opt/switchyard/dist/renderer';

/** The app's own window: its top frame shows the app page. */
export function appWindow(id = 1): FakeWebContents {
  return new FakeWebContents(id, `file://${RENDERER_DIR}/index.html`);
}

/**
 * The bridge as main.ts installs it, for one app window `win`: the real sender check (only `win`,
 * showing the app page), events sent to `win`, a silent logger. Returns what removes it.
 */
export function bridgeForWindow(opts: { ipcMain: IpcMainLike; engine: BridgeEngine; win: WebContentsLike; localMethods?: BridgeOptions['localMethods'] }): () => void {
  const { win } = opts;
  return registerBridge({
    ipcMain: opts.ipcMain,
    engine: opts.engine,
    isTrustedSender: createSenderCheck({ rendererDir: RENDERER_DIR, isAppWebContents: (wc) => wc.id === win.id }),
    getTargets: () => [win],
    logger: { warn: () => {}, error: () => {} },
    ...(opts.localMethods ? { localMethods: opts.localMethods } : {}),
  });
}
