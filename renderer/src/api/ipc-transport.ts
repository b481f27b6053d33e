import {
  type ContractClient,
  type EventName,
  type EventPayload,
  type MethodInput,
  type MethodName,
  type MethodOutput,
  type PreloadBridge,
  type Result,
  type SwitchyardErrorShape,
} from '@contract';
import type { ConnectionSource, ConnectionStatus } from './connection';
import { checkInput, internalError, parseEvent, toResult } from './validate';

declare global {
  interface Window {
    /** Exposed by the Electron preload; absent in a plain browser. */
    switchyard?: PreloadBridge;
  }
}

const SOURCE = 'The desktop bridge';

/**
 * ContractClient over the Electron preload bridge. The bridge is untyped at the boundary, so
 * every answer and every event is validated here exactly as the HTTP transport does.
 */
export class IpcTransport implements ContractClient, ConnectionSource {
  constructor(
    private readonly bridge: PreloadBridge,
    private readonly onEventError: (error: SwitchyardErrorShape) => void = (error) =>
      console.warn(`[switchyard] ${error.message} (${error.code})`),
  ) {}

  get serverLabel(): string {
    return 'the desktop app';
  }

  async invoke<M extends MethodName>(method: M, input: MethodInput<M>): Promise<Result<MethodOutput<M>>> {
    const bad = checkInput(method, input);
    if (bad) return { ok: false, error: bad };
    let raw: unknown;
    try {
      raw = await this.bridge.invoke(method, input ?? {});
    } catch (e) {
      const detail = e instanceof Error ? e.message : String(e);
      return internalError(`The desktop bridge failed to deliver ${method}: ${detail}. Restart Switchyard; if it persists, this is a bug.`);
    }
    return toResult(method, raw, SOURCE);
  }

  subscribe<E extends EventName>(event: E, handler: (payload: EventPayload<E>) => void): () => void {
    return this.bridge.subscribe(event, (payload) => {
      const parsed = parseEvent(event, payload, SOURCE);
      if (!parsed.ok) {
        this.onEventError(parsed.error);
        return;
      }
      handler(parsed.value);
    });
  }

  getStatus(): ConnectionStatus {
    return 'open';
  }

  onStatus(): () => void {
    return () => undefined;
  }
}
