import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { floatTensor, node, serializeModel } from '../demo/onnx-writer.js';

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
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'policy.onnx'), onnx);
  await writeFile(
    join(dir, 'switchyard.json'),
    JSON.stringify(
      {
        policy: 'flaky',
        version: opts.version ?? '0.0.1',
        model_id: 'flaky-sqrt',
        kind: 'direct',
        observation: { name: 'obs', dim: 4 },
        action: { name: 'action', dim: 1, chunk: 1 },
        notes: `Test fixture: NaN whenever state[0] > ${limit}.`,
      },
      null,
      2,
    ),
  );
  return dir;
}
