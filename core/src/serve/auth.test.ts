import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { checkControlRequest, checkPageRequest, generateToken, resolveControlToken, tokensEqual } from './auth.js';

const dir = mkdtempSync(join(tmpdir(), 'swy-auth-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const TOKEN = 'a'.repeat(43);
const cfg = { token: TOKEN, port: 8000, label: 'default' };
const req = (over: Partial<Parameters<typeof checkControlRequest>[0]> = {}) => ({ host: '127.0.0.1:8000', origin: undefined, authorization: undefined, queryToken: undefined, ...over });

describe('tokens', () => {
  it('generates at least 128 random bits, different every time', () => {
    const a = generateToken();
    const b = generateToken();
    expect(Buffer.from(a, 'base64url').length * 8).toBeGreaterThanOrEqual(128);
    expect(a).not.toBe(b);
    expect(a).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  it('compares equal and unequal tokens, of any length', () => {
    expect(tokensEqual(TOKEN, TOKEN)).toBe(true);
    expect(tokensEqual(TOKEN.slice(1), TOKEN)).toBe(false);
    expect(tokensEqual('', TOKEN)).toBe(false);
    expect(tokensEqual(TOKEN + 'x', TOKEN)).toBe(false);
  });
});

describe('checkControlRequest', () => {
  it('needs the token on loopback too (401), and names the caller token:<label> when given', () => {
    expect(checkControlRequest(req(), cfg)).toMatchObject({ ok: false, status: 401, error: { code: 'SWY_ERR_UNAUTHORIZED' } });
    expect(checkControlRequest(req({ authorization: 'Bearer wrong-token-wrong-token' }), cfg)).toMatchObject({ ok: false, status: 401 });
    expect(checkControlRequest(req({ authorization: `Bearer ${TOKEN}` }), { ...cfg, label: 'ci' })).toEqual({ ok: true, caller: 'token:ci' });
    expect(checkControlRequest(req({ queryToken: TOKEN }), cfg)).toEqual({ ok: true, caller: 'token:default' });
  });

  it('without a valid token only loopback Hosts pass; with one, any Host does', () => {
    for (const host of ['evil.example:8000', 'bench-01.lab:8000', '127.0.0.1:9999', '']) {
      expect(checkControlRequest(req({ host }), cfg), host).toMatchObject({ ok: false, status: 403, error: { code: 'SWY_ERR_FORBIDDEN_SENDER', where: 'Host' } });
    }
    for (const host of ['localhost:8000', '[::1]:8000', '127.0.0.2:8000']) expect(checkControlRequest(req({ host }), cfg), host).toMatchObject({ status: 401 });
    expect(checkControlRequest(req({ host: 'bench-01.lab:8000', authorization: `Bearer ${TOKEN}` }), cfg)).toMatchObject({ ok: true });
  });

  it('a browser request must come from the same origin as the Host, even with the token', () => {
    const auth = { authorization: `Bearer ${TOKEN}` };
    expect(checkControlRequest(req({ ...auth, origin: 'http://evil.example' }), cfg)).toMatchObject({ ok: false, status: 403, error: { where: 'Origin' } });
    expect(checkControlRequest(req({ ...auth, origin: 'null' }), cfg)).toMatchObject({ ok: false, status: 403 });
    expect(checkControlRequest(req({ ...auth, origin: 'http://127.0.0.1:8000' }), cfg)).toMatchObject({ ok: true });
    expect(checkControlRequest(req({ ...auth, host: 'bench-01.lab:8000', origin: 'http://bench-01.lab:8000' }), cfg)).toMatchObject({ ok: true });
    expect(checkControlRequest(req({ ...auth, host: 'bench-01.lab:8000', origin: 'http://127.0.0.1:8000' }), cfg)).toMatchObject({ ok: false, status: 403 });
  });

  it('the page (no data) needs no token, but a loopback server serves it to loopback Hosts only', () => {
    expect(checkPageRequest(req(), { port: 8000, loopbackOnly: true })).toMatchObject({ ok: true });
    expect(checkPageRequest(req({ host: 'evil.example:8000' }), { port: 8000, loopbackOnly: true })).toMatchObject({ ok: false, status: 403 });
    expect(checkPageRequest(req({ host: 'bench-01.lab:8000' }), { port: 8000, loopbackOnly: false })).toMatchObject({ ok: true });
  });
});

describe('resolveControlToken', () => {
  it('reads --token-file, else --token (warning once about ps), else SWITCHYARD_TOKEN, else generates one', () => {
    const file = join(dir, 'token');
    writeFileSync(file, `${TOKEN}\n`, { mode: 0o600 });
    const warn = vi.fn();
    expect(resolveControlToken({ tokenFile: file }, {}, warn)).toEqual({ token: TOKEN, source: 'file' });
    expect(warn).not.toHaveBeenCalled();
    expect(resolveControlToken({ token: TOKEN }, {}, warn)).toEqual({ token: TOKEN, source: 'flag' });
    expect(warn).toHaveBeenCalledOnce();
    expect(String(warn.mock.calls[0]![0])).toMatch(/ps/);
    expect(resolveControlToken({}, { SWITCHYARD_TOKEN: TOKEN }, warn)).toEqual({ token: TOKEN, source: 'env' });
    const gen = resolveControlToken({}, {}, warn);
    expect(gen.source).toBe('generated');
    expect(gen.token.length).toBeGreaterThanOrEqual(22);
  });

  it('refuses a short token, an unreadable file, and both flags at once', () => {
    expect(() => resolveControlToken({ token: 'short' }, {}, () => {})).toThrow(/at least 16/);
    expect(() => resolveControlToken({ tokenFile: join(dir, 'missing') }, {}, () => {})).toThrow(/--token-file/);
    expect(() => resolveControlToken({ tokenFile: 'x', token: TOKEN }, {}, () => {})).toThrow(/not both/);
  });
});
