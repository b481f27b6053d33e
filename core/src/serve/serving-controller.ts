import {
  ErrorCodes,
  SwitchyardError,
  type ActRecorder,
  type ActRequest,
  type ActResponse,
  type DrainState,
  type ServingState,
  type ServingStats,
  type ServingEventKind,
  type Slot,
  type SlotStats,
  type SplitChange,
} from '../contract/index.js';
import { actionDivergence } from '../domain/divergence.js';
import { ShadowDivergenceWindow } from './shadow-divergence.js';
import { Router, type RouteDecision } from '../domain/routing.js';
import type { Clock } from '../platform/clock.js';
import { iso } from '../platform/clock.js';
import type { Logger } from '../platform/logger.js';
import type { ActInput, ActOutput, PolicyExport } from '../runtime/types.js';
import type { MetricSlot, RequestOutcome, ServingMetrics, SlotMetricChildren } from './metrics.js';
import { classifyFailure, ServingError } from './serving-errors.js';

/** What the controller needs of a loaded policy; `PolicyRunner` is the real one. */
export interface SlotRunner {
  readonly export: PolicyExport;
  readonly ready: boolean;
  /** The execution provider the model runs on (`cpu`, `cuda`). */
  readonly provider?: string;
  act(input: ActInput): Promise<ActOutput>;
  close(): Promise<void>;
}

export interface SlotSpec {
  slot: Slot;
  /** `policy@label` for a registered version, the export directory otherwise. */
  ref: string;
  runner: SlotRunner;
}

interface SlotRuntime {
  spec: SlotSpec;
  consecutiveFailures: number;
  failures: number;
  drained: boolean;
  inFlight: number;
  // Window since the last stats snapshot; read and reset off the hot path.
  windowLatencies: number[];
  windowRequests: number;
  windowErrors: number;
  windowHits: number;
  windowMisses: number;
  totalRequests: number;
  totalErrors: number;
  totalHits: number;
  totalMisses: number;
  /** Largest max-abs divergence from the primary seen so far (shadow slot only). */
  maxDivergence: number;
  workerCrashes: number;
  requestFailures: number;
  lastError: { at: string; code: string; message: string; crash: boolean } | null;
  /** Latencies of answered requests, newest kept; never reset (the canary reads it). */
  latency: LatencyRing;
  metricSlot: MetricSlot;
  metrics: SlotMetricChildren;
}

/** Cumulative per-slot numbers (never reset by `snapshot()`), for the canary and shadow evidence. */
export interface SlotCounters {
  slot: Slot;
  versionRef: string;
  modelVersion: string;
  /** Answered plus failed requests. */
  requests: number;
  errors: number;
  /** Latency samples recorded so far: a mark for `latencySamples`. */
  latencyCount: number;
  drained: boolean;
  /** Largest shadow divergence (max abs) from the primary; 0 for other slots. */
  maxDivergence: number;
}

/** The hidden warm standby of single-policy mode: loaded, not routed (the rollback target). */
export interface StandbyState {
  versionRef: string;
  modelVersion: string;
  ready: boolean;
}

/** A bounded ring of the newest latency samples, with a running count as a mark. */
export class LatencyRing {
  private readonly buf: Float64Array;
  count = 0;
  constructor(readonly capacity = 4096) {
    this.buf = new Float64Array(capacity);
  }
  push(v: number): void {
    this.buf[this.count % this.capacity] = v;
    this.count++;
  }
  /** Samples recorded after mark `after` (a previous `count`), at most the newest `capacity`. */
  since(after: number): number[] {
    const from = Math.max(after, this.count - this.capacity, 0);
    const out: number[] = [];
    for (let i = from; i < this.count; i++) out.push(this.buf[i % this.capacity]!);
    return out;
  }
}

export interface ServingControllerOptions {
  clock: Clock;
  logger: Logger;
  metrics: ServingMetrics;
  maxConsecutiveCrashes?: number;
  rtc?: boolean;
  /** Called whenever the state (split, drain, readiness) changes. */
  onStateChange?: (state: ServingState) => void;
  /** Most shadow requests waiting at once; beyond it shadow answers are skipped and counted. */
  maxShadowInFlight?: number;
  /** Max abs difference above which a shadow answer counts as diverging (default 0.1). */
  shadowThreshold?: number;
  /** Called for each serving event (slot version change, split change, drain, restore): the journal records them. */
  onEvent?: (e: ServingEventInput) => void;
  /** An operator's split changes become one event once the split has rested this long (default 1 s; 0: every change). */
  operatorSplitQuietMs?: number;
}

