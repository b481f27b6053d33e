/**
 * Runtime benchmark (issue 3, spec §10): `npx tsx bench/runtime-bench.ts [acts]`.
 * (Also runs compiled: `tsc` puts it at dist/bench/runtime-bench.js beside dist/core.)
 *
 * Prints markdown tables of, for each demo policy:
 * - model load and warm-up: the worker's ONNX session creation and warm-up runs, and the wall
 *   time of `PolicyRunner.start` (thread spawn + load + warm-up), median of 5 starts;
 * - `act()` p50/p99 through the worker (main thread → worker → main thread, what serving pays),
 *   one episode kept across calls as a robot would (the iterative policy then warm-starts), and
 *   for the iterative policy also cold (a new episode every call: all 8 steps);
 * - a bare in-process ONNX Runtime `session.run()` on the same model (one run; for the iterative
 *   policy that is ONE of its iterations);
 * then the episode-cache hit rate of the iterative policy over a 200-step cart-pole episode, and
 * how long `switchyard demo` takes (fresh store, and again on the built store).
 * Writes only under the OS temp folder, and removes it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { packageRoot } from '../core/src/platform/paths.js';
import { DEMO_VERSIONS, writeDemoExports } from '../core/src/demo/cartpole-policies.js';
import { CartPole } from '../core/src/eval/cartpole.js';
import { mulberry32 } from '../core/src/eval/rng.js';
import { readExport } from '../core/src/runtime/export.js';
import { PolicyRunner } from '../core/src/runtime/policy-runner.js';
import type { PolicyExport } from '../core/src/runtime/types.js';
import { quantile as q } from './lib/stats.js';

const ACTS = Number(process.argv[2] ?? 3000);
const STARTS = 5;
const fromSource = import.meta.url.endsWith('.ts');
const root = mkdtempSync(join(tmpdir(), 'swy-runtime-bench-'));

function med(xs: number[]): number {
  return q([...xs].sort((a, b) => a - b), 0.5);
}
function ms(x: number): string {
  return x < 1 ? `${(x * 1000).toFixed(0)} µs` : `${x.toFixed(x < 10 ? 2 : 1)} ms`;
}
function table(header: string[], rows: string[][]): string {
  const line = (c: string[]) => `| ${c.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** Cart-pole-like observations (small angles and velocities), deterministic. */
function observations(n: number): number[][] {
  const rng = mulberry32(7);
  return Array.from({ length: n }, () => [0.5 * (rng.next() - 0.5), rng.next() - 0.5, 0.2 * (rng.next() - 0.5), rng.next() - 0.5]);
}

async function timeActs(r: PolicyRunner, obs: number[][], episode: (i: number) => string | null): Promise<{ p50: number; p99: number; infer50: number }> {
  for (let i = 0; i < 200; i++) await r.act({ episodeId: episode(i), state: obs[i % obs.length]! });
  const rtt: number[] = [];
  const inf: number[] = [];
  for (let i = 0; i < ACTS; i++) {
    const t0 = performance.now();
    const out = await r.act({ episodeId: episode(i), state: obs[i % obs.length]! });
    rtt.push(performance.now() - t0);
    inf.push(out.inferMs);
  }
  rtt.sort((a, b) => a - b);
  inf.sort((a, b) => a - b);
  return { p50: q(rtt, 0.5), p99: q(rtt, 0.99), infer50: q(inf, 0.5) };
}

