/**
 * Server child processes for the side-by-side `/act` bench: start one (it prints a JSON
 * `listening` line with its `/act` URL), wait for `/readyz`, stop it with SIGTERM (so
 * `--cpu-prof` profiles are written), and, when it runs with `--trace-gc`, add up its GC pauses.
 */
import { spawn, type ChildProcess } from 'node:child_process';

export interface GcTally {
  scavenges: number;
  majors: number;
  /** Sum of the pauses, ms. */
  pauseMs: number;
  maxPauseMs: number;
}

export interface Child {
  name: string;
  child: ChildProcess;
  act: string;
  base: string;
  stderrTail: string[];
  exited: Promise<number | null>;
  /** GC pauses seen on stdout since the last `takeGc()` (only with `--trace-gc`). */
  takeGc(): GcTally;
}

const emptyGc = (): GcTally => ({ scavenges: 0, majors: 0, pauseMs: 0, maxPauseMs: 0 });

// `[pid:0x..]   1234 ms: Scavenge 5.2 (7.0) -> 4.3 (8.0) MB, 0.85 / 0.00 ms  (average mu = ...)`
const GC_LINE = /ms: (Scavenge|Mark-Compact|Mark-sweep|Minor Mark-Compact|Minor Mark-Sweep)[^,]*MB, ([\d.]+) \/ ([\d.]+) ms/;

export function startChild(name: string, nodeArgs: string[], args: string[], cwd: string): Promise<Child> {
  const child = spawn(process.execPath, [...nodeArgs, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_ENV: 'production' } });
  const stderrTail: string[] = [];
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => {
    stderrTail.push(d);
    if (stderrTail.length > 40) stderrTail.shift();
  });
  const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
  let gc = emptyGc();
  const takeGc = (): GcTally => {
    const g = gc;
    gc = emptyGc();
    return g;
  };
  return new Promise<Child>((resolve, reject) => {
    let buf = '';
    let listening = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name} did not start within 90 s:\n${stderrTail.join('')}`));
    }, 90_000);
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (d: string) => {
      buf += d;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const m = GC_LINE.exec(line);
        if (m) {
          const pause = Number(m[2]);
          if (m[1] === 'Scavenge' || m[1]!.startsWith('Minor')) gc.scavenges++;
          else gc.majors++;
          gc.pauseMs += pause;
          if (pause > gc.maxPauseMs) gc.maxPauseMs = pause;
          continue;
        }
        if (listening || !line.startsWith('{')) continue;
        try {
          const j = JSON.parse(line) as { event?: string; act?: string };
          if (j.event === 'listening' && typeof j.act === 'string') {
            listening = true;
            clearTimeout(timer);
            resolve({ name, child, act: j.act, base: j.act.replace(/\/act$/, ''), stderrTail, exited, takeGc });
          }
        } catch {
          // not a JSON line
        }
      }
      if (buf.length > 1_000_000) buf = '';
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (!listening) reject(new Error(`${name} exited (code ${code}) before listening:\n${stderrTail.join('')}`));
    });
  });
}

export async function stopChild(s: Child): Promise<void> {
  if (s.child.exitCode !== null || s.child.signalCode !== null) return;
  s.child.kill('SIGTERM');
  const code = await Promise.race([s.exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 15_000))]);
  if (code === 'timeout') {
    process.stderr.write(`${s.name} did not exit within 15 s of SIGTERM; killing it\n`);
    s.child.kill('SIGKILL');
    await Promise.race([s.exited, new Promise((r) => setTimeout(r, 5_000))]);
  }
}

export async function waitReady(s: Child): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    try {
      const r = await fetch(`${s.base}/readyz`, { signal: AbortSignal.timeout(5_000) });
      await r.text();
      if (r.status === 200) return;
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${s.name}: /readyz did not answer 200 within 60 s`);
}
