import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import type { InferenceSession } from 'onnxruntime-node';
import { readExport } from '../runtime/export.js';
import {
  DEMO_PRODUCTION_VERSION,
  DEMO_VERSIONS,
  GAINS,
  ITER_ALPHA,
  ITER_BETA,
  buildDemoPolicy,
  writeDemoExports,
  type DemoVersion,
} from './cartpole-policies.js';

/** Classic cart-pole, Euler integration (g 9.8, cart 1 kg, pole 0.1 kg, half-length 0.5 m, tau 0.02 s). */
function cartpoleStep(s: number[], force: number): number[] {
  const g = 9.8, mc = 1.0, mp = 0.1, l = 0.5, tau = 0.02;
  const total = mc + mp, pml = mp * l;
  const [x, xd, th, thd] = s as [number, number, number, number];
  const c = Math.cos(th), sn = Math.sin(th);
  const temp = (force + pml * thd * thd * sn) / total;
  const thacc = (g * sn - c * temp) / (l * (4 / 3 - (mp * c * c) / total));
  const xacc = temp - (pml * thacc * c) / total;
  return [x + tau * xd, xd + tau * xacc, th + tau * thd, thd + tau * thacc];
}

const sessions = new Map<DemoVersion, InferenceSession>();
let root: string;

async function direct(version: DemoVersion, s: number[]): Promise<number[]> {
  const sess = sessions.get(version)!;
  const out = await sess.run({ obs: new ort.Tensor('float32', Float32Array.from(s), [1, 4]) });
  return Array.from(out['action']!.data as Float32Array);
}

async function simulate(version: DemoVersion, s0: number[], steps: number): Promise<{ maxTheta: number; maxX: number }> {
  let s = s0;
  let maxTheta = 0;
  let maxX = 0;
  for (let i = 0; i < steps; i++) {
    const [force] = await direct(version, s);
    s = cartpoleStep(s, force!);
    maxTheta = Math.max(maxTheta, Math.abs(s[2]!));
    maxX = Math.max(maxX, Math.abs(s[0]!));
  }
  return { maxTheta, maxX };
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'swy-demo-'));
  for (const v of DEMO_VERSIONS) {
    sessions.set(v, await ort.InferenceSession.create(buildDemoPolicy(v).onnx, { executionProviders: ['cpu'], intraOpNumThreads: 1 }));
  }
});

afterAll(async () => {
  for (const s of sessions.values()) await s.release();
  await rm(root, { recursive: true, force: true });
});

describe('demo exports', () => {
  it('writes one valid export per version, byte-identical when written twice', async () => {
    const dirsA = await writeDemoExports(join(root, 'a'));
    const dirsB = await writeDemoExports(join(root, 'b'));
    expect(dirsA.map((d) => d.split('/').pop())).toEqual([
      'cartpole-balance-1.0.0',
      'cartpole-balance-1.1.0',
      'cartpole-balance-1.2.0',
      'cartpole-balance-2.0.0-iter',
    ]);
    const hashes = new Set<string>();
    for (let i = 0; i < dirsA.length; i++) {
      expect((await readdir(dirsA[i]!)).sort()).toEqual(['policy.onnx', 'switchyard.json']);
      for (const f of ['policy.onnx', 'switchyard.json']) {
        const a = await readFile(join(dirsA[i]!, f));
        const b = await readFile(join(dirsB[i]!, f));
        expect(a.equals(b), `${f} of ${dirsA[i]}`).toBe(true);
      }
      const ea = await readExport(dirsA[i]!);
      const eb = await readExport(dirsB[i]!);
      expect(ea.modelHash).toBe(eb.modelHash);
      expect(ea.modelVersion).toBe(`${ea.manifest.model_id}@${ea.modelHash}`);
      expect(ea.manifest.policy).toBe('cartpole-balance');
      expect(ea.manifest.notes!.length).toBeGreaterThan(20);
      expect(ea.manifest.created_at).toMatch(/^\d{4}-\d\d-\d\dT/);
      hashes.add(ea.modelHash);
    }
    expect(hashes.size).toBe(4);
    // Rewriting in place keeps the same identity.
    await writeDemoExports(join(root, 'a'));
    expect((await readExport(dirsA[0]!)).modelHash).toBe((await readExport(dirsB[0]!)).modelHash);
  });

  it('declares the kinds, chunks and iterative settings the brief asks for', () => {
    expect(DEMO_VERSIONS).toContain(DEMO_PRODUCTION_VERSION);
    const m = Object.fromEntries(DEMO_VERSIONS.map((v) => [v, buildDemoPolicy(v).manifest]));
    expect(m['1.0.0']!.model_id).toBe('cartpole-lqr');
    expect([m['1.0.0']!.kind, m['1.0.0']!.action.chunk]).toEqual(['direct', 1]);
    expect([m['1.1.0']!.kind, m['1.1.0']!.action.chunk]).toEqual(['direct', 1]);
    expect([m['1.2.0']!.kind, m['1.2.0']!.action.chunk]).toEqual(['direct', 4]);
    expect([m['2.0.0-iter']!.kind, m['2.0.0-iter']!.action.chunk]).toEqual(['iterative', 4]);
    expect(m['2.0.0-iter']!.iterative).toEqual({ steps: 8, warm_steps: 2 });
    for (const v of DEMO_VERSIONS) expect(m[v]!.observation).toEqual({ name: 'obs', dim: 4 });
  });
});

