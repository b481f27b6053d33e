/**
 * The demo policies for the cart-pole (spec §9): ONNX controllers written from TypeScript.
 *
 * Observation `obs` [N, 4] = (x, x_dot, theta, theta_dot); action: force in newtons, [-10, 10].
 * Sign convention (classic cart-pole): theta > 0 means the pole leans towards +x, and a positive
 * force pushes the cart towards +x, so a positive theta gain catches the pole.
 *
 * Versions of `cartpole-balance` (their behaviour really differs):
 * - `1.0.0`      LQR (Q = diag(1, 1, 10, 1), R = 1), direct, chunk 1, saturated with Clip.
 * - `1.1.0`      high gain on the pole angle, almost none on the cart: catches large angles but
 *                lets the cart wander off (it leaves the ±2.4 m track from theta0 = 0.2).
 *                direct, chunk 1, saturated with 10·tanh(u/10).
 * - `1.2.0`      low-gain LQR (R = 5: less sensitive to sensor noise), direct, chunk 4: the four
 *                actions follow the linearized closed loop forward.
 * - `2.0.0-iter` iterative (flow-matching analogue), chunk 4: x_next = x + a(t)·(target(obs) − x)
 *                where target is the 1.0.0 LQR rolled forward four steps; steps 8, warm_steps 2.
 *
 * Everything is deterministic: the same code writes the same bytes (same model hash).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Manifest } from '../runtime/types.js';
import { floatTensor, int64Tensor, node, serializeModel, type ModelSpec } from './onnx-writer.js';

export const DEMO_POLICY = 'cartpole-balance';
export const DEMO_PRODUCTION_VERSION = '1.0.0';
export const FORCE_LIMIT = 10;

/** Physical parameters of the demo cart-pole (classic control values). */
export const CARTPOLE_PARAMS = {
  gravity: 9.8,
  massCart: 1.0,
  massPole: 0.1,
  /** Half the pole's length. */
  length: 0.5,
  tau: 0.02,
} as const;

/** force = K · (x, x_dot, theta, theta_dot), before saturation. */
export const GAINS = {
  lqr: [0.91, 2.143, 30.856, 7.879],
  highGain: [0.05, 0.3, 80, 15],
  robust: [0.41, 1.225, 26.569, 6.746],
} as const;

export type DemoVersion = '1.0.0' | '1.1.0' | '1.2.0' | '2.0.0-iter';
export const DEMO_VERSIONS: readonly DemoVersion[] = ['1.0.0', '1.1.0', '1.2.0', '2.0.0-iter'];

/** The iterative model's step size: a(t) = ITER_ALPHA + ITER_BETA · t, t in [0, 1). */
export const ITER_ALPHA = 0.45;
export const ITER_BETA = 0.3;

export interface DemoPolicy {
  manifest: Manifest;
  onnx: Uint8Array;
}

/**
 * Continuous-time linearization of the cart-pole around upright, discretized with forward Euler
 * (the same integrator the demo environment uses): s' = A s + B u.
 */
export function linearizedCartpole(): { A: number[][]; B: number[] } {
  const { gravity: g, massCart, massPole, length: l, tau } = CARTPOLE_PARAMS;
  const total = massCart + massPole;
  const poleMassLength = massPole * l;
  const denom = l * (4 / 3 - massPole / total);
  const aThTh = g / denom;
  const bTh = -1 / (total * denom);
  const Ac = [
    [0, 1, 0, 0],
    [0, 0, (-poleMassLength * aThTh) / total, 0],
    [0, 0, 0, 1],
    [0, 0, aThTh, 0],
  ];
  const Bc = [0, 1 / total - (poleMassLength * bTh) / total, 0, bTh];
  const A = Ac.map((row, i) => row.map((v, j) => (i === j ? 1 : 0) + tau * v));
  const B = Bc.map((v) => tau * v);
  return { A, B };
}

/**
 * The `[4, chunk]` matrix whose column k maps the current state to the k-th action of a chunk
 * predicted by rolling the linearized closed loop (A + B K) forward k steps: u_k = K (A + BK)^k s.
 */
