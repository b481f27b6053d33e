import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CONSOLE_LINE, ENV_DIR, ENV_PID, ENV_URL, repoRoot, resultsDir } from './support/server.js';

const START_TIMEOUT_MS = 180_000;

/**
 * Starts the real server: `switchyard console` on an empty store with `--demo`, which builds the
 * demo workspace and serves the workbench plus `/act` in two-policy mode. The URL comes from the
 * `Switchyard console: http://127.0.0.1:<port>/?token=<token>` line on stdout; the tests call the
 * control API with that token (support/server.ts). Its output goes to test-results/e2e-server.log.
 */
export default async function globalSetup(): Promise<void> {
  if (process.env[ENV_URL]) {
    console.log(`[e2e] using the Switchyard server at ${process.env[ENV_URL]}`);
    return;
  }
  mkdirSync(resultsDir, { recursive: true });
  const dir = mkdtempSync(path.join(tmpdir(), 'switchyard-e2e-'));
  const args = ['bin/switchyard.js', 'console', '--store', path.join(dir, 'store.db'), '--port', '0', '--no-open', '--demo'];
  const log = createWriteStream(path.join(resultsDir, 'e2e-server.log'));
  log.write(`$ node ${args.join(' ')}\n`);

  const child = spawn(process.execPath, args, {
    cwd: repoRoot,
    // The server's runtime file (url, pid, token) goes to this run's folder, not the user's.
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', SWITCHYARD_HOME: dir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });

  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      fail(`it printed no "Switchyard console: <url>" line within ${START_TIMEOUT_MS / 1000} s`);
    }, START_TIMEOUT_MS);
    let settled = false;
    function fail(why: string): void {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (child.exitCode === null) child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      reject(new Error(`Could not start \`node ${args.join(' ')}\`: ${why}.\n--- its output ---\n${output.slice(-4000)}`));
    }
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
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', (error) => fail(error.message));
    child.on('exit', (code, signal) => fail(`it exited (code ${code}, signal ${signal}) before printing its URL`));
  });

  process.env[ENV_URL] = url;
  process.env[ENV_PID] = String(child.pid);
  process.env[ENV_DIR] = dir;
  console.log(`[e2e] Switchyard console (pid ${child.pid}) at ${new URL(url).origin}/`);
}
