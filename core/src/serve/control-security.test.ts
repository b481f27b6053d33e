/**
 * The control plane's defences through the real HTTP server (inject and a real listening socket):
 * the token on loopback, Host and Origin, the WebSocket refused before the upgrade, files only
 * from the configured roots (a symlink pointing out included), file content never echoed to an
 * API caller, and the audit log recording who authenticated beside who they said they were.
 */
import { request } from 'node:http';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Engine } from '../engine.js';
import { createDemoEngine } from '../../test-support/demo-engine.js';
import { controlTokenOf } from './auth.js';
import { createHttpServer } from './http-server.js';

let engine: Engine;
let app: FastifyInstance;
let dir: string;
let cleanup: () => Promise<void>;
let port: number;
let token: string;
const outside = mkdtempSync(join(tmpdir(), 'swy-outside-'));
const extraRoot = mkdtempSync(join(tmpdir(), 'swy-data-root-'));
const SECRET = 'root:$6$SECRETHASHdoNotLeak:19000:0:99999:7:::';

beforeAll(async () => {
  ({ engine, dir, cleanup } = await createDemoEngine({ dataRoots: [extraRoot] }));
  app = await createHttpServer(engine, { host: '127.0.0.1', port: 0, tokenLabel: 'ci' });
  await app.listen({ host: '127.0.0.1', port: 0 });
  port = (app.server.address() as { port: number }).port;
  token = controlTokenOf(app);
  writeFileSync(join(outside, 'shadow'), `${SECRET}\nsecond:line\n`);
}, 180_000);

afterAll(async () => {
  await app?.close();
  await cleanup?.();
  rmSync(outside, { recursive: true, force: true });
  rmSync(extraRoot, { recursive: true, force: true });
});

const host = () => `127.0.0.1:${port}`;
const bearer = () => ({ authorization: `Bearer ${token}` });

async function call(method: string, input: unknown, headers: Record<string, string> = bearer()) {
  const res = await fetch(`http://${host()}/api/${method}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(input) });
  return { status: res.status, body: (await res.json()) as { ok: boolean; value?: Record<string, unknown>; error?: { code: string; message: string; where?: string } } };
}

describe('the token, on loopback too', () => {
  it('a server started without a token generated one of at least 128 bits', () => {
    expect(Buffer.from(token, 'base64url').length).toBeGreaterThanOrEqual(16);
  });

  it('refuses /api without the token (inject and a real socket), accepts it as a Bearer header or ?token=', async () => {
    const injected = await app.inject({ method: 'POST', url: '/api/app.info', headers: { host: host() }, payload: {} });
    expect(injected.statusCode).toBe(401);
    expect(injected.json()).toMatchObject({ ok: false, error: { code: 'SWY_ERR_UNAUTHORIZED' } });
    expect((await call('serving.setSplit', { split: 10 }, {})).status).toBe(401);
    expect((await call('app.info', {}, { authorization: 'Bearer not-the-token-at-all' })).status).toBe(401);
    expect(await call('app.info', {})).toMatchObject({ status: 200, body: { ok: true } });
    const viaQuery = await app.inject({ method: 'POST', url: `/api/app.info?token=${token}`, headers: { host: host() }, payload: {} });
    expect(viaQuery.statusCode).toBe(200);
  });

  it('refuses the event socket before the upgrade (no 101) without the token, and opens it with one', async () => {
    const refused = await new Promise<{ status: number; upgraded: boolean }>((resolve, reject) => {
      const r = request({ host: '127.0.0.1', port, path: '/api/events', headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' } });
      r.on('upgrade', (_res, socket) => {
        socket.destroy();
        resolve({ status: 101, upgraded: true });
      });
      r.on('response', (res) => {
        res.resume();
        resolve({ status: res.statusCode ?? 0, upgraded: false });
      });
      r.on('error', reject);
      r.end();
    });
    expect(refused).toEqual({ status: 401, upgraded: false });

    const first = await new Promise<{ event: string }>((resolve, reject) => {
      const ws = new WebSocket(`ws://${host()}/api/events?token=${token}`);
      ws.on('message', (m: Buffer) => {
        resolve(JSON.parse(m.toString()) as { event: string });
        ws.close();
      });
      ws.on('error', reject);
    });
    expect(first.event).toBe('serving.state');
  });
});

describe('Host and Origin', () => {
  it('with the token any Host passes (a lab name for the machine); without it only loopback', async () => {
    const lab = await createHttpServer(engine, { host: '0.0.0.0', port: 8123, token: 'lab-token-0123456789abcdef' });
    try {
      const ok = await lab.inject({ method: 'POST', url: '/api/app.info', headers: { host: 'bench-01.lab:8123', authorization: 'Bearer lab-token-0123456789abcdef' }, payload: {} });
      expect(ok.statusCode).toBe(200);
      const noToken = await lab.inject({ method: 'POST', url: '/api/app.info', headers: { host: 'bench-01.lab:8123' }, payload: {} });
      expect(noToken.statusCode).toBe(403);
      expect(noToken.json()).toMatchObject({ error: { code: 'SWY_ERR_FORBIDDEN_SENDER', where: 'Host' } });
      const crossSite = await lab.inject({
        method: 'POST',
        url: '/api/app.info',
        headers: { host: 'bench-01.lab:8123', origin: 'http://evil.example', authorization: 'Bearer lab-token-0123456789abcdef' },
        payload: {},
      });
      expect(crossSite.statusCode).toBe(403);
      expect(crossSite.json()).toMatchObject({ error: { where: 'Origin' } });
    } finally {
      await lab.close();
    }
  });

  it('a rebinding page (foreign Host, no token) is refused on the real socket too', async () => {
    const r = await call('app.info', {}, { host: 'evil.example' } as Record<string, string>);
    // fetch does not let a script set Host; inject does.
    expect([401, 403]).toContain(r.status);
    const injected = await app.inject({ method: 'POST', url: '/api/app.info', headers: { host: `evil.example:${port}` }, payload: {} });
    expect(injected.statusCode).toBe(403);
  });
});

