/**
 * How a policy worker is stopped. Never with `Worker.terminate()` while it may be inside an ONNX
 * Runtime call: the call keeps running (native code cannot be interrupted), and when it returns
 * into the terminating thread the binding throws a C++ `Napi::Error` that nothing catches, and
 * the whole process aborts (`terminate called after throwing an instance of 'Napi::Error'`,
 * exit 134; reproduced on Node 20 and Node 24 with the hang-loop fixture). The server, or the
 * Electron main process, would die with the one worker it gave up on.
 *
 * Instead every worker gets a shared stop flag. The main thread raises it and posts `stop`; the
 * worker leaves by itself, from JavaScript, at the first point where no native call is running:
 * at once when idle, after the running call otherwise, and before starting any queued work.
 */
import type { Worker } from 'node:worker_threads';

const flags = new WeakMap<Worker, Int32Array>();

/** A fresh flag for one worker (goes into its workerData; shared, not copied). */
export function newStopFlag(): SharedArrayBuffer {
  return new SharedArrayBuffer(4);
}

/** Remembers which flag belongs to `w`. */
export function registerStopFlag(w: Worker, flag: SharedArrayBuffer): void {
  flags.set(w, new Int32Array(flag));
}

/** Asks `w` to exit as soon as it is back in JavaScript. Safe to call more than once. */
export function requestStop(w: Worker): void {
  const view = flags.get(w);
  if (view !== undefined) Atomics.store(view, 0, 1);
  try {
    w.postMessage({ type: 'stop' });
  } catch {
    // The port is already closed: the thread is exiting anyway.
  }
}

/** Worker side: whether the main thread has asked this worker to stop. */
export function stopRequested(flag: SharedArrayBuffer | undefined): boolean {
  return flag !== undefined && Atomics.load(new Int32Array(flag), 0) === 1;
}

/** Resolves when `w` has exited, or after `ms` (a thread stuck in native code may never exit). */
export function stopAndWait(w: Worker, ms: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    w.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    requestStop(w);
  });
}
