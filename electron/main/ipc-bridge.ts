/**
 * The one IPC bridge between the window and the engine.
 *
 * - One `handle` on IPC_INVOKE_CHANNEL: (method, input) -> Result. The sender must be the app's
 *   own window showing the app's own page; the method must be in the contract; the input must
 *   satisfy the method's zod schema. Only then is the engine called. Nothing is ever thrown back
 *   across IPC: every failure is a `{ ok: false, error }` value with a stable code.
 * - Every contract event is subscribed once and forwarded as `{ event, payload }` on
 *   IPC_EVENT_CHANNEL to each trusted, live window.
 *
 * Electron is only referenced structurally (IpcMainLike, WebContentsLike), so the bridge is
 * tested against a fake ipcMain.
 */
import {
  ErrorCodes,
  IPC_EVENT_CHANNEL,
  IPC_INVOKE_CHANNEL,
  eventNames,
  fail,
  isMethodName,
  methods,
  toErrorShape,
} from '../../core/src/contract/index.js';
import type { EventName, EventPayload, MethodName, Result } from '../../core/src/contract/index.js';
import type { InvokeEventLike, WebContentsLike } from './security.js';

/** The slice of the engine the bridge needs (the full Engine has more). */
export interface BridgeEngine {
  /** `ctx.caller` is recorded in the audit log; the app's own window calls as `desktop`. */
  api: { call(method: string, input: unknown, ctx?: { caller: string }): Promise<Result<unknown>> };
  events: { on<E extends EventName>(e: E, h: (p: EventPayload<E>) => void): () => void };
}

/** The slice of Electron's ipcMain the bridge needs. */
export interface IpcMainLike {
  handle(channel: string, listener: (event: InvokeEventLike, ...args: unknown[]) => unknown): void;
  removeHandler(channel: string): void;
}

export interface BridgeLogger {
  warn(message: string, details?: Record<string, unknown>): void;
  error(message: string, details?: Record<string, unknown>): void;
}

export interface BridgeOptions {
  ipcMain: IpcMainLike;
  engine: BridgeEngine;
  /** Decides whether an invoke came from the app's own window and page (see createSenderCheck). */
  isTrustedSender(event: InvokeEventLike): boolean;
  /** The webContents that may receive events; each is re-checked with isTrustedSender. */
  getTargets(): Iterable<WebContentsLike>;
  logger?: BridgeLogger;
  /**
   * Contract methods this process answers itself instead of the engine (a native dialog belongs
   * to the window, not to the engine). Called only after the same sender check and input schema
   * as every other method.
   */
  localMethods?: LocalMethods;
}

/** A contract method answered by the main process; `input` has passed the method's schema. */
export type LocalMethods = Partial<Record<MethodName, (input: unknown, event: InvokeEventLike) => Promise<Result<unknown>>>>;

/** What crosses the event channel. */
export interface BridgeEventMessage {
  event: EventName;
  payload: unknown;
}

const consoleLogger: BridgeLogger = {
  warn: (m, d) => console.warn(`[switchyard:ipc] ${m}`, d ?? ''),
  error: (m, d) => console.error(`[switchyard:ipc] ${m}`, d ?? ''),
};

function describe(value: unknown): string {
  const s = typeof value === 'string' ? JSON.stringify(value) : typeof value;
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/** A zod issue's field path (`slots.0.slot`); an unexpected key is named by the key itself. */
function issuePath(issue: { path: readonly PropertyKey[]; code?: string; keys?: readonly string[] }): string {
  const p = issue.path.map(String);
  if (issue.code === 'unrecognized_keys' && issue.keys && issue.keys.length > 0) p.push(String(issue.keys[0]));
  return p.length > 0 ? p.join('.') : '(input)';
}

function isResult(value: unknown): value is Result<unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as { ok?: unknown; value?: unknown; error?: unknown };
  if (v.ok === true) return 'value' in v;
  if (v.ok === false) {
    const e = v.error as { code?: unknown; message?: unknown } | null | undefined;
    return typeof e === 'object' && e !== null && typeof e.code === 'string' && typeof e.message === 'string';
  }
  return false;
}

/** Trust check for event delivery: a live webContents whose top frame is the app page. */
function isLiveTrustedTarget(wc: WebContentsLike, isTrustedSender: (e: InvokeEventLike) => boolean): boolean {
  try {
    if (wc.isDestroyed()) return false;
    return isTrustedSender({ sender: wc, senderFrame: wc.mainFrame });
  } catch {
    return false;
  }
}

/**
 * Handle one invoke. Exported for tests; registerBridge wires it to ipcMain.
 * Never throws and never rejects.
 */
