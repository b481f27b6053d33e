/**
 * worker_threads entry for one policy slot. Loads and warms up the model (PolicyInference), reports
 * `ready` (or `fatal` with the reason), then serves `acts` and `batch` messages in arrival order.
 * `acts` messages that arrive while the worker is busy are merged and run together (one batched
 * ONNX run where the model allows), and answered with one `acts-result`.
 */
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { actChannelViews, answer, CTL, MAX_ACTION_VALUES, readRequest, waitDoorbell, type ActChannelViews } from './act-channel.js';
import { ErrorCodes, SwitchyardError, toErrorShape, type SwitchyardErrorShape } from '../contract/errors.js';
import { loadPhaseOf, PolicyLoadError } from './load-error.js';
import { PolicyInference } from './policy-inference.js';
import { stopRequested } from './worker-stop.js';
import { CACHE_CODES, SMALL_ARRAY, type FromWorker, type ToWorker, type WorkerInit } from './worker-protocol.js';

const port = parentPort;
if (port === null) throw new Error('policy-worker must run in a worker thread');
const init = workerData as WorkerInit;

/**
 * The worker leaves only from JavaScript, never while ONNX Runtime is running (worker-stop.ts):
 * the main thread raises the shared flag and posts `stop`; the message wakes an idle worker, the
 * flag stops a busy one before its next piece of work.
 */
let loading = true;
function leaveIfStopped(): void {
  if (stopRequested(init.stopFlag)) process.exit(0);
}
port.on('message', (msg: ToWorker) => {
  if (msg.type === 'stop' && !loading) process.exit(0);
});

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

const CACHE_CODE: Record<string, number> = Object.fromEntries(CACHE_CODES.map((c, i) => [c, i]));

interface ActsAnswer {
  /** `[n * chunk * action_dim]`; a failed act's row is zeros. */
  flat: Float32Array;
  info: number[];
  errors?: (SwitchyardErrorShape | null)[];
}

/** Runs coalesced acts; each act fails on its own. */
async function runActs(engine: PolicyInference, n: number, episodes: (string | null)[], states: ArrayLike<number>): Promise<ActsAnswer> {
  const per = init.manifest.action.chunk * init.manifest.action.dim;
  // Arrays built by push stay packed, which structured clone writes densely (a holey one, e.g.
  // `new Array(n)`, is written key by key).
  const info: number[] = [];
  for (let i = 0; i < n * 3; i++) info.push(0);
  let errors: (SwitchyardErrorShape | null)[] | undefined;
  const fail = (i: number, e: unknown): void => {
    errors ??= new Array<SwitchyardErrorShape | null>(n).fill(null);
    errors[i] = errorShape(e);
  };
  const flat = new Float32Array(n * per);
  try {
    const obs = states instanceof Float32Array ? states : new Float32Array(states);
    const results = await engine.actMany(episodes, obs);
    for (let i = 0; i < n; i++) {
      const r = results[i];
      if (r === undefined || r instanceof SwitchyardError) {
        fail(i, r ?? new Error('no result'));
        continue;
      }
      flat.set(r.actions, i * per);
      info[i * 3] = CACHE_CODE[r.cache] ?? 0;
      info[i * 3 + 1] = r.denoiseSteps;
      info[i * 3 + 2] = r.inferMs;
    }
  } catch (e) {
    for (let i = 0; i < n; i++) fail(i, e);
  }
  const out: ActsAnswer = { flat, info };
  if (errors !== undefined) out.errors = errors;
  return out;
}

/** Answers coalesced acts with one `acts-result` message. */
function postActs(ids: number[], a: ActsAnswer): void {
  const flat = a.flat;
  const small = flat.length <= SMALL_ARRAY;
  let actions: number[] | Float32Array = flat;
  if (small) {
    const plain: number[] = [];
    for (let i = 0; i < flat.length; i++) plain.push(flat[i]!);
    actions = plain;
  }
  const msg: FromWorker = { type: 'acts-result', ids, actions, info: a.info };
  if (a.errors !== undefined) msg.errors = a.errors;
  try {
    post(msg, small ? undefined : [flat.buffer as ArrayBuffer]);
  } catch (e) {
    // Every act must be answered (the runner holds later acts until this answer comes).
    const error = errorShape(e);
    post({ type: 'acts-result', ids, actions: [], info: a.info, errors: ids.map(() => error) });
  }
}

async function handleActs(engine: PolicyInference, ids: number[], episodes: (string | null)[], states: ArrayLike<number>): Promise<void> {
  postActs(ids, await runActs(engine, ids.length, episodes, states));
}

