/**
 * Main-thread handle on one policy slot: starts the worker, validates inputs, matches replies
 * to requests, and restarts the worker when it dies (pending requests fail at once, never hang).
 *
 * Acts are coalesced. An act that finds the worker idle leaves at the end of the current
 * event-loop turn (setImmediate), together with any others that arrived in that turn; acts that
 * arrive while the worker is answering a message wait on this thread and leave together the
 * moment its answer comes back. So at most one `acts` message is in flight: under load each
 * message carries every request that queued meanwhile (the worker answers them with one batched
 * run), and the fixed price of a message (mostly waking the other thread, tens of µs on a VM)
 * is paid once per batch, not per request. Alone (one robot) an act waits for nothing but the end
 * of its own turn.
 */
import { startModuleWorker } from '../platform/worker.js';
import { Worker, type ResourceLimits } from 'node:worker_threads';
import { SpinTurns, type AnswerSpin } from './answer-spin.js';
import { AbandonedWorkers } from './abandoned-workers.js';
import { newStopFlag, registerStopFlag, requestStop, stopAndWait } from './worker-stop.js';
import { ErrorCodes, SwitchyardError } from '../contract/errors.js';
import type { Slot } from '../contract/index.js';
import { PolicyLoadError } from './load-error.js';
import type { ActInput, ActOutput, PolicyExport, RunnerOptions } from './types.js';
import { CACHE_CODES, SMALL_ARRAY, type FromWorker, type ToWorker, type WorkerInit } from './worker-protocol.js';
import { actChannelViews, CTL, newActChannel, ringDoorbell, writeRequest, type ActChannelViews } from './act-channel.js';

export interface RunnerLogger {
  info(o: object, msg?: string): void;
  warn(o: object, msg?: string): void;
  error(o: object, msg?: string): void;
}

export interface RunnerStartOptions extends RunnerOptions {
  logger?: RunnerLogger;
  /** ONNX Runtime intra-op threads per worker (default 1). */
  intraOpThreads?: number;
  /** Give up on a load that takes longer than this (default 60 s). */
  startTimeoutMs?: number;
  /** First restart delay after a worker death (default 100 ms), doubling per consecutive death. */
  restartBackoffMs?: number;
  /** Upper bound of the restart delay (default 10 s). */
  maxRestartBackoffMs?: number;
  /** Let tests send `debug` messages to the worker. */
  testHooks?: boolean;
  /**
   * A request not answered this long after it was asked (queueing and, for iterative policies,
   * the whole refinement included) fails with SWY_ERR_ACT_TIMEOUT, and the worker is abandoned
   * and replaced. Default 10,000 ms; 0 turns the deadline off.
   */
  actTimeoutMs?: number;
  /** Where abandoned workers are counted (shared by every runner of the process). */
  abandoned?: AbandonedWorkers;
  /** V8 heap limits of the worker thread (ONNX Runtime's native memory is not counted). */
  resourceLimits?: ResourceLimits;
  /**
   * Send small act batches through shared memory (act-channel.ts) instead of messages. Default
   * true; false keeps every act on `postMessage` (for comparison).
   */
  sharedActs?: boolean;
  /**
   * Busy-wait for a fast answer when nothing else is outstanding (answer-spin.ts); shared by the
   * serving runners of a process. None: always wait on the event loop.
   */
  answerSpin?: AnswerSpin;
}

/** Default worker heap limits: a policy worker holds small arrays; ORT's tensors live outside the V8 heap. */
export const WORKER_RESOURCE_LIMITS: ResourceLimits = { maxOldGenerationSizeMb: 512, maxYoungGenerationSizeMb: 64, stackSizeMb: 4 };

export interface WorkerExitInfo {
  slot: Slot;
  exitCode: number;
  /** The uncaught error that killed the worker, when there was one. */
  error?: string;
  /** Whether the runner is going to restart it. */
  willRestart: boolean;
  /** Requests that were in flight and have been rejected. */
  failedRequests: number;
}

type Pending =
  | { kind: 'act'; resolve: (v: ActOutput) => void; reject: (e: SwitchyardError) => void; deadline: number; sent: boolean }
  | { kind: 'batch'; resolve: (v: Float32Array) => void; reject: (e: SwitchyardError) => void };

