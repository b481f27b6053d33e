/**
 * Child-process fixture for worker-stop.test.ts: puts a real policy worker inside a long ONNX
 * Runtime call (the hang-loop export), gives up on it the way the server does (`abandon`: the
 * act deadline passes; `close`: the slot is closed), then waits for the native call to return.
 * Before worker-stop.ts this process aborted there (exit 134, `Napi::Error`); it must print
 * `survived` and exit 0.
 *
 * Usage: node --import tsx stop-while-native.ts <abandon|close> <exportDir> <trips>
 */
import { AbandonedWorkers } from '../src/runtime/abandoned-workers.js';
import { readExport } from '../src/runtime/export.js';
import { PolicyRunner } from '../src/runtime/policy-runner.js';
import { liveWorkerThreads } from '../src/platform/worker.js';

const [mode, dir, tripsArg] = process.argv.slice(2);
const trips = Number(tripsArg);
const abandoned = new AbandonedWorkers({ max: 4 });
const runner = await PolicyRunner.start({ export: await readExport(dir!), slot: 'a', device: 'cpu', actTimeoutMs: 200, abandoned, restartBackoffMs: 20 });
const started = Date.now();
const hung = runner.act({ episodeId: null, state: [trips, 0, 0, 0] }).then(
  () => 'answered',
  (e: unknown) => (e as { code?: string }).code ?? String(e),
);
if (mode === 'close') {
  await new Promise((r) => setTimeout(r, 100));
  await runner.close();
}
const outcome = await hung;
process.stdout.write(`outcome ${outcome}\n`);
// Wait until every worker thread this process started has exited, i.e. the native call returned.
while (liveWorkerThreads() > (mode === 'abandon' ? 1 : 0)) {
  if (Date.now() - started > 60_000) {
    process.stdout.write(`still ${liveWorkerThreads()} threads after 60 s\n`);
    process.exit(2);
  }
  await new Promise((r) => setTimeout(r, 50));
}
process.stdout.write(`native call returned after ${Date.now() - started} ms; abandoned alive ${abandoned.alive}\n`);
if (mode === 'abandon') {
  await runner.whenReady();
  const again = await runner.act({ episodeId: null, state: [1, 0, 0, 0] });
  process.stdout.write(`fresh worker answered ${again.actions.length} action(s)\n`);
  await runner.close();
}
await new Promise((r) => setTimeout(r, 300));
process.stdout.write('survived\n');
