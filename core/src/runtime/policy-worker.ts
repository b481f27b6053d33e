/**
 * worker_threads entry for one policy slot. Loads and warms up the model (PolicyEngine), reports
 * `ready` (or `fatal` with the reason), then serves `act` and `batch` messages one at a time.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ErrorCodes, toErrorShape } from '../contract/errors.js';
import { loadPhaseOf, PolicyLoadError } from './load-error.js';
import { PolicyEngine } from './policy-engine.js';
import type { FromWorker, ToWorker, WorkerInit } from './worker-protocol.js';

const port = parentPort;
if (port === null) throw new Error('policy-worker must run in a worker thread');
const init = workerData as WorkerInit;

function post(msg: FromWorker, transfer?: ArrayBuffer[]): void {
  port!.postMessage(msg, transfer);
}

function errorShape(e: unknown): ReturnType<typeof toErrorShape> {
  const shape = toErrorShape(e);
  // Anything unexpected while serving is an inference failure of this slot.
  if (shape.code === ErrorCodes.SWY_ERR_INTERNAL) {
    return { code: ErrorCodes.SWY_ERR_INFERENCE, message: `Inference failed: ${e instanceof Error ? e.message : String(e)}` };
  }
  return shape;
}

async function handle(engine: PolicyEngine, msg: ToWorker): Promise<void> {
  switch (msg.type) {
    case 'act': {
      try {
        const r = await engine.act(msg.episodeId, msg.state);
        post(
          { type: 'act-result', id: msg.id, actions: r.actions, cache: r.cache, denoiseSteps: r.denoiseSteps, inferMs: r.inferMs },
          [r.actions.buffer as ArrayBuffer],
        );
      } catch (e) {
        post({ type: 'error', id: msg.id, error: errorShape(e) });
      }
      return;
    }
    case 'batch': {
      try {
        const actions = await engine.batch(msg.obs, msg.n);
        post({ type: 'batch-result', id: msg.id, actions }, [actions.buffer as ArrayBuffer]);
      } catch (e) {
        post({ type: 'error', id: msg.id, error: errorShape(e) });
      }
      return;
    }
    case 'debug': {
      if (!init.testHooks) return;
      if (msg.action === 'exit') process.exit(3);
      if (msg.action === 'throw') {
        setImmediate(() => {
          throw new Error('debug: uncaught exception in policy worker');
        });
      }
      if (msg.action === 'block') {
        const until = Date.now() + (msg.ms ?? 1000);
        while (Date.now() < until) {
          // busy: simulates a stuck native call
        }
      }
      return;
    }
  }
}

async function main(): Promise<void> {
  let engine: PolicyEngine;
  try {
    engine = await PolicyEngine.load({
      modelPath: init.modelPath,
      manifest: init.manifest,
      device: init.device,
      episodeCacheSize: init.episodeCacheSize,
      rtc: init.rtc,
      intraOpThreads: init.intraOpThreads,
    });
  } catch (e) {
    const shape = toErrorShape(e);
    const fatal: FromWorker = {
      type: 'fatal',
      error:
        shape.code === ErrorCodes.SWY_ERR_INTERNAL
          ? { code: ErrorCodes.SWY_ERR_MODEL_LOAD, message: `Loading the model failed: ${e instanceof Error ? e.message : String(e)}` }
          : shape,
      phase: loadPhaseOf(e),
    };
    if (e instanceof PolicyLoadError && e.provider !== undefined) fatal.provider = e.provider;
    post(fatal);
    return;
  }
  // Requests run strictly in arrival order: the session is single-threaded here anyway, and an
  // iterative episode's consecutive requests must see each other's cache entries.
  let chain: Promise<void> = Promise.resolve();
  port!.on('message', (msg: ToWorker) => {
    if (msg.type === 'debug') {
      void handle(engine, msg);
      return;
    }
    chain = chain.then(() => handle(engine, msg));
  });
  const ready: FromWorker = {
    type: 'ready',
    provider: engine.provider,
    loadMs: engine.loadMs,
    warmupMs: engine.warmupMs,
  };
  if (engine.fallbackReason !== undefined) ready.fallbackReason = engine.fallbackReason;
  post(ready);
}

void main();