const NOOP_LOGGER: RunnerLogger = { info() {}, warn() {}, error() {} };

/** What a GPU machine needs when the CUDA provider fails (spec §3: the CUDA build is opt-in). */
export const CUDA_FIX =
  'install the CUDA build of ONNX Runtime (ONNXRUNTIME_NODE_INSTALL=cuda12 npm ci) with a matching NVIDIA driver and CUDA 12 / cuDNN 9 libraries, or pass --device cpu';

/** The worker's entry module, beside this file (see `startModuleWorker` for .ts vs .js). */
const WORKER_ENTRY = new URL('./policy-worker', import.meta.url).href;

function newWorker(workerData: WorkerInit, name: string, resourceLimits: ResourceLimits, actChannel: SharedArrayBuffer | null): Worker {
  const stopFlag = newStopFlag();
  const data: WorkerInit = { ...workerData, stopFlag };
  if (actChannel !== null) data.actChannel = actChannel;
  const w = startModuleWorker(WORKER_ENTRY, import.meta.url, data, name, { resourceLimits });
  registerStopFlag(w, stopFlag);
  return w;
}

/** `Atomics.waitAsync` (Node >= 16; this project's TypeScript lib predates it). */
const waitAsync = (Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number): { async: false; value: string } | { async: true; value: Promise<string> } }).waitAsync;

/** How long `close()` waits for the worker thread to stop before leaving it to end on its own. */
const CLOSE_WAIT_MS = 2000;

/** How long a worker must stay up before its death no longer counts as "consecutive". */
const STABLE_MS = 30_000;

export class PolicyRunner {
  readonly export: PolicyExport;
  readonly slot: Slot;
  private readonly opts: RunnerStartOptions;
  private readonly log: RunnerLogger;
  private readonly init: WorkerInit;
  private readonly obsDim: number;
  private readonly chunk: number;
  private readonly actionDim: number;
  private worker: Worker | null = null;
  /** The current worker's shared lane (null: messages only). A replaced worker's lane is dropped with it. */
  private channel: ActChannelViews | null = null;
  /** Seq of the batch out on the shared lane (0: none), and its ids. */
  private sharedSeq = 0;
  private sharedIds: number[] = [];
  private nextSharedSeq = 0;
  private sharedSent = 0;
  private readonly useShared: boolean;
  private readonly spin: AnswerSpin | null;
  /** When the shared batch out now was written (performance.now()). */
  private sharedAt = 0;
  /** Exponential average of send → answer on the shared lane, µs (0 until the first answer). */
  private hopUs = 0;
  private spinTries = 0;
  private spinCaught = 0;
  private readonly spinTurns = new SpinTurns();
  private isReady = false;
  private providerName = '';
  private lastFallbackReason: string | undefined;
  private lastLoadMs = 0;
  private lastWarmupMs = 0;
  private lastStartMs = 0;
  private closed = false;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  /** Acts waiting for the end of this event-loop turn to leave as one message. */
  private outIds: number[] = [];
  private outEpisodes: (string | null)[] = [];
  private outStates: number[] = [];
  private flushScheduled = false;
  /** `acts` messages sent and not yet answered (0 or 1; see the class comment). */
  private actsInFlight = 0;
  private readonly flushBound = (): void => {
    this.flushScheduled = false;
    this.flushActs();
  };
  private messagesSent = 0;
  private actsSent = 0;
  private readonly exitListeners = new Set<(info: WorkerExitInfo) => void>();
  private readonly expectedExits = new WeakSet<Worker>();
  private readyWaiters: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  private restartTimer: NodeJS.Timeout | null = null;
  private readyAt = 0;
  private consecutiveDeaths = 0;
  private restartCount = 0;
  private crashCount = 0;
  private abandonCount = 0;
  private readonly actTimeoutMs: number;
  private readonly abandoned: AbandonedWorkers;
  private watchdog: NodeJS.Timeout | null = null;
  private watchdogAt = Infinity;
  private readonly onWatchdog = (): void => {
    this.watchdog = null;
    this.watchdogAt = Infinity;
    this.checkDeadlines();
  };