/** A serving event before the journal gives it an id and a time. */
export interface ServingEventInput {
  kind: ServingEventKind;
  slot: Slot | null;
  message: string;
}

/** Why a split changed, as the caller says it (the controller adds the time and the split). */
export interface SplitCause {
  cause: SplitChange['cause'];
  detail: string;
}

/**
 * Routes `/act` between loaded slots, counts consecutive failures, drains a slot that
 * keeps failing, and keeps per-slot windows for the live charts.
 */
export class ServingController {
  private readonly slots = new Map<Slot, SlotRuntime>();
  private mode: 'off' | 'single' | 'ab' = 'off';
  private readonly router: Router;
  private readonly maxCrashes: number;
  private readonly rtc: boolean;
  private lastSnapshotAt: number;
  private requestCounter = 0;
  private seq = 0;
  private shadow: SlotRuntime | null = null;
  private recorder: ActRecorder | null = null;
  private standby: SlotSpec | null = null;
  /** Requests in flight per runner, so a replaced runner is closed only once it is idle. */
  private readonly runnerLoad = new Map<SlotRunner, number>();
  private readonly idleWaiters = new Map<SlotRunner, (() => void)[]>();
  shadowSkipped = 0;
  private shadowWindow: ShadowDivergenceWindow | null = null;
  /** The newest window `snapshot()` took, for `state()` (issue 13: divergence is part of the state). */
  private lastShadow: ServingStats['shadow'] | null = null;
  private vram: ServingState['vram'] = null;
  private lastSplitChange: SplitChange | null = null;
  private pendingSplitEvent: ReturnType<typeof setTimeout> | null = null;
  /** The policy whose production a single-policy server follows (set by the lifecycle runtime). */
  followsProduction: string | null = null;
  actUrl: string | null = null;

  constructor(private readonly opts: ServingControllerOptions) {
    this.maxCrashes = opts.maxConsecutiveCrashes ?? 5;
    this.rtc = opts.rtc ?? false;
    this.router = new Router({
      split: 50,
      onFirstDegraded: (requestId) => opts.logger.warn({ request_id: requestId }, `policy_router.degraded_mode request_id=${requestId}`),
    });
    this.lastSnapshotAt = opts.clock.monotonicMs();
    opts.metrics.split.set(50);
  }

  /** Single-policy mode: one slot, `prod`. */
  startSingle(spec: Omit<SlotSpec, 'slot'>): void {
    this.assertOff();
    this.mode = 'single';
    this.addSlot({ ...spec, slot: 'prod' });
    this.event('start', null, `serving started: slot Prod ${spec.ref}`);
    this.emitState();
  }

  /** Two-policy mode: slots `a` and `b`, `split` percent of new episodes to `a`. */
  startAb(a: Omit<SlotSpec, 'slot'>, b: Omit<SlotSpec, 'slot'>, split: number): void {
    this.assertOff();
    if (this.rtc) {
      throw new SwitchyardError(
        ErrorCodes.SWY_ERR_CONFIG,
        'Two-policy mode needs --no-rtc: real-time chunking would blend one policy\'s actions into the other\'s chunks. Add --no-rtc, or serve one policy.',
        '--no-rtc',
      );
    }
    this.router.split = split;
    this.opts.metrics.split.set(split);
    this.mode = 'ab';
    this.addSlot({ ...a, slot: 'a' });
    this.addSlot({ ...b, slot: 'b' });
    this.lastSplitChange = { at: iso(this.opts.clock.now()), split, cause: 'start', allEpisodes: false, detail: `serving started with ${split}% to slot A` };
    this.event('start', null, `serving started: slot A ${a.ref}, slot B ${b.ref}, ${split}% of new episodes to A`);
    this.emitState();
  }

