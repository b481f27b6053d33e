/**
 * The policy worker hop, shared-memory lane against the message lane (issue 15):
 *
 *   npx tsx bench/worker-lane-bench.ts [--seconds 3] [--rounds 3]
 *
 * Three PolicyRunners on cartpole-balance 1.0.0 in this process: `sharedActs` (the default), the
 * same with the serving runners' answer spin (answer-spin.ts, 150 µs), and `sharedActs: false`
 * (every batch a postMessage each way), driven in
 * turns: one act at a time, then 8 in flight. Prints acts/s, p50/p99 and the process's CPU per
 * act (all threads: this one and the worker), medians over rounds, with the machine's load.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeDemoExports } from '../core/src/demo/cartpole-policies.js';
import { readExport } from '../core/src/runtime/export.js';
import { PolicyRunner } from '../core/src/runtime/policy-runner.js';
import { AnswerSpin, DEFAULT_ANSWER_SPIN_US } from '../core/src/runtime/answer-spin.js';
import { Samples, fmt, markdownTable, median, quantile } from './lib/stats.js';

const arg = (k: string, d: number): number => {
  const i = process.argv.indexOf(k);
  return i >= 0 ? Number(process.argv[i + 1]) : d;
};
const seconds = arg('--seconds', 3);
const rounds = arg('--rounds', 3);

interface R { rate: number; p50: number; p99: number; cpuUs: number }

async function drive(r: PolicyRunner, inFlight: number, ms: number): Promise<R> {
  const lat = new Samples(5_000_000);
  let done = 0;
  const end = performance.now() + ms;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async (_, k) => {
      for (let i = 0; i < 10_000_000 && performance.now() < end; i++) {
        const a = performance.now();
        await r.act({ episodeId: `lane-${k}-${i >> 6}`, state: [0.01 * (i % 7), 0, 0.02, -0.01 * k] });
        lat.push((performance.now() - a) * 1000);
        done++;
      }
    }),
  );
  const el = performance.now() - t0;
  const c = process.cpuUsage(c0);
  const s = lat.sorted();
  return { rate: (done * 1000) / el, p50: quantile(s, 0.5), p99: quantile(s, 0.99), cpuUs: (c.user + c.system) / done };
}

const tmp = mkdtempSync(join(tmpdir(), 'swy-lane-'));
try {
  const dirs = await writeDemoExports(join(tmp, 'e'));
  const ex = await readExport(dirs.find((d) => d.endsWith('-1.0.0'))!);
  // Each runner has its own AnswerSpin (or none), so one runner's acts never hold another's spin off.
  const lanes = {
    message: await PolicyRunner.start({ export: ex, slot: 'b', device: 'cpu', sharedActs: false }),
    shared: await PolicyRunner.start({ export: ex, slot: 'a', device: 'cpu' }),
    'shared + answer spin': await PolicyRunner.start({ export: ex, slot: 'a', device: 'cpu', answerSpin: new AnswerSpin(DEFAULT_ANSWER_SPIN_US) }),
  };
  const names = Object.keys(lanes) as (keyof typeof lanes)[];
  const load0 = loadavg().map((x) => x.toFixed(2)).join(' ');
  for (const r of Object.values(lanes)) await drive(r, 4, 1000);
  const res: Record<string, R[]> = {};
  for (let round = 0; round < rounds; round++) {
    for (const inFlight of [1, 8]) {
      const order = round % 2 ? [...names].reverse() : names;
      for (const name of order) (res[`${name}|${inFlight}`] ??= []).push(await drive(lanes[name], inFlight, seconds * 1000));
    }
  }
  for (const r of Object.values(lanes)) await r.close();
  const rows: string[][] = [];
  for (const inFlight of [1, 8]) {
    for (const lane of names) {
      const xs = res[`${lane}|${inFlight}`]!;
      rows.push([String(inFlight), lane, fmt(median(xs.map((x) => x.rate))), fmt(median(xs.map((x) => x.p50)), 1), fmt(median(xs.map((x) => x.p99)), 1), fmt(median(xs.map((x) => x.cpuUs)), 1)]);
    }
  }
  process.stdout.write(`load average at start ${load0}, at end ${loadavg().map((x) => x.toFixed(2)).join(' ')}; ${rounds} rounds × ${seconds} s, medians\n\n`);
  process.stdout.write(markdownTable(['in flight', 'lane', 'acts/s', 'p50 µs', 'p99 µs', 'CPU µs/act (both threads)'], rows, ['r', 'l', 'r', 'r', 'r', 'r']));
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
