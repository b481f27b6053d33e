/**
 * What waking another thread costs on this machine (issue 15): the `/act` hop crosses threads
 * twice (HTTP thread → policy worker → HTTP thread), so on a machine where a wake-up is dear the
 * hop is dear, whatever the code around it does.
 *
 *   npx tsx bench/wake-cost-bench.ts [--trips 20000] [--gaps 0.2,2.5,10] [--samples 2000]
 *
 * 1. Round trips between this thread and a worker, in a closed loop, as the hop does them: the
 *    worker sleeps in `Atomics.wait` and is woken by `Atomics.notify`; this thread waits for the
 *    answer three ways: blocking (`Atomics.wait`), on its event loop (`Atomics.waitAsync`, what
 *    the policy runner uses), or spinning (`Atomics.load` in a loop: no sleep, so no wake-up).
 *    Each with the process free to use every CPU, then pinned to one (`--cpu-affinity`'s
 *    mechanism), where a wake-up is a local reschedule rather than an interrupt to another CPU.
 *    Wall time and CPU (both threads, user and system) per round trip.
 * 2. How late a sleeping thread wakes after `Atomics.notify` when the machine has been idle for a
 *    while between requests (the paced robots of the r8 load): p50, p99 and max over
 *    `--samples` wake-ups per gap.
 */
import { Worker } from 'node:worker_threads';
import { loadavg } from 'node:os';
import { applyCpuAffinity, formatCpuList, realAffinityHost } from '../core/src/platform/cpu-affinity.js';
import { flags } from './lib/args.js';
import { fmt, markdownTable, quantile } from './lib/stats.js';

interface Args {
  trips: number;
  gaps: number[];
  samples: number;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { trips: 20_000, gaps: [0.2, 2.5, 10], samples: 2_000 };
  for (const { k, v, num } of flags(argv)) {
    if (k === '--trips') a.trips = Math.round(num(100, 10_000_000));
    else if (k === '--samples') a.samples = Math.round(num(10, 1_000_000));
    else if (k === '--gaps') {
      a.gaps = v().split(',').map(Number);
      if (a.gaps.some((g) => !(g > 0 && g <= 1000))) throw new Error('--gaps takes milliseconds between 0 and 1000, comma-separated');
    } else if (k === '-h' || k === '--help') {
      process.stdout.write('usage: npx tsx bench/wake-cost-bench.ts [--trips 20000] [--gaps 0.2,2.5,10] [--samples 2000]\n');
      process.exit(0);
    } else throw new Error(`unknown argument ${k}`);
  }
  return a;
}