  private constructor(opts: RunnerStartOptions) {
    this.opts = opts;
    this.export = opts.export;
    this.slot = opts.slot;
    this.log = opts.logger ?? NOOP_LOGGER;
    this.actTimeoutMs = opts.actTimeoutMs ?? 10_000;
    this.useShared = opts.sharedActs ?? true;
    this.spin = opts.answerSpin ?? null;
    this.spin?.join(this);
    this.abandoned = opts.abandoned ?? new AbandonedWorkers();
    const m = opts.export.manifest;
    this.obsDim = m.observation.dim;
    this.chunk = m.action.chunk;
    this.actionDim = m.action.dim;
    this.init = {
      modelPath: opts.export.modelPath,
      manifest: m,
      device: opts.device,
      slot: opts.slot,
      episodeCacheSize: opts.episodeCacheSize ?? 1024,
      rtc: opts.rtc ?? false,
      intraOpThreads: opts.intraOpThreads ?? 1,
      testHooks: opts.testHooks ?? false,
    };
  }

  /**
   * Start a worker for this export and wait until it has loaded and warmed up. Rejects with a
   * `PolicyLoadError` (SWY_ERR_MODEL_LOAD, the worker's reason, and the failing `phase`) when
   * the model cannot serve.
   */
  static async start(opts: RunnerStartOptions): Promise<PolicyRunner> {
    const runner = new PolicyRunner(opts);
    await runner.spawn();
    return runner;
  }

  get ready(): boolean {
    return this.isReady && !this.closed;
  }
  /** The execution provider in use (`cpu` or `cuda`); empty until the first load. */
  get provider(): string {
    return this.providerName;
  }
  /** Why `--device auto` fell back to the CPU at the last load; undefined when it did not. */
  get fallbackReason(): string | undefined {
    return this.lastFallbackReason;
  }
  /** Session creation time of the last load, in the worker (ms). */
  get loadMs(): number {
    return this.lastLoadMs;
  }
  /** Warm-up time of the last load (random-input runs, ms). */
  get warmupMs(): number {
    return this.lastWarmupMs;
  }
  /** Wall time of the last start: worker spawn, load and warm-up (ms). */
  get startMs(): number {
    return this.lastStartMs;
  }
  /** Successful automatic restarts since start. */
  get restarts(): number {
    return this.restartCount;
  }
  /** Unexpected worker deaths since start. */
  get crashes(): number {
    return this.crashCount;
  }
  /** Workers given up on after a request ran past `actTimeoutMs`. */
  get abandonedWorkers(): number {
    return this.abandonCount;
  }
  get inFlight(): number {
    return this.pending.size;
  }
  /** Shared-lane answers waited for by spinning: tried, and caught within the budget. */
  get answerSpins(): { tried: number; caught: number } {
    return { tried: this.spinTries, caught: this.spinCaught };
  }

  /** Act batches that went through the shared lane (act-channel.ts) instead of a message. */
  get sharedActBatches(): number {
    return this.sharedSent;
  }
  /** `acts` batches sent to the worker (on either lane) and the acts they carried (their ratio: the coalescing). */
  get actMessages(): { messages: number; acts: number } {
    return { messages: this.messagesSent, acts: this.actsSent };
  }

  /** Called whenever the worker dies unexpectedly. Returns an unsubscribe function. */
  onExit(cb: (info: WorkerExitInfo) => void): () => void {
    this.exitListeners.add(cb);
    return () => this.exitListeners.delete(cb);
  }

  /** Resolves when the worker is (again) ready; rejects if the runner is closed first. */
  whenReady(): Promise<void> {
    if (this.closed) return Promise.reject(this.closedError());
    if (this.ready) return Promise.resolve();
    return new Promise((resolve, reject) => this.readyWaiters.push({ resolve, reject }));
  }

