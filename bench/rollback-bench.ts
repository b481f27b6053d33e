/**
 * Rollback benchmark (spec §10: "Rollback with the previous version warm: traffic moved in under
 * 100 ms"):
 *
 *   npx tsx bench/rollback-bench.ts [--rounds 10] [--robots 4] [--from src|dist] [--json out.json]
 *
 * A real `switchyard serve cartpole-balance@production` (child process, demo workspace in a
 * temporary store, production timeline 1.0.0 -> 1.1.0) keeps the previous production version warm
 * in its standby. Robots (this process, keep-alive HTTP, closed loop) send `POST /act` all along.
 * Each round: wait until the standby is warm, call `POST /api/lifecycle.rollback`, and measure
 * click-to-traffic-moved: from just before that call to the first `/act` answer carrying the
 * restored version's `X-Switchyard-Model-Version`. Then promote the replaced version again
 * (forced; a cold load, not measured) for the next round. Every `/act` must be answered: a
 * dropped request fails the bench.
 *
 * Columns: click -> traffic (what an operator sees), API answer (the rollback call's round trip),
 * server swap (the server's own measure from the call to the swap, `traffic.ms`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MethodInput, MethodName, MethodOutput } from '../core/src/contract/index.js';
import { createEngine } from '../core/src/engine.js';
import { createMemoryLogger } from '../core/src/platform/logger.js';
import { fmt, markdownTable, median } from './lib/stats.js';
import { flags } from './lib/args.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const DEMO = 'cartpole-balance';
const TARGET_MS = 100;

interface Args {
  rounds: number;
  robots: number;
  from: 'src' | 'dist';
  json: string | null;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { rounds: 10, robots: 4, from: 'src', json: null };
  for (const { k, v } of flags(argv)) {
    if (k === '--rounds') a.rounds = Math.max(1, Math.min(100, Number(v())));
    else if (k === '--robots') a.robots = Math.max(1, Math.min(32, Number(v())));
    else if (k === '--from') a.from = v() === 'dist' ? 'dist' : 'src';
    else if (k === '--json') a.json = v();
    else {
      process.stderr.write('usage: npx tsx bench/rollback-bench.ts [--rounds 10] [--robots 4] [--from src|dist] [--json out.json]\n');
      process.exit(2);
    }
  }
  return a;
}

const agentFor = () => new http.Agent({ keepAlive: true, maxSockets: 1 });

function request(agent: http.Agent, url: URL, body: unknown, timeoutMs = 10_000): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const data = JSON.stringify(body);
    const req = http.request(
      { agent, hostname: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) }, timeout: timeoutMs },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(data);
  });
}

/** One contract call over the bench's keep-alive agent, typed by the contract map. */
async function api<M extends MethodName>(base: string, method: M, input: MethodInput<M>): Promise<MethodOutput<M>> {
  const r = await request(agentFor(), new URL(`${base}/api/${method}`), input, 60_000);
  const parsed = JSON.parse(r.body) as { ok: boolean; value?: MethodOutput<M>; error?: { message: string } };
  if (!parsed.ok) throw new Error(`${method}: ${parsed.error?.message}`);
  return parsed.value as MethodOutput<M>;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const dir = mkdtempSync(join(tmpdir(), 'swy-rollback-bench-'));
  const store = join(dir, 'store.db');
  let server: ChildProcess | null = null;
  try {
    // The demo workspace, with 1.1.0 promoted over 1.0.0 (forced: this measures traffic, not verdicts).
    const setup = await createEngine({ storePath: store, statsIntervalMs: 0, logger: createMemoryLogger(), device: 'cpu' });
    await setup.buildDemo();
    for (const to of ['staging', 'production'] as const) await setup.lifecycle.promote({ version: `${DEMO}@1.1.0`, to, actor: 'bench', force: true, reason: 'rollback bench' });
    const mv = (label: string) => setup.registry.getVersion(DEMO, label).modelVersion;
    const versions = { '1.0.0': mv('1.0.0'), '1.1.0': mv('1.1.0') } as Record<string, string>;
    await setup.close();

    const cli = args.from === 'dist' ? [join(ROOT, 'dist', 'core', 'src', 'cli', 'main.js')] : ['--import', 'tsx', join(ROOT, 'bench', 'lib', 'switchyard-src.ts')];
    if (args.from === 'dist' && !existsSync(cli[0]!)) throw new Error('dist/ is not built: run `npm run build:core` or use --from src');
    const child = spawn(process.execPath, [...cli, 'serve', `${DEMO}@production`, '--store', store, '--port', '0', '--device', 'cpu', '--json', '--log-level', 'error'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    server = child;
    let out = '';
    child.stderr!.on('data', (b: Buffer) => void process.stderr.write(b));
    const base = await new Promise<string>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`the server did not start within 60 s:\n${out}`)), 60_000);
      child.stdout!.on('data', (b: Buffer) => {
        out += b.toString();
        const line = out.split('\n').find((l) => l.startsWith('{') && l.includes('"listening"'));
        if (line) {
          clearTimeout(t);
          resolve(new URL((JSON.parse(line) as { act: string }).act).origin);
        }
      });
      child.on('exit', (c) => reject(new Error(`the server exited (${c}):\n${out}`)));
    });

    // Robots: closed loop, keep-alive, each answer logged with its time and model version.
    const answers: { t: number; version: string }[] = [];
    let stop = false;
    let failures = 0;
    let firstFailure: string | null = null;
    let sent = 0;
    const actUrl = new URL(`${base}/act`);
    const robots = Array.from({ length: args.robots }, async (_, r) => {
      const agent = agentFor();
      let n = 0;
      while (!stop && n < 10_000_000) {
        n++;
        sent++;
        try {
          const res = await request(agent, actUrl, { episode_id: `robot-${r}-${Math.floor(n / 50)}`, state: [0.01 * (n % 7), 0, 0.02, 0] });
          if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${res.body.slice(0, 200)}`);
          answers.push({ t: performance.now(), version: String(res.headers['x-switchyard-model-version']) });
        } catch (e) {
          failures++;
          firstFailure ??= (e as Error).message;
        }
      }
      agent.destroy();
    });

    const waitWarm = async (label: string) => {
      for (let i = 0; i < 600; i++) {
        const st = await api(base, 'serving.getState', {});
        if (st.standby?.ready && st.standby.versionRef === `${DEMO}@${label}`) return;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`the standby never became ${DEMO}@${label}`);
    };

    const rows: { clickMs: number; apiMs: number; serverMs: number; how: string }[] = [];
    let current = '1.1.0';
    let previous = '1.0.0';
    await new Promise((r) => setTimeout(r, 1000)); // robots warm up
    for (let round = 0; round < args.rounds; round++) {
      await waitWarm(previous);
      await new Promise((r) => setTimeout(r, 200));
      const mark = answers.length;
      const t0 = performance.now();
      const rb = await api(base, 'lifecycle.rollback', { policy: DEMO, actor: 'bench', reason: `bench round ${round + 1}` });
      const apiMs = performance.now() - t0;
      const want = versions[rb.restored.label]!;
      let first: number | null = null;
      for (let i = 0; i < 400 && first === null; i++) {
        const hit = answers.slice(mark).find((a) => a.t >= t0 && a.version === want);
        if (hit) first = hit.t;
        else await new Promise((r) => setTimeout(r, 5));
      }
      if (first === null) throw new Error(`round ${round + 1}: no /act answered by ${rb.restored.label} within 2 s of the rollback`);
      rows.push({ clickMs: first - t0, apiMs, serverMs: rb.traffic.ms ?? NaN, how: rb.traffic.how });
      // Forward again (a cold load; not measured), so the next round has something to roll back.
      await api(base, 'lifecycle.promote', { version: `${DEMO}@${current}`, to: 'production', force: true, reason: 'bench: forward again', actor: 'bench' });
      [current, previous] = [current, rb.restored.label];
    }
    stop = true;
    await Promise.all(robots);

    const click = rows.map((r) => r.clickMs).sort((a, b) => a - b);
    const ok = failures === 0 && click[click.length - 1]! < TARGET_MS && rows.every((r) => r.how === 'standby');
    process.stdout.write(`\n## Rollback: click to traffic moved (spec §10: < ${TARGET_MS} ms with the previous version warm)\n\n`);
    process.stdout.write(
      markdownTable(
        ['round', 'click -> traffic (ms)', 'API answer (ms)', 'server swap (ms)', 'how'],
        rows.map((r, i) => [String(i + 1), fmt(r.clickMs, 1), fmt(r.apiMs, 1), fmt(r.serverMs, 2), r.how]),
        ['r', 'r', 'r', 'r', 'l'],
      ) + '\n\n',
    );
    process.stdout.write(
      markdownTable(
        ['rounds', 'robots', '/act sent', '/act failed', 'click p50 (ms)', 'click max (ms)', 'server swap p50 (ms)', 'target', 'result'],
        [[String(rows.length), String(args.robots), String(sent), String(failures), fmt(median(click), 1), fmt(click[click.length - 1]!, 1), fmt(median(rows.map((r) => r.serverMs)), 2), `< ${TARGET_MS} ms`, ok ? 'PASS' : 'FAIL']],
      ) + '\n',
    );
    if (failures > 0) process.stdout.write(`\n${failures} /act requests failed (first: ${firstFailure}).\n`);
    if (args.json) writeFileSync(args.json, JSON.stringify({ rows, failures, sent, target: TARGET_MS, pass: ok }, null, 2));
    process.exitCode = ok ? 0 : 1;
  } finally {
    if (server && server.exitCode === null) {
      server.kill('SIGTERM');
      await new Promise((r) => {
        const t = setTimeout(() => (server!.kill('SIGKILL'), r(null)), 10_000);
        server!.on('exit', () => (clearTimeout(t), r(null)));
      });
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
