import {
  ErrorCodes,
  SwitchyardError,
  type DrainState,
  type ServingState,
  type ServingStats,
  type Slot,
  type SlotStats,
} from '../contract/index.js';
import { Router } from '../domain/routing.js';
import type { Clock } from '../platform/clock.js';
import { iso } from '../platform/clock.js';
import type { Logger } from '../platform/logger.js';
import type { ActInput, ActOutput, PolicyExport } from '../runtime/types.js';
import type { MetricSlot, ServingMetrics } from './metrics.js';

/** What the controller needs of a loaded policy; `PolicyRunner` is the real one. */
export interface SlotRunner {
  readonly export: PolicyExport;
  readonly ready: boolean;
  act(input: ActInput): Promise<ActOutput>;
  close(): Promise<void>;
}

export interface SlotSpec {
  slot: Slot;
  /** `policy@label` for a registered version, the export directory otherwise. */
  ref: string;
  runner: SlotRunner;
}

export interface ActRequest {
  episode_id?: string;
  request_id?: string;
  state: number[];
  instruction?: string;
  image?: string;
}

export interface ActResponse {
  actions: number[][];
  num_actions: number;
  action_dim: number;
  slot: Slot;
  model_version: string;
  latency_ms: number;
  cache: 'hit' | 'miss' | 'none';
  denoise_steps: number;
}

/** An error that maps to an HTTP status; `code` is the stable SWY_ERR_* code. */
export class ServingError extends SwitchyardError {
  constructor(
    readonly status: number,
    code: (typeof ErrorCodes)[keyof typeof ErrorCodes],
    message: string,
    where?: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(code, message, where);
  }
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
  metricSlot: MetricSlot;
}

