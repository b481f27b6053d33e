import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startConsoleProcess } from './support/console-process.js';
import { ENV_DIR, ENV_PID, ENV_URL, resultsDir } from './support/server.js';

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
  let started;
  try {
    started = await startConsoleProcess({ dir, args: ['--demo'], logPath: path.join(resultsDir, 'e2e-server.log') });
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const { child, url } = started;

  process.env[ENV_URL] = url;
  process.env[ENV_PID] = String(child.pid);
  process.env[ENV_DIR] = dir;
  console.log(`[e2e] Switchyard console (pid ${child.pid}) at ${new URL(url).origin}/`);
}
