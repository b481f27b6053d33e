import {
  ErrorCodes,
  isEventName,
  type ContractClient,
  type EventName,
  type EventPayload,
  type MethodInput,
  type MethodName,
  type MethodOutput,
  type Result,
  type SwitchyardErrorShape,
} from '@contract';
import type { ConnectionSource, ConnectionStatus } from './connection';
import { checkInput, internalError, parseEvent, toResult } from './validate';

/** The part of the browser WebSocket the transport uses; tests pass a fake. */
export interface SocketLike {
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: unknown) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  close(code?: number, reason?: string): void;
}

export type SocketFactory = (url: string) => SocketLike;

export interface HttpTransportOptions {
  /** The server's base URL, e.g. `http://127.0.0.1:8000/`. */
  baseUrl: string;
  /** Sent as `Authorization: Bearer <token>` and as `?token=` on the event socket. */
  token?: string | null;
  fetch?: typeof globalThis.fetch;
  createSocket?: SocketFactory;
  /** Reconnect delays: `initialMs`, doubling up to `maxMs`. */
  backoff?: { initialMs: number; maxMs: number };
  /** A call that takes longer than this fails instead of hanging the workbench. */
  requestTimeoutMs?: number;
  /** Bad event data is dropped and reported here (default: console.warn). */
  onEventError?: (error: SwitchyardErrorShape) => void;
}

type AnyHandler = (payload: unknown) => void;

/**
 * ContractClient over HTTP: `POST /api/<method>` with the input as JSON body; the answer is always
 * a Result, whatever the HTTP status. Events arrive over one shared WebSocket at `/api/events`,
 * opened with the first subscription, closed with the last, and reconnected with backoff.
 */
export class HttpTransport implements ContractClient, ConnectionSource {
  private readonly base: URL;
  private readonly token: string | null;
  private readonly doFetch: typeof globalThis.fetch;
  private readonly createSocket: SocketFactory;
  private readonly backoff: { initialMs: number; maxMs: number };
  private readonly requestTimeoutMs: number;
  private readonly onEventError: (error: SwitchyardErrorShape) => void;

  private readonly handlers = new Map<EventName, Set<AnyHandler>>();
  private socket: SocketLike | null = null;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private attempts = 0;
  private status: ConnectionStatus = 'idle';
  private readonly statusListeners = new Set<(status: ConnectionStatus) => void>();

  constructor(options: HttpTransportOptions) {
    this.base = new URL(options.baseUrl);
    this.token = options.token ?? null;
    this.doFetch = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.createSocket = options.createSocket ?? ((url) => new WebSocket(url) as unknown as SocketLike);
    // A restarted console is found within a few seconds: the longest wait between tries is 4 s.
    this.backoff = options.backoff ?? { initialMs: 500, maxMs: 4_000 };
    this.requestTimeoutMs = options.requestTimeoutMs ?? 15_000;
    this.onEventError =
      options.onEventError ?? ((error) => console.warn(`[switchyard] ${error.message} (${error.code})`));
  }

  /** Human name of the other end, used in messages. */
  get serverLabel(): string {
    return this.base.origin;
  }

  async invoke<M extends MethodName>(method: M, input: MethodInput<M>): Promise<Result<MethodOutput<M>>> {
    const bad = checkInput(method, input);
    if (bad) return { ok: false, error: bad };

    const url = new URL(`api/${method}`, this.base);
    const headers: Record<string, string> = { 'Content-Type': 'application/json', Accept: 'application/json' };
    if (this.token !== null) headers.Authorization = `Bearer ${this.token}`;

    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.requestTimeoutMs);
    let response: Response;
    try {
      response = await this.doFetch(url, {
        method: 'POST',
        headers,
        body: JSON.stringify(input ?? {}),
        signal: controller.signal,
      });
    } catch {
      clearTimeout(timer);
      if (controller.signal.aborted) {
        return internalError(
          `The Switchyard server at ${this.base.origin} did not answer ${method} within ${Math.round(this.requestTimeoutMs / 1000)} s; is it overloaded or stuck?`,
        );
      }
      return {
        ok: false,
        error: {
          code: ErrorCodes.SWY_ERR_UNAVAILABLE,
          message: `Cannot reach the Switchyard server at ${this.base.origin} (connection refused or dropped): nothing was done there. Start it again (\`switchyard console\`, or the desktop app); the workbench reconnects by itself and reloads every page.`,
          where: this.base.origin,
        },
      };
    }

