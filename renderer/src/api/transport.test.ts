// @vitest-environment node
import { describe, expect, it } from 'vitest';
import type { PreloadBridge } from '@contract';
import { createTransport } from './transport';
import { takeToken, TOKEN_STORAGE_KEY } from './token';

function memoryStorage(initial: Record<string, string> = {}) {
  const data = new Map(Object.entries(initial));
  return {
    data,
    getItem: (k: string) => data.get(k) ?? null,
    setItem: (k: string, v: string) => void data.set(k, v),
  };
}

function fakeHistory() {
  const replaced: string[] = [];
  return { replaced, state: null, replaceState: (_s: unknown, _t: string, url?: string | URL | null) => void replaced.push(String(url)) };
}

describe('takeToken', () => {
  it('moves ?token= into session storage and removes it from the address bar', () => {
    const storage = memoryStorage();
    const history = fakeHistory();
    const token = takeToken({ location: { href: 'http://127.0.0.1:8000/?token=abc&x=1#/traffic' }, history, storage });
    expect(token).toBe('abc');
    expect(storage.data.get(TOKEN_STORAGE_KEY)).toBe('abc');
    expect(history.replaced).toEqual(['/?x=1#/traffic']);
  });

  it('falls back to the stored token', () => {
    const storage = memoryStorage({ [TOKEN_STORAGE_KEY]: 'kept' });
    const history = fakeHistory();
    expect(takeToken({ location: { href: 'http://127.0.0.1:8000/#/versions' }, history, storage })).toBe('kept');
    expect(history.replaced).toEqual([]);
  });

  it('returns null when there is no token', () => {
    expect(takeToken({ location: { href: 'http://127.0.0.1:8000/' }, history: fakeHistory(), storage: memoryStorage() })).toBeNull();
  });
});

describe('createTransport', () => {
  const location = { href: 'http://127.0.0.1:8000/', origin: 'http://127.0.0.1:8000', protocol: 'http:' };

  it('uses the desktop bridge when the preload exposed one', () => {
    const bridge: PreloadBridge = { invoke: async () => null, subscribe: () => () => undefined };
    const t = createTransport({ bridge, location, history: fakeHistory(), storage: memoryStorage() });
    expect(t.kind).toBe('ipc');
    expect(t.connection.getStatus()).toBe('open');
  });

  it('uses HTTP to the page origin otherwise', () => {
    const t = createTransport({ bridge: undefined, location, history: fakeHistory(), storage: memoryStorage() });
    expect(t.kind).toBe('http');
    expect(t.serverLabel).toBe('http://127.0.0.1:8000');
  });

  it('explains what to do when opened from a file without the bridge', async () => {
    const t = createTransport({
      bridge: undefined,
      location: { href: 'file:///app/index.html', origin: 'null', protocol: 'file:' },
      history: fakeHistory(),
      storage: memoryStorage(),
    });
    expect(t.kind).toBe('unavailable');
    const result = await t.client.invoke('app.info', {});
    expect(result.ok === false && result.error.message).toMatch(/switchyard console/);
  });
});
