import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { readFileSync } from 'node:fs';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCodes, SwitchyardError } from '../contract/errors.js';
import { floatTensor, node, serializeModel } from '../demo/onnx-writer.js';
import { writeDemoExports } from '../demo/cartpole-policies.js';
import { readExport } from './export.js';
import { AnswerSpin, SpinTurns } from './answer-spin.js';
import { PolicyRunner, type RunnerStartOptions, type WorkerExitInfo } from './policy-runner.js';
import type { ActOutput, PolicyExport } from './types.js';

let root: string;
let demo: PolicyExport[] = [];
const runners: PolicyRunner[] = [];

function recordingLogger() {
  const lines: { level: string; msg: string | undefined; o: object }[] = [];
  return {
    lines,
    info: (o: object, msg?: string) => lines.push({ level: 'info', msg, o }),
    warn: (o: object, msg?: string) => lines.push({ level: 'warn', msg, o }),
    error: (o: object, msg?: string) => lines.push({ level: 'error', msg, o }),
  };
}

async function start(ex: PolicyExport, extra: Partial<RunnerStartOptions> = {}): Promise<PolicyRunner> {
  const r = await PolicyRunner.start({ export: ex, slot: 'a', device: 'cpu', restartBackoffMs: 20, testHooks: true, ...extra });
  runners.push(r);
  return r;
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

function nextExit(r: PolicyRunner): Promise<WorkerExitInfo> {
  return new Promise((resolve) => {
    const off = r.onExit((info) => {
      off();
      resolve(info);
    });
  });
}

async function waitFor(cond: () => boolean, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((res) => setTimeout(res, 10));
  }
}

/** An export of the 1.0.0 manifest with other model bytes. */
async function exportWithModel(name: string, bytes: Uint8Array): Promise<PolicyExport> {
  const dir = join(root, name);
  const dirs = await writeDemoExports(join(root, `src-${name}`));
  await rename(dirs[0]!, dir);
  await writeFile(join(dir, 'policy.onnx'), bytes);
  return readExport(dir);
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'swy-runner-'));
  demo = await Promise.all((await writeDemoExports(join(root, 'demo'))).map((d) => readExport(d)));
});

afterAll(async () => {
  await Promise.all(runners.map((r) => r.close()));
  await rm(root, { recursive: true, force: true });
});