    let text: string;
    try {
      text = await response.text();
    } catch {
      clearTimeout(timer);
      return internalError(`The connection to the Switchyard server at ${this.base.origin} broke while reading the answer to ${method}.`);
    }
    clearTimeout(timer);

    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      if (response.status === 401 || response.status === 403) {
        return {
          ok: false,
          error: {
            code: ErrorCodes.SWY_ERR_UNAUTHORIZED,
            message: `The Switchyard server at ${this.base.origin} refused the request (HTTP ${response.status}). Open the URL with the token that \`switchyard console\` printed.`,
          },
        };
      }
      return internalError(
        `The server at ${this.base.origin} answered ${method} with HTTP ${response.status} and a body that is not JSON; is it a Switchyard server?`,
      );
    }
    return toResult(method, body, `The Switchyard server at ${this.base.origin}`);
  }

  subscribe<E extends EventName>(event: E, handler: (payload: EventPayload<E>) => void): () => void {
    let set = this.handlers.get(event);
    if (!set) {
      set = new Set();
      this.handlers.set(event, set);
    }
    // Wrap so the same handler function can subscribe twice and unsubscribe independently.
    const wrapped: AnyHandler = (payload) => handler(payload as EventPayload<E>);
    set.add(wrapped);
    this.ensureSocket();
    let active = true;
    return () => {
      if (!active) return;
      active = false;
      const current = this.handlers.get(event);
      current?.delete(wrapped);
      if (current && current.size === 0) this.handlers.delete(event);
      if (this.handlers.size === 0) this.closeSocket();
    };
  }

  getStatus(): ConnectionStatus {
    return this.status;
  }

  onStatus(listener: (status: ConnectionStatus) => void): () => void {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  /** Closes the event socket and drops every subscription. */
  close(): void {
    this.handlers.clear();
    this.closeSocket();
  }

  private eventsUrl(): string {
    const url = new URL('api/events', this.base);
    url.protocol = this.base.protocol === 'https:' ? 'wss:' : 'ws:';
    if (this.token !== null) url.searchParams.set('token', this.token);
    return url.toString();
  }

  private setStatus(status: ConnectionStatus): void {
    if (status === this.status) return;
    this.status = status;
    for (const listener of [...this.statusListeners]) listener(status);
  }

  private ensureSocket(): void {
    if (this.socket !== null || this.reconnectTimer !== null) return;
    this.connect();
  }

  private connect(): void {
    this.setStatus(this.attempts === 0 ? 'connecting' : 'reconnecting');
    let socket: SocketLike;
    try {
      socket = this.createSocket(this.eventsUrl());
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      if (this.socket !== socket) return;
      this.attempts = 0;
      this.setStatus('open');
    };
    socket.onmessage = (ev) => {
      if (this.socket !== socket) return;
      this.dispatch(ev.data);
    };
    socket.onerror = () => {
      // A close event always follows; reconnection happens there.
    };
    socket.onclose = () => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (this.handlers.size > 0) this.scheduleReconnect();
      else this.setStatus('idle');
    };
  }

  private scheduleReconnect(): void {
    this.socket = null;
    const delay = Math.min(this.backoff.maxMs, this.backoff.initialMs * 2 ** this.attempts);
    this.attempts += 1;
    this.setStatus('reconnecting');
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (this.handlers.size > 0) this.connect();
      else this.setStatus('idle');
    }, delay);
  }

  private closeSocket(): void {
    if (this.reconnectTimer !== null) {
      clearTimeout(this.reconnectTimer);
      this.reconnectTimer = null;
    }
    const socket = this.socket;
    this.socket = null;
    this.attempts = 0;
    if (socket) {
      socket.onopen = socket.onmessage = socket.onclose = socket.onerror = null;
      try {
        socket.close(1000, 'no subscribers');
      } catch {
        // already closed
      }
    }
    this.setStatus('idle');
  }

  private dispatch(data: unknown): void {
    if (typeof data !== 'string') return;
    let message: unknown;
    try {
      message = JSON.parse(data);
    } catch {
      this.onEventError({ code: ErrorCodes.SWY_ERR_INTERNAL, message: 'The server pushed an event that is not JSON. It was ignored.' });
      return;
    }
    if (typeof message !== 'object' || message === null) return;
    const name = (message as { event?: unknown }).event;
    // Unknown events come from a newer server; ignoring them keeps old workbenches working.
    if (typeof name !== 'string' || !isEventName(name)) return;
    const set = this.handlers.get(name);
    if (!set || set.size === 0) return;
    const parsed = parseEvent(name, (message as { payload?: unknown }).payload, `The Switchyard server at ${this.base.origin}`);
    if (!parsed.ok) {
      this.onEventError(parsed.error);
      return;
    }
    for (const handler of [...set]) {
      try {
        handler(parsed.value);
      } catch (e) {
        console.error('[switchyard] an event handler failed', e);
      }
    }
  }
}
