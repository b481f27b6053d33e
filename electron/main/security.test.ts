import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  CONTENT_SECURITY_POLICY,
  createSenderCheck,
  createWindowOptions,
  isAppPageUrl,
  isFileUrlInside,
  resolveAppPaths,
  withContentSecurityPolicy,
} from './security.js';

const RENDERER_DIR = path.resolve('/opt/switchyard/dist/renderer');
const INDEX_URL = pathToFileURL(path.join(RENDERER_DIR, 'index.html')).href;

function directives(csp: string): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const part of csp.split(';')) {
    const [name, ...values] = part.trim().split(/\s+/);
    if (name) m.set(name, values);
  }
  return m;
}

describe('content security policy', () => {
  const d = directives(CONTENT_SECURITY_POLICY);

  it('has the required directives', () => {
    expect(d.get('default-src')).toEqual(["'self'"]);
    expect(d.get('script-src')).toEqual(["'self'"]);
    expect(d.get('style-src')).toEqual(["'self'", "'unsafe-inline'"]);
    expect(d.get('connect-src')).toEqual(["'self'"]);
    expect(d.get('img-src')).toEqual(["'self'", 'data:']);
    expect(d.get('object-src')).toEqual(["'none'"]);
  });

  it('never allows eval, inline scripts or wildcard sources', () => {
    expect(CONTENT_SECURITY_POLICY).not.toContain('unsafe-eval');
    expect(CONTENT_SECURITY_POLICY).not.toContain('wasm-unsafe-eval');
    expect(d.get('script-src')).not.toContain("'unsafe-inline'");
    for (const values of d.values()) expect(values).not.toContain('*');
  });

  it('replaces any CSP the server sent (case-insensitively) and keeps the other headers', () => {
    const out = withContentSecurityPolicy({
      'content-security-policy': ["default-src *; script-src * 'unsafe-eval'"],
      'Content-Security-Policy-Report-Only': 'default-src *',
      'Content-Type': ['text/html'],
      'X-Single': 'one',
    });
    const cspKeys = Object.keys(out).filter((k) => k.toLowerCase().startsWith('content-security-policy'));
    expect(cspKeys).toEqual(['Content-Security-Policy']);
    expect(out['Content-Security-Policy']).toEqual([CONTENT_SECURITY_POLICY]);
    expect(out['Content-Type']).toEqual(['text/html']);
    expect(out['X-Single']).toEqual(['one']);
    expect(withContentSecurityPolicy(undefined)).toEqual({ 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] });
  });
});

describe('window options', () => {
  it('isolates the page from Node with secure defaults', () => {
    const o = createWindowOptions({ preloadPath: '/app/dist/electron/preload/preload.cjs' });
    const w = o.webPreferences!;
    expect(w.contextIsolation).toBe(true);
    expect(w.sandbox).toBe(true);
    expect(w.nodeIntegration).toBe(false);
    expect(w.nodeIntegrationInWorker).toBe(false);
    expect(w.nodeIntegrationInSubFrames).toBe(false);
    expect(w.webSecurity).toBe(true);
    expect(w.allowRunningInsecureContent).toBe(false);
    expect(w.webviewTag).toBe(false);
    expect(w.preload).toBe('/app/dist/electron/preload/preload.cjs');
  });

  it('has no preload at all when none is given (remote mode)', () => {
    const o = createWindowOptions({ preloadPath: undefined });
    expect(o.webPreferences).not.toHaveProperty('preload');
    expect(o.webPreferences?.sandbox).toBe(true);
  });
});

describe('app paths', () => {
  it('finds the renderer and the preload beside the compiled main', () => {
    const p = resolveAppPaths(path.resolve('/app/dist/electron/main'));
    expect(p.rendererDir).toBe(path.resolve('/app/dist/renderer'));
    expect(p.rendererIndex).toBe(path.resolve('/app/dist/renderer/index.html'));
    expect(p.preload).toBe(path.resolve('/app/dist/electron/preload/preload.cjs'));
  });
});