export function chunkMatrix(K: readonly number[], chunk: number): number[] {
  const { A, B } = linearizedCartpole();
  const closed = A.map((row, i) => row.map((v, j) => v + B[i]! * K[j]!));
  // rowVec_k = K (A+BK)^k, built iteratively: rowVec_{k+1} = rowVec_k (A+BK)
  const cols: number[][] = [];
  let rowVec = K.slice();
  for (let k = 0; k < chunk; k++) {
    cols.push(rowVec);
    rowVec = [0, 1, 2, 3].map((j) => rowVec.reduce((s, v, i) => s + v * closed[i]![j]!, 0));
  }
  // Row-major [4, chunk]: W[i][k] = cols[k][i]
  const W: number[] = [];
  for (let i = 0; i < 4; i++) for (let k = 0; k < chunk; k++) W.push(cols[k]![i]!);
  return W;
}

const OBS = { name: 'obs', shape: ['N', 4] as (number | string)[] };
const LIMITS = [floatTensor('force_min', [], [-FORCE_LIMIT]), floatTensor('force_max', [], [FORCE_LIMIT])];

function linearClipModel(name: string, K: readonly number[]): ModelSpec {
  return {
    graphName: name,
    inputs: [OBS],
    outputs: [{ name: 'action', shape: ['N', 1] }],
    nodes: [node('MatMul', ['obs', 'K'], ['force_raw']), node('Clip', ['force_raw', 'force_min', 'force_max'], ['action'])],
    initializers: [floatTensor('K', [4, 1], K), ...LIMITS],
  };
}

function tanhModel(name: string, K: readonly number[]): ModelSpec {
  return {
    graphName: name,
    inputs: [OBS],
    outputs: [{ name: 'action', shape: ['N', 1] }],
    nodes: [
      node('MatMul', ['obs', 'K_scaled'], ['u_scaled']),
      node('Tanh', ['u_scaled'], ['u_unit']),
      node('Mul', ['u_unit', 'force_max'], ['action']),
    ],
    initializers: [floatTensor('K_scaled', [4, 1], K.map((k) => k / FORCE_LIMIT)), floatTensor('force_max', [], [FORCE_LIMIT])],
  };
}

function chunkModel(name: string, K: readonly number[], chunk: number): ModelSpec {
  return {
    graphName: name,
    inputs: [OBS],
    outputs: [{ name: 'action', shape: ['N', chunk, 1] }],
    nodes: [
      node('MatMul', ['obs', 'W_chunk'], ['forces_flat']),
      node('Reshape', ['forces_flat', 'chunk_shape'], ['forces']),
      node('Clip', ['forces', 'force_min', 'force_max'], ['action']),
    ],
    initializers: [floatTensor('W_chunk', [4, chunk], chunkMatrix(K, chunk)), int64Tensor('chunk_shape', [3], [-1, chunk, 1]), ...LIMITS],
  };
}

function iterativeModel(name: string, K: readonly number[], chunk: number): ModelSpec {
  return {
    graphName: name,
    inputs: [OBS, { name: 'x', shape: ['N', chunk, 1] }, { name: 't', shape: ['N', 1] }],
    outputs: [{ name: 'x_next', shape: ['N', chunk, 1] }],
    nodes: [
      node('MatMul', ['obs', 'W_chunk'], ['target_flat']),
      node('Reshape', ['target_flat', 'chunk_shape'], ['target_raw']),
      node('Clip', ['target_raw', 'force_min', 'force_max'], ['target']),
      node('Reshape', ['t', 't_shape'], ['t3']),
      node('Mul', ['t3', 'beta'], ['bt']),
      node('Add', ['bt', 'alpha'], ['step']),
      node('Sub', ['target', 'x'], ['delta']),
      node('Mul', ['delta', 'step'], ['update']),
      node('Add', ['x', 'update'], ['x_next']),
    ],
    initializers: [
      floatTensor('W_chunk', [4, chunk], chunkMatrix(K, chunk)),
      int64Tensor('chunk_shape', [3], [-1, chunk, 1]),
      int64Tensor('t_shape', [3], [-1, 1, 1]),
      floatTensor('alpha', [], [ITER_ALPHA]),
      floatTensor('beta', [], [ITER_BETA]),
      ...LIMITS,
    ],
  };
}

function baseManifest(version: DemoVersion, modelId: string, createdAt: string, notes: string): Manifest {
  return {
    policy: DEMO_POLICY,
    version,
    model_id: modelId,
    kind: 'direct',
    observation: { name: 'obs', dim: 4 },
    action: { name: 'action', dim: 1, chunk: 1 },
    notes,
    created_at: createdAt,
  };
}