  /**
   * Adds a shadow slot: it answers every primary request after the primary response is sent,
   * off the critical path, and its divergence from the primary answer is recorded.
   */
  startShadow(spec: Omit<SlotSpec, 'slot'>): void {
    if (this.mode === 'off') throw new SwitchyardError(ErrorCodes.SWY_ERR_CONFIG, 'Start a primary policy before the shadow slot.');
    if (this.mode === 'ab') {
      throw new SwitchyardError(ErrorCodes.SWY_ERR_CONFIG, '--shadow-policy works with one primary policy; drop --shadow-policy or serve a single PATH.', '--shadow-policy');
    }
    if (this.shadow) throw new SwitchyardError(ErrorCodes.SWY_ERR_CONFLICT, 'A shadow slot is already loaded.');
    this.shadow = this.makeSlot({ ...spec, slot: 'shadow' });
    this.shadowWindow = new ShadowDivergenceWindow(this.opts.shadowThreshold);
    this.opts.metrics.initSlots(['shadow']);
    this.event('deploy', 'shadow', `slot Shadow serves ${spec.ref}`);
    this.emitState();
  }

  /** Records the GPU memory budget checked before two policies were loaded (shown on Traffic). */
  setVramBudget(budget: NonNullable<ServingState['vram']> | null): void {
    this.vram = budget;
    this.emitState();
  }

  setRecorder(recorder: ActRecorder | null): void {
    this.recorder = recorder;
  }

  /** The loaded primary slots (not the shadow) with their exports, in slot order. */
  slotExports(): { slot: Slot; exp: PolicyExport; provider: string }[] {
    return [...this.slots.values()].map((s) => ({ slot: s.spec.slot, exp: s.spec.runner.export, provider: s.spec.runner.provider ?? 'cpu' }));
  }

  get isServing(): boolean {
    return this.mode !== 'off';
  }

  get ready(): boolean {
    if (this.mode === 'off') return false;
    for (const s of this.slots.values()) if (!s.spec.runner.ready) return false;
    return !this.shadow || this.shadow.spec.runner.ready;
  }

  setSplit(split: number, why: SplitCause = { cause: 'operator', detail: 'set by an operator' }): ServingState {
    if (this.mode !== 'ab') {
      throw new SwitchyardError(ErrorCodes.SWY_ERR_NOT_SERVING, 'The split applies to two-policy mode; start serving with --policy-a and --policy-b first.', 'split');
    }
    const before = this.router.split;
    this.router.split = split;
    this.opts.metrics.split.set(split);
    this.opts.logger.info({ split, cause: why.cause }, 'split changed');
    if (before !== split || this.lastSplitChange?.cause !== why.cause) this.noteSplit(split, why, false);
    return this.emitState();
  }

  private noteSplit(split: number, why: SplitCause, allEpisodes: boolean): void {
    this.lastSplitChange = { at: iso(this.opts.clock.now()), split, cause: why.cause, allEpisodes, detail: why.detail };
    const message = `split ${split}/${100 - split} (${why.cause}: ${why.detail})${allEpisodes ? ', episodes in progress moved too' : ''}`;
    if (this.pendingSplitEvent !== null) clearTimeout(this.pendingSplitEvent);
    this.pendingSplitEvent = null;
    const quietMs = this.opts.operatorSplitQuietMs ?? 1_000;
    if (why.cause !== 'operator' || quietMs <= 0) return this.event('split', null, message);
    // A slider drag is many splits: one event, for where it came to rest.
    this.pendingSplitEvent = setTimeout(() => {
      this.pendingSplitEvent = null;
      this.event('split', null, message);
    }, quietMs);
    this.pendingSplitEvent.unref?.();
  }

  private event(kind: ServingEventKind, slot: Slot | null, message: string): void {
    try {
      this.opts.onEvent?.({ kind, slot, message });
    } catch (e) {
      this.opts.logger.warn({ err: String(e) }, 'recording a serving event failed');
    }
  }

