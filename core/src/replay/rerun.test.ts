/**
 * Re-runs against real demo policies (ONNX in worker threads): the same version gives zero
 * divergence and matching cache statuses, even with requests of different episodes in flight at
 * once; another version diverges and trips `--fail-on`. Ordering and cancellation are checked
 * with a scripted runner.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeDemoExports } from '../demo/cartpole-policies.js';
import { readExport } from '../runtime/export.js';
import { PolicyRunner } from '../runtime/policy-runner.js';
import type { ActInput, ActOutput, PolicyExport } from '../runtime/types.js';
import { canonicalizeJs } from '../trace/canonical-json.js';
import { GENESIS_HASH, sealRecord } from '../trace/chain.js';
import { parseFailOn } from './fail-on.js';
import { recordPolicyTrace } from '../../test-support/replay-fixtures.js';
import { rerunAgainstExport, rerunTrace } from './rerun.js';

let dir: string;
let v100: PolicyExport;
let v110: PolicyExport;
let iter: PolicyExport;
let directTrace: string;
let iterTrace: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'swy-rerun-'));
  const exports = await Promise.all((await writeDemoExports(join(dir, 'exports'))).map((d) => readExport(d)));
  const find = (v: string) => exports.find((e) => e.manifest.version === v)!;
  v100 = find('1.0.0');
  v110 = find('1.1.0');
  iter = find('2.0.0-iter');
  const record = async (exp: PolicyExport, name: string, episodes: number) => {
    const runner = await PolicyRunner.start({ export: exp, slot: 'prod', device: 'cpu' });
    try {
      return await recordPolicyTrace({ dir, requests: 120, episodes, sessionId: name, act: (episodeId, state) => runner.act({ episodeId, state }) });
    } finally {
      await runner.close();
    }
  };
  [directTrace, iterTrace] = await Promise.all([record(v100, 'direct', 6), record(iter, 'iter', 7)]);
}, 180_000);

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('rerunAgainstExport on demo policies', () => {
  it('the same version: divergence 0, cache statuses match, fail-on does not trip', async () => {
    const r = await rerunAgainstExport({ trace: directTrace, export: v100, device: 'cpu', failOn: parseFailOn('divergence>0.01,cache-mismatch>0,error') });
    expect(r.requests).toBe(120);
    expect(r.overall.errors).toBe(0);
    expect(r.overall.actions).toMatchObject({ compared: 120, max: 0, differing: 0, incomparable: 0 });
    expect(r.overall.cache).toMatchObject({ compared: 120, mismatches: 0 });
    expect(r.overall.latency?.recordedMs.count).toBe(120);
    expect(r.overall.latency?.p99Ratio).toBeGreaterThan(0);
    expect(r.chain.status).toBe('verified');
    expect(r.failOn.tripped).toBe(false);
    expect(r.slots.map((s) => s.slot)).toEqual(['prod']);
    expect(r.model?.ref).toBe('cartpole-balance@1.0.0');
  }, 180_000);

  it('another version: divergence > 0 and `divergence>0.01` trips', async () => {
    const r = await rerunAgainstExport({ trace: directTrace, export: v110, device: 'cpu', diff: ['actions'], failOn: parseFailOn('divergence>0.01', ['actions']) });
    expect(r.overall.actions!.max).toBeGreaterThan(0.01);
    expect(r.overall.actions!.differing).toBeGreaterThan(100);
    expect(r.overall.latency).toBeNull();
    expect(r.failOn).toMatchObject({ tripped: true, outcomes: [{ condition: 'divergence>0.01', tripped: true }] });
    expect(r.divergenceSeries!.max.filter((x) => x !== null).length).toBeGreaterThan(0);
  }, 180_000);

  it('an iterative policy with episodes in flight at once: warm starts as live, identical actions and cache statuses', async () => {
    const r = await rerunAgainstExport({ trace: iterTrace, export: iter, device: 'cpu', diff: ['actions', 'cache'], concurrency: 8 });
    expect(r.requests).toBe(120);
    expect(r.overall.cache).toMatchObject({ compared: 120, mismatches: 0 });
    expect(r.overall.cache!.recordedHitRate).toBeCloseTo(113 / 120, 6);
    expect(r.overall.actions).toMatchObject({ compared: 120, max: 0 });
  }, 180_000);

  it('a direct version against an iterative trace: chunks compared over their common prefix, cache statuses differ', async () => {
    const out = join(dir, 'report.jsonl');
    const r = await rerunAgainstExport({ trace: iterTrace, export: v100, device: 'cpu', output: out, failOn: parseFailOn('cache-mismatch>50%') });
    expect(r.overall.actions!.prefixOnly).toBe(120);
    expect(r.overall.cache!.mismatchRate).toBe(1);
    expect(r.failOn.tripped).toBe(true);
    expect(r.warnings.some((w) => w.includes('common prefix'))).toBe(true);
    const lines = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(121);
    expect(lines[0]).toMatchObject({ kind: 'rerun_request', seq: 1, slot: 'prod', cache: { recorded: 'miss', rerun: 'none', match: false } });
    expect(lines[0]!.divergence).toMatchObject({ prefix_only: true });
    expect(lines[0]!.latency_ms).toMatchObject({ recorded: expect.any(Number), rerun: expect.any(Number) });
    expect(lines.slice(0, 120).map((l) => l.seq)).toEqual(Array.from({ length: 120 }, (_, i) => i + 1));
    expect(lines[120]).toMatchObject({ kind: 'rerun_summary', requests: 120, failOn: { tripped: true } });
  }, 180_000);

  it('states that do not fit the model are refused, naming --model', async () => {
    let prev = GENESIS_HASH;
    const lines = [1, 2].map((seq) => {
      const s = sealRecord(prev, canonicalizeJs({ kind: 'request', schema_version: 1, seq, request: { episode_id: 'e', state: [1, 2, 3] }, response: { actions: [[0]] }, latency: { total_ms: 1 } }));
      prev = s.hash;
      return s.line;
    });
    const p = join(dir, 'three.jsonl');
    writeFileSync(p, lines.join(''));
    await expect(rerunAgainstExport({ trace: p, export: v100, device: 'cpu' })).rejects.toMatchObject({ code: 'SWY_ERR_INVALID_INPUT', where: '--model', message: expect.stringMatching(/states have 3 values but cartpole-balance@1.0.0 expects 4/) });
  }, 180_000);
});

/** A scripted runner: answers after a random delay, remembers the order of calls. */
function scriptedRunner(delays = true) {
  const calls: { episodeId: string | null; state: number[] }[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const runner = {
    async act(input: ActInput): Promise<ActOutput> {
      calls.push({ episodeId: input.episodeId, state: input.state });
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      if (delays) await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 3)));
      inFlight--;
      return { actions: [[input.state[0]!]], numActions: 1, actionDim: 1, cache: 'none', denoiseSteps: 0, inferMs: 0 };
    },
  };
  return { runner, calls, maxInFlight: () => maxInFlight };
}

