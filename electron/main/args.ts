/**
 * Command-line parsing for the desktop app. Pure, so it is tested without Electron.
 *
 * Electron's argv carries the executable, maybe the main script, and switches added by
 * Chromium or tools (Playwright adds `--inspect=0 --remote-debugging-port=0`), so only the flags
 * named here are read and everything else is ignored.
 *
 *   --store PATH             the SQLite store (default: <userData>/switchyard.db)
 *   --remote URL [--token T] attach to a remote bench server instead of a local engine
 *                            (the token may also come from SWITCHYARD_TOKEN)
 *   --dev-url URL            load the renderer from a Vite dev server (unpackaged runs only;
 *                            also SWITCHYARD_DEV_URL)
 */

export type LaunchConfig =
  | { mode: 'local'; storePath: string | undefined; devUrl: string | undefined }
  | { mode: 'remote'; url: string; token: string | undefined };

export type ParseResult = { ok: true; config: LaunchConfig } | { ok: false; message: string };

const KNOWN = ['--store', '--remote', '--token', '--dev-url'] as const;
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
    if (seen.has(name)) return { ok: false, message: `${name} was given twice.` };
    seen.set(name, value);
  }

  const remote = seen.get('--remote');
  const token = seen.get('--token') ?? (env['SWITCHYARD_TOKEN'] || undefined);
  if (remote !== undefined) {
    if (seen.has('--store')) {
      return { ok: false, message: '--store and --remote cannot be combined: a remote bench server uses its own store.' };
    }
    const parsed = httpUrl(remote, '--remote');
    if (!parsed.ok) return parsed;
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
  return { ok: true, config: { mode: 'local', storePath: seen.get('--store'), devUrl } };
}

/** The page the window loads when attached to a remote bench server. */
export function remoteWorkbenchUrl(url: string, token: string | undefined): string {
  const base = url.replace(/\/+$/, '');
  return token === undefined ? `${base}/` : `${base}/?token=${encodeURIComponent(token)}`;
}