describe('PolicyRunner with the demo policies', () => {
  it('loads each demo policy in a worker and returns finite actions of the right shape', async () => {
    for (const ex of demo) {
      const log = recordingLogger();
      const r = await start(ex, { logger: log, slot: 'prod' });
      expect(r.ready).toBe(true);
      expect(r.provider).toBe('cpu');
      expect(r.slot).toBe('prod');
      expect(r.export.modelVersion).toBe(ex.modelVersion);
      expect(log.lines.find((l) => l.msg === 'policy_runner.ready')?.o).toMatchObject({ slot: 'prod', provider: 'cpu', modelVersion: ex.modelVersion });
      const out = await r.act({ episodeId: 'ep-1', state: [0.01, -0.02, 0.05, 0.1] });
      const { chunk, dim } = ex.manifest.action;
      expect(out.numActions).toBe(chunk);
      expect(out.actionDim).toBe(dim);
      expect(out.actions).toHaveLength(chunk);
      for (const a of out.actions) {
        expect(a).toHaveLength(dim);
        for (const v of a) {
          expect(Number.isFinite(v)).toBe(true);
          expect(Math.abs(v)).toBeLessThanOrEqual(10);
        }
      }
      expect(out.actions[0]![0]).toBeGreaterThan(0); // pole leaning +x: push +x
      expect(out.inferMs).toBeGreaterThanOrEqual(0);
      const batch = await r.runBatch(Float32Array.of(0, 0, 0.05, 0, 0.01, -0.02, 0.05, 0.1), 2);
      expect(batch).toBeInstanceOf(Float32Array);
      expect(batch).toHaveLength(2 * chunk * dim);
      if (ex.manifest.kind === 'direct') expect(batch[chunk * dim]).toBeCloseTo(out.actions[0]![0]!, 5);
      await r.close();
      expect(r.ready).toBe(false);
    }
  });

  it('reports cache miss then hit with fewer denoise steps for the iterative policy', async () => {
    const r = await start(demo[3]!);
    const a = await r.act({ episodeId: 'ep-x', state: [0, 0, 0.05, 0] });
    expect([a.cache, a.denoiseSteps]).toEqual(['miss', 8]);
    const b = await r.act({ episodeId: 'ep-x', state: [0, 0.03, 0.052, 0.1] });
    expect([b.cache, b.denoiseSteps]).toEqual(['hit', 2]);
    const c = await r.act({ episodeId: null, state: [0, 0.03, 0.052, 0.1] });
    expect([c.cache, c.denoiseSteps]).toEqual(['miss', 8]);
    const d = await start(demo[0]!);
    expect((await d.act({ episodeId: 'ep-x', state: [0, 0, 0.05, 0] })).cache).toBe('none');
  });

  it('validates state before it reaches the worker', async () => {
    const r = await start(demo[0]!);
    const cases: unknown[] = [[1, 2, 3], [1, 2, 3, 4, 5], [0, 0, NaN, 0], [0, 0, Infinity, 0], [0, '1', 0, 0], [0, 0, 1e39, 0], 'abcd', null];
    for (const state of cases) {
      const e = await rejection(r.act({ episodeId: 'e', state: state as number[] }), ErrorCodes.SWY_ERR_INVALID_INPUT);
      expect(e.where).toBe('state');
      expect(e.message).toMatch(/state/);
    }
    const e = await rejection(r.act({ episodeId: 'e', state: [1, 2, 3] }), ErrorCodes.SWY_ERR_INVALID_INPUT);
    expect(e.message).toMatch(/state must be an array of 4 numbers .* got 3 values/);
    await rejection(r.runBatch(new Float32Array(7), 2), ErrorCodes.SWY_ERR_INVALID_INPUT);
    await rejection(r.runBatch(Float32Array.of(0, 0, NaN, 0), 1), ErrorCodes.SWY_ERR_INVALID_INPUT);
    // Still serving.
    expect((await r.act({ episodeId: 'e', state: [0, 0, 0, 0] })).actions).toEqual([[0]]);
  });
});