  act(input: ActInput): Promise<ActOutput> {
    const s = input.state;
    const dim = this.obsDim;
    if (!Array.isArray(s) || s.length !== dim) {
      const got = Array.isArray(s) ? `${s.length} values` : s === null ? 'null' : typeof s;
      return Promise.reject(
        new SwitchyardError(
          ErrorCodes.SWY_ERR_INVALID_INPUT,
          `state must be an array of ${dim} numbers (observation.dim of ${this.export.manifest.policy}@${this.export.manifest.version}), got ${got}.`,
          'state',
        ),
      );
    }
    for (let i = 0; i < dim; i++) {
      const v = s[i];
      // Finite, and still finite as the float32 the model gets.
      if (typeof v !== 'number' || !Number.isFinite(Math.fround(v))) {
        return Promise.reject(this.badState(i, v));
      }
    }
    const w = this.worker;
    if (w === null || !this.isReady || this.closed) return Promise.reject(this.unavailableError());
    const id = this.nextId++;
    return new Promise<ActOutput>((resolve, reject) => {
      this.pending.set(id, { kind: 'act', resolve, reject, deadline: performance.now() + this.actTimeoutMs, sent: false });
      this.outIds.push(id);
      this.outEpisodes.push(input.episodeId);
      const out = this.outStates;
      for (let i = 0; i < dim; i++) out.push(s[i]!);
      // With a message in flight, its answer sends this one.
      if (!this.flushScheduled && this.actsInFlight === 0) {
        this.flushScheduled = true;
        setImmediate(this.flushBound);
      }
    });
  }

  /**
   * Run `n` observations (`obs` is `[n * obs_dim]`, row-major) without episode state. Returns
   * `[n * chunk * action_dim]`. Iterative policies run their full `steps` from zeros.
   */
  runBatch(obs: Float32Array, n: number): Promise<Float32Array> {
    if (!Number.isInteger(n) || n <= 0) {
      return Promise.reject(new SwitchyardError(ErrorCodes.SWY_ERR_INVALID_INPUT, `n must be a positive integer, got ${n}.`, 'n'));
    }
    if (!(obs instanceof Float32Array) || obs.length !== n * this.obsDim) {
      return Promise.reject(
        new SwitchyardError(
          ErrorCodes.SWY_ERR_INVALID_INPUT,
          `obs must be a Float32Array of n × observation.dim = ${n * this.obsDim} values, got ${obs instanceof Float32Array ? obs.length : typeof obs}.`,
          'obs',
        ),
      );
    }
    for (let i = 0; i < obs.length; i++) {
      if (!Number.isFinite(obs[i]!)) {
        return Promise.reject(
          new SwitchyardError(
            ErrorCodes.SWY_ERR_INVALID_INPUT,
            `obs[${i}] (observation ${Math.floor(i / this.obsDim)}) is ${obs[i]}; every value must be finite.`,
            'obs',
          ),
        );
      }
    }
    const w = this.worker;
    if (w === null || !this.isReady || this.closed) return Promise.reject(this.unavailableError());
    // Acts asked for earlier go first (unless a batch of acts is out: those wait for its answer).
    if (this.actsInFlight === 0) this.flushActs();
    const copy = obs.slice();
    const id = this.nextId++;
    return new Promise<Float32Array>((resolve, reject) => {
      this.pending.set(id, { kind: 'batch', resolve, reject });
      const msg: ToWorker = { type: 'batch', id, obs: copy, n };
      w.postMessage(msg, [copy.buffer]);
      if (this.channel !== null) ringDoorbell(this.channel);
    });
  }

  /** Stop the worker. Pending requests reject with SWY_ERR_NOT_SERVING. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.isReady = false;
    this.spin?.leave(this);
    if (this.restartTimer !== null) {
      clearTimeout(this.restartTimer);
      this.restartTimer = null;
    }
    this.disarmWatchdog();
    this.rejectAll(() => this.closedError());
    for (const w of this.readyWaiters.splice(0)) w.reject(this.closedError());
    const w = this.worker;
    const ch = this.channel;
    this.worker = null;
    this.dropChannel();
    if (w !== null) {
      this.expectedExits.add(w);
      // A worker stuck in native code stops only when the runtime returns: do not wait on it.
      const stopped = stopAndWait(w, CLOSE_WAIT_MS);
      if (ch !== null) ringDoorbell(ch);
      await stopped;
    }
  }

  /** Tests only: terminate the worker as if it had crashed. */
  _killWorkerForTest(): Promise<number> {
    const w = this.worker;
    if (w === null) return Promise.resolve(-1);
    return w.terminate();
  }