async function bareOrt(exp: PolicyExport, obs: number[][]): Promise<{ p50: number; p99: number }> {
  const s = await ort.InferenceSession.create(exp.modelPath, { executionProviders: ['cpu'], intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
  const m = exp.manifest;
  const feeds = (o: number[]) => {
    const f: Record<string, ort.Tensor> = { [m.observation.name]: new ort.Tensor('float32', Float32Array.from(o), [1, m.observation.dim]) };
    if (m.kind === 'iterative') {
      f['x'] = new ort.Tensor('float32', new Float32Array(m.action.chunk * m.action.dim), [1, m.action.chunk, m.action.dim]);
      f['t'] = new ort.Tensor('float32', Float32Array.of(0), [1, 1]);
    }
    return f;
  };
  for (let i = 0; i < 200; i++) await s.run(feeds(obs[i % obs.length]!));
  const t: number[] = [];
  for (let i = 0; i < ACTS; i++) {
    const f = feeds(obs[i % obs.length]!);
    const t0 = performance.now();
    await s.run(f);
    t.push(performance.now() - t0);
  }
  await s.release();
  t.sort((a, b) => a - b);
  return { p50: q(t, 0.5), p99: q(t, 0.99) };
}

async function policyRows(exps: PolicyExport[]): Promise<string[][]> {
  const obs = observations(512);
  const rows: string[][] = [];
  for (const exp of exps) {
    const load: number[] = [];
    const warm: number[] = [];
    const start: number[] = [];
    for (let i = 0; i < STARTS; i++) {
      const r = await PolicyRunner.start({ export: exp, slot: 'prod', device: 'cpu' });
      load.push(r.loadMs);
      warm.push(r.warmupMs);
      start.push(r.startMs);
      await r.close();
    }
    const r = await PolicyRunner.start({ export: exp, slot: 'prod', device: 'cpu' });
    const sticky = await timeActs(r, obs, () => 'bench-episode');
    const bare = await bareOrt(exp, obs);
    const v = exp.manifest.version;
    const kind = exp.manifest.kind === 'iterative' ? `iterative, chunk ${exp.manifest.action.chunk}` : `direct, chunk ${exp.manifest.action.chunk}`;
    const row = (label: string, t: { p50: number; p99: number; infer50: number }, b: string[]) => [label, kind, ms(med(load)), ms(med(warm)), ms(med(start)), ms(t.p50), ms(t.p99), ms(t.infer50), ...b];
    if (exp.manifest.kind === 'iterative') {
      const it = exp.manifest.iterative!;
      rows.push(row(`${v} (one episode: warm, ${it.warm_steps} steps)`, sticky, [ms(bare.p50), ms(bare.p99)]));
      const cold = await timeActs(r, obs, (i) => `cold-${i}`);
      rows.push(row(`${v} (new episode each: ${it.steps} steps)`, cold, ['(per iteration, above)', '']));
    } else {
      rows.push(row(v, sticky, [ms(bare.p50), ms(bare.p99)]));
    }
    await r.close();
  }
  return rows;
}

/** The iterative policy driving the cart-pole for one 200-step episode, through the worker. */
async function episodeCache(exp: PolicyExport): Promise<string[][]> {
  const r = await PolicyRunner.start({ export: exp, slot: 'prod', device: 'cpu' });
  const env = new CartPole();
  let obs = env.reset({ max_steps: 200, noise_std: 0.01 }, [0, 0, 0.05, 0], mulberry32(42));
  let hits = 0;
  let misses = 0;
  let steps = 0;
  let denoise = 0;
  let survived = 0;
  for (;;) {
    const out = await r.act({ episodeId: 'demo-episode', state: obs });
    if (out.cache === 'hit') hits++;
    else if (out.cache === 'miss') misses++;
    denoise += out.denoiseSteps;
    const s = env.step(out.actions[0]!);
    steps++;
    survived += s.reward;
    obs = s.obs;
    if (s.done) break;
  }
  await r.close();
  const it = exp.manifest.iterative!;
  return [[`${exp.manifest.policy}@${exp.manifest.version}`, String(steps), String(survived), String(hits), String(misses), `${((100 * hits) / (hits + misses)).toFixed(1)}%`, (denoise / steps).toFixed(2), `${((100 * (1 - denoise / (steps * it.steps))).toFixed(0))}%`]];
}

/** `switchyard demo` as a user runs it: a new process on a fresh store, then again. */
function demoTimings(): string[][] {
  const repo = packageRoot();
  const rows: string[][] = [];
  const variants: { name: string; argv: string[] }[] = [];
  const src = "import('./core/src/cli/main.ts').then((m) => m.main(['node', 'switchyard', ...process.argv.slice(1)]))";
  variants.push({ name: 'from source (node --import tsx)', argv: ['--import', 'tsx', '-e', src] });
  const built = join(repo, 'dist', 'core', 'src', 'runtime', 'doctor.js');
  if (existsSync(built)) variants.push({ name: 'compiled (node bin/switchyard.js)', argv: [join(repo, 'bin', 'switchyard.js')] });
  for (const v of variants) {
    const store = join(root, `demo-${rows.length}`, 'store.db');
    for (const pass of ['fresh store', 'built store (no-op)']) {
      const t0 = performance.now();
      const p = spawnSync(process.execPath, [...v.argv, 'demo', '--store', store, '--json'], { cwd: repo, encoding: 'utf8' });
      const wall = performance.now() - t0;
      if (p.status !== 0) throw new Error(`switchyard demo failed: ${p.stderr}`);
      const out = JSON.parse(p.stdout.trim().split('\n').pop()!) as { ms: number; registered: { doctor: string }[] };
      rows.push([v.name, pass, ms(wall), ms(out.ms), out.registered.map((r) => r.doctor).join(', ')]);
    }
  }
  if (!existsSync(built)) rows.push(['compiled (node bin/switchyard.js)', 'not measured', '-', '-', 'dist/ is not built (npm run build)']);
  return rows;
}

try {
  const exps = await Promise.all((await writeDemoExports(join(root, 'exports'))).map((d) => readExport(d)));
  if (exps.length !== DEMO_VERSIONS.length) throw new Error('demo exports missing');
  console.log(`# Switchyard runtime benchmark\n\nnode ${process.version}, onnxruntime-node ${ort.env.versions.common}, ${fromSource ? 'from source (tsx)' : 'compiled JS'}, device cpu, 1 intra-op thread per worker, ${ACTS} timed act() per row, load = median of ${STARTS} starts.\n`);
  console.log('## Model load, warm-up and act() latency per demo policy\n');
  console.log(
    table(
      ['cartpole-balance', 'kind', 'ONNX load', 'warm-up', 'start (spawn+load+warm-up)', 'act() p50 (worker round trip)', 'act() p99', 'in ORT p50', 'bare ORT run() p50', 'bare ORT run() p99'],
      await policyRows(exps),
    ),
  );
  console.log('\n## Episode cache on a demo episode (iterative policy, 200-step cart-pole episode, one episode id)\n');
  console.log(table(['policy', 'requests', 'steps survived', 'cache hits', 'misses', 'hit rate', 'denoise steps / request', 'ONNX runs saved vs cold'], await episodeCache(exps.find((e) => e.manifest.kind === 'iterative')!)));
  console.log('\n## `switchyard demo` (4 versions written, doctor-checked with 20 runs each, registered)\n');
  console.log(table(['CLI', 'run', 'wall time (process)', 'reported by the command', 'doctor'], demoTimings()));
} finally {
  rmSync(root, { recursive: true, force: true });
}