describe('PolicyRunner failures', () => {
  it('rejects random bytes and a truncated model with SWY_ERR_MODEL_LOAD', async () => {
    const junk = new Uint8Array(512);
    for (let i = 0; i < junk.length; i++) junk[i] = (i * 89 + 7) & 0xff;
    let e = await rejection(start(await exportWithModel('junk', junk)), ErrorCodes.SWY_ERR_MODEL_LOAD);
    expect(e.message).toMatch(/policy\.onnx is not a readable ONNX model/);
    const good = demo[0]!;
    const bytes = readFileSync(good.modelPath);
    e = await rejection(start(await exportWithModel('trunc', bytes.subarray(0, bytes.length - 30))), ErrorCodes.SWY_ERR_MODEL_LOAD);
    expect(e.message).toMatch(/truncated or not ONNX/);
  });

  it('rejects a model that outputs NaN at warm-up', async () => {
    const nan = serializeModel({
      graphName: 'nan',
      inputs: [{ name: 'obs', shape: ['N', 4] }],
      outputs: [{ name: 'action', shape: ['N', 1] }],
      nodes: [node('MatMul', ['obs', 'W'], ['u']), node('Mul', ['u', 'nan'], ['action'])],
      initializers: [floatTensor('W', [4, 1], [1, 1, 1, 1]), floatTensor('nan', [], [NaN])],
    });
    const e = await rejection(start(await exportWithModel('nan', nan)), ErrorCodes.SWY_ERR_MODEL_LOAD);
    expect(e.message).toMatch(/non-finite action .* warmed up/);
  });

  it('auto falls back to cpu and says why', async (ctx) => {
    const log = recordingLogger();
    const r = await start(demo[0]!, { device: 'auto', logger: log });
    if (r.provider === 'cuda') ctx.skip('the CUDA provider works on this machine: there is no fallback to see');
    expect(r.provider).toBe('cpu');
    const warn = log.lines.find((l) => l.level === 'warn');
    expect(warn?.msg).toBe('policy_runner.cuda_fallback');
    expect((warn?.o as { reason: string }).reason).toMatch(/^CUDA unavailable/);
  });

  it('rejects a request in flight when the worker is killed, then restarts and serves again', async () => {
    const log = recordingLogger();
    const r = await start(demo[0]!, { logger: log });
    const exits: WorkerExitInfo[] = [];
    r.onExit((i) => exits.push(i));
    // Busy for longer than the test may run: an answer can only come from the kill, not the block.
    r._debugForTest('block', 600_000);
    const pending = r.act({ episodeId: 'e', state: [0, 0, 0.1, 0] });
    await r._killWorkerForTest();
    const e = await rejection(pending, ErrorCodes.SWY_ERR_WORKER_DIED);
    expect(e.message).toMatch(/slot 'a' died/);
    expect(e.where).toBe('slot:a');
    expect(r.ready).toBe(false);
    expect(exits).toEqual([{ slot: 'a', exitCode: 1, willRestart: true, failedRequests: 1 }]);
    // While it restarts, new requests fail fast instead of hanging.
    await rejection(r.act({ episodeId: 'e', state: [0, 0, 0.1, 0] }), ErrorCodes.SWY_ERR_SLOT_RESTARTING);
    await r.whenReady();
    expect(r.restarts).toBe(1);
    expect(r.crashes).toBe(1);
    const out = await r.act({ episodeId: 'e', state: [0, 0, 0.1, 0] });
    expect(out.actions[0]![0]).toBeCloseTo(3.0856, 3);
    expect(log.lines.map((l) => l.msg)).toContain('policy_runner.worker_died');
    expect(log.lines.map((l) => l.msg)).toContain('policy_runner.restarted');
  });

  it('survives a worker that exits or throws on its own', async () => {
    const r = await start(demo[1]!);
    const exits: WorkerExitInfo[] = [];
    r.onExit((i) => exits.push(i));
    const p1 = r.act({ episodeId: 'e', state: [0, 0, 0.1, 0] });
    let died = nextExit(r);
    r._debugForTest('exit');
    // p1 may have been answered before the exit; either way it settles.
    await p1.catch((err: SwitchyardError) => expect(err.code).toBe(ErrorCodes.SWY_ERR_WORKER_DIED));
    await died;
    expect(exits[0]!.exitCode).toBe(3);
    await r.whenReady();
    died = nextExit(r);
    r._debugForTest('throw');
    await died;
    expect(exits[1]!.error).toMatch(/debug: uncaught exception in policy worker/);
    await r.whenReady();
    expect(r.restarts).toBe(2);
    expect(r.crashes).toBe(2);
    expect((await r.act({ episodeId: 'e', state: [0, 0, 0.1, 0] })).actions[0]![0]).toBeGreaterThan(0);
  });

  it('keeps retrying a restart that fails, and recovers once the model is back', async () => {
    const ex = await exportWithModel('flaky', readFileSync(demo[0]!.modelPath));
    const log = recordingLogger();
    const r = await start(ex, { logger: log, maxRestartBackoffMs: 50 });
    const moved = ex.modelPath + '.away';
    await rename(ex.modelPath, moved);
    await r._killWorkerForTest();
    await waitFor(() => log.lines.filter((l) => l.msg === 'policy_runner.restart_failed').length >= 2, 60_000);
    expect(r.ready).toBe(false);
    expect(r.restarts).toBe(0);
    await rename(moved, ex.modelPath);
    await r.whenReady();
    expect(r.restarts).toBe(1);
    expect((await r.act({ episodeId: null, state: [0, 0, 0.1, 0] })).actions).toHaveLength(1);
  }, 120_000);

  it('close() rejects pending and later requests and does not restart', async () => {
    const r = await start(demo[0]!);
    const exits: WorkerExitInfo[] = [];
    r.onExit((i) => exits.push(i));
    r._debugForTest('block', 2_000);
    const pending = rejection(r.act({ episodeId: 'e', state: [0, 0, 0.1, 0] }), ErrorCodes.SWY_ERR_NOT_SERVING);
    await r.close();
    await pending;
    await rejection(r.act({ episodeId: 'e', state: [0, 0, 0.1, 0] }), ErrorCodes.SWY_ERR_NOT_SERVING);
    await rejection(r.whenReady(), ErrorCodes.SWY_ERR_NOT_SERVING);
    await new Promise((res) => setTimeout(res, 100));
    expect(exits).toEqual([]);
    expect(r.restarts).toBe(0);
  });
});

