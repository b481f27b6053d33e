import { rmSync } from 'node:fs';
import { ENV_DIR, ENV_PID, ENV_URL } from './support/server.js';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitForExit(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return !isAlive(pid);
}

/** Stops the server global-setup.ts started (SIGTERM, which drains it; SIGKILL after 15 s). */
export default async function globalTeardown(): Promise<void> {
  const pid = Number(process.env[ENV_PID] ?? NaN);
  if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) {
    process.kill(pid, 'SIGTERM');
    if (!(await waitForExit(pid, 15_000))) {
      console.warn(`[e2e] the Switchyard console (pid ${pid}) ignored SIGTERM for 15 s; killing it`);
      process.kill(pid, 'SIGKILL');
      await waitForExit(pid, 5_000);
    }
  }
  const dir = process.env[ENV_DIR];
  if (dir) rmSync(dir, { recursive: true, force: true });
  delete process.env[ENV_PID];
  delete process.env[ENV_DIR];
  if (pid) delete process.env[ENV_URL];
}
