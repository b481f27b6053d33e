/**
 * Who may drive the control API (`/api/*`, `/api/events`): the token, the Host and Origin checks,
 * and where the token comes from. Kept out of http-server.ts so that the routes stay readable and
 * every rule here is tested on its own.
 *
 * The rules (README "Security model"):
 * - every control request needs the token, loopback included (a token is generated when none is
 *   given, as Jupyter does);
 * - without a valid token only loopback `Host` values pass (DNS rebinding); with one, any `Host`
 *   passes, since a browser page cannot hold the token;
 * - a browser request (it carries `Origin`) must come from the page's own origin: `Origin` names
 *   the same host and port as `Host`; an opaque origin (`null`) never passes.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ErrorCodes, httpStatusFor, SwitchyardError } from '../contract/index.js';

/** 32 random bytes (256 bits), URL-safe so it rides in `?token=` unescaped. */
export function generateToken(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * Constant-time comparison. Both sides are hashed first, so neither the length of the secret nor
 * the position of the first differing byte shows in the timing.
 */
export function tokensEqual(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

/** The host name of a `Host` header value or URL authority, without the port. */
export function hostName(authority: string): string {
  const a = authority.trim().toLowerCase();
  if (a.startsWith('[')) {
    const end = a.indexOf(']');
    return end > 0 ? a.slice(0, end + 1) : a;
  }
  const colon = a.indexOf(':');
  return colon >= 0 ? a.slice(0, colon) : a;
}

export function isLoopbackName(name: string): boolean {
  return LOOPBACK_NAMES.has(name) || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name);
}

export interface ControlRequest {
  host: string | undefined;
  origin: string | undefined;
  authorization: string | undefined;
  /** `?token=`: the only way a browser can hand the token to a WebSocket. */
  queryToken: string | undefined;
}

export interface ControlAuthConfig {
  token: string;
  /** The port the server listens on: a loopback Host must name it. */
  port: number;
  /** Recorded as `token:<label>` in the audit log. */
  label: string;
}

/** `status` is the error code's (`httpStatusFor`): 403 for a foreign Host or Origin, 401 for a missing or wrong token. */
export type ControlDecision = { ok: true; caller: string } | { ok: false; status: number; error: SwitchyardError };

function refused(error: SwitchyardError): ControlDecision {
  return { ok: false, status: httpStatusFor(error), error };
}

/** The token a request presents: `Authorization: Bearer T`, else `?token=T`. */
export function presentedToken(req: Pick<ControlRequest, 'authorization' | 'queryToken'>): string | undefined {
  const auth = req.authorization;
  if (auth !== undefined && /^bearer /i.test(auth)) return auth.slice(7).trim();
  return req.queryToken;
}

function forbidden(message: string, where: string): ControlDecision {
  return refused(new SwitchyardError(ErrorCodes.SWY_ERR_FORBIDDEN_SENDER, message, where));
}

/** Decides one control request; on success names the authenticated caller for the audit log. */
export function checkControlRequest(req: ControlRequest, cfg: ControlAuthConfig): ControlDecision {
  const host = (req.host ?? '').trim().toLowerCase();
  const given = presentedToken(req);
  const valid = given !== undefined && given !== '' && tokensEqual(given, cfg.token);
  if (!valid) {
    const loopback = host !== '' && isLoopbackName(hostName(host)) && host.endsWith(`:${cfg.port}`);
    if (!loopback) {
      return forbidden(`Host "${host}" is not this server; without the token only http://127.0.0.1:${cfg.port} is accepted.`, 'Host');
    }
  }
  if (req.origin !== undefined) {
    if (req.origin === 'null') return forbidden('Opaque origins (sandboxed frames, file: pages) may not drive this server.', 'Origin');
    let originHost: string;
    try {
      originHost = new URL(req.origin).host.toLowerCase();
    } catch {
      return forbidden(`Origin "${req.origin}" is not a URL.`, 'Origin');
    }
    // URL drops a default port (:80, :443); Host keeps whatever the client wrote.
    const hostNoDefault = host.replace(/:(80|443)$/, '');
    if (originHost !== host && originHost !== hostNoDefault) return forbidden(`Origin ${req.origin} may not drive this server: only pages it serves itself may.`, 'Origin');
  }
  if (!valid) {
    return refused(
      new SwitchyardError(
        ErrorCodes.SWY_ERR_UNAUTHORIZED,
        given === undefined
          ? 'This server needs its token: send "Authorization: Bearer <token>". `switchyard console` prints a URL that carries it; CLI commands on the same account read it from the runtime file.'
          : 'Wrong token for this server.',
        'Authorization',
      ),
    );
  }
  return { ok: true, caller: `token:${cfg.label}` };
}

export type TokenSource = 'flag' | 'file' | 'env' | 'generated';

export interface TokenFlags {
  token?: string | undefined;
  tokenFile?: string | undefined;
}

/**
 * The control token, from (in order) `--token-file`, `--token`, `SWITCHYARD_TOKEN`, or a fresh
 * random one. `--token` works but the process list shows it to every user of the machine, so
 * `warn` is told once.
 */
export function resolveControlToken(flags: TokenFlags, env: NodeJS.ProcessEnv, warn: (message: string) => void): { token: string; source: TokenSource } {
  if (flags.tokenFile !== undefined && flags.token !== undefined) {
    throw new SwitchyardError(ErrorCodes.SWY_ERR_CONFIG, 'Give either --token-file or --token, not both.', '--token');
  }
  if (flags.tokenFile !== undefined) {
    let text: string;
    try {
      text = readFileSync(flags.tokenFile, 'utf8');
    } catch (e) {
      throw new SwitchyardError(ErrorCodes.SWY_ERR_CONFIG, `Cannot read --token-file ${flags.tokenFile}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}.`, '--token-file');
    }
    return { token: checkToken(text.trim(), '--token-file'), source: 'file' };
  }
  if (flags.token !== undefined) {
    warn('--token is visible to every user of this machine in the process list (ps). Prefer --token-file FILE or SWITCHYARD_TOKEN.');
    return { token: checkToken(flags.token, '--token'), source: 'flag' };
  }
  const fromEnv = env['SWITCHYARD_TOKEN'];
  if (fromEnv !== undefined && fromEnv !== '') return { token: checkToken(fromEnv.trim(), 'SWITCHYARD_TOKEN'), source: 'env' };
  return { token: generateToken(), source: 'generated' };
}

/** A token must be long enough that guessing it over the network is hopeless. */
function checkToken(token: string, where: string): string {
  if (token.length < 16) {
    throw new SwitchyardError(ErrorCodes.SWY_ERR_CONFIG, `The token from ${where} is ${token.length} characters; use at least 16 (e.g. \`openssl rand -hex 16\`), or give none and one is generated.`, where);
  }
  if (/\s/.test(token)) throw new SwitchyardError(ErrorCodes.SWY_ERR_CONFIG, `The token from ${where} contains whitespace.`, where);
  return token;
}

/** `--token-label`: letters, digits, `.`, `_`, `-`. */
export function checkTokenLabel(label: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(label)) {
    throw new SwitchyardError(ErrorCodes.SWY_ERR_CONFIG, `--token-label "${label}" must be 1-64 letters, digits, ".", "_" or "-".`, '--token-label');
  }
  return label;
}

/**
 * The workbench's files (HTML, JS, CSS) hold no data, so they need no token; a server bound to
 * loopback still serves them to loopback `Host` values only, so a rebinding page learns nothing
 * about it. A server on a network serves them under whatever name the lab uses for the machine.
 */
export function checkPageRequest(req: ControlRequest, cfg: { port: number; loopbackOnly: boolean }): ControlDecision {
  const host = (req.host ?? '').trim().toLowerCase();
  if (cfg.loopbackOnly && !(isLoopbackName(hostName(host)) && host.endsWith(`:${cfg.port}`))) {
    return forbidden(`Host "${host}" is not this server; connect to http://127.0.0.1:${cfg.port}.`, 'Host');
  }
  return { ok: true, caller: 'page' };
}

const tokens = new WeakMap<object, string>();

/** Lets the code that started a server (the CLI, tests) read back the token it generated. */
export function rememberControlToken(server: object, token: string): void {
  tokens.set(server, token);
}

export function controlTokenOf(server: object): string {
  const t = tokens.get(server);
  if (t === undefined) throw new Error('not a Switchyard server: no control token recorded');
  return t;
}
