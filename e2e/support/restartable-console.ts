import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startConsoleProcess, stopConsoleProcess } from './console-process.js';
import { resultsDir, type ServerInfo } from './server.js';

/**
 * A `switchyard console` of the spec's own (its own temp store, port 0 the first time), for specs
 * that stop and restart the server under an open page. `restart()` starts it again on the same
 * port and store, so the page's URL stays right. The token is given (SWITCHYARD_TOKEN) so that the same
 * URL (with `?token=`) is valid before and after the restart.
 */
export class RestartableConsole {
  readonly dir: string;
  readonly token: string;
  private child: ChildProcess | null = null;
  private port = 0;
  url = '';
  private starts = 0;

  constructor(
    readonly name: string,
    /** More `console` arguments, e.g. `--policy-a DIR --policy-b DIR --no-rtc`. */
    private readonly extraArgs: readonly string[] = [],
  ) {
    this.dir = mkdtempSync(path.join(tmpdir(), `switchyard-e2e-${name}-`));
    // At least 16 characters (the server refuses shorter ones); given by environment, not in `ps`.
    this.token = randomBytes(16).toString('hex');
  }

  get server(): ServerInfo {
    const u = new URL(this.url);
    return { url: this.url, origin: u.origin, token: u.searchParams.get('token') ?? this.token };
  }

  /** The log of the newest start (the server's stdout and stderr, JSON lines): what the server received, as it logged it. */
  get logPath(): string {
    return path.join(resultsDir, `e2e-${this.name}-${this.starts}.log`);
  }

  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  async start(): Promise<string> {
    this.starts += 1;
    const { child, url } = await startConsoleProcess({
      dir: this.dir,
      port: this.port,
      args: this.extraArgs,
      logPath: this.logPath,
      env: { SWITCHYARD_TOKEN: this.token },
    });
    this.child = child;
    this.url = url;
    this.port = Number(new URL(url).port);
    return url;
  }

  /** SIGTERM (the server drains and exits 0); SIGKILL after 15 s. */
  async stop(): Promise<void> {
    const child = this.child;
    if (child === null || !this.running) return;
    await stopConsoleProcess(child);
    this.child = null;
  }

  async restart(): Promise<string> {
    await this.stop();
    return this.start();
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
