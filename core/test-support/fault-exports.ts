import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { attr, buildModel, floatTensor, int64Tensor, node, serializeModel } from '../src/demo/onnx-writer.js';

/** Writes one fixture export: `policy.onnx` and its `switchyard.json` (direct, obs 4, one action). */
async function writeFixtureExport(dir: string, onnx: Uint8Array, manifest: { policy: string; version: string; model_id: string; notes: string }): Promise<string> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'policy.onnx'), onnx);
  const { policy, version, model_id, notes } = manifest;
  const json = { policy, version, model_id, kind: 'direct', observation: { name: 'obs', dim: 4 }, action: { name: 'action', dim: 1, chunk: 1 }, notes };
  await writeFile(join(dir, 'switchyard.json'), JSON.stringify(json, null, 2));
  return dir;
}

/**
 * The body of a `Loop` that only spends time: `acc = sin(tanh(acc))` each step, condition kept.
 * `accScalar` false leaves the accumulator's shape open (a tensor of the outer graph's shape).
 */
function spinBody(name: string, accScalar: boolean): onnxProto.onnx.IGraphProto {
  const T = onnxProto.onnx.TensorProto.DataType;
  const scalar = (n: string, elemType: number): onnxProto.onnx.IValueInfoProto => ({ name: n, type: { tensorType: { elemType, shape: { dim: [] } } } });
  const acc = (n: string): onnxProto.onnx.IValueInfoProto => (accScalar ? scalar(n, T.FLOAT) : { name: n, type: { tensorType: { elemType: T.FLOAT } } });
  return {
    name,
    input: [scalar('i', T.INT64), scalar('cond_in', T.BOOL), acc('acc_in')],
    output: [scalar('cond_out', T.BOOL), acc('acc_out')],
    node: [
      { name: 'keep_going', opType: 'Identity', input: ['cond_in'], output: ['cond_out'] },
      { name: 'tanh', opType: 'Tanh', input: ['acc_in'], output: ['acc_t'] },
      { name: 'step', opType: 'Sin', input: ['acc_t'], output: ['acc_out'] },
    ],
  };
}

/**
 * A real ONNX policy that fails on some inputs: action = sqrt(limit - state[0]). It is finite
 * while state[0] < limit (warm-up uses small random numbers) and NaN above it, so a test can
 * make a slot fail on demand, through the real worker and the real runtime.
 */
export async function writeFlakyExport(dir: string, opts: { limit?: number; version?: string } = {}): Promise<string> {
  const limit = opts.limit ?? 100;
  const onnx = serializeModel({
    graphName: 'flaky_sqrt',
    inputs: [{ name: 'obs', shape: ['N', 4] }],
    outputs: [{ name: 'action', shape: ['N', 1] }],
    initializers: [floatTensor('pick', [4, 1], [-1, 0, 0, 0]), floatTensor('limit', [], [limit])],
    nodes: [node('MatMul', ['obs', 'pick'], ['neg_x']), node('Add', ['neg_x', 'limit'], ['room']), node('Sqrt', ['room'], ['action'])],
  });
  return writeFixtureExport(dir, onnx, {
    policy: 'flaky',
    version: opts.version ?? '0.0.1',
    model_id: 'flaky-sqrt',
    notes: `Test fixture: NaN whenever state[0] > ${limit}.`,
  });
}

/**
 * A real ONNX policy that hangs on demand: an ONNX `Loop` whose trip count is `|state[0]|`
 * (rounded down). Warm-up and `doctor` use small random observations (a handful of iterations),
 * so it loads and passes; `state[0] = 1e8` keeps ONNX Runtime inside native code for minutes,
 * where no JavaScript can interrupt it. The action is always 0.
 */
export function hangModel(): Uint8Array {
  const T = onnxProto.onnx.TensorProto.DataType;
  const outer = buildModel({
    graphName: 'hang_loop',
    inputs: [{ name: 'obs', shape: ['N', 4] }],
    outputs: [{ name: 'action', shape: ['N', 1] }],
    initializers: [floatTensor('pick', [4, 1], [1, 0, 0, 0]), floatTensor('zero', [], [0])],
    nodes: [
      node('MatMul', ['obs', 'pick'], ['x0']),
      node('Abs', ['x0'], ['ax0']),
      node('ReduceMax', ['ax0'], ['m'], { keepdims: attr.int(0) }),
      node('Cast', ['m'], ['trips'], { to: attr.int(T.INT64) }),
      node('Mul', ['x0', 'zero'], ['acc0']),
      node('Loop', ['trips', '', 'acc0'], ['acc']),
      node('Mul', ['acc', 'zero'], ['action']),
    ],
  });
  const body = spinBody('hang_body', false);
  const loop = outer.graph!.node!.find((n) => n.opType === 'Loop')!;
  loop.attribute = [{ name: 'body', type: onnxProto.onnx.AttributeProto.AttributeType.GRAPH, g: body }];
  return onnxProto.onnx.ModelProto.encode(outer).finish();
}

/** Writes `hangModel()` as an export directory (observation dim 4, one action). */
export async function writeHangExport(dir: string, opts: { version?: string; policy?: string } = {}): Promise<string> {
  return writeFixtureExport(dir, hangModel(), {
    policy: opts.policy ?? 'hang',
    version: opts.version ?? '0.0.1',
    model_id: 'hang-loop',
    notes: 'Test fixture: an ONNX Loop that runs |state[0]| times.',
  });
}

