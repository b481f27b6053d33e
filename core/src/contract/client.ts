import type { Result } from './errors.js';
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