  restoreSlot(slot: Slot): ServingState {
    const s = slot === 'shadow' ? this.shadow : this.slots.get(slot);
    if (!s) throw new SwitchyardError(ErrorCodes.SWY_ERR_NOT_FOUND, `No slot "${slot}" is being served.`, 'slot');
    const wasDrained = s.drained;
    s.drained = false;
    s.consecutiveFailures = 0;
    this.opts.metrics.drained.labels(s.metricSlot).set(0);
    this.opts.logger.info({ slot }, 'slot restored by operator');
    if (wasDrained) this.event('restore', slot, `slot ${slot} restored by an operator`);
    return this.emitState();
  }

  nextRequestId(): string {
    this.requestCounter++;
    return `req-${this.opts.clock.now().toString(36)}-${this.requestCounter.toString(36)}`;
  }

  /** Picks the slot for a request, honouring drains. Throws a 503 when nothing can serve. */
  private pick(episodeId: string | undefined, requestId: string): { s: SlotRuntime; decision: RouteDecision | null } {
    if (this.mode === 'single') {
      const s = this.slots.get('prod')!;
      if (s.drained) throw this.unavailable('degraded');
      return { s, decision: null };
    }
    if (this.mode === 'off') {
      throw new ServingError(ErrorCodes.SWY_ERR_NOT_SERVING, 'No policy is loaded. Start `switchyard serve PATH` or pick versions on the Traffic page.', { retryAfterSeconds: 5 });
    }
    const decision = this.router.route(episodeId, requestId);
    if (decision.degraded) this.opts.metrics.degradedRouting.inc();
    const chosen = this.slots.get(decision.slot)!;
    if (!chosen.drained) return { s: chosen, decision };
    const other = this.slots.get(decision.slot === 'a' ? 'b' : 'a')!;
    // The episode moves to the healthy slot and loses its cache there; that is the drain's price.
    if (!other.drained) return { s: other, decision: { ...decision, slot: other.spec.slot as 'a' | 'b', cached: false } };
    throw this.unavailable('degraded');
  }

  private unavailable(state: DrainState): ServingError {
    return new ServingError(
      ErrorCodes.SWY_ERR_SLOT_DRAINED,
      `Every slot is drained (${state}) after repeated failures. An operator must restore a slot (Traffic page, or \`serving.restoreSlot\`).`,
      { retryAfterSeconds: 10 },
    );
  }

  async act(body: ActRequest, requestId: string): Promise<ActResponse> {
    const clock = this.opts.clock;
    const t0 = clock.monotonicMs();
    let picked: { s: SlotRuntime; decision: RouteDecision | null };
    try {
      picked = this.pick(body.episode_id, requestId);
    } catch (e) {
      this.opts.metrics.countRequest('none', 'unavailable');
      throw e;
    }
    const { s, decision } = picked;
    const seq = ++this.seq;
    // The runner answering this request, even if the slot's runner is swapped meanwhile.
    const runner = s.spec.runner;
    s.inFlight++;
    this.loadUp(runner);
    s.metrics.inFlight.inc();
    let out: ActOutput;
    try {
      out = await runner.act({ episodeId: body.episode_id ?? null, state: body.state });
    } catch (e) {
      const failure = classifyFailure(e);
      const code = failure.code;
      const why = e instanceof Error ? e.message : String(e);
      const message = failure.outcome === 'client_error' ? why : `Slot ${s.spec.slot} (${runner.export.modelVersion}) failed: ${why}`;
      if (failure.crash) this.recordFailure(s, e, failure.outcome);
      else this.recordRefusal(s, e, failure.outcome);
      this.recorder?.request({
        seq, requestId, at: clock.now(), body, slot: s.spec.slot, modelVersion: runner.export.modelVersion, routing: decision,
        latencyMs: clock.monotonicMs() - t0, result: null, error: { code, message }, steps: configuredSteps(runner),
      });
      const where = failure.outcome === 'client_error' && e instanceof SwitchyardError && e.where !== undefined ? e.where : s.spec.slot;
      throw new ServingError(code, message, { where, retryAfterSeconds: failure.retryAfterSeconds, slot: s.spec.slot });
    } finally {
      s.inFlight--;
      this.loadDown(runner);
      s.metrics.inFlight.dec();
    }
    s.consecutiveFailures = 0;
    const latencyMs = clock.monotonicMs() - t0;
    this.countSuccess(s, out, latencyMs);
    const modelVersion = runner.export.modelVersion;
    this.recorder?.request({ seq, requestId, at: clock.now(), body, slot: s.spec.slot, modelVersion, routing: decision, latencyMs, result: out, error: null, steps: configuredSteps(runner) });
    // After the primary answer is on its way: the shadow never delays /act.
    if (this.shadow && !this.shadow.drained) setImmediate(() => void this.runShadow(seq, requestId, body, out));
    return {
      actions: out.actions,
      num_actions: out.numActions,
      action_dim: out.actionDim,
      slot: s.spec.slot,
      model_version: modelVersion,
      latency_ms: latencyMs,
      cache: out.cache,
      denoise_steps: out.denoiseSteps,
    };
  }

