/**
 * Full promotion gate benchmark (issue 5, "the time of a full gate"): `npx tsx bench/gate-bench.ts [reps]`.
 *
 * For each demo candidate, `reps` times from an EMPTY evaluation store (a fresh engine on a fresh
 * store, the demo workspace built before the clock starts): `engine.gate` with the demo's
 * candidate->staging rules, i.e. the candidate's evaluation on the 300-case suite + its
 * determinism re-run (a fresh worker) + the production baseline's evaluation (in parallel with
 * the candidate's) + the verdict, stored. Each evaluation includes starting its policy worker.
 * Then the same gate again on the stored runs (no evaluation: parse, load, verdict, store).
 * Phase times come from the `eval.progress` events of each run. Prints the medians as a table.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { printTable } from '../core/src/cli/table.js';
import { createEngine } from '../core/src/engine.js';
import type { EvalProgressPayload } from '../core/src/contract/index.js';
import { silentLogger } from '../core/src/platform/logger.js';
import { fmt, median } from './lib/stats.js';

const reps = Math.max(1, Number(process.argv[2] ?? 3));
const candidates = ['cartpole-balance@2.0.0-iter', 'cartpole-balance@1.1.0'];

interface Sample {
  verdict: string;
  totalMs: number;
  candEvalMs: number;
  candRerunMs: number;
  baseEvalMs: number;
  afterEvalsMs: number;
  storedMs: number;
}

async function once(candidate: string): Promise<Sample> {
  const dir = mkdtempSync(join(tmpdir(), 'swy-gate-bench-'));
  const engine = await createEngine({ storePath: join(dir, 'store.db'), statsIntervalMs: 0, logger: silentLogger, device: 'cpu' });
  try {
    const demo = await engine.buildDemo();
    const rules = demo.rules[0]!; // candidate-to-staging.yaml
    const events: { at: number; p: EvalProgressPayload }[] = [];
    const off = engine.events.on('eval.progress', (p) => events.push({ at: performance.now(), p }));
    const t0 = performance.now();
    const g = await engine.gate({ rulesPath: rules, candidate });
    const t1 = performance.now();
    off();
    const t2 = performance.now();
    await engine.gate({ rulesPath: rules, candidate });
    const t3 = performance.now();
    const of = (runId: number) => events.filter((e) => e.p.runId === runId);
    const cand = of(g.candidate.runId);
    const base = of(g.baseline!.runId);
    const rerunAt = cand.find((e) => e.p.phase === 'determinism')?.at ?? NaN;
    const candEnd = cand.at(-1)!.at;
    const baseEnd = base.at(-1)!.at;
    return {
      verdict: g.verdict,
      totalMs: t1 - t0,
      candEvalMs: rerunAt - t0,
      candRerunMs: candEnd - rerunAt,
      baseEvalMs: baseEnd - t0,
      afterEvalsMs: t1 - Math.max(candEnd, baseEnd),
      storedMs: t3 - t2,
    };
  } finally {
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  process.stdout.write(`full gate from an empty evaluation store, demo suite cartpole-frozen-v1 (300 cases), rules candidate-to-staging.yaml, ${reps} reps, medians\n`);
  process.stdout.write(`node ${process.version}, ${process.platform}/${process.arch}\n\n`);
  const rows: string[][] = [];
  for (const c of candidates) {
    const samples: Sample[] = [];
    for (let i = 0; i < reps; i++) samples.push(await once(c));
    const m = (k: keyof Omit<Sample, 'verdict'>) => fmt(median(samples.map((s) => s[k])), 0);
    rows.push([c, samples[0]!.verdict, m('totalMs'), m('candEvalMs'), m('candRerunMs'), m('baseEvalMs'), m('afterEvalsMs'), m('storedMs')]);
  }
  printTable(['candidate', 'verdict', 'full gate ms', 'candidate eval ms', 'determinism re-run ms', 'baseline eval ms (parallel)', 'verdict + store ms', 'gate on stored runs ms'], rows);
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
});
