/**
 * The trace's sealing thread: serializes and chains the records the trace writer posts, and
 * posts the sealed lines back in order. It holds only the chain's last hash; the writer keeps
 * every batch until its answer arrives, so if this thread dies the writer re-seals them itself
 * from the last hash it received.
 *
 * It runs at the process's priority. At nice 10 it starved whenever the serving threads kept every
 * CPU busy, and the records waiting for it stayed in the serving thread's heap: with full images
 * (~22 KB a record) that showed as 2-4x the requests over 5 ms at 8 connections on 2 CPUs.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { sealBatch, sealReply, type SealerInit, type SealRequest } from './seal-batch.js';

const port = parentPort;
if (port === null) throw new Error('trace-sealer-worker must run in a worker thread');
const init = workerData as SealerInit;
let prevHash = init.prevHash;

port.on('message', (m: SealRequest) => {
  const sealed = sealBatch(prevHash, m.items, init.redaction);
  prevHash = sealed.hash;
  const { reply, transfer } = sealReply(m.id, sealed);
  port.postMessage(reply, transfer);
});