  private countSuccess(s: SlotRuntime, out: ActOutput, latencyMs: number): void {
    const c = s.metrics;
    c.latency.observe(latencyMs / 1000);
    c.ok.inc();
    if (out.cache === 'hit') {
      s.windowHits++;
      s.totalHits++;
      c.cacheHit.inc();
    } else if (out.cache === 'miss') {
      s.windowMisses++;
      s.totalMisses++;
      c.cacheMiss.inc();
    }
    if (out.denoiseSteps > 0) c.denoiseSteps.inc(out.denoiseSteps);
    s.windowRequests++;
    s.totalRequests++;
    s.windowLatencies.push(latencyMs);
    s.latency.push(latencyMs);
  }

  private loadUp(runner: SlotRunner): void {
    this.runnerLoad.set(runner, (this.runnerLoad.get(runner) ?? 0) + 1);
  }

  private loadDown(runner: SlotRunner): void {
    const n = (this.runnerLoad.get(runner) ?? 1) - 1;
    if (n > 0) return void this.runnerLoad.set(runner, n);
    this.runnerLoad.delete(runner);
    const waiters = this.idleWaiters.get(runner);
    this.idleWaiters.delete(runner);
    for (const w of waiters ?? []) w();
  }

  /** Resolves once no request is in flight on `runner` (at once when none is). */
  whenIdle(runner: SlotRunner): Promise<void> {
    if (!this.runnerLoad.has(runner)) return Promise.resolve();
    return new Promise((resolve) => {
      const list = this.idleWaiters.get(runner) ?? [];
      list.push(resolve);
      this.idleWaiters.set(runner, list);
    });
  }

  private async runShadow(seq: number, requestId: string, body: ActRequest, primary: ActOutput): Promise<void> {
    const sh = this.shadow;
    if (!sh) return;
    if (sh.inFlight >= (this.opts.maxShadowInFlight ?? 64)) {
      this.shadowSkipped++;
      return;
    }
    const clock = this.opts.clock;
    const t0 = clock.monotonicMs();
    sh.inFlight++;
    this.opts.metrics.inFlight.labels('shadow').inc();
    const routing = { slot: 'shadow' as const, routing_key: body.episode_id ?? requestId };
    const runner = sh.spec.runner;
    const modelVersion = runner.export.modelVersion;
    this.loadUp(runner);
    try {
      const out = await runner.act({ episodeId: body.episode_id ?? null, state: body.state });
      sh.consecutiveFailures = 0;
      const latencyMs = clock.monotonicMs() - t0;
      this.countSuccess(sh, out, latencyMs);
      const divergence = actionDivergence(primary.actions, out.actions);
      this.shadowWindow?.add(divergence);
      if (divergence) {
        this.opts.metrics.shadowDivergence.labels('max_abs').observe(divergence.maxAbs);
        this.opts.metrics.shadowDivergence.labels('cosine_distance').observe(Math.max(0, 1 - divergence.cosine));
        sh.maxDivergence = Math.max(sh.maxDivergence, divergence.maxAbs);
      }
      this.recorder?.shadow({ seq, requestId, routing, modelVersion, result: out, latencyMs, error: null, divergence });
    } catch (e) {
      const failure = classifyFailure(e);
      if (failure.crash) this.recordFailure(sh, e, failure.outcome);
      else this.recordRefusal(sh, e, failure.outcome);
      this.shadowWindow?.fail();
      const code = e instanceof SwitchyardError ? e.code : ErrorCodes.SWY_ERR_INFERENCE;
      this.recorder?.shadow({
        seq, requestId, routing, modelVersion, result: null, latencyMs: clock.monotonicMs() - t0,
        error: { code, message: e instanceof Error ? e.message : String(e) }, divergence: null,
      });
    } finally {
      sh.inFlight--;
      this.loadDown(runner);
      this.opts.metrics.inFlight.labels('shadow').dec();
    }
  }

