/**
 * Command-line parsing for the desktop app. Pure, so it is tested without Electron.
 *
 * Electron's argv carries the executable, maybe the main script, and switches added by
 * Chromium or tools (Playwright adds `--inspect=0 --remote-debugging-port=0`), so only the flags
 * named here are read and everything else is ignored.
 *
 *   --store PATH             the SQLite store (default: <userData>/switchyard.db)
 *   --serve-port N           also serve /act, /metrics and the control API on 127.0.0.1:N
 *                            (0: a free port), with a generated token; without it the desktop
 *                            opens no HTTP port at all
 *   --remote URL [--token T] attach to a remote bench server instead of a local engine: https://,
 *                            or http:// on loopback only; the token (also SWITCHYARD_TOKEN) is
 *                            sent in a header, never in the URL
 *   --dev-url URL            load the renderer from a Vite dev server (unpackaged runs only;
 *                            also SWITCHYARD_DEV_URL)
 *   --trace FILE             open on the Replay page with FILE loaded (as `switchyard console
 *                            --trace FILE`)
 *   --data-root DIR          a folder whose traces the Replay page lists and may open
 *                            (repeatable; as `switchyard console --data-root`)
 */

export type LaunchConfig =
  | { mode: 'local'; storePath: string | undefined; devUrl: string | undefined; servePort?: number; trace?: string; dataRoots?: string[] }
  | { mode: 'remote'; url: string; token: string | undefined };

export type ParseResult = { ok: true; config: LaunchConfig } | { ok: false; message: string };

const KNOWN = ['--store', '--remote', '--token', '--dev-url', '--serve-port', '--trace', '--data-root'] as const;
/** Flags that may be given more than once (each adds a value). */
const REPEATABLE: readonly Known[] = ['--data-root'];
type Known = (typeof KNOWN)[number];

function isKnown(s: string): s is Known {
  return (KNOWN as readonly string[]).includes(s);
}

function httpUrl(value: string, flag: string): { ok: true; url: URL } | { ok: false; message: string } {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    return { ok: false, message: `${flag} needs an http(s) URL such as http://bench-01:8000, got ${JSON.stringify(value)}.` };
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    return { ok: false, message: `${flag} needs an http(s) URL, got ${JSON.stringify(value)}.` };
  }
  return { ok: true, url: u };
}

export function parseArgs(argv: readonly string[], env: Readonly<Record<string, string | undefined>> = {}): ParseResult {
  const seen = new Map<Known, string>();
  const dataRoots: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    let name: string = arg;
    let value: string | undefined;
    const eq = arg.indexOf('=');
    if (arg.startsWith('--') && eq > 0) {
      name = arg.slice(0, eq);
      value = arg.slice(eq + 1);
    }
    if (!isKnown(name)) continue;
    if (value === undefined) {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--')) return { ok: false, message: `${name} needs a value.` };
      value = next;
      i++;
    }
    if (value === '') return { ok: false, message: `${name} needs a value.` };
    if (REPEATABLE.includes(name)) {
      dataRoots.push(value);
      continue;
    }
    if (seen.has(name)) return { ok: false, message: `${name} was given twice.` };
    seen.set(name, value);
  }

  const remote = seen.get('--remote');
  const token = seen.get('--token') ?? (env['SWITCHYARD_TOKEN'] || undefined);
  if (remote !== undefined) {
    if (seen.has('--store')) {
      return { ok: false, message: '--store and --remote cannot be combined: a remote bench server uses its own store.' };
    }
    if (seen.has('--serve-port')) return { ok: false, message: '--serve-port applies to the local engine, not with --remote.' };
    // The remote server reads its own disk: it lists its own record folder and --data-root folders.
    if (seen.has('--trace') || dataRoots.length > 0) {
      return { ok: false, message: `${seen.has('--trace') ? '--trace' : '--data-root'} names a file on this machine, but --remote attaches to a server that reads its own disk: start that server with --data-root, or upload the trace on its Replay page.` };
    }
    const parsed = httpUrl(remote, '--remote');
    if (!parsed.ok) return parsed;
    // The token would cross the network in clear text: plain http only to this machine.
    if (parsed.url.protocol === 'http:' && !isLoopbackHostname(parsed.url.hostname)) {
      return { ok: false, message: `--remote ${parsed.url.origin} is plain http to another machine, where the token would travel in clear text. Use https://, or an SSH tunnel to http://127.0.0.1.` };
    }
    // Keep any path prefix (a server behind a reverse proxy), drop query and hash.
    const base = `${parsed.url.origin}${parsed.url.pathname.replace(/\/+$/, '')}`;
    return { ok: true, config: { mode: 'remote', url: base, token } };
  }
  if (seen.has('--token')) return { ok: false, message: '--token only applies with --remote URL.' };

  const devRaw = seen.get('--dev-url') ?? (env['SWITCHYARD_DEV_URL'] || undefined);
  let devUrl: string | undefined;
  if (devRaw !== undefined) {
    const parsed = httpUrl(devRaw, '--dev-url');
    if (!parsed.ok) return parsed;
    devUrl = parsed.url.origin + '/';
  }
  const trace = seen.get('--trace');
  const replay = { ...(trace !== undefined ? { trace } : {}), ...(dataRoots.length > 0 ? { dataRoots } : {}) };
  const portRaw = seen.get('--serve-port');
  if (portRaw !== undefined) {
    const port = Number(portRaw);
    if (!/^\d+$/.test(portRaw) || port > 65535) return { ok: false, message: `--serve-port must be a port from 0 to 65535, got ${JSON.stringify(portRaw)}.` };
    return { ok: true, config: { mode: 'local', storePath: seen.get('--store'), devUrl, servePort: port, ...replay } };
  }
  return { ok: true, config: { mode: 'local', storePath: seen.get('--store'), devUrl, ...replay } };
}

export function isLoopbackHostname(name: string): boolean {
  const n = name.replace(/^\[|\]$/g, '').toLowerCase();
  return n === 'localhost' || n === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(n);
}

/**
 * The page the window loads when attached to a remote bench server. Never carries the token: a
 * URL ends up in history, logs and proxies; the token goes in a header (remoteAuthHeaders).
 */
export function remoteWorkbenchUrl(url: string): string {
  return `${url.replace(/\/+$/, '')}/`;
}
