/**
 * Pure security policy for the desktop shell: the Content-Security-Policy, which URLs are the
 * app's own page, which IPC senders are trusted, and the BrowserWindow options. Nothing here
 * touches Electron at runtime (type imports only), so every rule is unit-tested without the
 * Electron binary.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserWindowConstructorOptions } from 'electron';

/** The CSP every response in the app's session carries. No 'unsafe-eval', no inline scripts. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * Response headers with our CSP in place of any the server sent (header names are matched
 * case-insensitively, so a server's lower-case `content-security-policy` cannot survive beside it).
 */
export function withContentSecurityPolicy(
  headers: Record<string, string[] | string> | undefined,
  csp: string = CONTENT_SECURITY_POLICY,
): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    const lower = name.toLowerCase();
    if (lower === 'content-security-policy' || lower === 'content-security-policy-report-only') continue;
    out[name] = Array.isArray(value) ? value : [value];
  }
  out['Content-Security-Policy'] = [csp];
  return out;
}

export interface AppPageOptions {
  /** Absolute path of the built renderer (dist/renderer). */
  rendererDir: string;
  /** Vite dev server origin (development only; ignored when undefined). */
  devUrl?: string | undefined;
}

/** True when `url` is a plain local file:// URL of a file inside `dir` (no host, no escape via ..). */
export function isFileUrlInside(url: string, dir: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (parsed.protocol !== 'file:' || parsed.host !== '') return false;
  let filePath: string;
  try {
    // Throws on encoded separators (%2F) and on hosts; URL parsing has already folded `..`.
    filePath = fileURLToPath(parsed);
  } catch {
    return false;
  }
  const rel = path.relative(path.resolve(dir), path.resolve(filePath));
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

/** True when `url` has exactly the origin (scheme, host, port) of `base`. */
export function isSameOrigin(url: string, base: string): boolean {
  try {
    const u = new URL(url);
    const b = new URL(base);
    if (u.origin === 'null' || b.origin === 'null') return false;
    return u.origin === b.origin;
  } catch {
    return false;
  }
}

/** Is `url` the app's own page: a file of the built renderer, or the configured dev server. */
export function isAppPageUrl(url: string | undefined | null, opts: AppPageOptions): boolean {
  if (typeof url !== 'string' || url === '') return false;
  if (isFileUrlInside(url, opts.rendererDir)) return true;
  if (opts.devUrl !== undefined && isSameOrigin(url, opts.devUrl)) return true;
  return false;
}

/** The parts of an Electron frame the trust check reads. */
export interface FrameLike {
  readonly url: string;
  /** null for a top-level frame; Electron's WebFrameMain has it. */
  readonly parent?: unknown;
}

/** The parts of Electron's WebContents the bridge uses. */
export interface WebContentsLike {
  readonly id: number;
  isDestroyed(): boolean;
  send(channel: string, ...args: unknown[]): void;
  readonly mainFrame: FrameLike;
}

/** The parts of Electron's IpcMainInvokeEvent the trust check reads. */
export interface InvokeEventLike {
  readonly sender: WebContentsLike;
  readonly senderFrame: FrameLike | null;
}

export interface SenderCheckOptions extends AppPageOptions {
  /** Is this webContents one of the app's own windows (not a devtools, popup or stray view)? */
  isAppWebContents(wc: WebContentsLike): boolean;
}

/**
 * The trust check for IPC: the sender must be one of the app's windows, the sending frame must be
 * its top-level frame (not an iframe), and that frame must be showing the app's own page.
 */
export function createSenderCheck(opts: SenderCheckOptions): (event: InvokeEventLike) => boolean {
  return (event) => {
    try {
      const frame = event.senderFrame;
      if (frame === null || frame === undefined) return false;
      if (frame.parent !== null && frame.parent !== undefined) return false;
      if (!opts.isAppWebContents(event.sender)) return false;
      return isAppPageUrl(frame.url, opts);
    } catch {
      // A frame that is gone or a webContents being destroyed: not trusted.
      return false;
    }
  };
}

/** Where main.js finds its siblings once compiled to dist/electron/main/main.js. */
export interface AppPaths {
  rendererDir: string;
  rendererIndex: string;
  preload: string;
}

export function resolveAppPaths(mainDir: string): AppPaths {
  const rendererDir = path.resolve(mainDir, '..', '..', 'renderer');
  return {
    rendererDir,
    rendererIndex: path.join(rendererDir, 'index.html'),
    preload: path.resolve(mainDir, '..', 'preload', 'preload.cjs'),
  };
}

/** The BrowserWindow options: secure defaults, nothing of Node reachable from the page. */
/**
 * `devTools`: only in a development (unpackaged) run; a packaged app gives nobody a console onto
 * the renderer (default false).
 */
export function createWindowOptions(opts: { preloadPath?: string | undefined; title?: string; devTools?: boolean }): BrowserWindowConstructorOptions {
  const webPreferences: NonNullable<BrowserWindowConstructorOptions['webPreferences']> = {
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    webviewTag: false,
    experimentalFeatures: false,
    navigateOnDragDrop: false,
    safeDialogs: true,
    spellcheck: false,
    devTools: opts.devTools ?? false,
  };
  if (opts.preloadPath !== undefined) webPreferences.preload = opts.preloadPath;
  return {
    title: opts.title ?? 'Switchyard',
    width: 1400,
    height: 900,
    minWidth: 960,
    minHeight: 600,
    show: false,
    backgroundColor: '#111418',
    webPreferences,
  };
}

/** The parts of Electron's onBeforeSendHeaders details the header hook reads. */
export interface SendHeadersDetails {
  url: string;
  requestHeaders: Record<string, string>;
}

/**
 * Remote mode's token, in a header, on requests to the bench server's origin only (the page, its
 * API calls and its event socket); never in a URL, never to any other origin.
 */
export function remoteAuthHeaders(serverUrl: string, token: string | undefined): (details: SendHeadersDetails) => Record<string, string> {
  return (details) => {
    if (token === undefined) return details.requestHeaders;
    let target: string;
    try {
      const u = new URL(details.url);
      // The event socket (ws:, wss:) belongs to the same server as http:, https:.
      target = `${u.protocol.replace(/^ws/, 'http')}//${u.host}`;
    } catch {
      return details.requestHeaders;
    }
    if (target !== new URL(serverUrl).origin) return details.requestHeaders;
    return { ...details.requestHeaders, Authorization: `Bearer ${token}` };
  };
}
