import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import path from 'node:path';
import { CONSOLE_LINE, repoRoot } from './server.js';

const START_TIMEOUT_MS = 180_000;

export interface StartedConsole {
  child: ChildProcess;
  /** The URL the console printed (with `?token=` when it printed one). */
  url: string;
  /** The server's stdout and stderr keep going here after the start. */
  log: WriteStream;
  argv: string[];
}

/**
 * Starts `node bin/switchyard.js console --store DIR/store.db --port PORT --no-open ...args` with
 * SWITCHYARD_HOME=DIR (its runtime file goes to the run's folder, not the user's), writes its
 * output to `logPath`, and resolves with the URL from its `Switchyard console: <url>` line. The
 * one way the e2e run starts a server: the shared one (global-setup.ts), a spec's own
 * (own-console.ts) and one that restarts (restartable-console.ts). On failure the child is killed
 * and the error quotes the end of its output.
 */
export function startConsoleProcess(opts: { dir: string; port?: number; args: readonly string[]; logPath: string; env?: Record<string, string> }): Promise<StartedConsole> {
  const argv = ['bin/switchyard.js', 'console', '--store', path.join(opts.dir, 'store.db'), '--port', String(opts.port ?? 0), '--no-open', ...opts.args];
  const log = createWriteStream(opts.logPath);
  log.write(`$ node ${argv.join(' ')}\n`);
  const child = spawn(process.execPath, argv, {
    cwd: repoRoot,
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', SWITCHYARD_HOME: opts.dir, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  return new Promise<StartedConsole>((resolve, reject) => {
    let settled = false;
    const fail = (why: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (child.exitCode === null) child.kill('SIGKILL');
      reject(new Error(`Could not start \`node ${argv.join(' ')}\`: ${why}.\n--- its output ---\n${output.slice(-4000)}`));
    };
    const timer = setTimeout(() => fail(`it printed no "Switchyard console: <url>" line within ${START_TIMEOUT_MS / 1000} s`), START_TIMEOUT_MS);
    const onData = (chunk: Buffer): void => {
      const text = chunk.toString('utf8');
      log.write(text);
      if (settled) return;
      output += text;
      const match = CONSOLE_LINE.exec(output);
      if (match?.[1]) {
        settled = true;
        clearTimeout(timer);
        resolve({ child, url: match[1], log, argv });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', (e) => fail(e.message));
    child.on('exit', (code, signal) => fail(`it exited (code ${code}, signal ${signal}) before printing its URL`));
  });
}

/** SIGTERM (the server drains and exits), SIGKILL after 15 s; resolves once it has exited. */
export async function stopConsoleProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(killer);
}