/** Serves the request in the shared slot; answers in the slot, or by message when an act failed. */
async function handleShared(engine: PolicyInference, ch: ActChannelViews, seq: number): Promise<void> {
  const req = readRequest(ch, init.manifest.observation.dim);
  const a = await runActs(engine, req.ids.length, req.episodes, req.states);
  if (a.errors === undefined && a.flat.length <= MAX_ACTION_VALUES) {
    ch.actions.set(a.flat);
    for (let i = 0; i < a.info.length; i++) ch.info[i] = a.info[i]!;
    answer(ch, seq, false);
    return;
  }
  postActs(req.ids, a);
  answer(ch, seq, true);
}

/** Takes the next message off the queue; consecutive `acts` messages become one. */
function nextWork(queue: ToWorker[]): ToWorker {
  const first = queue.shift()!;
  if (first.type !== 'acts' || queue.length === 0 || queue[0]!.type !== 'acts') return first;
  const ids = [...first.ids];
  const episodes = [...first.episodes];
  const states: number[] = Array.from(first.states);
  while (queue.length > 0 && queue[0]!.type === 'acts') {
    const m = queue.shift() as Extract<ToWorker, { type: 'acts' }>;
    for (const id of m.ids) ids.push(id);
    for (const e of m.episodes) episodes.push(e);
    for (let i = 0; i < m.states.length; i++) states.push(m.states[i]!);
  }
  return { type: 'acts', ids, episodes, states };
}

async function handle(engine: PolicyInference, msg: ToWorker): Promise<void> {
  switch (msg.type) {
    case 'acts':
      await handleActs(engine, msg.ids, msg.episodes, msg.states);
      return;
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
  let engine: PolicyInference;
  try {
    engine = await PolicyInference.load({
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
    loading = false;
    leaveIfStopped();
    post(fatal);
    return;
  }
  loading = false;
  leaveIfStopped();
  // Requests run strictly in arrival order: the session is single-threaded here anyway, and an
  // iterative episode's consecutive requests must see each other's cache entries (actMany keeps
  // that order inside a merged batch).
  const queue: ToWorker[] = [];
  let busy = false;
  const drain = async (): Promise<void> => {
    busy = true;
    try {
      while (queue.length > 0) {
        leaveIfStopped();
        await handle(engine, nextWork(queue));
      }
      leaveIfStopped();
    } finally {
      busy = false;
    }
  };
  const ch = init.actChannel ? actChannelViews(init.actChannel) : null;
  const onPortMessage = (msg: ToWorker): void => {
    if (msg.type === 'stop') {
      // Taken off the port by the shared loop, the top-level 'stop' listener never sees it.
      if (ch !== null) process.exit(0);
      return;
    }
    if (msg.type === 'debug') {
      void handle(engine, msg);
      return;
    }
    queue.push(msg);
    if (ch === null && !busy) void drain();
  };
  port!.on('message', onPortMessage);
  const ready: FromWorker = {
    type: 'ready',
    provider: engine.provider,
    loadMs: engine.loadMs,
    warmupMs: engine.warmupMs,
  };
  if (engine.fallbackReason !== undefined) ready.fallbackReason = engine.fallbackReason;
  // Read before `ready` goes out: the runner may write its first request the moment it arrives.
  const answered = ch !== null ? Atomics.load(ch.ctl, CTL.REQ) : 0;
  post(ready);
  if (ch !== null) await serveShared(engine, ch, queue, onPortMessage, answered);
}

/** Idle, the worker sleeps on the doorbell at most this long before letting its event loop run. */
const IDLE_WAIT_MS = 50;

/**
 * The worker's loop with a shared lane (act-channel.ts): the shared slot first (the runner has
 * at most one acts batch out, on either lane), then messages in arrival order; asleep in
 * `Atomics.wait` when there is nothing to do. The runner rings the doorbell for a request, a
 * message or a stop; the timeout bounds how long anything else waits (the stop flag is checked
 * every turn).
 */
async function serveShared(engine: PolicyInference, ch: ActChannelViews, queue: ToWorker[], onPortMessage: (m: ToWorker) => void, answered: number): Promise<void> {
  let done = answered;
  for (;;) {
    leaveIfStopped();
    const wake = Atomics.load(ch.ctl, CTL.WAKE);
    const req = Atomics.load(ch.ctl, CTL.REQ);
    if (req !== done) {
      done = req;
      await handleShared(engine, ch, req);
      continue;
    }
    // Messages that arrived while this loop held the thread (the 'message' event takes the others).
    for (let m = receiveMessageOnPort(port!); m !== undefined; m = receiveMessageOnPort(port!)) onPortMessage(m.message as ToWorker);
    if (queue.length > 0) {
      await handle(engine, nextWork(queue));
      // A debug message may have scheduled work on the event loop.
      await new Promise<void>((r) => setImmediate(r));
      continue;
    }
    if (!waitDoorbell(ch, wake, IDLE_WAIT_MS)) await new Promise<void>((r) => setImmediate(r));
  }
}

void main();
