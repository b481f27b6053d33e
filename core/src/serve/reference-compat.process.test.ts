/**
 * A robot written against the reference VLA server, pointed at a real `switchyard serve` child
 * process. The robot side is Python with httpx (reference-client/), behaving as the reference's
 * documented client does; this file starts the server and checks what the robot saw.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCli, type RunningCli } from '../../test-support/cli-process.js';
import { writeFlakyExport } from '../../test-support/fault-exports.js';

const clientDir = join(import.meta.dirname, 'reference-client');

/** The first Python that can import httpx (Debian's python3-httpx), or why there is none. */
function findPython(): { python: string | null; why: string } {
  const candidates = [process.env.SWITCHYARD_PYTHON, 'python3', '/usr/bin/python3'].filter((c): c is string => Boolean(c));
  const tried: string[] = [];
  for (const c of candidates) {
    const r = spawnSync(c, ['-c', 'import httpx'], { encoding: 'utf8', timeout: 20_000 });
    if (r.status === 0) return { python: c, why: '' };
    tried.push(`${c}: ${r.error ? r.error.message : (r.stderr.trim().split('\n').pop() ?? `exit ${r.status}`)}`);
  }
  return { python: null, why: `no Python with httpx (install python3-httpx: scripts/ensure-deps.sh --system); tried ${tried.join('; ')}` };
}

const { python, why } = findPython();
if (!python) console.warn(`[skip] reference-compat.process.test.ts: ${why}`);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function runScenario(name: string, base: string, token: string): Promise<Json> {
  return new Promise((resolve, reject) => {
    const child = spawn(python!, [join(clientDir, 'scenarios.py'), name, base, token], { cwd: clientDir, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 150_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`scenario ${name} exited ${code}:\n${err.slice(-3000)}`));
      try {
        resolve(JSON.parse(out) as Json);
      } catch (e) {
        reject(new Error(`scenario ${name} printed no JSON (${(e as Error).message}):\n${out.slice(-2000)}\n${err.slice(-2000)}`));
      }
    });
  });
}

const ORDER = ['initializing', 'loading', 'warming', 'ready'];