const OBS_LABELS = ['x', 'x_dot', 'theta', 'theta_dot'];

/** Build one demo policy (manifest + ONNX bytes) in memory. */
export function buildDemoPolicy(version: DemoVersion): DemoPolicy {
  switch (version) {
    case '1.0.0': {
      const manifest = baseManifest(
        version,
        'cartpole-lqr',
        '2025-01-06T09:00:00.000Z',
        'LQR state feedback (Q = diag(1, 1, 10, 1), R = 1) on the Euler-linearized cart-pole; force clipped to ±10 N. One action per request.',
      );
      manifest.metadata = { env: 'cartpole', controller: 'lqr', gains: [...GAINS.lqr], obs_labels: OBS_LABELS, force_limit: FORCE_LIMIT };
      return { manifest, onnx: serializeModel(linearClipModel('cartpole_lqr', GAINS.lqr)) };
    }
    case '1.1.0': {
      const manifest = baseManifest(
        version,
        'cartpole-highgain',
        '2025-02-03T09:00:00.000Z',
        'High-gain pole controller (theta gain 80, theta_dot 15) with almost no cart-position feedback, saturated as 10·tanh(u/10). Recovers large angles fast but lets the cart drift far from the centre.',
      );
      manifest.metadata = { env: 'cartpole', controller: 'high-gain', gains: [...GAINS.highGain], obs_labels: OBS_LABELS, force_limit: FORCE_LIMIT };
      return { manifest, onnx: serializeModel(tanhModel('cartpole_highgain', GAINS.highGain)) };
    }
    case '1.2.0': {
      const manifest = baseManifest(
        version,
        'cartpole-robust-chunk4',
        '2025-03-03T09:00:00.000Z',
        'Low-gain LQR (Q = diag(1, 1, 10, 1), R = 5), less sensitive to sensor noise. Returns a chunk of 4 actions predicted by rolling the linearized closed loop forward; force clipped to ±10 N.',
      );
      manifest.action.chunk = 4;
      manifest.metadata = { env: 'cartpole', controller: 'lqr-robust', gains: [...GAINS.robust], obs_labels: OBS_LABELS, force_limit: FORCE_LIMIT };
      return { manifest, onnx: serializeModel(chunkModel('cartpole_robust_chunk4', GAINS.robust, 4)) };
    }
    case '2.0.0-iter': {
      const manifest = baseManifest(
        version,
        'cartpole-iter-chunk4',
        '2025-04-07T09:00:00.000Z',
        `Iterative refinement head (flow-matching analogue): x_next = x + (${ITER_ALPHA} + ${ITER_BETA}·t)·(target(obs) − x), target = the 1.0.0 LQR rolled forward 4 steps. 8 steps from zeros; 2 steps from a warm start.`,
      );
      manifest.kind = 'iterative';
      manifest.action = { name: 'x_next', dim: 1, chunk: 4 };
      manifest.iterative = { steps: 8, warm_steps: 2 };
      manifest.metadata = { env: 'cartpole', controller: 'iterative-lqr', gains: [...GAINS.lqr], obs_labels: OBS_LABELS, force_limit: FORCE_LIMIT };
      return { manifest, onnx: serializeModel(iterativeModel('cartpole_iter_chunk4', GAINS.lqr, 4)) };
    }
  }
}

/** Serialize a manifest the way exports store it (stable key order, trailing newline). */
export function manifestJson(m: Manifest): string {
  return JSON.stringify(m, null, 2) + '\n';
}

/**
 * Write every demo version as an export directory `<rootDir>/cartpole-balance-<version>/`
 * holding `policy.onnx` and `switchyard.json`. Returns the directories in version order.
 */
export async function writeDemoExports(rootDir: string): Promise<string[]> {
  const dirs: string[] = [];
  for (const version of DEMO_VERSIONS) {
    const { manifest, onnx } = buildDemoPolicy(version);
    const dir = join(rootDir, `${DEMO_POLICY}-${version}`);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'policy.onnx'), onnx);
    await writeFile(join(dir, 'switchyard.json'), manifestJson(manifest));
    dirs.push(dir);
  }
  return dirs;
}