// Control words: 0 request counter (worker waits on it), 1 answer counter (this thread waits on
// it), 2 stop; float64 slots 2 and 3: the notify time and the worker's wake time (performance
// clock plus timeOrigin, comparable across threads).
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const i32 = new Int32Array(workerData);
const f64 = new Float64Array(workerData);
let seen = 0;
for (;;) {
  Atomics.wait(i32, 0, seen);
  const woke = performance.timeOrigin + performance.now();
  if (Atomics.load(i32, 2) === 1) break;
  seen = Atomics.load(i32, 0);
  f64[3] = woke;
  Atomics.add(i32, 1, 1);
  Atomics.notify(i32, 1, 1);
}
`;

type Mode = 'blocking' | 'waitAsync' | 'spin';

interface TripRow {
  where: string;
  mode: Mode;
  wallUs: number;
  cpuUs: number;
  userUs: number;
  sysUs: number;
}

async function roundTrips(i32: Int32Array, mode: Mode, n: number): Promise<Omit<TripRow, 'where'>> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let k = 0; k < n; k++) {
    const v = Atomics.load(i32, 1);
    Atomics.add(i32, 0, 1);
    Atomics.notify(i32, 0, 1);
    if (mode === 'blocking') Atomics.wait(i32, 1, v);
    else if (mode === 'spin') while (Atomics.load(i32, 1) === v);
    else {
      const r = (Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number): { async: boolean; value: Promise<string> | string } }).waitAsync(i32, 1, v);
      if (r.async) await r.value;
    }
  }
  const wall = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { mode, wallUs: (wall * 1000) / n, cpuUs: (c.user + c.system) / n, userUs: c.user / n, sysUs: c.system / n };
}

async function wakeLatency(i32: Int32Array, f64: Float64Array, gapMs: number, samples: number): Promise<number[]> {
  const lat: number[] = [];
  for (let k = 0; k < samples; k++) {
    await new Promise((r) => setTimeout(r, gapMs));
    const v = Atomics.load(i32, 1);
    const t = performance.timeOrigin + performance.now();
    Atomics.add(i32, 0, 1);
    Atomics.notify(i32, 0, 1);
    Atomics.wait(i32, 1, v, 1000);
    lat.push((f64[3]! - t) * 1000);
  }
  return lat.sort((a, b) => a - b);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const host = realAffinityHost();
  const allowed = host.allowedCpus();
  process.stdout.write(`# Waking a thread on this machine\n\nnode ${process.version}; CPUs this process may use: ${formatCpuList(allowed) || '?'}; load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}\n\n`);
  const sab = new SharedArrayBuffer(64);
  const i32 = new Int32Array(sab);
  const f64 = new Float64Array(sab);
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: sab });
  await new Promise((r) => setTimeout(r, 300));
  try {
    const rows: TripRow[] = [];
    const setups: { where: string; pin: string | null }[] = [{ where: `any CPU (${formatCpuList(allowed)})`, pin: null }];
    if (process.platform === 'linux' && allowed.length > 1) setups.push({ where: `pinned to CPU ${allowed[allowed.length - 1]}`, pin: String(allowed[allowed.length - 1]) });
    for (const s of setups) {
      if (s.pin !== null) applyCpuAffinity(s.pin, host);
      for (const mode of ['blocking', 'waitAsync', 'spin'] as Mode[]) {
        // Spinning on one CPU waits for the scheduler to preempt the spinner: not a real option.
        if (mode === 'spin' && s.pin !== null) continue;
        await roundTrips(i32, mode, Math.min(2000, args.trips));
        rows.push({ where: s.where, ...(await roundTrips(i32, mode, args.trips)) });
        process.stderr.write(`${s.where} ${mode} done\n`);
      }
    }
    if (setups.length > 1) applyCpuAffinity(formatCpuList(allowed), host);
    process.stdout.write(`## Round trips (this thread → worker → this thread), ${args.trips} each\n\n`);
    process.stdout.write(
      markdownTable(
        ['CPUs', 'this thread waits by', 'wall µs / trip', 'CPU µs / trip (both threads)', 'user', 'system'],
        rows.map((r) => [r.where, r.mode, fmt(r.wallUs, 1), fmt(r.cpuUs, 1), fmt(r.userUs, 1), fmt(r.sysUs, 1)]),
        ['l', 'l', 'r', 'r', 'r', 'r'],
      ),
    );
    const lrows: string[][] = [];
    for (const gap of args.gaps) {
      const lat = await wakeLatency(i32, f64, gap, args.samples);
      lrows.push([`${gap} ms`, fmt(quantile(lat, 0.5), 0), fmt(quantile(lat, 0.9), 0), fmt(quantile(lat, 0.99), 0), fmt(lat[lat.length - 1]!, 0), String(lat.filter((x) => x > 1000).length)]);
      process.stderr.write(`gap ${gap} ms done\n`);
    }
    process.stdout.write(`\n## Wake-up delay after an idle gap (${args.samples} wake-ups each, any CPU)\n\n`);
    process.stdout.write(markdownTable(['idle gap', 'p50 µs', 'p90 µs', 'p99 µs', 'max µs', 'over 1 ms'], lrows, ['l', 'r', 'r', 'r', 'r', 'r']));
  } finally {
    Atomics.store(i32, 2, 1);
    Atomics.add(i32, 0, 1);
    Atomics.notify(i32, 0, 1);
    await worker.terminate();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
});
