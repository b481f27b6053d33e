import { SwitchyardError, type Result } from './errors.js';
import type { EventName, EventPayload, MethodInput, MethodName, MethodOutput } from './map.js';

/**
 * What a transport gives the workbench: the same two calls whether the other end is the
 * Electron main process or a headless server.
 */
export interface ContractClient {
  invoke<M extends MethodName>(method: M, input: MethodInput<M>): Promise<Result<MethodOutput<M>>>;
  subscribe<E extends EventName>(event: E, handler: (payload: EventPayload<E>) => void): () => void;
}

/** The shape the Electron preload exposes on `window.switchyard`: untyped at the boundary. */
export interface PreloadBridge {
  invoke(method: string, input: unknown): Promise<unknown>;
  subscribe(event: string, handler: (payload: unknown) => void): () => void;
}

/** IPC channel names used by the bridge; main and preload share them. */
export const IPC_INVOKE_CHANNEL = 'switchyard:invoke';
export const IPC_EVENT_CHANNEL = 'switchyard:event';

/**
 * The typed client every caller outside the workbench uses (the CLI, scripts, tests): one `call`
 * whose method names, inputs and outputs come from the contract map, so a wrong name or input
 * shape fails the type check. An error value is thrown as a `SwitchyardError` with its code,
 * message and `where`, as a call inside the process would throw it.
 */
export interface ApiClient {
  call<M extends MethodName>(method: M, input: MethodInput<M>): Promise<MethodOutput<M>>;
}

/** What carries a call: `engine.api.call` in the process, `POST /api/<method>` to a server. */
export type ApiInvoke = (method: MethodName, input: unknown) => Promise<Result<unknown>>;

export function apiClient(invoke: ApiInvoke): ApiClient {
  return {
    async call<M extends MethodName>(method: M, input: MethodInput<M>): Promise<MethodOutput<M>> {
      const r = await invoke(method, input);
      if (!r.ok) throw new SwitchyardError(r.error.code, r.error.message, r.error.where);
      return r.value as MethodOutput<M>;
    },
  };
}