  /** Tests only: send a `debug` message (needs `testHooks`). */
  _debugForTest(action: 'exit' | 'throw' | 'block', ms?: number): void {
    const msg: ToWorker = ms === undefined ? { type: 'debug', action } : { type: 'debug', action, ms };
    this.worker?.postMessage(msg);
    if (this.channel !== null) ringDoorbell(this.channel);
  }

  // ---- internals ----

  private badState(i: number, v: unknown): SwitchyardError {
    const shown = typeof v === 'number' ? String(v) : v === null ? 'null' : typeof v;
    return new SwitchyardError(
      ErrorCodes.SWY_ERR_INVALID_INPUT,
      `state[${i}] must be a finite number${typeof v === 'number' ? ' within float32 range' : ''}, got ${shown}.`,
      'state',
    );
  }

  private closedError(): SwitchyardError {
    return new SwitchyardError(ErrorCodes.SWY_ERR_NOT_SERVING, `The policy runner for slot '${this.slot}' is closed.`, `slot:${this.slot}`);
  }

  private unavailableError(): SwitchyardError {
    if (this.closed) return this.closedError();
    return new SwitchyardError(
      ErrorCodes.SWY_ERR_SLOT_RESTARTING,
      `The policy worker for slot '${this.slot}' is being replaced (${this.crashCount} crash${this.crashCount === 1 ? '' : 'es'}, ${this.abandonCount} abandoned after a timeout so far) and is not serving yet; retry shortly.`,
      `slot:${this.slot}`,
    );
  }

  // ---- deadlines ----

  private armWatchdog(at: number): void {
    if (at === Infinity || at >= this.watchdogAt) return;
    if (this.watchdog !== null) clearTimeout(this.watchdog);
    this.watchdogAt = at;
    this.watchdog = setTimeout(this.onWatchdog, Math.max(0, at - performance.now()) + 1);
    this.watchdog.unref?.();
  }

  private disarmWatchdog(): void {
    if (this.watchdog !== null) clearTimeout(this.watchdog);
    this.watchdog = null;
    this.watchdogAt = Infinity;
  }

  /** Abandons the worker when a request it holds is past its deadline; re-arms for the next one otherwise. */
  private checkDeadlines(): void {
    const now = performance.now();
    let next = Infinity;
    for (const p of this.pending.values()) {
      if (p.kind !== 'act' || !p.sent) continue;
      if (p.deadline <= now) return this.abandonWorker();
      if (p.deadline < next) next = p.deadline;
    }
    this.armWatchdog(next);
  }

  /**
   * The worker holds a request past its deadline: it is stuck (in native code, where it cannot
   * be interrupted). Its requests fail now, the thread is left to end when the runtime returns,
   * and a fresh worker is started and warmed at once; until it is ready the slot answers 503.
   */
  private abandonWorker(): void {
    const w = this.worker;
    if (w === null || this.closed) return;
    this.disarmWatchdog();
    this.worker = null;
    this.dropChannel();
    this.isReady = false;
    this.expectedExits.add(w);
    this.abandonCount++;
    const timedOut = (): SwitchyardError =>
      new SwitchyardError(
        ErrorCodes.SWY_ERR_ACT_TIMEOUT,
        `Slot '${this.slot}' did not answer within ${this.actTimeoutMs} ms (--act-timeout-ms); its worker is stuck and was abandoned, and a fresh one is warming up.`,
        `slot:${this.slot}`,
      );
    const all = [...this.pending.values()];
    this.pending.clear();
    this.outIds = [];
    this.outEpisodes = [];
    this.outStates = [];
    this.actsInFlight = 0;
    let failed = 0;
    for (const p of all) {
      if (p.kind === 'act' && p.sent) {
        failed++;
        p.reject(timedOut());
      } else p.reject(this.unavailableError());
    }
    this.log.error(
      { slot: this.slot, modelVersion: this.export.modelVersion, actTimeoutMs: this.actTimeoutMs, timedOutRequests: failed, abandoned: this.abandonCount },
      'policy_runner.worker_abandoned',
    );
    this.abandoned.add(w, this.slot);
    this.spawn(true).then(
      () => this.log.info({ slot: this.slot, restarts: this.restartCount }, 'policy_runner.replaced_abandoned_worker'),
      (e: unknown) => {
        if (this.closed) return;
        this.consecutiveDeaths++;
        this.log.error({ slot: this.slot, error: (e as Error).message }, 'policy_runner.restart_failed');
        this.scheduleRestart();
      },
    );
  }

