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

function post(msg: FromSummaryWorker, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(msg, transfer);
}

port.on('message', (m: ToSummaryWorker) => {
  try {
    if (m.type === 'chunk') {
      const result = processor.process(new Uint8Array(m.buf, 0, m.length), m.chunkNo, m.final, m.lineBase);
      // The buffer goes back to be read into again: fresh memory for every block costs page faults.
      post({ type: 'chunk-done', result, buf: m.buf }, [m.buf]);
    } else if (m.type === 'finish') {
      post({ type: 'state', state: acc.toState() });
    }
  } catch (e) {
    post({ type: 'error', message: e instanceof Error ? (e.stack ?? e.message) : String(e) });
  }
});
post({ type: 'ready' });
