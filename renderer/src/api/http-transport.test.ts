// @vitest-environment node
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { servingState, stats } from '../testing/fixtures';
import { HttpTransport, type SocketLike } from './http-transport';

interface Recorded {
  url: string;
  init: RequestInit;
}

function fakeFetch(answer: (req: Recorded) => Response | Promise<Response>) {
  const requests: Recorded[] = [];
  const fn = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const req = { url: String(input), init: init ?? {} };
    requests.push(req);
    return answer(req);
  });
  return { fetch: fn as unknown as typeof fetch, requests };
}

const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

class FakeSocket implements SocketLike {
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: unknown) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  closed = false;
  constructor(readonly url: string) {}
  close(): void {
    this.closed = true;
  }
  open(): void {
    this.onopen?.({});
  }
  send(event: string, payload: unknown): void {
    this.onmessage?.({ data: JSON.stringify({ event, payload }) });
  }
  drop(): void {
    this.onerror?.({});
    this.onclose?.({});
  }
}

function socketFactory() {
  const sockets: FakeSocket[] = [];
  return {
    sockets,
    createSocket: (url: string) => {
      const s = new FakeSocket(url);
      sockets.push(s);
      return s;
    },
  };
}

describe('HttpTransport.invoke', () => {
  it('POSTs the input to /api/<method> with the bearer token and returns the validated value', async () => {
    const state = servingState({ split: 80 });
    const { fetch, requests } = fakeFetch(() => json({ ok: true, value: state }));
    const t = new HttpTransport({ baseUrl: 'http://127.0.0.1:9000/', token: 's3cret', fetch });
    const result = await t.invoke('serving.setSplit', { split: 80 });
    expect(result).toEqual({ ok: true, value: state });
    expect(requests).toHaveLength(1);
    const req = requests[0]!;
    expect(req.url).toBe('http://127.0.0.1:9000/api/serving.setSplit');
    expect(req.init.method).toBe('POST');
    expect(JSON.parse(String(req.init.body))).toEqual({ split: 80 });
    const headers = req.init.headers as Record<string, string>;
    expect(headers.Authorization).toBe('Bearer s3cret');
    expect(headers['Content-Type']).toBe('application/json');
  });

  it('sends no Authorization header without a token', async () => {
    const { fetch, requests } = fakeFetch(() => json({ ok: true, value: { policies: [] } }));
    const t = new HttpTransport({ baseUrl: 'http://127.0.0.1:9000/', fetch });
    await t.invoke('policies.list', {});
    expect((requests[0]!.init.headers as Record<string, string>).Authorization).toBeUndefined();
  });

  it('returns the server error whatever the HTTP status', async () => {
    const error = { code: 'SWY_ERR_NOT_FOUND', message: 'No version cartpole-balance@9.9.9.', where: 'label' };
    const { fetch } = fakeFetch(() => json({ ok: false, error }, 404));
    const t = new HttpTransport({ baseUrl: 'http://127.0.0.1:9000/', fetch });
    expect(await t.invoke('versions.get', { policy: 'cartpole-balance', label: '9.9.9' })).toEqual({ ok: false, error });
  });

  it('a refused connection is SWY_ERR_UNAVAILABLE with what to do, not an internal error', async () => {
    const { fetch } = fakeFetch(() => Promise.reject(new TypeError('fetch failed')));
    const t = new HttpTransport({ baseUrl: 'http://127.0.0.1:9000/', fetch });
    const result = await t.invoke('app.info', {});
    expect(result).toEqual({
      ok: false,
      error: {
        code: 'SWY_ERR_UNAVAILABLE',
        message:
          'Cannot reach the Switchyard server at http://127.0.0.1:9000 (connection refused or dropped): nothing was done there. Start it again (`switchyard console`, or the desktop app); the workbench reconnects by itself and reloads every page.',
        where: 'http://127.0.0.1:9000',
      },
    });
  });

  it('rejects an answer that does not match the output schema, naming the field', async () => {
    const bad = { ...servingState(), split: 'eighty' };
    const { fetch } = fakeFetch(() => json({ ok: true, value: bad }));
    const t = new HttpTransport({ baseUrl: 'http://127.0.0.1:9000/', fetch });
    const result = await t.invoke('serving.getState', {});
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.code).toBe('SWY_ERR_INTERNAL');
    expect(result.error.where).toBe('split');
    expect(result.error.message).toMatch(/serving\.getState with data the workbench does not understand: split:/);
  });

  it('rejects a body that is not a Result', async () => {
    const { fetch } = fakeFetch(() => json({ split: 50 }));
    const t = new HttpTransport({ baseUrl: 'http://127.0.0.1:9000/', fetch });
    const result = await t.invoke('serving.getState', {});
    expect(result.ok === false && result.error.message).toMatch(/not a Switchyard result/);
  });

  it('rejects a body that is not JSON (e.g. an HTML error page)', async () => {
    const { fetch } = fakeFetch(() => new Response('<html>Bad gateway</html>', { status: 502 }));
    const t = new HttpTransport({ baseUrl: 'http://127.0.0.1:9000/', fetch });
    const result = await t.invoke('app.info', {});
    expect(result.ok === false && result.error.message).toMatch(/HTTP 502 and a body that is not JSON/);
  });

  it('maps an unknown error code to SWY_ERR_INTERNAL, keeping the message', async () => {
    const { fetch } = fakeFetch(() => json({ ok: false, error: { code: 'SWY_ERR_FROM_THE_FUTURE', message: 'Something new.' } }, 500));
    const t = new HttpTransport({ baseUrl: 'http://127.0.0.1:9000/', fetch });
    const result = await t.invoke('app.info', {});
    expect(result.ok === false && result.error.code).toBe('SWY_ERR_INTERNAL');
    expect(result.ok === false && result.error.message).toMatch(/Something new\..*SWY_ERR_FROM_THE_FUTURE/);
  });

  it('refuses an invalid input before sending it', async () => {
    const { fetch, requests } = fakeFetch(() => json({ ok: true, value: servingState() }));
    const t = new HttpTransport({ baseUrl: 'http://127.0.0.1:9000/', fetch });
    const result = await t.invoke('serving.setSplit', { split: 101 });
    expect(result.ok === false && result.error.code).toBe('SWY_ERR_INVALID_INPUT');
    expect(result.ok === false && result.error.where).toBe('split');
    expect(requests).toHaveLength(0);
  });

  it('gives up on a server that does not answer', async () => {
    vi.useFakeTimers();
    try {
      const fetch = ((_: unknown, init?: RequestInit) =>
        new Promise((_resolve, reject) => {
          init?.signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')));
        })) as unknown as typeof globalThis.fetch;
      const t = new HttpTransport({ baseUrl: 'http://127.0.0.1:9000/', fetch, requestTimeoutMs: 1000 });
      const pending = t.invoke('app.info', {});
      await vi.advanceTimersByTimeAsync(1000);
      const result = await pending;
      expect(result.ok === false && result.error.message).toMatch(/did not answer app\.info within 1 s/);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('HttpTransport events', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('shares one socket among subscriptions, with the token in the URL', () => {
    const { sockets, createSocket } = socketFactory();
    const t = new HttpTransport({ baseUrl: 'https://bench.local:8443/', token: 'a b', createSocket, fetch: vi.fn() as never });
    const stop1 = t.subscribe('serving.stats', () => undefined);
    const stop2 = t.subscribe('serving.state', () => undefined);
    expect(sockets).toHaveLength(1);
    expect(sockets[0]!.url).toBe('wss://bench.local:8443/api/events?token=a+b');
    stop1();
    expect(sockets[0]!.closed).toBe(false);
    stop2();
    expect(sockets[0]!.closed).toBe(true);
    expect(t.getStatus()).toBe('idle');
  });

  it('delivers validated payloads to the handlers of that event only', () => {
    const { sockets, createSocket } = socketFactory();
    const t = new HttpTransport({ baseUrl: 'http://127.0.0.1:9000/', createSocket, fetch: vi.fn() as never });
    const statsSeen: unknown[] = [];
    const statesSeen: unknown[] = [];
    t.subscribe('serving.stats', (p) => statsSeen.push(p));
    t.subscribe('serving.state', (p) => statesSeen.push(p));
    const socket = sockets[0]!;
    expect(socket.url).toBe('ws://127.0.0.1:9000/api/events');
    socket.open();
    expect(t.getStatus()).toBe('open');
    const sample = stats('2025-01-01T00:00:00.000Z');
    socket.send('serving.stats', sample);
    socket.send('some.future.event', { x: 1 });
    expect(statsSeen).toEqual([sample]);
    expect(statesSeen).toEqual([]);
  });

  it('drops an invalid payload and reports it', () => {
    const { sockets, createSocket } = socketFactory();
    const errors: string[] = [];
    const t = new HttpTransport({
      baseUrl: 'http://127.0.0.1:9000/',
      createSocket,
      fetch: vi.fn() as never,
      onEventError: (e) => errors.push(e.message),
    });
    const seen: unknown[] = [];
    t.subscribe('serving.stats', (p) => seen.push(p));
    sockets[0]!.open();
    sockets[0]!.send('serving.stats', { at: 'now', windowMs: -1, slots: [] });
    sockets[0]!.onmessage?.({ data: 'not json' });
    expect(seen).toEqual([]);
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatch(/serving\.stats event the workbench does not understand: windowMs/);
  });

  it('reconnects with exponential backoff and resets it after a successful open', async () => {
    const { sockets, createSocket } = socketFactory();
    const statuses: string[] = [];
    const t = new HttpTransport({
      baseUrl: 'http://127.0.0.1:9000/',
      createSocket,
      fetch: vi.fn() as never,
      backoff: { initialMs: 100, maxMs: 400 },
    });
    t.onStatus((s) => statuses.push(s));
    const seen: unknown[] = [];
    t.subscribe('serving.stats', (p) => seen.push(p));
    expect(sockets).toHaveLength(1);

    sockets[0]!.drop();
    expect(t.getStatus()).toBe('reconnecting');
    await vi.advanceTimersByTimeAsync(99);
    expect(sockets).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(sockets).toHaveLength(2);

    sockets[1]!.drop();
    await vi.advanceTimersByTimeAsync(199);
    expect(sockets).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(sockets).toHaveLength(3);

    sockets[2]!.drop();
    await vi.advanceTimersByTimeAsync(400);
    expect(sockets).toHaveLength(4);
    sockets[3]!.drop();
    await vi.advanceTimersByTimeAsync(400); // capped at maxMs
    expect(sockets).toHaveLength(5);

    sockets[4]!.open();
    expect(t.getStatus()).toBe('open');
    sockets[4]!.send('serving.stats', stats('2025-01-01T00:00:00.000Z'));
    expect(seen).toHaveLength(1);

    sockets[4]!.drop();
    await vi.advanceTimersByTimeAsync(100); // back to the initial delay
    expect(sockets).toHaveLength(6);
    expect(statuses[0]).toBe('connecting');
    expect(statuses).toContain('open');
  });

  it('stops reconnecting when the last subscription ends', async () => {
    const { sockets, createSocket } = socketFactory();
    const t = new HttpTransport({ baseUrl: 'http://127.0.0.1:9000/', createSocket, fetch: vi.fn() as never, backoff: { initialMs: 100, maxMs: 100 } });
    const stop = t.subscribe('serving.stats', () => undefined);
    sockets[0]!.drop();
    stop();
    await vi.advanceTimersByTimeAsync(1000);
    expect(sockets).toHaveLength(1);
    expect(t.getStatus()).toBe('idle');
  });

  it('ignores messages from a socket it has replaced', async () => {
    const { sockets, createSocket } = socketFactory();
    const t = new HttpTransport({ baseUrl: 'http://127.0.0.1:9000/', createSocket, fetch: vi.fn() as never, backoff: { initialMs: 10, maxMs: 10 } });
    const seen: unknown[] = [];
    t.subscribe('serving.stats', (p) => seen.push(p));
    const old = sockets[0]!;
    const onmessage = old.onmessage;
    old.drop();
    await vi.advanceTimersByTimeAsync(10);
    onmessage?.({ data: JSON.stringify({ event: 'serving.stats', payload: stats('2025-01-01T00:00:00.000Z') }) });
    expect(seen).toEqual([]);
  });
});