export interface ServingControllerOptions {
  clock: Clock;
  logger: Logger;
  metrics: ServingMetrics;
  maxConsecutiveCrashes?: number;
  rtc?: boolean;
  /** Called whenever the state (split, drain, readiness) changes. */
  onStateChange?: (state: ServingState) => void;
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
    this.emitState();
  }

  get isServing(): boolean {
    return this.mode !== 'off';
  }

  get ready(): boolean {
    if (this.mode === 'off') return false;
    for (const s of this.slots.values()) if (!s.spec.runner.ready) return false;
    return true;
  }

  setSplit(split: number): ServingState {
    if (this.mode !== 'ab') {
      throw new SwitchyardError(ErrorCodes.SWY_ERR_NOT_SERVING, 'The split applies to two-policy mode; start serving with --policy-a and --policy-b first.', 'split');
    }
    this.router.split = split;
    this.opts.metrics.split.set(split);
    this.opts.logger.info({ split }, 'split changed');
    return this.emitState();
  }

  restoreSlot(slot: Slot): ServingState {
    const s = this.slots.get(slot);
    if (!s) throw new SwitchyardError(ErrorCodes.SWY_ERR_NOT_FOUND, `No slot "${slot}" is being served.`, 'slot');
    s.drained = false;
    s.consecutiveFailures = 0;
    this.opts.metrics.drained.labels(s.metricSlot).set(0);
    this.opts.logger.info({ slot }, 'slot restored by operator');
    return this.emitState();
  }

  nextRequestId(): string {
    this.requestCounter++;
    return `req-${this.opts.clock.now().toString(36)}-${this.requestCounter.toString(36)}`;
  }

  /** Picks the slot for a request, honouring drains. Throws a 503 when nothing can serve. */
  private pick(episodeId: string | undefined, requestId: string): SlotRuntime {
    if (this.mode === 'single') {
      const s = this.slots.get('prod')!;
      if (s.drained) throw this.unavailable('degraded');
      return s;
    }
    if (this.mode === 'off') {
      throw new ServingError(503, ErrorCodes.SWY_ERR_NOT_SERVING, 'No policy is loaded. Start `switchyard serve PATH` or pick versions on the Traffic page.', undefined, 5);
    }
    const decision = this.router.route(episodeId, requestId);
    if (decision.degraded) this.opts.metrics.degradedRouting.inc();
    const chosen = this.slots.get(decision.slot)!;
    if (!chosen.drained) return chosen;
    const other = this.slots.get(decision.slot === 'a' ? 'b' : 'a')!;
    if (!other.drained) return other;
    throw this.unavailable('degraded');
  }

  private unavailable(state: DrainState): ServingError {
    return new ServingError(
      503,
      ErrorCodes.SWY_ERR_SLOT_DRAINED,
      `Every slot is drained (${state}) after repeated failures. An operator must restore a slot (Traffic page, or \`serving.restoreSlot\`).`,
      undefined,
      10,
    );
  }

  async act(body: ActRequest, requestId: string): Promise<ActResponse> {
    const t0 = this.opts.clock.monotonicMs();
    const s = this.pick(body.episode_id, requestId);
    const m = this.opts.metrics;
    s.inFlight++;
    m.inFlight.labels(s.metricSlot).inc();
    let out: ActOutput;
    try {
      out = await s.spec.runner.act({ episodeId: body.episode_id ?? null, state: body.state });
    } catch (e) {
      this.recordFailure(s, e);
      const code = e instanceof SwitchyardError ? e.code : ErrorCodes.SWY_ERR_INFERENCE;
      const why = e instanceof Error ? e.message : String(e);
      throw new ServingError(500, code, `Slot ${s.spec.slot} (${s.spec.runner.export.modelVersion}) failed: ${why}`, s.spec.slot);
    } finally {
      s.inFlight--;
      m.inFlight.labels(s.metricSlot).dec();
    }
    s.consecutiveFailures = 0;
    const latencyMs = this.opts.clock.monotonicMs() - t0;
    m.latency.labels(s.metricSlot).observe(latencyMs / 1000);
    m.requests.labels(s.metricSlot, 'ok').inc();
    if (out.cache === 'hit') {
      s.windowHits++;
      s.totalHits++;
      m.cacheHit.labels(s.metricSlot).inc();
    } else if (out.cache === 'miss') {
      s.windowMisses++;
      s.totalMisses++;
      m.cacheMiss.labels(s.metricSlot).inc();
    }
    if (out.denoiseSteps > 0) m.denoiseSteps.labels(s.metricSlot).inc(out.denoiseSteps);
    s.windowRequests++;
    s.totalRequests++;
    s.windowLatencies.push(latencyMs);
    return {
      actions: out.actions,
      num_actions: out.numActions,
      action_dim: out.actionDim,
      slot: s.spec.slot,
      model_version: s.spec.runner.export.modelVersion,
      latency_ms: latencyMs,
      cache: out.cache,
      denoise_steps: out.denoiseSteps,
    };
  }

  /** Observation size every slot expects; /act bodies are checked against it before routing. */
  get observationDim(): number | null {
    const first = this.slots.values().next();
    return first.done ? null : first.value.spec.runner.export.manifest.observation.dim;
  }

  private recordFailure(s: SlotRuntime, e: unknown): void {
    s.consecutiveFailures++;
    s.failures++;
    s.windowErrors++;
    s.totalErrors++;
    s.windowRequests++;
    s.totalRequests++;
    this.opts.metrics.crashes.labels(s.metricSlot).inc();
    this.opts.metrics.requests.labels(s.metricSlot, 'server_error').inc();
    this.opts.logger.error({ slot: s.spec.slot, consecutive: s.consecutiveFailures, err: e instanceof Error ? e.message : String(e) }, 'inference failed');
    if (!s.drained && s.consecutiveFailures >= this.maxCrashes) {
      s.drained = true;
      this.opts.metrics.drained.labels(s.metricSlot).set(1);
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
    return {
      mode: this.mode,
      split: this.router.split,
      drain: this.drainState(),
      rtc: this.rtc,
      maxConsecutiveCrashes: this.maxCrashes,
      actUrl: this.actUrl,
      slots: [...this.slots.values()].map((s) => ({
        slot: s.spec.slot,
        versionRef: s.spec.ref,
        modelVersion: s.spec.runner.export.modelVersion,
        kind: s.spec.runner.export.manifest.kind,
        ready: s.spec.runner.ready,
        drained: s.drained,
        consecutiveFailures: s.consecutiveFailures,
        crashes: s.failures,
        sizeBytes: s.spec.runner.export.sizeBytes,
      })),
    };
  }

  /** Per-slot numbers since the previous call; the caller pushes them to the workbench. */
  snapshot(): ServingStats {
    const now = this.opts.clock.monotonicMs();
    const windowMs = Math.max(1, Math.round(now - this.lastSnapshotAt));
    this.lastSnapshotAt = now;
    const slots: SlotStats[] = [];
    for (const s of this.slots.values()) {
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
    return { at: iso(this.opts.clock.now()), windowMs, slots };
  }

  async close(): Promise<void> {
    const runners = [...this.slots.values()].map((s) => s.spec.runner);
    this.slots.clear();
    this.mode = 'off';
    await Promise.allSettled(runners.map((r) => r.close()));
  }

  private addSlot(spec: SlotSpec): void {
    const metricSlot = spec.slot as MetricSlot;
    this.slots.set(spec.slot, {
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
      metricSlot,
    });
    this.opts.metrics.initSlots([metricSlot]);
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

export function quantile(sorted: number[], q: number): number | null {
  if (sorted.length === 0) return null;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[idx]!;
}
