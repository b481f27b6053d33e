/**
 * Routes `/act` between the loaded slots and decides what each answer means: the mode (off,
 * single, two policies), the split and sticky routing, counting consecutive failures and draining
 * a slot that keeps failing, the serving events and the state pushed to the workbench. The parts
 * live beside it: each slot's numbers and Prometheus series (`slot-stats.ts`), the shadow slot
 * (`shadow-slot.ts`), runner swaps and the warm standby (`runner-handover.ts`), and the errors
 * `/act` answers with (`serving-errors.ts`). The lifecycle drives it through `ServingPort`.
 */
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
import { Router, type RouteDecision } from '../domain/routing.js';
import type { ServingPort, SlotCounters, SlotSpec, SplitCause } from '../lifecycle/serving-port.js';
import type { Clock } from '../platform/clock.js';
import { iso } from '../platform/clock.js';
import type { Logger } from '../platform/logger.js';
import type { ActOutput, PolicyExport, SlotRunner } from '../runtime/types.js';
import type { MetricSlot, RequestOutcome, ServingMetrics } from './metrics.js';
import { RunnerHandover } from './runner-handover.js';
import { classifyFailure, ServingError } from './serving-errors.js';
import { ShadowSlot } from './shadow-slot.js';
import { countFailure, countRefusal, countSuccess, makeSlotRuntime, slotCounters, slotState, takeWindow, type SlotRuntime } from './slot-stats.js';

// The engine has always found it here; it lives with the runtime now.
export type { SlotRunner };

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

/**
 * Routes `/act` between loaded slots, counts consecutive failures, drains a slot that
 * keeps failing, and keeps per-slot windows for the live charts.
 */
export class ServingController implements ServingPort {
  private readonly slots = new Map<Slot, SlotRuntime>();
  private mode: 'off' | 'single' | 'ab' = 'off';
  private readonly router: Router;
  private readonly maxCrashes: number;
  private readonly rtc: boolean;
  private lastSnapshotAt: number;
  private requestCounter = 0;
  private seq = 0;
  private shadow: ShadowSlot | null = null;
  private recorder: ActRecorder | null = null;
  private readonly handover = new RunnerHandover();
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