  /** Sends the acts gathered this turn as one message. */
  private flushActs(): void {
    const ids = this.outIds;
    if (ids.length === 0) return;
    // One batch of acts out at a time, on either lane: its answer sends the next.
    if (this.actsInFlight > 0) return;
    const episodes = this.outEpisodes;
    const states = this.outStates;
    this.outIds = [];
    this.outEpisodes = [];
    this.outStates = [];
    const w = this.worker;
    if (w === null || !this.isReady || this.closed) {
      for (const id of ids) {
        const p = this.pending.get(id);
        if (p === undefined) continue;
        this.pending.delete(id);
        p.reject(this.unavailableError());
      }
      return;
    }
    this.messagesSent++;
    this.actsSent += ids.length;
    this.actsInFlight++;
    if (this.actTimeoutMs > 0) {
      let first = Infinity;
      for (const id of ids) {
        const p = this.pending.get(id);
        if (p?.kind !== 'act') continue;
        p.sent = true;
        if (p.deadline < first) first = p.deadline;
      }
      this.armWatchdog(first);
    }
    const ch = this.channel;
    if (ch !== null) {
      const seq = ++this.nextSharedSeq;
      if (writeRequest(ch, seq, ids, episodes, states, ids.length * this.chunk * this.actionDim)) {
        this.sharedSeq = seq;
        this.sharedIds = ids;
        this.sharedSent++;
        this.sharedAt = performance.now();
        if (this.shouldSpin(ids.length)) this.spinFor(ch, seq);
        this.awaitShared(ch, seq);
        return;
      }
    }
    if (states.length <= SMALL_ARRAY) {
      const msg: ToWorker = { type: 'acts', ids, episodes, states };
      w.postMessage(msg);
      if (ch !== null) ringDoorbell(ch);
    } else {
      const f = new Float32Array(states);
      const msg: ToWorker = { type: 'acts', ids, episodes, states: f };
      w.postMessage(msg, [f.buffer]);
      if (ch !== null) ringDoorbell(ch);
    }
  }

  private shouldSpin(n: number): boolean {
    const spin = this.spin;
    return spin !== null && this.hopUs <= spin.budgetUs && spin.onlyThese(n) && spin.active && this.spinTurns.take();
  }

  /** Checks the answer word until it says `seq` or the budget is spent (answer-spin.ts says when and why). */
  private spinFor(ch: ActChannelViews, seq: number): void {
    this.spinTries++;
    const until = this.sharedAt + this.spin!.budgetUs / 1000;
    const ctl = ch.ctl;
    do {
      if (Atomics.load(ctl, CTL.RES) === seq) {
        this.spinCaught++;
        this.spinTurns.caught();
        return;
      }
    } while (performance.now() < until);
    this.spinTurns.missed();
  }

  /** Waits (without blocking this thread) for the worker to answer shared request `seq`. */
  private awaitShared(ch: ActChannelViews, seq: number): void {
    const res = Atomics.load(ch.ctl, CTL.RES);
    if (res === seq) return this.onShared(ch, seq);
    const w = waitAsync(ch.ctl, CTL.RES, res);
    if (w.async) void w.value.then(() => this.awaitShared(ch, seq));
    else queueMicrotask(() => this.awaitShared(ch, seq));
  }

  private onShared(ch: ActChannelViews, seq: number): void {
    // A lane dropped with its worker (death, timeout, close) answers nothing any more.
    if (this.channel !== ch || this.sharedSeq !== seq) return;
    this.sharedSeq = 0;
    const hop = (performance.now() - this.sharedAt) * 1000;
    this.hopUs = this.hopUs === 0 ? hop : this.hopUs * 0.8 + hop * 0.2;
    const ids = this.sharedIds;
    this.sharedIds = [];
    // A failed act: the worker sent the whole answer as a message.
    if (Atomics.load(ch.ctl, CTL.VIA_MESSAGE) === 1) return;
    const n = ids.length;
    // Copies: the next request may be answered into the slot before these are resolved.
    const actions = ch.actions.slice(0, n * this.chunk * this.actionDim);
    const info: number[] = [];
    for (let i = 0; i < n * 3; i++) info.push(ch.info[i]!);
    this.onMessage({ type: 'acts-result', ids, actions, info });
  }