  /** Observation size every slot expects; /act bodies are checked against it before routing. */
  get observationDim(): number | null {
    const first = this.slots.values().next();
    return first.done ? null : first.value.spec.runner.export.manifest.observation.dim;
  }

  /** A request the slot did not answer through no fault of the policy: counted, never toward a drain. */
  private recordRefusal(s: SlotRuntime, e: unknown, outcome: RequestOutcome): void {
    s.windowErrors++;
    s.totalErrors++;
    s.windowRequests++;
    s.totalRequests++;
    this.opts.metrics.countRequest(s.metricSlot, outcome);
    this.opts.logger.warn({ slot: s.spec.slot, outcome, err: e instanceof Error ? e.message : String(e) }, `act refused (${outcome})`);
  }

  private recordFailure(s: SlotRuntime, e: unknown, outcome: RequestOutcome = 'server_error'): void {
    s.consecutiveFailures++;
    s.failures++;
    // A dead worker is a crash; an error the live worker answered with is a failed request.
    const code = e instanceof SwitchyardError ? e.code : ErrorCodes.SWY_ERR_INFERENCE;
    const crash = code === ErrorCodes.SWY_ERR_WORKER_DIED;
    if (crash) s.workerCrashes++;
    else s.requestFailures++;
    s.lastError = { at: iso(this.opts.clock.now()), code, message: e instanceof Error ? e.message : String(e), crash };
    s.windowErrors++;
    s.totalErrors++;
    s.windowRequests++;
    s.totalRequests++;
    this.opts.metrics.crashes.labels(s.metricSlot).inc();
    this.opts.metrics.countRequest(s.metricSlot, outcome);
    this.opts.logger.error({ slot: s.spec.slot, consecutive: s.consecutiveFailures, err: e instanceof Error ? e.message : String(e) }, 'inference failed');
    if (!s.drained && s.consecutiveFailures >= this.maxCrashes) {
      s.drained = true;
      this.opts.metrics.drained.labels(s.metricSlot).set(1);
      this.event('drain', s.spec.slot, `slot ${s.spec.slot} drained after ${s.consecutiveFailures} consecutive failures; last: ${s.lastError.code} ${s.lastError.message}`);
      const state = this.emitState();
      this.opts.logger.error({ slot: s.spec.slot, drain: state.drain }, `slot ${s.spec.slot} drained after ${s.consecutiveFailures} consecutive failures`);
    }
  }

  drainState(): DrainState {
    if (this.mode === 'single') return this.slots.get('prod')?.drained ? 'degraded' : 'none';
    if (this.mode !== 'ab') return 'none';
    const a = this.slots.get('a')!.drained;
    const b = this.slots.get('b')!.drained;
    return a && b ? 'degraded' : a ? 'drain-a' : b ? 'drain-b' : 'none';
  }

  state(): ServingState {
    const sb = this.standby;
    return {
      vram: this.vram,
      standby: sb === null ? null : { versionRef: sb.ref, modelVersion: sb.runner.export.modelVersion, ready: sb.runner.ready },
      mode: this.mode,
      split: this.router.split,
      drain: this.drainState(),
      rtc: this.rtc,
      maxConsecutiveCrashes: this.maxCrashes,
      actUrl: this.actUrl,
      lastSplitChange: this.mode === 'ab' ? this.lastSplitChange : null,
      followsProduction: this.mode === 'single' ? this.followsProduction : null,
      slots: this.allSlots().map((s) => ({
        slot: s.spec.slot,
        versionRef: s.spec.ref,
        modelVersion: s.spec.runner.export.modelVersion,
        kind: s.spec.runner.export.manifest.kind,
        ready: s.spec.runner.ready,
        drained: s.drained,
        consecutiveFailures: s.consecutiveFailures,
        crashes: s.failures,
        sizeBytes: s.spec.runner.export.sizeBytes,
        workerCrashes: s.workerCrashes,
        requestFailures: s.requestFailures,
        lastError: s.lastError,
      })),
      shadowDivergence: this.shadow ? (this.lastShadow ?? null) : null,
    };
  }