describe('trusted app URLs', () => {
  const opts = { rendererDir: RENDERER_DIR };

  it('accepts the built renderer page, with a hash route or a query', () => {
    expect(isAppPageUrl(INDEX_URL, opts)).toBe(true);
    expect(isAppPageUrl(`${INDEX_URL}#/traffic`, opts)).toBe(true);
    expect(isAppPageUrl(`${INDEX_URL}?x=1`, opts)).toBe(true);
  });

  it('refuses other schemes, other folders and escapes', () => {
    const bad = [
      'https://evil.example/',
      'http://localhost:5173/',
      'file:///etc/passwd',
      pathToFileURL(path.resolve(RENDERER_DIR, '..', 'secret.html')).href,
      `${pathToFileURL(RENDERER_DIR).href}/../secret.html`,
      `${pathToFileURL(RENDERER_DIR).href}/%2e%2e/secret.html`,
      `${pathToFileURL(RENDERER_DIR).href}/..%2fsecret.html`,
      `${pathToFileURL(RENDERER_DIR).href}-evil/index.html`,
      pathToFileURL(RENDERER_DIR).href,
      'file://remote-host' + pathToFileURL(path.join(RENDERER_DIR, 'index.html')).pathname,
      'data:text/html,<h1>hi</h1>',
      'javascript:alert(1)',
      'about:blank',
      'not a url',
      '',
    ];
    for (const url of bad) expect(isAppPageUrl(url, opts), url).toBe(false);
    expect(isAppPageUrl(undefined, opts)).toBe(false);
    expect(isAppPageUrl(null, opts)).toBe(false);
  });

  it('accepts the dev server only by exact origin, and only when configured', () => {
    const dev = { rendererDir: RENDERER_DIR, devUrl: 'http://localhost:5173/' };
    expect(isAppPageUrl('http://localhost:5173/', dev)).toBe(true);
    expect(isAppPageUrl('http://localhost:5173/#/versions', dev)).toBe(true);
    expect(isAppPageUrl('http://localhost:5174/', dev)).toBe(false);
    expect(isAppPageUrl('https://localhost:5173/', dev)).toBe(false);
    expect(isAppPageUrl('http://localhost.evil.example:5173/', dev)).toBe(false);
    expect(isAppPageUrl('http://localhost:5173/', opts)).toBe(false);
  });

  it('isFileUrlInside is a strict containment check', () => {
    expect(isFileUrlInside(pathToFileURL(path.join(RENDERER_DIR, 'assets', 'index-abc.js')).href, RENDERER_DIR)).toBe(true);
    expect(isFileUrlInside(pathToFileURL(path.join(RENDERER_DIR + 'x', 'a.js')).href, RENDERER_DIR)).toBe(false);
  });
});

describe('sender check', () => {
  const wc = (id: number, url: string) => ({ id, isDestroyed: () => false, send: () => undefined, mainFrame: { url, parent: null } });
  const check = createSenderCheck({ rendererDir: RENDERER_DIR, isAppWebContents: (w) => w.id === 1 });

  it('trusts the app window top frame on the app page', () => {
    const w = wc(1, INDEX_URL);
    expect(check({ sender: w, senderFrame: w.mainFrame })).toBe(true);
  });

  it('refuses a foreign page, a foreign webContents, a subframe and a missing frame', () => {
    const w = wc(1, INDEX_URL);
    expect(check({ sender: w, senderFrame: { url: 'https://evil.example/', parent: null } })).toBe(false);
    const other = wc(2, INDEX_URL);
    expect(check({ sender: other, senderFrame: other.mainFrame })).toBe(false);
    expect(check({ sender: w, senderFrame: { url: INDEX_URL, parent: w.mainFrame } })).toBe(false);
    expect(check({ sender: w, senderFrame: null })).toBe(false);
  });

  it('a frame whose url getter throws (destroyed) is untrusted, not an exception', () => {
    const w = wc(1, INDEX_URL);
    const frame = {
      get url(): string {
        throw new Error('Render frame was disposed before WebFrameMain could be accessed');
      },
      parent: null,
    };
    expect(check({ sender: w, senderFrame: frame })).toBe(false);
  });
});
