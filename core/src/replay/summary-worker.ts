/**
 * worker_threads entry for the parallel summary pass: processes the blocks of lines it is sent
 * (`ChunkProcessor`) and, when told to finish, sends its accumulator's state back to be merged.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ChunkProcessor, SummaryAccumulator } from './summary-core.js';
import type { SummaryWorkerInit, ToSummaryWorker, FromSummaryWorker } from './summary-pool.js';

const port = parentPort;
if (port === null) throw new Error('summary-worker must run in a worker thread');
const init = workerData as SummaryWorkerInit;
const acc = new SummaryAccumulator(init.accumulator);
const processor = new ChunkProcessor(acc, init.processor);

function post(msg: FromSummaryWorker): void {
  port!.postMessage(msg);
}

port.on('message', (m: ToSummaryWorker) => {
  try {
    if (m.type === 'chunk') {
      post({ type: 'chunk-done', result: processor.process(new Uint8Array(m.buf), m.chunkNo, m.final, m.lineBase) });
    } else if (m.type === 'finish') {
      post({ type: 'state', state: acc.toState() });
    }
  } catch (e) {
    post({ type: 'error', message: e instanceof Error ? (e.stack ?? e.message) : String(e) });
  }
});
post({ type: 'ready' });