/** A trace whose records are written slightly out of seq order (as concurrent requests finish). */
function shuffledTrace(n: number, episodes: number): string {
  const recs = Array.from({ length: n }, (_, i) => ({
    kind: 'request',
    schema_version: 1,
    seq: i + 1,
    request: { episode_id: `e${i % episodes}`, state: [i + 1, 0, 0, 0] },
    response: { actions: [[i + 1]] },
    latency: { total_ms: 1 },
  }));
  for (let i = 0; i + 3 < n; i += 4) [recs[i], recs[i + 3]] = [recs[i + 3]!, recs[i]!];
  let prev = GENESIS_HASH;
  const p = join(dir, `shuffled-${n}.jsonl`);
  writeFileSync(
    p,
    recs
      .map((r) => {
        const s = sealRecord(prev, canonicalizeJs(r));
        prev = s.hash;
        return s.line;
      })
      .join(''),
  );
  return p;
}

describe('rerunTrace ordering, limit and cancellation', () => {
  it('sends requests in seq order, each episode strictly in order, several episodes in flight', async () => {
    const p = shuffledTrace(400, 5);
    const s = scriptedRunner();
    const r = await rerunTrace({ trace: p, runner: s.runner, diff: ['actions'], concurrency: 6, reorderWindow: 16 });
    expect(r.requests).toBe(400);
    expect(r.outOfOrder).toBe(0);
    expect(r.overall.actions!.max).toBe(0);
    for (let e = 0; e < 5; e++) {
      const seqs = s.calls.filter((c) => c.episodeId === `e${e}`).map((c) => c.state[0]!);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      expect(seqs).toHaveLength(80);
    }
    expect(s.maxInFlight()).toBeGreaterThan(1);
    expect(s.maxInFlight()).toBeLessThanOrEqual(6);
  });

  it('--limit re-runs the first N by seq', async () => {
    const p = shuffledTrace(400, 5);
    const s = scriptedRunner(false);
    const r = await rerunTrace({ trace: p, runner: s.runner, limit: 50, concurrency: 4 });
    expect(r.requests).toBe(50);
    expect(s.calls.map((c) => c.state[0]).sort((a, b) => a! - b!)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
  });

  it('cancellation returns what was compared so far', async () => {
    const p = shuffledTrace(400, 5);
    const ac = new AbortController();
    const s = scriptedRunner();
    const runner = {
      act: (i: ActInput) => {
        if (s.calls.length === 30) ac.abort();
        return s.runner.act(i);
      },
    };
    const r = await rerunTrace({ trace: p, runner, signal: ac.signal, concurrency: 2 });
    expect(r.cancelled).toBe(true);
    expect(r.requests).toBeGreaterThanOrEqual(30);
    expect(r.requests).toBeLessThan(400);
    expect(r.overall.requests).toBe(r.requests);
  });

  it('a runner error is counted per request and trips `error`', async () => {
    const p = shuffledTrace(20, 2);
    const runner = {
      act: async (i: ActInput): Promise<ActOutput> => {
        if (i.state[0] === 7) throw new Error('boom');
        return { actions: [[i.state[0]!]], numActions: 1, actionDim: 1, cache: 'none', denoiseSteps: 0, inferMs: 0 };
      },
    };
    const r = await rerunTrace({ trace: p, runner, failOn: parseFailOn('error') });
    expect(r.overall.errors).toBe(1);
    expect(r.failOn.tripped).toBe(true);
  });
});