describe('files only from the configured roots', () => {
  it('refuses a path outside every root before opening it, without echoing its content', async () => {
    const r = await call('eval.start', { version: 'cartpole-balance@production', suite: join(outside, 'shadow') });
    expect(r.status).toBe(403);
    expect(r.body.error).toMatchObject({ code: 'SWY_ERR_PATH_NOT_ALLOWED', where: 'suite' });
    expect(JSON.stringify(r.body)).not.toContain('SECRET');
    const etc = await call('eval.start', { version: 'cartpole-balance@production', suite: '/etc/passwd' });
    expect(etc.body.error?.code).toBe('SWY_ERR_PATH_NOT_ALLOWED');
    expect(JSON.stringify(etc.body)).not.toMatch(/root:|line/);
  });

  it('resolves symlinks first: a link inside the store folder pointing outside is refused', async () => {
    const link = join(dir, 'innocent.jsonl');
    symlinkSync(join(outside, 'shadow'), link);
    const r = await call('eval.start', { version: 'cartpole-balance@production', suite: link });
    expect(r.body.error?.code).toBe('SWY_ERR_PATH_NOT_ALLOWED');
    const dotdot = await call('eval.start', { version: 'cartpole-balance@production', suite: join(dir, '..', 'x.jsonl') });
    expect(dotdot.body.error?.code).toBe('SWY_ERR_PATH_NOT_ALLOWED');
  });

  it('refuses rules files outside the roots for gate.run and lifecycle.promote', async () => {
    const rules = join(outside, 'rules.yaml');
    writeFileSync(rules, 'transition: candidate->staging\n');
    const g = await call('gate.run', { rulesPath: rules, candidate: 'cartpole-balance@1.1.0' });
    expect(g.body.error?.code).toBe('SWY_ERR_PATH_NOT_ALLOWED');
    const p = await call('lifecycle.promote', { version: 'cartpole-balance@1.1.0', to: 'staging', rulesPath: rules });
    expect(p.body.error?.code).toBe('SWY_ERR_PATH_NOT_ALLOWED');
  });

  it('a file inside a --data-root with bad content: the file and the position, never a quote', async () => {
    mkdirSync(join(extraRoot, 'suites'), { recursive: true });
    const bad = join(extraRoot, 'suites', 'leak.jsonl');
    writeFileSync(bad, `${SECRET}\n`);
    const r = await call('eval.start', { version: 'cartpole-balance@production', suite: bad });
    expect(r.status).toBe(400);
    expect(r.body.error?.code).toBe('SWY_ERR_INVALID_INPUT');
    expect(r.body.error?.message).toContain(bad);
    expect(r.body.error?.where).toMatch(/leak\.jsonl:1(:\d+)?$/);
    expect(JSON.stringify(r.body)).not.toMatch(/SECRET|root:/);
    // In-process (the CLI's own path) the full message stays, quote included.
    const local = await engine.api.call('eval.start', { version: 'cartpole-balance@production', suite: bad });
    expect(JSON.stringify(local)).toContain('root:');
  });

  it('accepts a suite file in the store folder and a suite by its stored name', async () => {
    const byName = await call('eval.start', { version: 'cartpole-balance@production', suite: 'cartpole-frozen-v1' });
    expect(byName.body).toMatchObject({ ok: true });
    await call('eval.cancel', { runId: byName.body.value!['runId'] });
    const unknownName = await call('eval.start', { version: 'cartpole-balance@production', suite: 'passwd' });
    expect(unknownName.body.error?.code).toBe('SWY_ERR_NOT_FOUND');
  });
});

describe('who did it', () => {
  it('the audit log records the authenticated caller and, apart, the actor the caller claimed', async () => {
    const r = await call('lifecycle.promote', { version: 'cartpole-balance@1.1.0', to: 'staging', force: true, reason: 'security test', actor: 'mallory' });
    expect(r.body).toMatchObject({ ok: true });
    const row = engine.db.prepare("SELECT actor, claimed_by FROM audit_log WHERE action = 'promote' ORDER BY id DESC LIMIT 1").get();
    expect(row).toEqual({ actor: 'token:ci', claimed_by: 'mallory' });
    const desktop = await engine.api.call('lifecycle.archive', { version: 'cartpole-balance@1.1.0', reason: 'ipc test' }, { caller: 'desktop' });
    expect(desktop).toMatchObject({ ok: true });
    const row2 = engine.db.prepare("SELECT actor, claimed_by FROM audit_log WHERE subject = 'cartpole-balance@1.1.0' ORDER BY id DESC LIMIT 1").get();
    expect(row2).toEqual({ actor: 'desktop', claimed_by: null });
  });
});