  /** Per-slot numbers since the previous call; the caller pushes them to the workbench. */
  snapshot(): ServingStats {
    const now = this.opts.clock.monotonicMs();
    const windowMs = Math.max(1, Math.round(now - this.lastSnapshotAt));
    this.lastSnapshotAt = now;
    const slots: SlotStats[] = [];
    for (const s of this.allSlots()) {
      const lat = s.windowLatencies.sort((x, y) => x - y);
      slots.push({
        slot: s.spec.slot,
        requests: s.totalRequests,
        errors: s.totalErrors,
        rps: (s.windowRequests * 1000) / windowMs,
        p50Ms: quantile(lat, 0.5),
        p99Ms: quantile(lat, 0.99),
        cacheHits: s.totalHits,
        cacheMisses: s.totalMisses,
        inFlight: s.inFlight,
      });
      s.windowLatencies = [];
      s.windowRequests = 0;
      s.windowErrors = 0;
      s.windowHits = 0;
      s.windowMisses = 0;
    }
    const shadow = this.shadow && this.shadowWindow ? { shadow: this.shadowWindow.take(this.shadow.spec.ref, this.shadowSkipped) } : {};
    this.lastShadow = shadow.shadow ?? null;
    return { at: iso(this.opts.clock.now()), windowMs, slots, ...shadow };
  }

  // ---------------------------------------------------------------- lifecycle hooks

  /** Cumulative per-slot numbers (primary slots, then the shadow). */
  counters(): SlotCounters[] {
    return this.allSlots().map((s) => ({
      slot: s.spec.slot,
      versionRef: s.spec.ref,
      modelVersion: s.spec.runner.export.modelVersion,
      requests: s.totalRequests,
      errors: s.totalErrors,
      latencyCount: s.latency.count,
      drained: s.drained,
      maxDivergence: s.maxDivergence,
    }));
  }

  /** Latency samples (ms) a slot recorded after mark `after` (a `latencyCount`), newest 4096 at most. */
  latencySamples(slot: Slot, after: number): number[] {
    const s = slot === 'shadow' ? this.shadow : this.slots.get(slot);
    if (!s) throw new SwitchyardError(ErrorCodes.SWY_ERR_NOT_FOUND, `No slot "${slot}" is being served.`, 'slot');
    return s.latency.since(after);
  }

  /** The loaded primary slot's spec, or null. */
  slotSpec(slot: Slot): SlotSpec | null {
    return (slot === 'shadow' ? this.shadow : this.slots.get(slot))?.spec ?? null;
  }

  /**
   * Single-policy mode: keep `spec` loaded and warm beside `prod` without routing to it (the
   * version a rollback restores). Returns the standby it replaces, for the caller to close.
   */
  setStandby(spec: Omit<SlotSpec, 'slot'> | null): SlotSpec | null {
    if (spec !== null && this.mode !== 'single') {
      throw new SwitchyardError(ErrorCodes.SWY_ERR_CONFIG, 'A warm standby is kept in single-policy mode only.');
    }
    const old = this.standby;
    this.standby = spec === null ? null : { ...spec, slot: 'prod' };
    this.emitState();
    return old;
  }

  get standbySpec(): SlotSpec | null {
    return this.standby;
  }

  /**
   * Put `spec` in place of a primary slot's runner, atomically: requests routed from now on go
   * to the new runner; requests in flight finish on the old one (`idle` resolves when they have,
   * and only then may the old runner be closed). The slot's failure count and drain are reset.
   */
  swapPrimary(slot: 'prod' | 'a' | 'b', spec: Omit<SlotSpec, 'slot'>): { previous: SlotSpec; idle: Promise<void> } {
    const s = this.slots.get(slot);
    if (!s) throw new SwitchyardError(ErrorCodes.SWY_ERR_NOT_SERVING, `No slot "${slot}" is being served.`, 'slot');
    const previous = s.spec;
    s.spec = { ...spec, slot };
    s.consecutiveFailures = 0;
    if (s.drained) {
      s.drained = false;
      this.opts.metrics.drained.labels(s.metricSlot).set(0);
    }
    this.opts.logger.info({ slot, from: previous.ref, to: spec.ref }, 'slot runner swapped');
    if (previous.ref !== spec.ref || previous.runner.export.modelVersion !== spec.runner.export.modelVersion) {
      this.event('deploy', slot, `slot ${slotLabel(slot)} now serves ${spec.ref} (was ${previous.ref})`);
    }
    this.emitState();
    return { previous, idle: this.whenIdle(previous.runner) };
  }

