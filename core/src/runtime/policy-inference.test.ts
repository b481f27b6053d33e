import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCodes, SwitchyardError } from '../contract/errors.js';
import { buildDemoPolicy, type DemoVersion } from '../demo/cartpole-policies.js';
import { floatTensor, int64Tensor, node, serializeModel, type ModelSpec } from '../demo/onnx-writer.js';
import { PolicyInference, type InferenceOptions } from './policy-inference.js';
import type { Manifest } from './types.js';

let root: string;
let n = 0;
const engines: PolicyInference[] = [];

async function modelFile(bytes: Uint8Array): Promise<string> {
  const p = join(root, `m${n++}.onnx`);
  await writeFile(p, bytes);
  return p;
}

async function load(bytes: Uint8Array, manifest: Manifest, extra: Partial<InferenceOptions> = {}): Promise<PolicyInference> {
  const e = await PolicyInference.load({ modelPath: await modelFile(bytes), manifest, device: 'cpu', ...extra });
  engines.push(e);
  return e;
}

async function demo(v: DemoVersion, extra: Partial<InferenceOptions> = {}): Promise<PolicyInference> {
  const p = buildDemoPolicy(v);
  return load(p.onnx, p.manifest, extra);
}

async function rejection(p: Promise<unknown>, code: string): Promise<SwitchyardError> {
  const e = await p.then(
    () => {
      throw new Error(`expected ${code}, but it succeeded`);
    },
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(SwitchyardError);
  expect((e as SwitchyardError).code).toBe(code);
  return e as SwitchyardError;
}

/** y = obs @ W (obs [N,4]) with the given output shape and an optional post-op on the result. */
function linear(opts: { outShape?: (number | string)[]; inName?: string; outName?: string; wDims?: number[]; post?: 'nan' | 'log' } = {}): Uint8Array {
  const wDims = opts.wDims ?? [4, 1];
  const inName = opts.inName ?? 'obs';
  const outName = opts.outName ?? 'action';
  const nodes = [node('MatMul', [inName, 'W'], [opts.post ? 'lin' : outName])];
  const inits = [floatTensor('W', wDims, new Array(wDims[0]! * wDims[1]!).fill(0.5))];
  if (opts.post === 'nan') {
    nodes.push(node('Mul', ['lin', 'nan'], [outName]));
    inits.push(floatTensor('nan', [], [NaN]));
  }
  const spec: ModelSpec = {
    graphName: 'test',
    inputs: [{ name: inName, shape: ['N', wDims[0]!] }],
    outputs: [{ name: outName, shape: opts.outShape ?? ['N', wDims[1]!] }],
    nodes,
    initializers: inits,
  };
  if (opts.post === 'log') {
    // log(obs²) @ W: finite for random warm-up inputs, -inf for an all-zero observation.
    spec.nodes = [node('Mul', [inName, inName], ['sq']), node('Log', ['sq'], ['lg']), node('MatMul', ['lg', 'W'], [outName])];
  }
  return serializeModel(spec);
}

/**
 * An iterative chunk-2 model: x_next = x + (1 + t) · (log(obs²) @ W), finite for random warm-up
 * observations, -Infinity for a zero one.
 */
function iterativeLog(): { bytes: Uint8Array; manifest: Manifest } {
  const bytes = serializeModel({
    graphName: 'iter_log',
    inputs: [{ name: 'obs', shape: ['N', 4] }, { name: 'x', shape: ['N', 2, 1] }, { name: 't', shape: ['N', 1] }],
    outputs: [{ name: 'x_next', shape: ['N', 2, 1] }],
    nodes: [
      node('Mul', ['obs', 'obs'], ['sq']),
      node('Log', ['sq'], ['lg']),
      node('MatMul', ['lg', 'W'], ['flat']),
      node('Reshape', ['flat', 'chunk_shape'], ['target']),
      node('Reshape', ['t', 't_shape'], ['t3']),
      node('Add', ['t3', 'one'], ['scale']),
      node('Mul', ['target', 'scale'], ['update']),
      node('Add', ['x', 'update'], ['x_next']),
    ],
    initializers: [
      floatTensor('W', [4, 2], [0.5, 0.25, 0.5, 0.25, 0.5, 0.25, 0.5, 0.25]),
      int64Tensor('chunk_shape', [3], [-1, 2, 1]),
      int64Tensor('t_shape', [3], [-1, 1, 1]),
      floatTensor('one', [], [1]),
    ],
  });
  const manifest: Manifest = {
    policy: 'test',
    version: '0.0.1',
    model_id: 'test',
    kind: 'iterative',
    observation: { name: 'obs', dim: 4 },
    action: { name: 'x_next', dim: 1, chunk: 2 },
    iterative: { steps: 4, warm_steps: 1 },
  };
  return { bytes, manifest };
}

/** Feeds `rounds` of (episode, state) to `seq` one act at a time and to `many` one actMany per round; both must agree. */
async function expectActManyLikeAct(
  label: string,
  seq: PolicyInference,
  many: PolicyInference,
  states: number[][],
  rounds: [string | null, number][][],
): Promise<void> {
  for (const round of rounds) {
    const want: (Awaited<ReturnType<PolicyInference['act']>> | SwitchyardError)[] = [];
    for (const [ep, si] of round) {
      want.push(await seq.act(ep, Float32Array.from(states[si]!)).catch((e: SwitchyardError) => e));
    }
    const got = await many.actMany(
      round.map(([ep]) => ep),
      Float32Array.from(round.flatMap(([, si]) => states[si]!)),
    );
    expect(got).toHaveLength(round.length);
    for (let i = 0; i < round.length; i++) {
      const g = got[i]!;
      const w = want[i]!;
      const where = `${label}: round ${JSON.stringify(round)} row ${i}`;
      if (w instanceof SwitchyardError) {
        expect(g, where).toBeInstanceOf(SwitchyardError);
        expect([(g as SwitchyardError).code, (g as SwitchyardError).message], where).toEqual([w.code, w.message]);
        continue;
      }
      if (g instanceof SwitchyardError) throw new Error(`${where}: ${g.message}`);
      expect([g.cache, g.denoiseSteps], where).toEqual([w.cache, w.denoiseSteps]);
      expect(g.actions).toHaveLength(w.actions.length);
      for (let k = 0; k < w.actions.length; k++) expect(g.actions[k], where).toBeCloseTo(w.actions[k]!, 5);
    }
    expect(many.cache.size, `${label}: cache size after ${JSON.stringify(round)}`).toBe(seq.cache.size);
  }
}

const directManifest = (over: Partial<Manifest> = {}): Manifest => ({
  policy: 'test',
  version: '0.0.1',
  model_id: 'test',
  kind: 'direct',
  observation: { name: 'obs', dim: 4 },
  action: { name: 'action', dim: 1, chunk: 1 },
  ...over,
});

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'swy-engine-'));
});
afterAll(async () => {
  for (const e of engines) await e.dispose().catch(() => undefined);
  await rm(root, { recursive: true, force: true });
});