  private dropChannel(): void {
    this.channel = null;
    this.sharedSeq = 0;
    this.sharedIds = [];
  }

  private rejectAll(err: () => SwitchyardError): number {
    this.sharedSeq = 0;
    this.sharedIds = [];
    this.outIds = [];
    this.outEpisodes = [];
    this.outStates = [];
    this.actsInFlight = 0;
    const n = this.pending.size;
    if (n === 0) return 0;
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) p.reject(err());
    return n;
  }

  private onMessage(m: FromWorker): void {
    switch (m.type) {
      case 'acts-result': {
        if (this.actsInFlight > 0) this.actsInFlight--;
        if (this.actsInFlight === 0) this.disarmWatchdog();
        // The acts that queued meanwhile leave first, so the worker can start on them while
        // this thread resolves these.
        if (this.actsInFlight === 0) this.flushActs();
        const { ids, actions: a, info, errors } = m;
        const ad = this.actionDim;
        const n = this.chunk;
        const per = n * ad;
        for (let k = 0; k < ids.length; k++) {
          const id = ids[k]!;
          const p = this.pending.get(id);
          if (p === undefined || p.kind !== 'act') continue;
          this.pending.delete(id);
          const err = errors?.[k];
          if (err) {
            p.reject(new SwitchyardError(err.code, err.message, err.where));
            continue;
          }
          const base = k * per;
          const actions: number[][] = new Array(n);
          for (let i = 0; i < n; i++) {
            const row: number[] = new Array(ad);
            for (let d = 0; d < ad; d++) row[d] = a[base + i * ad + d]!;
            actions[i] = row;
          }
          const cache = CACHE_CODES[info[k * 3]!] ?? 'none';
          p.resolve({ actions, numActions: n, actionDim: ad, cache, denoiseSteps: info[k * 3 + 1]!, inferMs: info[k * 3 + 2]! });
        }
        return;
      }
      case 'batch-result': {
        const p = this.pending.get(m.id);
        if (p === undefined || p.kind !== 'batch') return;
        this.pending.delete(m.id);
        p.resolve(m.actions);
        return;
      }
      case 'error': {
        const p = this.pending.get(m.id);
        if (p === undefined) return;
        this.pending.delete(m.id);
        p.reject(new SwitchyardError(m.error.code, m.error.message, m.error.where));
        return;
      }
      default:
        return;
    }
  }

  /** Start a worker; resolves on `ready`, rejects (SWY_ERR_MODEL_LOAD) on `fatal`, exit or timeout. */
  private spawn(isRestart = false): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const started = performance.now();
      const sab = this.useShared ? newActChannel() : null;
      const w = newWorker(this.init, `switchyard-policy-${this.slot}`, this.opts.resourceLimits ?? WORKER_RESOURCE_LIMITS, sab);
      this.worker = w;
      this.dropChannel();
      if (sab !== null) this.channel = actChannelViews(sab);
      let settled = false;
      let lastError: Error | undefined;
      const where = this.export.modelPath;
      const fail = (err: SwitchyardError): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.expectedExits.add(w);
        if (this.worker === w) {
          this.worker = null;
          this.dropChannel();
        }
        requestStop(w);
        if (sab !== null) ringDoorbell(actChannelViews(sab));
        reject(err);
      };
      const timeoutMs = this.opts.startTimeoutMs ?? 60_000;
      const timer = setTimeout(() => {
        fail(
          new PolicyLoadError(
            ErrorCodes.SWY_ERR_MODEL_LOAD,
            `The policy worker for slot '${this.slot}' did not finish loading ${where} within ${timeoutMs} ms.`,
            where,
            'load',
          ),
        );
      }, timeoutMs);
      w.on('message', (m: FromWorker) => {
        if (m.type === 'ready') {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          if (this.closed) {
            this.expectedExits.add(w);
            requestStop(w);
            if (sab !== null) ringDoorbell(actChannelViews(sab));
            reject(this.closedError());
            return;
          }
          this.isReady = true;
          this.readyAt = Date.now();
          this.providerName = m.provider;
          this.lastFallbackReason = m.fallbackReason;
          this.lastLoadMs = m.loadMs;
          this.lastWarmupMs = m.warmupMs;
          this.lastStartMs = performance.now() - started;
          if (isRestart) this.restartCount++;
          const info = {
            slot: this.slot,
            modelVersion: this.export.modelVersion,
            provider: m.provider,
            loadMs: Math.round(m.loadMs * 10) / 10,
            warmupMs: Math.round(m.warmupMs * 10) / 10,
            startMs: Math.round(performance.now() - started),
          };
          if (m.fallbackReason !== undefined) {
            // Callers resolve `auto` to `cpu` where no GPU exists (resolveDevice), so reaching here
            // means a GPU is present and its provider failed: say what to install.
            this.log.warn({ ...info, device: this.opts.device, reason: m.fallbackReason, fix: CUDA_FIX }, 'policy_runner.cuda_fallback');
          }
          this.log.info(info, 'policy_runner.ready');
          for (const r of this.readyWaiters.splice(0)) r.resolve();
          resolve();
          return;
        }
        if (m.type === 'fatal') {
          fail(new PolicyLoadError(m.error.code, m.error.message, m.error.where, m.phase ?? 'load', m.provider));
          return;
        }
        this.onMessage(m);
      });
      w.on('error', (e) => {
        lastError = e;
      });
      w.on('exit', (code) => {
        if (!settled) {
          const reason = lastError !== undefined ? `: ${lastError.message}` : '';
          fail(
            new PolicyLoadError(
              ErrorCodes.SWY_ERR_MODEL_LOAD,
              `The policy worker for slot '${this.slot}' exited (code ${code}) while loading ${where}${reason}.`,
              where,
              'load',
            ),
          );
          return;
        }
        if (this.expectedExits.has(w)) return;
        this.onDeath(w, code, lastError);
      });
    });
  }

  private onDeath(w: Worker, code: number, err: Error | undefined): void {
    if (this.worker === w) {
      this.worker = null;
      this.dropChannel();
    }
    this.isReady = false;
    this.crashCount++;
    const reason = err !== undefined ? `: ${err.message}` : '';
    const failed = this.rejectAll(
      () =>
        new SwitchyardError(
          ErrorCodes.SWY_ERR_WORKER_DIED,
          `The policy worker for slot '${this.slot}' died (exit code ${code}${reason}) with this request in flight; it is being restarted.`,
          `slot:${this.slot}`,
        ),
    );
    const willRestart = !this.closed;
    this.log.error(
      { slot: this.slot, modelVersion: this.export.modelVersion, exitCode: code, error: err?.message, failedRequests: failed, willRestart },
      'policy_runner.worker_died',
    );
    const info: WorkerExitInfo = { slot: this.slot, exitCode: code, willRestart, failedRequests: failed };
    if (err !== undefined) info.error = err.message;
    for (const cb of this.exitListeners) {
      try {
        cb(info);
      } catch {
        // a listener's failure must not stop the restart
      }
    }
    if (!willRestart) return;
    if (this.readyAt > 0 && Date.now() - this.readyAt > STABLE_MS) this.consecutiveDeaths = 0;
    this.consecutiveDeaths++;
    this.scheduleRestart();
  }

  private scheduleRestart(): void {
    if (this.closed || this.restartTimer !== null) return;
    const base = this.opts.restartBackoffMs ?? 100;
    const max = this.opts.maxRestartBackoffMs ?? 10_000;
    const delay = Math.min(max, base * 2 ** Math.max(0, this.consecutiveDeaths - 1));
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      if (this.closed) return;
      this.spawn(true).then(
        () => {
          this.log.info({ slot: this.slot, restarts: this.restartCount }, 'policy_runner.restarted');
        },
        (e: unknown) => {
          if (this.closed) return;
          this.consecutiveDeaths++;
          this.log.error({ slot: this.slot, error: (e as Error).message }, 'policy_runner.restart_failed');
          this.scheduleRestart();
        },
      );
    }, delay);
    this.restartTimer.unref?.();
  }
}
