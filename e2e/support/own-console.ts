import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CONSOLE_LINE, repoRoot, resultsDir, type ServerInfo } from './server.js';

const START_TIMEOUT_MS = 180_000;

export interface OwnConsole extends ServerInfo {
  dir: string;
  child: ChildProcess;
  /** SIGTERM (drains), SIGKILL after 15 s; removes its folder. */
  stop(): Promise<void>;
}

/**
 * A `switchyard console` of the spec's own, on a fresh store in a temporary folder, for specs that
 * change what is served or which version is in production (the shared server must stay as the
 * other specs expect it). `args` follow `console`; `--store`, `--port 0` and `--no-open` are added.
 * The URL is the one the console prints (token included when it prints one).
 */
export async function startOwnConsole(name: string, args: string[], opts: { dir?: string } = {}): Promise<OwnConsole> {
  const dir = opts.dir ?? mkdtempSync(path.join(tmpdir(), `switchyard-e2e-${name}-`));
  const argv = ['bin/switchyard.js', 'console', '--store', path.join(dir, 'store.db'), '--port', '0', '--no-open', ...args];
  const log = createWriteStream(path.join(resultsDir, `e2e-server-${name}.log`));
  log.write(`$ node ${argv.join(' ')}\n`);
  const child = spawn(process.execPath, argv, { cwd: repoRoot, env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', SWITCHYARD_HOME: dir }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    let settled = false;
    const fail = (why: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (child.exitCode === null) child.kill('SIGKILL');
      reject(new Error(`Could not start \`node ${argv.join(' ')}\`: ${why}.\n--- its output ---\n${output.slice(-4000)}`));
    };
    const timer = setTimeout(() => fail(`no console URL within ${START_TIMEOUT_MS / 1000} s`), START_TIMEOUT_MS);
    const onData = (chunk: Buffer): void => {
      const text = chunk.toString('utf8');
      log.write(text);
      if (settled) return;
      output += text;
      const match = CONSOLE_LINE.exec(output);
      if (match?.[1]) {
        settled = true;
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('error', (e) => fail(e.message));
    child.on('exit', (code, signal) => fail(`it exited (code ${code}, signal ${signal}) before printing its URL`));
  });
  const parsed = new URL(url);
  return {
    url,
    origin: parsed.origin,
    token: parsed.searchParams.get('token'),
    dir,
    child,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise<void>((r) => child.once('exit', () => r()));
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(killer);
      }
      log.end();
      if (!opts.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Simulated robot traffic: `concurrency` loops POSTing `/act` with a new episode id per request
 * (so each goes where the router's split sends new episodes), each waiting `pauseMs` between
 * requests (a robot's control period; it also leaves the shared CPUs to the page), until `stop()`.
 */
export function driveTraffic(actUrl: string, concurrency = 2, pauseMs = 20): { stop: () => Promise<{ sent: number; failed: number }> } {
  let running = true;
  let sent = 0;
  let failed = 0;
  const loop = async (w: number): Promise<void> => {
    let i = 0;
    while (running) {
      i += 1;
      try {
        const r = await fetch(actUrl, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ episode_id: `sim-${w}-${i}-${Date.now()}`, state: [0.01 * (i % 7), 0, 0.02, 0] }),
        });
        await r.arrayBuffer();
        sent += 1;
        if (!r.ok) failed += 1;
        await new Promise((r) => setTimeout(r, pauseMs));
      } catch {
        failed += 1;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  };
  const loops = Array.from({ length: concurrency }, (_, w) => loop(w));
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
      return { sent, failed };
    },
  };
}
