import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..');
const entry = join(root, 'core', 'src', 'cli', 'run.ts');

/** Runs `switchyard ARGS` from source (through tsx) to completion. */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', entry, ...args], { cwd: root, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export interface RunningCli {
  child: ChildProcess;
  output: () => string;
  /** Resolves with the first stdout line that matches. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts a long-running `switchyard ARGS` (serve, console) from source. */
export function startCli(args: string[], env: NodeJS.ProcessEnv = {}): RunningCli {
  const child = spawn(process.execPath, ['--import', 'tsx', entry, ...args], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  return follow(child);
}

/** Runs `switchyard ARGS` from source without blocking this process's event loop (for a server in this process). */
export function runCliAsync(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', entry, ...args], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('exit', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

/** Whether util-linux `script` is here to give a command a pseudo-terminal. */
export function hasScript(): boolean {
  return spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;
}

function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * Starts `switchyard ARGS` from source under a pseudo-terminal (util-linux `script -q`), so
 * stdout and stderr are a TTY as for a person at a terminal. Both arrive on the child's stdout,
 * with `\r\n` line ends. `stop()` ends the whole process group.
 */
export function startCliTty(args: string[], opts: { columns?: number } = {}): RunningCli & { stop(): Promise<void> } {
  const cmd = [process.execPath, '--import', 'tsx', entry, ...args].map(shellQuote).join(' ');
  const child = spawn('script', ['-q', '-e', '-c', `stty cols ${opts.columns ?? 120} 2>/dev/null; exec ${cmd}`, '/dev/null'], {
    cwd: root,
    env: { ...process.env, TERM: 'dumb' },
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
  const running = follow(child);
  return {
    ...running,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        try {
          process.kill(-child.pid!, 'SIGTERM');
        } catch {
          // already gone
        }
      }
      await running.exited;
    },
  };
}

/** Runs `switchyard ARGS` to completion under a pseudo-terminal; stdout and stderr arrive together. */
export async function runCliTty(args: string[]): Promise<{ status: number | null; output: string }> {
  const r = startCliTty(args);
  const timer = setTimeout(() => void r.stop(), 60_000);
  const { code } = await r.exited;
  clearTimeout(timer);
  return { status: code, output: r.output() };
}

function follow(child: ChildProcess): RunningCli {
  let out = '';
  const waiters: { re: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];
  const onData = (b: Buffer) => {
    out += b.toString();
    for (const w of [...waiters]) {
      const m = out.match(w.re);
      if (m) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return {
    child,
    output: () => out,
    exited,
    waitFor(re, timeoutMs = 60_000) {
      const m = out.match(re);
      if (m) return Promise.resolve(m);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`timed out waiting for ${re}; output so far:\n${out.slice(-3000)}`)), timeoutMs);
        waiters.push({ re, resolve: (x) => (clearTimeout(t), resolve(x)) });
        void exited.then(({ code }) => reject(new Error(`exited (${code}) before ${re}; output:\n${out.slice(-3000)}`)));
      });
    },
  };
}
