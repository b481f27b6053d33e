import { ErrorCodes, type ContractClient, type PreloadBridge } from '@contract';
import type { ConnectionSource } from './connection';
import { HttpTransport } from './http-transport';
import { IpcTransport } from './ipc-transport';
import { takeToken } from './token';

export interface Transport {
  client: ContractClient;
  connection: ConnectionSource;
  kind: 'ipc' | 'http' | 'unavailable';
  /** Where the workbench is talking to, for the side bar. */
  serverLabel: string;
}

export interface TransportEnvironment {
  bridge: PreloadBridge | undefined;
  location: Pick<Location, 'href' | 'origin' | 'protocol'>;
  history: Pick<History, 'replaceState' | 'state'> | undefined;
  storage: Pick<Storage, 'getItem' | 'setItem'> | undefined;
}

function browserEnvironment(): TransportEnvironment {
  let storage: Storage | undefined;
  try {
    storage = window.sessionStorage;
  } catch {
    storage = undefined;
  }
  return { bridge: window.switchyard, location: window.location, history: window.history, storage };
}

/**
 * Picks the transport once, at start-up: the Electron bridge when the preload exposed one,
 * otherwise HTTP to the server that served this page.
 */
export function createTransport(env: TransportEnvironment = browserEnvironment()): Transport {
  if (env.bridge) {
    const ipc = new IpcTransport(env.bridge);
    return { client: ipc, connection: ipc, kind: 'ipc', serverLabel: ipc.serverLabel };
  }
  if (env.location.protocol !== 'http:' && env.location.protocol !== 'https:') {
    return unavailableTransport(
      'The workbench was opened from a file without the desktop app. Open the URL that `switchyard console` prints instead.',
    );
  }
  const token = takeToken(env);
  const http = new HttpTransport({ baseUrl: `${env.location.origin}/`, token });
  return { client: http, connection: http, kind: 'http', serverLabel: http.serverLabel };
}

function unavailableTransport(message: string): Transport {
  const client: ContractClient = {
    invoke: () => Promise.resolve({ ok: false, error: { code: ErrorCodes.SWY_ERR_INTERNAL, message } }),
    subscribe: () => () => undefined,
  };
  return {
    client,
    connection: { getStatus: () => 'idle', onStatus: () => () => undefined },
    kind: 'unavailable',
    serverLabel: 'no server',
  };
}
