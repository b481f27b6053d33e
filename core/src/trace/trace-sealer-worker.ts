/**
 * The trace's sealing thread: serializes and chains the records the trace writer posts, and
 * posts the sealed lines back in order. It holds only the chain's last hash; the writer keeps
 * every batch until its answer arrives, so if this thread dies the writer re-seals them itself
 * from the last hash it received.
 */
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { sealBatch, sealReply, type SealerInit, type SealRequest } from './seal-batch.js';

const port = parentPort;
if (port === null) throw new Error('trace-sealer-worker must run in a worker thread');
const init = workerData as SealerInit;
let prevHash = init.prevHash;

// Lower this thread's priority (Linux keeps a nice value per thread; /proc/thread-self names it):
// on a machine with fewer cores than busy threads, sealing a batch must not preempt the thread
// answering /act or a policy worker. It still gets the idle time, which is all it needs.
if (init.nice !== undefined && init.nice > 0) {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(tid) && tid > 0) setPriority(tid, init.nice);
  } catch {
    // not Linux, or /proc not mounted: the thread keeps the process's priority
  }
}

port.on('message', (m: SealRequest) => {
  const sealed = sealBatch(prevHash, m.items, init.redaction);
  prevHash = sealed.hash;
  const { reply, transfer } = sealReply(m.id, sealed);
  port.postMessage(reply, transfer);
});
