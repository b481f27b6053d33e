/**
 * The baseline of spec §10: a minimal fastify server that calls the same ONNX model in-process
 * (on its main thread) on POST /act. No routing, no metrics, no validation beyond what it needs to
 * build the tensor, no worker thread. Run as a child process by act-bench.ts:
 *
 *   node --import tsx bench/lib/minimal-server.ts <export-dir>
 *
 * Prints one JSON line `{"event":"listening","act":"http://127.0.0.1:PORT/act"}` on stdout when
 * it is ready, and exits 0 on SIGTERM (so `--cpu-prof` profiles are written).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Fastify from 'fastify';
import ort from 'onnxruntime-node';

interface Manifest {
  observation: { name: string; dim: number };
  action: { name: string; dim: number; chunk: number };
}

async function main(): Promise<void> {
  const dir = process.argv[2];
  if (!dir) throw new Error('usage: minimal-server.ts <export-dir>');
  const m = JSON.parse(readFileSync(join(dir, 'switchyard.json'), 'utf8')) as Manifest;
  // The same session options Switchyard's policy worker uses, so only the server differs.
  const session = await ort.InferenceSession.create(join(dir, 'policy.onnx'), {
    executionProviders: ['cpu'],
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
  });
  const dim = m.observation.dim;
  const ad = m.action.dim;
  const chunk = m.action.chunk;
  const dims = [1, dim];
  const fetches = [m.action.name];

  const app = Fastify({ logger: false });
  app.post('/act', async (req, reply) => {
    const state = (req.body as { state?: unknown } | null)?.state;
    if (!Array.isArray(state) || state.length !== dim) return reply.status(422).send({ error: 'state' });
    const obs = new Float32Array(dim);
    for (let i = 0; i < dim; i++) obs[i] = Number(state[i]);
    const out = await session.run({ [m.observation.name]: new ort.Tensor('float32', obs, dims) }, fetches);
    const a = out[m.action.name]!.data as Float32Array;
    const actions: number[][] = [];
    for (let i = 0; i < chunk; i++) actions.push(Array.from(a.subarray(i * ad, (i + 1) * ad)));
    return { actions, num_actions: chunk, action_dim: ad };
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  const port = addr && typeof addr === 'object' ? addr.port : 0;
  process.stdout.write(JSON.stringify({ event: 'listening', act: `http://127.0.0.1:${port}/act` }) + '\n');
  const stop = (): void => {
    void app.close().finally(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
