import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CONSOLE_LINE, repoRoot, resultsDir, type ServerInfo } from './server.js';

const START_TIMEOUT_MS = 180_000;

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
    const args = ['bin/switchyard.js', 'console', '--store', path.join(this.dir, 'store.db'), '--port', String(this.port), '--no-open', ...this.extraArgs];
    const log = createWriteStream(path.join(resultsDir, `e2e-${this.name}-${this.starts}.log`));
    log.write(`$ node ${args.join(' ')}\n`);
    const child = spawn(process.execPath, args, { cwd: repoRoot, env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', SWITCHYARD_HOME: this.dir, SWITCHYARD_TOKEN: this.token }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    let output = '';
    const url = await new Promise<string>((resolve, reject) => {
      let settled = false;
      const timer = setTimeout(() => fail(`no console URL within ${START_TIMEOUT_MS / 1000} s`), START_TIMEOUT_MS);
      function fail(why: string): void {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (child.exitCode === null) child.kill('SIGKILL');
        reject(new Error(`Could not start \`node ${args.join(' ')}\`: ${why}.\n${output.slice(-3000)}`));
      }
      const onData = (chunk: Buffer): void => {
        const text = chunk.toString('utf8');
        log.write(text);
        if (settled) return;
        output += text;
        const m = CONSOLE_LINE.exec(output);
        if (m?.[1]) {
          settled = true;
          clearTimeout(timer);
          resolve(m[1]);
        }
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.on('error', (e) => fail(e.message));
      child.on('exit', (code, signal) => fail(`it exited (code ${code}, signal ${signal})`));
    });
    this.url = url;
    this.port = Number(new URL(url).port);
    return url;
  }

  /** SIGTERM (the server drains and exits 0); SIGKILL after 15 s. */
  async stop(): Promise<void> {
    const child = this.child;
    if (child === null || !this.running) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
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