describe('PolicyRunner coalescing', () => {
  /** log(obs²) @ [0.5, 0.5, 0.5, 0.5]: finite for the random warm-up, -Infinity for an all-zero observation. */
  const logModel = () =>
    serializeModel({
      graphName: 'log_rows',
      inputs: [{ name: 'obs', shape: ['N', 4] }],
      outputs: [{ name: 'action', shape: ['N', 1] }],
      nodes: [node('Mul', ['obs', 'obs'], ['sq']), node('Log', ['sq'], ['lg']), node('MatMul', ['lg', 'W'], ['action'])],
      initializers: [floatTensor('W', [4, 1], [0.5, 0.5, 0.5, 0.5])],
    });

  it('sends the acts of one turn as one message and fails only the act whose row is non-finite', async () => {
    const r = await start(await exportWithModel('log-rows', logModel()));
    const before = r.actMessages;
    const settled = await Promise.allSettled([
      r.act({ episodeId: 'a', state: [1, 1, 1, 1] }),
      r.act({ episodeId: 'b', state: [0, 0, 0, 0] }),
      r.act({ episodeId: null, state: [2, 2, 2, 2] }),
    ]);
    expect(r.actMessages).toEqual({ messages: before.messages + 1, acts: before.acts + 3 });
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const [ok1, bad, ok2] = settled;
    expect((ok1 as PromiseFulfilledResult<ActOutput>).value.actions[0]![0]).toBeCloseTo(0, 6);
    expect((ok2 as PromiseFulfilledResult<ActOutput>).value.actions[0]![0]).toBeCloseTo(4 * Math.log(2), 4);
    const err = (bad as PromiseRejectedResult).reason as SwitchyardError;
    expect(err).toBeInstanceOf(SwitchyardError);
    expect(err.code).toBe(ErrorCodes.SWY_ERR_INFERENCE);
    expect(err.message).toMatch(/non-finite action \(-Infinity/);
    // The worker did not die and keeps serving.
    expect([r.ready, r.crashes, r.inFlight]).toEqual([true, 0, 0]);
    expect((await r.act({ episodeId: 'a', state: [1, 1, 1, 1] })).actions[0]![0]).toBeCloseTo(0, 6);
  });

  it('answers a coalesced burst like acts sent one at a time (large arrays, chunks, iterative warm starts)', async () => {
    for (const ex of [demo[2]!, demo[3]!]) {
      const one = await start(ex);
      const many = await start(ex);
      const states = Array.from({ length: 100 }, (_, i) => [0.01 * (i % 7), -0.02 * (i % 3), 0.05 - 0.001 * i, 0.1 * ((i % 5) - 2)]);
      for (let round = 0; round < 2; round++) {
        const want = [];
        for (let i = 0; i < states.length; i++) want.push(await one.act({ episodeId: `ep-${i}`, state: states[i]! }));
        const before = many.actMessages;
        // 100 × 4 observations and 100 × chunk 4 actions: above the plain-array size, sent as Float32Array.
        const got = await Promise.all(states.map((s, i) => many.act({ episodeId: `ep-${i}`, state: s })));
        expect(many.actMessages.messages - before.messages).toBe(1);
        for (let i = 0; i < states.length; i++) {
          expect([got[i]!.cache, got[i]!.denoiseSteps]).toEqual([want[i]!.cache, want[i]!.denoiseSteps]);
          expect(got[i]!.actions).toHaveLength(want[i]!.actions.length);
          for (let k = 0; k < want[i]!.actions.length; k++) expect(got[i]!.actions[k]![0]).toBeCloseTo(want[i]!.actions[k]![0]!, 5);
        }
        if (ex.manifest.kind === 'iterative') expect(got[0]!.cache).toBe(round === 0 ? 'miss' : 'hit');
      }
    }
  }, 120_000);

  it('holds acts that arrive while a message is in flight, and sends them together when it is answered', async () => {
    const r = await start(demo[0]!);
    const before = r.actMessages;
    r._debugForTest('block', 300); // the worker is busy
    const first = r.act({ episodeId: 'first', state: [0, 0, 0.1, 0] });
    await new Promise((res) => setImmediate(res));
    expect(r.actMessages.messages - before.messages).toBe(1);
    const later: Promise<unknown>[] = [];
    for (let i = 0; i < 5; i++) {
      later.push(r.act({ episodeId: `later-${i}`, state: [0, 0, 0.01 * i, 0] }));
      await new Promise((res) => setImmediate(res)); // each in its own turn
    }
    expect(r.actMessages.messages - before.messages).toBe(1);
    expect(r.inFlight).toBe(6);
    await first;
    await Promise.all(later);
    expect(r.actMessages).toEqual({ messages: before.messages + 2, acts: before.acts + 6 });
  });

  it('sends small act batches through shared memory and answers them exactly as the message lane does', async () => {
    for (const ex of [demo[0]!, demo[3]!]) {
      const shared = await start(ex);
      const messages = await start(ex, { sharedActs: false });
      const s0 = shared.sharedActBatches;
      for (let i = 0; i < 12; i++) {
        // Two steps per episode: the iterative policy warm-starts the second from its cache.
        const input = { episodeId: `lane-${i >> 1}`, state: [0.01 * i, -0.02, 0.03, 0.1 * (i % 3)] };
        const [a, b] = [await shared.act(input), await messages.act(input)];
        expect([a.cache, a.denoiseSteps, a.actions]).toEqual([b.cache, b.denoiseSteps, b.actions]);
      }
      // A burst of one turn is one shared batch too.
      const burst = await Promise.all([1, 2, 3].map((k) => shared.act({ episodeId: `burst-${k}`, state: [0, 0, 0.01 * k, 0] })));
      expect(burst).toHaveLength(3);
      expect(shared.sharedActBatches - s0).toBe(13);
      expect(messages.sharedActBatches).toBe(0);
    }
  }, 60_000);

  it('rejects every coalesced act at once, naming the slot, when the worker dies', async () => {
    const r = await start(demo[0]!, { slot: 'b' });
    const exits: WorkerExitInfo[] = [];
    r.onExit((i) => exits.push(i));
    r._debugForTest('block', 600_000); // only the kill can settle these
    const pending = Array.from({ length: 5 }, (_, i) => r.act({ episodeId: `e${i}`, state: [0, 0, 0.1, 0] }));
    await new Promise((res) => setImmediate(res)); // the burst has left as one message
    expect(r.actMessages.messages).toBe(1);
    await r._killWorkerForTest();
    for (const p of pending) {
      const e = await rejection(p, ErrorCodes.SWY_ERR_WORKER_DIED);
      expect(e.where).toBe('slot:b');
      expect(e.message).toMatch(/slot 'b' died/);
    }
    expect(exits).toEqual([{ slot: 'b', exitCode: 1, willRestart: true, failedRequests: 5 }]);
    await r.whenReady();
    expect((await r.act({ episodeId: 'e', state: [0, 0, 0.1, 0] })).actions[0]![0]).toBeCloseTo(3.0856, 3);
  });
});

describe('PolicyRunner answer spin (answer-spin.ts)', () => {
  // Budgets are generous (10 ms) so a loaded CI machine still catches answers: what is under test
  // is when the runner spins, not how fast the worker is.
  it('busy-waits for the answer of a lone request, answering exactly as without it', async () => {
    const spinning = await start(demo[0]!, { answerSpin: new AnswerSpin(10_000) });
    const plain = await start(demo[0]!);
    for (let i = 0; i < 30; i++) {
      const input = { episodeId: `spin-${i % 4}`, state: [0.01 * i, -0.02, 0.03, 0.1 * (i % 3)] };
      const [x, y] = [await spinning.act(input), await plain.act(input)];
      expect([x.actions, x.cache, x.denoiseSteps]).toEqual([y.actions, y.cache, y.denoiseSteps]);
    }
    const s = spinning.answerSpins;
    // Most acts (a cold hop past the budget, on a loaded machine, skips a few until the average comes down).
    expect(s.tried).toBeGreaterThanOrEqual(10);
    expect(s.caught).toBeGreaterThanOrEqual(5);
    expect(plain.answerSpins).toEqual({ tried: 0, caught: 0 });
  }, 60_000);

  it('does not spin while another runner of the process has work outstanding, nor with a budget of 0', async () => {
    const shared = new AnswerSpin(10_000);
    const a = await start(demo[0]!, { answerSpin: shared });
    const b = await start(demo[0]!, { answerSpin: shared, slot: 'b' });
    b._debugForTest('block', 2000); // b's act below stays outstanding while a serves
    const held = b.act({ episodeId: 'held', state: [0, 0, 0.1, 0] });
    await new Promise((res) => setImmediate(res));
    for (let i = 0; i < 5; i++) await a.act({ episodeId: `a-${i}`, state: [0, 0, 0.01 * i, 0] });
    expect(a.answerSpins.tried).toBe(0);
    await held;
    // b's act is settled: a is alone again and spins (within a few acts, should a slow hop on a
    // loaded machine have pushed its average past the budget).
    const spinsWithin = async (tag: string): Promise<number> => {
      const t0 = a.answerSpins.tried;
      for (let i = 0; i < 5 && a.answerSpins.tried === t0; i++) await a.act({ episodeId: `${tag}-${i}`, state: [0, 0, 0.02, 0] });
      return a.answerSpins.tried - t0;
    };
    expect(await spinsWithin('a-after')).toBe(1);
    // A closed runner no longer counts: b is blocked again, then closed with an act outstanding.
    b._debugForTest('block', 60_000);
    const orphan = b.act({ episodeId: 'orphan', state: [0, 0, 0.1, 0] }).catch(() => 'rejected');
    await new Promise((res) => setImmediate(res));
    await a.act({ episodeId: 'a-blocked', state: [0, 0, 0.03, 0] });
    expect(a.answerSpins.tried).toBe(1);
    await b.close();
    expect(await orphan).toBe('rejected');
    expect(await spinsWithin('a-last')).toBe(1);

    const off = await start(demo[0]!, { answerSpin: new AnswerSpin(0) });
    for (let i = 0; i < 3; i++) await off.act({ episodeId: `off-${i}`, state: [0, 0, 0.01 * i, 0] });
    expect(off.answerSpins.tried).toBe(0);
    // One CPU (--cpu-affinity 1): the worker could not run while this thread spins.
    let cpus = 1;
    let clock = 0;
    const oneCpu = await start(demo[0]!, { answerSpin: new AnswerSpin(10_000, () => cpus, () => clock) });
    for (let i = 0; i < 3; i++) await oneCpu.act({ episodeId: `one-${i}`, state: [0, 0, 0.01 * i, 0] });
    expect(oneCpu.answerSpins.tried).toBe(0);
    // The mask is read again a second later.
    cpus = 2;
    clock += 999;
    await oneCpu.act({ episodeId: 'one-still', state: [0, 0, 0.05, 0] });
    expect(oneCpu.answerSpins.tried).toBe(0);
    clock += 1;
    await oneCpu.act({ episodeId: 'two', state: [0, 0, 0.06, 0] });
    expect(oneCpu.answerSpins.tried).toBe(1);
  }, 60_000);

  it('stops spinning for a runner whose answers take longer than the budget', async () => {
    // A 1 µs budget: the first answer (tried while the average is unknown) shows the hop is longer.
    const r = await start(demo[0]!, { answerSpin: new AnswerSpin(1) });
    for (let i = 0; i < 10; i++) await r.act({ episodeId: `slow-${i}`, state: [0, 0, 0.01 * i, 0] });
    expect(r.answerSpins.tried).toBe(1);
  });

  it('skips 1, 2, 4 … 64 eligible batches after spins that missed in a row, and none after one that caught', () => {
    const t = new SpinTurns();
    const pattern = (n: number) => Array.from({ length: n }, () => (t.take() ? 'spin' : 'skip')).join(' ');
    expect(pattern(3)).toBe('spin spin spin');
    t.missed();
    expect(pattern(2)).toBe('skip spin');
    t.missed();
    expect(pattern(3)).toBe('skip skip spin');
    t.missed();
    expect(pattern(5)).toBe('skip skip skip skip spin');
    for (let i = 0; i < 10; i++) t.missed();
    expect(pattern(65).split(' ').filter((x) => x === 'skip')).toHaveLength(64);
    t.caught();
    expect(pattern(2)).toBe('spin spin');
    t.missed();
    expect(pattern(2)).toBe('skip spin');
  });

  it('refuses a budget outside 0..10,000 µs', () => {
    expect(() => new AnswerSpin(-1)).toThrow(/0\.\.10000 µs, got -1/);
    expect(() => new AnswerSpin(Number.NaN)).toThrow(RangeError);
  });
});