export async function handleInvoke(
  opts: Pick<BridgeOptions, 'engine' | 'isTrustedSender' | 'localMethods'> & { logger: BridgeLogger },
  event: InvokeEventLike,
  method: unknown,
  input: unknown,
): Promise<Result<unknown>> {
  try {
    let trusted = false;
    try {
      trusted = opts.isTrustedSender(event);
    } catch {
      trusted = false;
    }
    if (!trusted) {
      let url: string | undefined;
      try {
        url = event.senderFrame?.url;
      } catch {
        url = undefined;
      }
      opts.logger.warn('refused an invoke from an untrusted sender', { url, method: describe(method) });
      return fail(
        ErrorCodes.SWY_ERR_FORBIDDEN_SENDER,
        'Refused: this request did not come from the Switchyard window. Only the app page loaded by Switchyard may call the engine.',
      );
    }

    if (typeof method !== 'string' || !isMethodName(method)) {
      return fail(
        ErrorCodes.SWY_ERR_UNKNOWN_METHOD,
        `Unknown method ${describe(method)}. The contract's methods are listed in core/src/contract/map.ts.`,
        'method',
      );
    }

    // An omitted input means "no arguments", as an empty HTTP body does.
    const given = input === undefined ? {} : input;
    const parsed = methods[method].input.safeParse(given);
    if (!parsed.success) {
      const detail = parsed.error.issues.map((i) => `${issuePath(i)}: ${i.message}`).join('; ');
      const first = parsed.error.issues[0];
      const where = first ? issuePath(first) : '(input)';
      return fail(ErrorCodes.SWY_ERR_INVALID_INPUT, `Invalid input for ${method}: ${detail}.`, where);
    }

    const local = opts.localMethods?.[method];
    const result: unknown = local ? await local(parsed.data, event) : await opts.engine.api.call(method, given, { caller: 'desktop' });
    if (!isResult(result)) {
      opts.logger.error('engine returned something that is not a Result', { method });
      return fail(ErrorCodes.SWY_ERR_INTERNAL, `Internal error: ${method} returned a malformed result. This is a bug; the log has details.`);
    }
    try {
      // IPC uses the structured-clone algorithm; a value it cannot copy would reject in the renderer.
      structuredClone(result);
    } catch (e) {
      opts.logger.error('engine result cannot cross IPC', { method, error: String(e) });
      return fail(ErrorCodes.SWY_ERR_INTERNAL, `Internal error: ${method} returned a value that cannot be sent to the window. This is a bug; the log has details.`);
    }
    return result;
  } catch (e) {
    opts.logger.error('invoke failed', { method: describe(method), error: e instanceof Error ? e.stack ?? e.message : String(e) });
    return { ok: false, error: toErrorShape(e) };
  }
}

/** Registers the invoke handler and event forwarding. Returns dispose (idempotent). */
export function registerBridge(opts: BridgeOptions): () => void {
  const logger = opts.logger ?? consoleLogger;
  const { ipcMain, engine, isTrustedSender, getTargets, localMethods } = opts;

  ipcMain.handle(IPC_INVOKE_CHANNEL, (event, method, input) =>
    handleInvoke({ engine, isTrustedSender, logger, ...(localMethods ? { localMethods } : {}) }, event, method, input),
  );

  const forward = (name: EventName, payload: unknown): void => {
    const message: BridgeEventMessage = { event: name, payload };
    let targets: Iterable<WebContentsLike>;
    try {
      targets = getTargets();
    } catch (e) {
      logger.error('getTargets failed', { error: String(e) });
      return;
    }
    for (const wc of targets) {
      if (!isLiveTrustedTarget(wc, isTrustedSender)) continue;
      try {
        wc.send(IPC_EVENT_CHANNEL, message);
      } catch (e) {
        // A window closing mid-send, or a payload that cannot be cloned: drop this delivery only.
        logger.warn('could not deliver an event', { event: name, error: String(e) });
      }
    }
  };

  const unsubscribers: Array<() => void> = [];
  try {
    for (const name of eventNames) {
      unsubscribers.push(engine.events.on(name, (payload) => forward(name, payload)));
    }
  } catch (e) {
    for (const u of unsubscribers) u();
    ipcMain.removeHandler(IPC_INVOKE_CHANNEL);
    throw e;
  }

  let disposed = false;
  return () => {
    if (disposed) return;
    disposed = true;
    ipcMain.removeHandler(IPC_INVOKE_CHANNEL);
    for (const u of unsubscribers.splice(0)) {
      try {
        u();
      } catch (e) {
        logger.warn('unsubscribe failed', { error: String(e) });
      }
    }
  };
}