  /** Single-policy mode: the warm standby takes over `prod` (see swapPrimary); null without a standby. */
  promoteStandby(): { previous: SlotSpec; next: SlotSpec; idle: Promise<void> } | null {
    const sb = this.standby;
    if (sb === null || this.mode !== 'single') return null;
    this.standby = null;
    const r = this.swapPrimary('prod', sb);
    return { ...r, next: sb };
  }

  /**
   * Two-policy mode: send every request to `slot`, new episodes and episodes in progress alike
   * (the sticky table is cleared): what a rollback of a canary does.
   */
  routeAll(slot: 'a' | 'b', why: SplitCause = { cause: 'operator', detail: `every request to slot ${slot.toUpperCase()}` }): ServingState {
    if (this.mode !== 'ab') {
      throw new SwitchyardError(ErrorCodes.SWY_ERR_NOT_SERVING, 'Routing all traffic to one slot applies to two-policy mode.', 'slot');
    }
    const split = slot === 'a' ? 100 : 0;
    this.router.split = split;
    this.router.clearSticky();
    this.opts.metrics.split.set(split);
    this.noteSplit(split, why, true);
    this.opts.logger.warn({ slot, split }, `all traffic routed to slot ${slot}, episodes in progress included`);
    return this.emitState();
  }

  async close(): Promise<void> {
    if (this.pendingSplitEvent !== null) clearTimeout(this.pendingSplitEvent);
    this.pendingSplitEvent = null;
    const runners = this.allSlots().map((s) => s.spec.runner);
    if (this.standby) runners.push(this.standby.runner);
    this.standby = null;
    this.slots.clear();
    this.shadow = null;
    this.shadowWindow = null;
    this.lastShadow = null;
    this.mode = 'off';
    await Promise.allSettled(runners.map((r) => r.close()));
  }

  private allSlots(): SlotRuntime[] {
    const list = [...this.slots.values()];
    if (this.shadow) list.push(this.shadow);
    return list;
  }

  private addSlot(spec: SlotSpec): void {
    this.slots.set(spec.slot, this.makeSlot(spec));
    this.opts.metrics.initSlots([spec.slot as MetricSlot]);
  }

  private makeSlot(spec: SlotSpec): SlotRuntime {
    const metricSlot = spec.slot as MetricSlot;
    return {
      spec,
      consecutiveFailures: 0,
      failures: 0,
      drained: false,
      inFlight: 0,
      windowLatencies: [],
      windowRequests: 0,
      windowErrors: 0,
      windowHits: 0,
      windowMisses: 0,
      totalRequests: 0,
      totalErrors: 0,
      totalHits: 0,
      totalMisses: 0,
      maxDivergence: 0,
      workerCrashes: 0,
      requestFailures: 0,
      lastError: null,
      latency: new LatencyRing(),
      metricSlot,
      metrics: this.opts.metrics.forSlot(metricSlot),
    };
  }

  private assertOff(): void {
    if (this.mode !== 'off') throw new SwitchyardError(ErrorCodes.SWY_ERR_CONFLICT, 'Serving has already started; stop it before loading other policies.');
  }

  private emitState(): ServingState {
    const st = this.state();
    this.opts.onStateChange?.(st);
    return st;
  }
}

function slotLabel(slot: Slot): string {
  return slot === 'prod' ? 'Prod' : slot === 'shadow' ? 'Shadow' : slot.toUpperCase();
}

function configuredSteps(runner: SlotRunner): number {
  return runner.export.manifest.iterative?.steps ?? 0;
}

export function quantile(sorted: number[], q: number): number | null {
  if (sorted.length === 0) return null;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[idx]!;
}

