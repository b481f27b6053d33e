import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startConsoleProcess, stopConsoleProcess } from './console-process.js';
import { resultsDir, type ServerInfo } from './server.js';

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
  const { child, url, log } = await startConsoleProcess({ dir, args, logPath: path.join(resultsDir, `e2e-server-${name}.log`) });
  const parsed = new URL(url);
  return {
    url,
    origin: parsed.origin,
    token: parsed.searchParams.get('token'),
    dir,
    child,
    async stop() {
      await stopConsoleProcess(child);
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