/**
 * A deliberately slow but good policy: the demo's 1.0.0 LQR controller (so every cart-pole case
 * runs its full 500 steps and passes) plus `depth` products of a `[N, width] × [width, width]`
 * matrix, through tanh, summed and multiplied by zero into the action. The extra work never changes
 * an action, so the policy evaluates exactly like 1.0.0, only far slower: per batched step of the
 * 300-case demo suite about 300·width²·2·depth floating-point operations (5 GFLOP at the defaults),
 * so a gate that evaluates it runs long enough to be cancelled on any machine. A single
 * request (doctor, `/act`) costs width²·2·depth (17 MFLOP): milliseconds.
 */
export function slowModel(opts: { width?: number; depth?: number } = {}): Uint8Array {
  const width = opts.width ?? 512;
  const depth = opts.depth ?? 32;
  const w0 = Array.from({ length: 4 * width }, (_, i) => 0.05 * Math.sin(i + 1));
  const w = Array.from({ length: width * width }, (_, i) => (0.5 / Math.sqrt(width)) * Math.sin(0.37 * i + 1));
  const nodes = [node('MatMul', ['obs', 'K'], ['force_raw']), node('MatMul', ['obs', 'W0'], ['h0'])];
  for (let i = 1; i <= depth; i++) {
    nodes.push(node('MatMul', [`h${i - 1}`, 'W'], [`m${i}`]), node('Tanh', [`m${i}`], [`h${i}`]));
  }
  nodes.push(
    node('ReduceSum', [`h${depth}`], ['busy'], { keepdims: attr.int(0) }),
    node('Mul', ['busy', 'zero'], ['nothing']),
    node('Add', ['force_raw', 'nothing'], ['force']),
    node('Clip', ['force', 'force_min', 'force_max'], ['action']),
  );
  return serializeModel({
    graphName: 'slow_lqr',
    inputs: [{ name: 'obs', shape: ['N', 4] }],
    outputs: [{ name: 'action', shape: ['N', 1] }],
    initializers: [
      floatTensor('K', [4, 1], [0.91, 2.143, 30.856, 7.879]),
      floatTensor('W0', [4, width], w0),
      floatTensor('W', [width, width], w),
      floatTensor('zero', [], [0]),
      floatTensor('force_min', [], [-10]),
      floatTensor('force_max', [], [10]),
    ],
    nodes,
  });
}

/** Writes `slowModel()` as a `cartpole-balance` export (the version label given). */
export async function writeSlowExport(dir: string, opts: { version?: string; width?: number; depth?: number } = {}): Promise<string> {
  return writeFixtureExport(dir, slowModel(opts), {
    policy: 'cartpole-balance',
    version: opts.version ?? '9.9.9-slow',
    model_id: 'cartpole-lqr-slow',
    notes: 'Test fixture: the 1.0.0 LQR controller plus work that changes no action, so its evaluation is slow.',
  });
}

/**
 * A good policy whose every call is slow whatever the machine: the 1.0.0 controller's action plus
 * zero times the result of an ONNX `Loop` of `trips` scalar steps (each step is a subgraph run by
 * ONNX Runtime, some microseconds however fast the CPU). With the default 100,000 trips a call
 * takes about a second here, so doctor's timed runs can be watched, and cancelled, from the page.
 */
export function busyLoopModel(trips = 100_000): Uint8Array {
  const outer = buildModel({
    graphName: 'busy_loop_lqr',
    inputs: [{ name: 'obs', shape: ['N', 4] }],
    outputs: [{ name: 'action', shape: ['N', 1] }],
    initializers: [
      floatTensor('K', [4, 1], [0.91, 2.143, 30.856, 7.879]),
      int64Tensor('trips', [], [trips]),
      floatTensor('zero', [], [0]),
      floatTensor('force_min', [], [-10]),
      floatTensor('force_max', [], [10]),
    ],
    nodes: [
      node('MatMul', ['obs', 'K'], ['force_raw']),
      node('Loop', ['trips', '', 'zero'], ['acc']),
      node('Mul', ['acc', 'zero'], ['nothing']),
      node('Add', ['force_raw', 'nothing'], ['force']),
      node('Clip', ['force', 'force_min', 'force_max'], ['action']),
    ],
  });
  const body = spinBody('busy_body', true);
  const loop = outer.graph!.node!.find((n) => n.opType === 'Loop')!;
  loop.attribute = [{ name: 'body', type: onnxProto.onnx.AttributeProto.AttributeType.GRAPH, g: body }];
  return onnxProto.onnx.ModelProto.encode(outer).finish();
}

/** Writes `busyLoopModel()` as a `cartpole-balance` export (the version label given). */
export async function writeBusyExport(dir: string, opts: { version?: string; trips?: number } = {}): Promise<string> {
  return writeFixtureExport(dir, busyLoopModel(opts.trips), {
    policy: 'cartpole-balance',
    version: opts.version ?? '9.9.9-busy',
    model_id: 'cartpole-lqr-busy',
    notes: 'Test fixture: the 1.0.0 LQR controller plus a slow loop that changes no action, so each call is slow.',
  });
}