  // ---------------------------------------------------------------- modes

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
    this.shadow = new ShadowSlot({ ...spec, slot: 'shadow' }, {
      clock: this.opts.clock,
      metrics: this.opts.metrics,
      handover: this.handover,
      maxInFlight: this.opts.maxShadowInFlight ?? 64,
      threshold: this.opts.shadowThreshold,
      failed: (s, e) => {
        const failure = classifyFailure(e);
        this.failed(s, e, failure.outcome, failure.crash);
      },
      recorder: () => this.recorder,
    });
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
    return !this.shadow || this.shadow.slot.spec.runner.ready;
  }

  /** Requests the shadow skipped because too many were waiting. */
  get shadowSkipped(): number {
    return this.shadow?.skipped ?? 0;
  }

  // ---------------------------------------------------------------- split and routing

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
    const s = this.runtimeOf(slot);
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

  /** Picks the slot for a request, honouring drains. Throws (503 on /act) when nothing can serve. */
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

  // ---------------------------------------------------------------- the request path

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
    this.handover.up(runner);
    s.metrics.inFlight.inc();
    let out: ActOutput;
    try {
      out = await runner.act({ episodeId: body.episode_id ?? null, state: body.state });
    } catch (e) {
      const failure = classifyFailure(e);
      const code = failure.code;
      const why = e instanceof Error ? e.message : String(e);
      const message = failure.outcome === 'client_error' ? why : `Slot ${s.spec.slot} (${runner.export.modelVersion}) failed: ${why}`;
      this.failed(s, e, failure.outcome, failure.crash);
      this.recorder?.request({
        seq, requestId, at: clock.now(), body, slot: s.spec.slot, modelVersion: runner.export.modelVersion, routing: decision,
        latencyMs: clock.monotonicMs() - t0, result: null, error: { code, message }, steps: configuredSteps(runner),
      });
      const where = failure.outcome === 'client_error' && e instanceof SwitchyardError && e.where !== undefined ? e.where : s.spec.slot;
      throw new ServingError(code, message, { where, retryAfterSeconds: failure.retryAfterSeconds, slot: s.spec.slot });
    } finally {
      s.inFlight--;
      this.handover.down(runner);
      s.metrics.inFlight.dec();
    }
    s.consecutiveFailures = 0;
    const latencyMs = clock.monotonicMs() - t0;
    countSuccess(s, out, latencyMs);
    const modelVersion = runner.export.modelVersion;
    this.recorder?.request({ seq, requestId, at: clock.now(), body, slot: s.spec.slot, modelVersion, routing: decision, latencyMs, result: out, error: null, steps: configuredSteps(runner) });
    // After the primary answer is on its way: the shadow never delays /act.
    if (this.shadow && !this.shadow.slot.drained) setImmediate(() => void this.runShadow(seq, requestId, body, out));
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

  /** On the shadow loaded when the turn comes (none after `close()`). */
  private runShadow(seq: number, requestId: string, body: ActRequest, primary: ActOutput): Promise<void> | undefined {
    return this.shadow?.run(seq, requestId, body, primary);
  }

  /** Resolves once no request is in flight on `runner` (at once when none is). */
  whenIdle(runner: SlotRunner): Promise<void> {
    return this.handover.whenIdle(runner);
  }

  /** Observation size every slot expects; /act bodies are checked against it before routing. */
  get observationDim(): number | null {
    const first = this.slots.values().next();
    return first.done ? null : first.value.spec.runner.export.manifest.observation.dim;
  }

  /**
   * A request the slot did not answer. A failure of the policy itself counts toward the drain; a
   * refusal (a bad request, a slot between workers) is counted and never drains.
   */
  private failed(s: SlotRuntime, e: unknown, outcome: RequestOutcome, crash: boolean): void {
    const message = e instanceof Error ? e.message : String(e);
    if (!crash) {
      countRefusal(s, this.opts.metrics, outcome);
      this.opts.logger.warn({ slot: s.spec.slot, outcome, err: message }, `act refused (${outcome})`);
      return;
    }
    const code = e instanceof SwitchyardError ? e.code : ErrorCodes.SWY_ERR_INFERENCE;
    const lastError = { at: iso(this.opts.clock.now()), code, message, crash: code === ErrorCodes.SWY_ERR_WORKER_DIED };
    countFailure(s, this.opts.metrics, outcome, lastError);
    this.opts.logger.error({ slot: s.spec.slot, consecutive: s.consecutiveFailures, err: message }, 'inference failed');
    if (!s.drained && s.consecutiveFailures >= this.maxCrashes) {
      s.drained = true;
      this.opts.metrics.drained.labels(s.metricSlot).set(1);
      this.event('drain', s.spec.slot, `slot ${s.spec.slot} drained after ${s.consecutiveFailures} consecutive failures; last: ${lastError.code} ${lastError.message}`);
      const state = this.emitState();
      this.opts.logger.error({ slot: s.spec.slot, drain: state.drain }, `slot ${s.spec.slot} drained after ${s.consecutiveFailures} consecutive failures`);
    }
  }

  // ---------------------------------------------------------------- state and stats

  drainState(): DrainState {
    if (this.mode === 'single') return this.slots.get('prod')?.drained ? 'degraded' : 'none';
    if (this.mode !== 'ab') return 'none';
    const a = this.slots.get('a')!.drained;
    const b = this.slots.get('b')!.drained;
    return a && b ? 'degraded' : a ? 'drain-a' : b ? 'drain-b' : 'none';
  }

  state(): ServingState {
    const sb = this.handover.standby;
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
      slots: this.allSlots().map(slotState),
      shadowDivergence: this.shadow ? (this.lastShadow ?? null) : null,
    };
  }

  /** Per-slot numbers since the previous call; the caller pushes them to the workbench. */
  snapshot(): ServingStats {
    const now = this.opts.clock.monotonicMs();
    const windowMs = Math.max(1, Math.round(now - this.lastSnapshotAt));
    this.lastSnapshotAt = now;
    const slots: SlotStats[] = this.allSlots().map((s) => takeWindow(s, windowMs));
    const shadow = this.shadow ? { shadow: this.shadow.take() } : {};
    this.lastShadow = shadow.shadow ?? null;
    return { at: iso(this.opts.clock.now()), windowMs, slots, ...shadow };
  }

  // ---------------------------------------------------------------- the lifecycle's port

  /** Cumulative per-slot numbers (primary slots, then the shadow). */
  counters(): SlotCounters[] {
    return this.allSlots().map(slotCounters);
  }

  /** Latency samples (ms) a slot recorded after mark `after` (a `latencyCount`), newest 4096 at most. */
  latencySamples(slot: Slot, after: number): number[] {
    const s = this.runtimeOf(slot);
    if (!s) throw new SwitchyardError(ErrorCodes.SWY_ERR_NOT_FOUND, `No slot "${slot}" is being served.`, 'slot');
    return s.latency.since(after);
  }

  /** The loaded slot's spec, or null. */
  slotSpec(slot: Slot): SlotSpec | null {
    return this.runtimeOf(slot)?.spec ?? null;
  }

  /**
   * Single-policy mode: keep `spec` loaded and warm beside `prod` without routing to it (the
   * version a rollback restores). Returns the standby it replaces, for the caller to close.
   */
  setStandby(spec: Omit<SlotSpec, 'slot'> | null): SlotSpec | null {
    if (spec !== null && this.mode !== 'single') {
      throw new SwitchyardError(ErrorCodes.SWY_ERR_CONFIG, 'A warm standby is kept in single-policy mode only.');
    }
    const old = this.handover.standby;
    this.handover.standby = spec === null ? null : { ...spec, slot: 'prod' };
    this.emitState();
    return old;
  }

  get standbySpec(): SlotSpec | null {
    return this.handover.standby;
  }

  /**
   * Put `spec` in place of a primary slot's runner, atomically: requests routed from now on go
   * to the new runner; requests in flight finish on the old one (`idle` resolves when they have,
   * and only then may the old runner be closed). The slot's failure count and drain are reset.
   */
  swapPrimary(slot: 'prod' | 'a' | 'b', spec: Omit<SlotSpec, 'slot'>): { previous: SlotSpec; idle: Promise<void> } {
    const s = this.slots.get(slot);
    if (!s) throw new SwitchyardError(ErrorCodes.SWY_ERR_NOT_SERVING, `No slot "${slot}" is being served.`, 'slot');
    const swapped = this.handover.swap(s, spec, this.opts.metrics);
    const previous = swapped.previous;
    this.opts.logger.info({ slot, from: previous.ref, to: spec.ref }, 'slot runner swapped');
    if (previous.ref !== spec.ref || previous.runner.export.modelVersion !== spec.runner.export.modelVersion) {
      this.event('deploy', slot, `slot ${slotLabel(slot)} now serves ${spec.ref} (was ${previous.ref})`);
    }
    this.emitState();
    return swapped;
  }

  /** Single-policy mode: the warm standby takes over `prod` (see swapPrimary); null without a standby. */
  promoteStandby(): { previous: SlotSpec; next: SlotSpec; idle: Promise<void> } | null {
    const sb = this.handover.standby;
    if (sb === null || this.mode !== 'single') return null;
    this.handover.standby = null;
    const r = this.swapPrimary('prod', sb);
    return { ...r, next: sb };
  }

  async close(): Promise<void> {
    if (this.pendingSplitEvent !== null) clearTimeout(this.pendingSplitEvent);
    this.pendingSplitEvent = null;
    const runners = this.allSlots().map((s) => s.spec.runner);
    if (this.handover.standby) runners.push(this.handover.standby.runner);
    this.handover.standby = null;
    this.slots.clear();
    this.shadow = null;
    this.lastShadow = null;
    this.mode = 'off';
    await Promise.allSettled(runners.map((r) => r.close()));
  }

  private runtimeOf(slot: Slot): SlotRuntime | undefined {
    return slot === 'shadow' ? this.shadow?.slot : this.slots.get(slot);
  }

  private allSlots(): SlotRuntime[] {
    const list = [...this.slots.values()];
    if (this.shadow) list.push(this.shadow.slot);
    return list;
  }

  private addSlot(spec: SlotSpec): void {
    this.slots.set(spec.slot, makeSlotRuntime(spec, this.opts.metrics));
    this.opts.metrics.initSlots([spec.slot as MetricSlot]);
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
