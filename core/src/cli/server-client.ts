/**
 * The CLI's way to a running server: the contract's typed client over `POST /api/<method>`, as
 * the workbench calls it, with the server and token found the way every remote command finds them.
 */
import { apiClient, ErrorCodes, SwitchyardError, type ApiClient, type Result } from '../contract/index.js';
import { findRuntimeInfo, listRuntimeFiles, runtimeDir } from '../serve/runtime-file.js';
import { defaultDataDir } from '../platform/paths.js';

export interface RemoteFlags {
  /** Absent: $SWITCHYARD_SERVER, else the one server of this account that is running, else :8000. */
  server?: string | undefined;
  token?: string | undefined;
  json?: boolean;
}

/**
 * Where to call and with which token. The token comes from --token / $SWITCHYARD_TOKEN, else from
 * the server's runtime file, so that a user on the same account never types it.
 */
export function serverTarget(flags: RemoteFlags, dataDir: string = defaultDataDir()): { base: string; token: string | undefined } {
  let server = flags.server || process.env.SWITCHYARD_SERVER;
  if (!server) {
    const live = listRuntimeFiles(dataDir);
    server = live.length === 1 ? live[0]!.url : 'http://127.0.0.1:8000';
  }
  const base = server.replace(/\/+$/, '');
  const token = flags.token || process.env.SWITCHYARD_TOKEN || findRuntimeInfo(dataDir, base)?.token;
  return { base, token: token || undefined };
}

/** The typed client of the server `flags` name. Transport failures throw naming `--server`. */
export function serverClient(flags: RemoteFlags): ApiClient {
  return apiClient(async (method, input) => {
    const { base, token } = serverTarget(flags);
    let res: Response;
    try {
      res = await fetch(`${base}/api/${method}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify(input),
      });
    } catch (e) {
      throw new SwitchyardError(ErrorCodes.SWY_ERR_NOT_SERVING, `Cannot reach a Switchyard server at ${base} (${(e as Error).message}). Is \`switchyard serve\` running there? Use --server URL.`, '--server');
    }
    const body = (await res.json().catch(() => null)) as Result<unknown> | null;
    if (!body || typeof body !== 'object' || !('ok' in body)) {
      throw new SwitchyardError(ErrorCodes.SWY_ERR_INTERNAL, `${base} answered ${res.status} without a Switchyard result; is it a Switchyard server?`, '--server');
    }
    if (!body.ok && body.error.code === ErrorCodes.SWY_ERR_UNAUTHORIZED && !token) {
      throw new SwitchyardError(
        ErrorCodes.SWY_ERR_UNAUTHORIZED,
        `${base} needs its token and none was found: no runtime file for it in ${runtimeDir(defaultDataDir())} (a server of another account, or another SWITCHYARD_HOME). Set SWITCHYARD_TOKEN.`,
        '--server',
      );
    }
    return body;
  });
}