describe('demo controllers', () => {
  it('implement their gains with saturation at ±10 N', async () => {
    const s = [0.1, -0.2, 0.03, 0.1];
    const lin = (K: readonly number[]) => K.reduce((a, k, i) => a + k * s[i]!, 0);
    expect((await direct('1.0.0', s))[0]).toBeCloseTo(lin(GAINS.lqr), 4);
    expect((await direct('1.1.0', s))[0]).toBeCloseTo(10 * Math.tanh(lin(GAINS.highGain) / 10), 4);
    const chunk = await direct('1.2.0', s);
    expect(chunk).toHaveLength(4);
    expect(chunk[0]).toBeCloseTo(lin(GAINS.robust), 4);
    // Saturation.
    expect(await direct('1.0.0', [0, 0, 1.5, 0])).toEqual([10]);
    expect((await direct('1.1.0', [0, 0, -1.5, 0]))[0]).toBeGreaterThanOrEqual(-10);
    expect((await direct('1.2.0', [0, 0, 1.5, 0])).every((f) => f <= 10)).toBe(true);
  });

  it('differ: for theta = 0.2 the high-gain controller pushes harder than LQR', async () => {
    const s = [0, 0, 0.2, 0];
    const lqr = (await direct('1.0.0', s))[0]!;
    const high = (await direct('1.1.0', s))[0]!;
    const robust = (await direct('1.2.0', s))[0]!;
    expect(lqr).toBeGreaterThan(0);
    expect(high).toBeGreaterThan(lqr + 2);
    expect(robust).toBeLessThan(lqr);
  });

  it('1.0.0 (LQR) balances from theta0 = 0.05 and keeps the cart on the track', async () => {
    const r = await simulate('1.0.0', [0, 0, 0.05, 0], 400);
    expect(r.maxTheta).toBeLessThan(0.2);
    expect(r.maxX).toBeLessThan(2.4);
  });

  it('1.1.0 holds the pole but lets the cart run off the track where LQR does not', async () => {
    const high = await simulate('1.1.0', [0, 0, 0.2, 0], 400);
    const lqr = await simulate('1.0.0', [0, 0, 0.2, 0], 400);
    expect(high.maxTheta).toBeLessThan(0.25);
    expect(high.maxX).toBeGreaterThan(2.4);
    expect(lqr.maxX).toBeLessThan(2.4);
  });

  it('1.2.0 returns a chunk that decays like the closed loop it predicts', async () => {
    const c = await direct('1.2.0', [0, 0, 0.05, 0]);
    expect(c[0]).toBeGreaterThan(0);
    expect(Math.abs(c[3]!)).toBeLessThan(Math.abs(c[0]!));
  });

  it('2.0.0-iter converges from zeros in its 8 steps to the LQR chunk target', async () => {
    const sess = sessions.get('2.0.0-iter')!;
    const obs = new ort.Tensor('float32', Float32Array.from([0.1, 0, 0.05, 0]), [1, 4]);
    let x: Float32Array = new Float32Array(4);
    const run = async (t: number) => {
      const out = await sess.run({ obs, x: new ort.Tensor('float32', x, [1, 4, 1]), t: new ort.Tensor('float32', Float32Array.of(t), [1, 1]) });
      x = out['x_next']!.data as Float32Array;
    };
    await run(0);
    // One step from zeros moves a fraction ITER_ALPHA of the way.
    const first = Array.from(x);
    for (let k = 1; k < 8; k++) await run(k / 8);
    const target = 0.91 * 0.1 + 30.856 * 0.05; // first action = LQR
    expect(x[0]).toBeCloseTo(target, 2);
    expect(first[0]).toBeCloseTo(ITER_ALPHA * x[0]!, 1);
    // One more step at t = 1 keeps it there (fixed point).
    const before = Array.from(x);
    await run(1);
    for (let i = 0; i < 4; i++) expect(Math.abs(x[i]! - before[i]!)).toBeLessThan(0.01 * (ITER_ALPHA + ITER_BETA) + 1e-3);
  });
});