describe.skipIf(!python)('the reference robot client against `switchyard serve` (two flaky policies, robot token)', () => {
  let dir: string;
  let server: RunningCli;
  let base: string;
  const token = 'robot-token-3f9c2a';
  let warmup: Promise<Json>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'swy-refcompat-'));
    // Different limits give different model hashes, so the two slots are two versions.
    const a = await writeFlakyExport(join(dir, 'a'), { limit: 100, version: '0.0.1' });
    const b = await writeFlakyExport(join(dir, 'b'), { limit: 101, version: '0.0.2' });
    writeFileSync(join(dir, 'act-token'), `${token}\n`, { mode: 0o600 });
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    server = startCli([
      'serve', '--policy-a', a, '--policy-b', b, '--no-rtc', '--split', '50', '--max-consecutive-crashes', '2',
      '--port', String(port), '--store', join(dir, 'store.db'), '--act-token-file', join(dir, 'act-token'), '--device', 'cpu', '--json', '--log-level', 'warn',
    ]);
    // The robot starts polling before the server listens, as a robot booting beside it would.
    warmup = runScenario('warmup', base, token);
    await server.waitFor(/"event":"listening"/, 90_000);
  }, 120_000);

  afterAll(async () => {
    if (server && server.child.exitCode === null) {
      server.child.kill('SIGTERM');
      await server.exited;
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('reads /health through start-up: 503 not_ready while loading and warming, then 200 ready; /act meanwhile is a retryable 503', async () => {
    const w = await warmup;
    const history = w.history as Json[];
    expect(history.at(-1)).toEqual({ status_code: 200, status: 'ok', state: 'ready', model_loaded: true });
    for (const h of history.slice(0, -1)) {
      expect(h).toMatchObject({ status_code: 503, status: 'not_ready' });
    }
    const states = history.map((h) => h.state as string);
    expect(states).toContain('warming');
    // Never backwards: initializing, loading, warming, ready, each at most once, in that order.
    const idx = states.map((s) => ORDER.indexOf(s));
    expect(idx.every((v, i) => v >= 0 && (i === 0 || v > idx[i - 1]!))).toBe(true);

    expect(w.probe).toMatchObject({ status_code: 503, retry_after: '1', classified: 'NotReadyError', body: { status: 'not_ready' } });
    expect(['loading', 'warming']).toContain(w.probe.body.state);
    expect(w.probe.classified_state).toBe(w.probe.body.state);
    // The client's retry loop slept exactly the server's Retry-After and then got its actions.
    expect(w.retried.error).toBeNull();
    expect(w.retried.result.actions).toHaveLength(1);
    expect((w.retried.sleeps as number[]).every((s) => s === 1)).toBe(true);
  }, 150_000);

  it('classifies a missing or wrong robot token as a final 401, and accepts X-Tether-Key and Bearer', async () => {
    const r = await runScenario('auth', base, token);
    for (const k of ['no_key', 'wrong_key', 'no_key_config']) {
      expect(r[k], k).toMatchObject({ error: 'AuthError', status_code: 401, requests: 1 });
    }
    expect(r.no_key.body.error.code).toBe('SWY_ERR_UNAUTHORIZED');
    expect(r.right_key.error).toBeNull();
    expect(r.right_key.result.actions).toHaveLength(1);
    expect(r.bearer_right.status_code).toBe(200);
    expect(r.bearer_wrong).toMatchObject({ status_code: 401, classified: 'AuthError' });
    // /health needs no token, as orchestrators probe it without one.
    expect(r.health_without_key).toMatchObject({ status: 'ok', state: 'ready' });
    expect(r.config.result).toMatchObject({ mode: 'ab', act_auth: true });
    expect(r.config.result.slots.map((s: Json) => s.observation.dim)).toEqual([4, 4]);
  }, 180_000);

  it('answers the bodies the client sends with every field it reads; a bad body is a final 422', async () => {
    const r = await runScenario('bodies', base, token);
    for (const k of ['defaults', 'jpeg_bytes', 'data_url']) {
      expect(r[k].error, k).toBeNull();
      expect(r[k].result, k).toMatchObject({
        num_actions: 1, action_dim: 1, inference_mode: 'direct', guard_violations: [], guard_clamped: false,
        slot: expect.stringMatching(/^[ab]$/), model_version: expect.stringMatching(/^flaky-sqrt@/), cache: expect.any(String), denoise_steps: 0,
      });
      expect(r[k].result.latency_ms, k).toEqual(expect.any(Number));
      expect(r[k].result.actions[0], k).toHaveLength(1);
    }
    expect(r.jpeg_bytes.result.slot).toBe(r.data_url.result.slot);
    for (const k of ['state_null', 'state_short']) {
      expect(r[k], k).toMatchObject({ error: 'ValidationError', status_code: 422, requests: 1 });
      expect(r[k].body.error.where, k).toBe('state');
    }
    expect(r.state_strings).toMatchObject({ status_code: 422, classified: 'ValidationError' });
  }, 180_000);

  it('answers every call of one episode from one slot, and spreads episodes over both', async () => {
    const r = await runScenario('episodes', base, token);
    const eps = Object.values(r.episodes as Record<string, string[]>);
    expect(eps).toHaveLength(16);
    for (const slots of eps) expect(new Set(slots).size).toBe(1);
    expect(new Set(eps.map((s) => s[0]))).toEqual(new Set(['a', 'b']));
  }, 180_000);

  it('reports a drained slot as still ready, then degraded: a final 503 server-degraded with Retry-After', async () => {
    const r = await runScenario('degrade', base, token);
    const history = r.history as Json[];
    expect(r.first_failure).toMatchObject({ error: 'RobotClientError', status_code: 500, requests: 1 });
    // One slot drained: traffic moves to the other, so the server is still ready.
    const drained = history.find((h) => h.drain === 'drain-a' || h.drain === 'drain-b');
    expect(drained).toMatchObject({ status_code: 200, state: 'ready' });
    const last = history.at(-1)!;
    expect(last).toMatchObject({ status_code: 503, state: 'degraded', drain: 'degraded', max_consecutive_crashes: 2 });
    expect(last.consecutive_crashes).toBeGreaterThanOrEqual(2);
    expect(last.slots).toEqual([{ slot: 'a', drained: true }, { slot: 'b', drained: true }]);
    // The client does not retry a degraded server by default: one request, the server's Retry-After.
    expect(r.degraded_call).toMatchObject({ error: 'DegradedError', status_code: 503, requests: 1, retry_after_s: 10, sleeps: [] });
    expect(r.raw).toMatchObject({ status_code: 503, retry_after: '10', classified: 'DegradedError', body: { error: 'server-degraded', state: 'degraded', code: 'SWY_ERR_SLOT_DRAINED' } });
  }, 90_000);
});