describe('PolicyInference load checks', () => {
  it('loads a good model on cpu', async () => {
    const e = await load(linear(), directManifest());
    expect(e.provider).toBe('cpu');
    const r = await e.act(null, Float32Array.of(1, 1, 1, 1));
    expect(Array.from(r.actions)).toEqual([2]);
    expect(r.cache).toBe('none');
    expect(r.denoiseSteps).toBe(0);
  });

  it.each([
    ['a wrong observation name', directManifest({ observation: { name: 'state', dim: 4 } }), /has no input named 'state' \(its inputs: obs\)/, 'policy.onnx: inputs'],
    ['a wrong observation dim', directManifest({ observation: { name: 'obs', dim: 5 } }), /input 'obs' has shape \[N, 4\] but switchyard.json \(observation.dim 5\) needs \[N, 5\]/, "policy.onnx: input 'obs'"],
    ['a wrong action name', directManifest({ action: { name: 'act', dim: 1, chunk: 1 } }), /has no output named 'act' \(its outputs: action\)/, 'policy.onnx: outputs'],
    ['a wrong chunk', directManifest({ action: { name: 'action', dim: 1, chunk: 4 } }), /output 'action' has shape \[N, 1\] but .* needs \[N, 4, 1\]/, "policy.onnx: output 'action'"],
    ['an iterative manifest on a direct graph', directManifest({ kind: 'iterative', iterative: { steps: 4, warm_steps: 1 } }), /has no input named 'x'/, 'policy.onnx: inputs'],
  ])('rejects %s with a message naming the mismatch', async (_label, manifest, msg, where) => {
    const e = await rejection(load(linear(), manifest), ErrorCodes.SWY_ERR_MODEL_LOAD);
    expect(e.message).toMatch(msg);
    expect(e.where).toBe(where);
  });

  it('rejects an extra graph input it would not feed', async () => {
    const bytes = serializeModel({
      graphName: 'two',
      inputs: [{ name: 'obs', shape: ['N', 4] }, { name: 'goal', shape: ['N', 4] }],
      outputs: [{ name: 'action', shape: ['N', 4] }],
      nodes: [node('Add', ['obs', 'goal'], ['action'])],
    });
    const e = await rejection(load(bytes, directManifest({ action: { name: 'action', dim: 4, chunk: 1 } })), ErrorCodes.SWY_ERR_MODEL_LOAD);
    expect(e.message).toMatch(/input 'goal' that Switchyard does not feed/);
  });

  it('names an output size mismatch even when the graph declares the dimension symbolic', async () => {
    // ONNX Runtime infers [N, 2] from the weights; without that, the warm-up run would catch it.
    const e = await rejection(load(linear({ wDims: [4, 2], outShape: ['N', 'M'] }), directManifest()), ErrorCodes.SWY_ERR_MODEL_LOAD);
    expect(e.message).toMatch(/output 'action' has shape \[N, 2\] but switchyard.json \(action.chunk 1, action.dim 1\) needs \[N, 1\] or \[N, 1, 1\]/);
  });

  it('rejects a model that produces NaN at warm-up', async () => {
    const e = await rejection(load(linear({ post: 'nan' }), directManifest()), ErrorCodes.SWY_ERR_MODEL_LOAD);
    expect(e.message).toMatch(/non-finite action \(NaN/);
    expect(e.message).toMatch(/warmed up on random observations/);
  });

  it('rejects truncated and random bytes with a clear load error', async () => {
    const good = linear();
    let e = await rejection(load(good.subarray(0, good.length - 25), directManifest()), ErrorCodes.SWY_ERR_MODEL_LOAD);
    expect(e.message).toMatch(/policy\.onnx is not a readable ONNX model .*truncated or not ONNX/);
    const junk = new Uint8Array(256);
    for (let i = 0; i < junk.length; i++) junk[i] = (i * 167 + 13) & 0xff;
    e = await rejection(load(junk, directManifest()), ErrorCodes.SWY_ERR_MODEL_LOAD);
    expect(e.message).toMatch(/not a readable ONNX model/);
    expect(e.where).toBe('policy.onnx');
  });

  it('fails clearly for --device cuda without CUDA, and falls back under auto', async (ctx) => {
    const bytes = linear();
    const cuda = await PolicyInference.load({ modelPath: await modelFile(bytes), manifest: directManifest(), device: 'cuda' }).then(
      (eng) => eng,
      (err: unknown) => err as SwitchyardError,
    );
    if (cuda instanceof PolicyInference) {
      // A machine with a working CUDA provider.
      engines.push(cuda);
      expect(cuda.provider).toBe('cuda');
      return ctx.skip('the CUDA provider works on this machine, so the no-CUDA error and the auto fallback cannot happen here');
    }
    expect(cuda.code).toBe(ErrorCodes.SWY_ERR_MODEL_LOAD);
    expect(cuda.message).toMatch(/--device cuda was requested but the CUDA execution provider could not start/);
    expect(cuda.where).toBe('device');
    const auto = await load(bytes, directManifest(), { device: 'auto' });
    expect(auto.provider).toBe('cpu');
    expect(auto.fallbackReason).toMatch(/^CUDA unavailable: /);
  });
});

describe('PolicyInference serving', () => {
  it('turns a non-finite output into SWY_ERR_INFERENCE and keeps serving', async () => {
    const e = await load(linear({ post: 'log' }), directManifest());
    const err = await rejection(e.act('ep', new Float32Array(4)), ErrorCodes.SWY_ERR_INFERENCE);
    expect(err.message).toMatch(/non-finite action \(-Infinity/);
    await rejection(e.batch(Float32Array.of(1, 1, 1, 1, 0, 0, 0, 0), 2), ErrorCodes.SWY_ERR_INFERENCE);
    const ok = await e.act('ep', Float32Array.of(1, 1, 1, 1));
    expect(ok.actions[0]).toBeCloseTo(0, 6); // log(1) = 0
  });

  it('iterative: a miss runs `steps` from zeros, a hit runs `warm_steps` from the shifted chunk', async () => {
    const e = await demo('2.0.0-iter');
    const s0 = Float32Array.of(0.1, 0, 0.05, 0);
    const miss = await e.act('ep-1', s0);
    expect(miss.cache).toBe('miss');
    expect(miss.denoiseSteps).toBe(8);
    expect(miss.actions).toHaveLength(4);
    // The next control step (the state the LQR chunk predicted), warm-started.
    const s1 = Float32Array.of(0.1, 0.05, 0.048, -0.1);
    const hit = await e.act('ep-1', s1);
    expect(hit.cache).toBe('hit');
    expect(hit.denoiseSteps).toBe(2);
    // Warm start with 2 steps lands close to what 8 cold steps give.
    const cold = await e.act('ep-cold', s1);
    expect(cold.cache).toBe('miss');
    for (let i = 0; i < 4; i++) expect(Math.abs(hit.actions[i]! - cold.actions[i]!)).toBeLessThan(0.1);
    // ...and much closer than 2 cold steps would (one step from zeros covers only ~45-60 %).
    expect(Math.abs(hit.actions[0]! - cold.actions[0]!)).toBeLessThan(0.1 * Math.abs(cold.actions[0]!));
    // A degraded request (no episode) is always a miss and is not remembered.
    expect((await e.act(null, s1)).cache).toBe('miss');
    expect((await e.act(null, s1)).cache).toBe('miss');
  });

  it('keeps a bounded LRU of episodes', async () => {
    const e = await demo('2.0.0-iter', { episodeCacheSize: 2 });
    const s = Float32Array.of(0, 0, 0.02, 0);
    await e.act('a', s);
    await e.act('b', s);
    expect((await e.act('a', s)).cache).toBe('hit'); // a is now most recent
    await e.act('c', s); // evicts b
    expect(e.cache.size).toBe(2);
    expect((await e.act('b', s)).cache).toBe('miss');
    expect((await e.act('c', s)).cache).toBe('hit');
  });

  it('RTC blends the first actions of a new chunk with the previous chunk', async () => {
    const plain = await demo('1.2.0');
    const rtc = await demo('1.2.0', { rtc: true });
    const s0 = Float32Array.of(0, 0, 0.1, 0);
    const s1 = Float32Array.of(0, 0, -0.1, 0);
    const prev = (await rtc.act('ep', s0)).actions;
    expect(Array.from(prev)).toEqual(Array.from((await plain.act('ep', s0)).actions)); // nothing to blend yet
    const fresh = (await plain.act('ep', s1)).actions;
    const blended = (await rtc.act('ep', s1)).actions;
    const c = 4;
    for (let i = 0; i < c; i++) {
      const w = i < c - 1 ? (c - 1 - i) / c : 0;
      const expected = i < c - 1 ? w * prev[i + 1]! + (1 - w) * fresh[i]! : fresh[i]!;
      expect(blended[i]).toBeCloseTo(expected, 5);
    }
    expect(Math.abs(blended[0]! - fresh[0]!)).toBeGreaterThan(1); // the blend really moved it
    // Another episode does not see ep's chunk.
    expect(Array.from((await rtc.act('other', s1)).actions)).toEqual(Array.from(fresh));
  });

  it('batch gives the same actions as act, row by row, for direct and iterative kinds', async () => {
    for (const v of ['1.0.0', '1.2.0', '2.0.0-iter'] as const) {
      const e = await demo(v);
      const rows = [
        [0, 0, 0.05, 0],
        [0.3, -0.1, -0.02, 0.2],
        [-1, 0.5, 0.1, -0.3],
      ];
      const out = await e.batch(Float32Array.from(rows.flat()), 3);
      const per = e.manifest.action.chunk;
      expect(out).toHaveLength(3 * per);
      for (let r = 0; r < 3; r++) {
        const single = await e.act(null, Float32Array.from(rows[r]!));
        for (let i = 0; i < per; i++) expect(out[r * per + i]).toBeCloseTo(single.actions[i]!, 5);
      }
    }
  });

  it('actMany answers like act called in order: direct, RTC with a repeated episode, iterative hits, misses and repeats', async () => {
    const states = [
      [0, 0, 0.05, 0],
      [0.3, -0.1, -0.02, 0.2],
      [-1, 0.5, 0.1, -0.3],
      [0.1, 0.05, 0.048, -0.1],
      [0.2, 0, -0.05, 0.1],
    ];
    // Rounds of (episode, state index); episode e1 repeats inside round 2, null is a degraded request.
    const rounds: [string | null, number][][] = [
      [['e1', 0], ['e2', 1], [null, 2]],
      [['e1', 3], ['e2', 4], ['e1', 0], ['e3', 1], [null, 3], ['e2', 2]],
      [['e3', 4], ['e1', 1]],
    ];
    const configs: [DemoVersion, Partial<InferenceOptions>][] = [
      ['1.0.0', {}],
      ['1.2.0', { rtc: true }],
      ['2.0.0-iter', {}],
      ['2.0.0-iter', { rtc: true }],
      // A full cache: the same entries must survive as with acts one by one.
      ['2.0.0-iter', { episodeCacheSize: 2 }],
    ];
    for (const [v, opts] of configs) {
      await expectActManyLikeAct(`${v} ${JSON.stringify(opts)}`, await demo(v, opts), await demo(v, opts), states, rounds);
    }
  });

  it('actMany on an iterative policy: a failed row keeps its episode cache as act would (hit stays, miss leaves none)', async () => {
    const { bytes, manifest } = iterativeLog();
    const states = [
      [1, 1, 1, 1],
      [0, 0, 0, 0], // -Infinity
      [2, 0.5, 1, 3],
    ];
    const rounds: [string | null, number][][] = [
      [['e1', 0], ['e2', 2]],
      [['e1', 1], ['e2', 0], ['e3', 1], ['e4', 2]], // e1 hit fails, e3 miss fails
      [['e1', 2], ['e3', 0], ['e2', 1], ['e4', 0]],
      [['e2', 2], ['e1', 0], ['e3', 2]],
    ];
    // (With a full cache, a failed miss may have evicted the oldest entry before it failed: the
    // only way actMany's cache can differ from act's. See actMany.)
    await expectActManyLikeAct('iterative log', await load(bytes, manifest), await load(bytes, manifest), states, rounds);
  });

  it('actMany fails only the row with a non-finite action, and keeps serving', async () => {
    const e = await load(linear({ post: 'log' }), directManifest());
    // log(obs²) @ W: the all-zero observation (row 1) gives -Infinity.
    const got = await e.actMany(['a', 'b', 'c'], Float32Array.of(1, 1, 1, 1, 0, 0, 0, 0, 2, 2, 2, 2));
    expect(got[0]).not.toBeInstanceOf(SwitchyardError);
    expect(got[2]).not.toBeInstanceOf(SwitchyardError);
    expect((got[0] as { actions: Float32Array }).actions[0]).toBeCloseTo(0, 6);
    expect((got[2] as { actions: Float32Array }).actions[0]).toBeCloseTo(2 * Math.log(4), 4);
    const bad = got[1] as SwitchyardError;
    expect(bad).toBeInstanceOf(SwitchyardError);
    expect(bad.code).toBe(ErrorCodes.SWY_ERR_INFERENCE);
    expect(bad.message).toMatch(/non-finite action \(-Infinity/);
    expect(((await e.act('d', Float32Array.of(1, 1, 1, 1))).actions[0])).toBeCloseTo(0, 6);
  });

  it('actMany runs row by row for a model with a fixed batch of 1', async () => {
    const e = await load(linear({ outShape: [1, 1] }), directManifest());
    const got = await e.actMany([null, 'x'], Float32Array.of(1, 1, 1, 1, 2, 2, 2, 2));
    expect(got.map((g) => Array.from((g as { actions: Float32Array }).actions))).toEqual([[2], [4]]);
  });

  it('runs batches row by row for a model with a fixed batch of 1', async () => {
    const e = await load(linear({ outShape: [1, 1] }), directManifest());
    const out = await e.batch(Float32Array.of(1, 1, 1, 1, 2, 2, 2, 2), 2);
    expect(Array.from(out)).toEqual([2, 4]);
  });
});
