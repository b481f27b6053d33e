import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MethodInput, MethodName, MethodOutput } from '../../core/src/contract/index.js';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const resultsDir = path.join(repoRoot, 'test-results');

/** Environment variables global-setup.ts hands to the test workers. */
export const ENV_URL = 'SWITCHYARD_E2E_URL';
export const ENV_PID = 'SWITCHYARD_E2E_PID';
export const ENV_DIR = 'SWITCHYARD_E2E_DIR';

/** The line `switchyard console` prints once it serves: `Switchyard console: http://127.0.0.1:<port>/?token=<token>`. */
export const CONSOLE_LINE = /Switchyard console:\s*(https?:\/\/\S+)/;

export interface ServerInfo {
  /** The URL printed by the console, token included when there is one. */
  url: string;
  origin: string;
  token: string | null;
}

export function serverFromEnv(): ServerInfo {
  const url = process.env[ENV_URL];
  if (!url) throw new Error(`${ENV_URL} is not set: global-setup.ts did not start the Switchyard console`);
  const parsed = new URL(url);
  const token = parsed.searchParams.get('token');
  // The control API always needs the token, loopback included: a URL without one cannot work.
  if (!token) throw new Error(`The console URL ${parsed.origin}/ carries no ?token=: the control API would refuse every call.`);
  return { url, origin: parsed.origin, token };
}

/**
 * Calls the contract over HTTP from the test (Node side), as the workbench would. Typed by the
 * contract map: a wrong method name or input fails the type check, and the answer has its type.
 */
export async function callApi<M extends MethodName>(server: ServerInfo, method: M, input: MethodInput<M> = {} as MethodInput<M>): Promise<MethodOutput<M>> {
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  if (server.token !== null) headers.Authorization = `Bearer ${server.token}`;
  const response = await fetch(`${server.origin}/api/${method}`, { method: 'POST', headers, body: JSON.stringify(input) });
  const body = (await response.json()) as { ok: boolean; value?: MethodOutput<M>; error?: { code: string; message: string } };
  if (!body.ok) throw new Error(`${method} failed: ${body.error?.code} ${body.error?.message}`);
  return body.value as MethodOutput<M>;
}

export interface SlotInfo {
  slot: string;
  versionRef: string;
  modelVersion: string;
}

export interface ServingStateInfo {
  mode: 'off' | 'single' | 'ab';
  split: number;
  slots: SlotInfo[];
  actUrl: string | null;
}
