/**
 * The shadow slot: it answers every primary request after the primary answer is sent, off the
 * critical path, and its divergence from the primary answer is measured, charted and recorded.
 * A full shadow (too many requests waiting) skips and counts instead of queueing.
 */
import { ErrorCodes, SwitchyardError, type ActRecorder, type ActRequest, type ServingStats } from '../contract/index.js';
import { actionDivergence } from '../domain/divergence.js';
import type { SlotSpec } from '../lifecycle/serving-port.js';
import type { Clock } from '../platform/clock.js';
import type { ActOutput } from '../runtime/types.js';
import type { ServingMetrics } from './metrics.js';
import type { RunnerHandover } from './runner-handover.js';
import { ShadowDivergenceWindow } from './shadow-divergence.js';
import { countSuccess, makeSlotRuntime, type SlotRuntime } from './slot-stats.js';

export interface ShadowSlotOptions {
  clock: Clock;
  metrics: ServingMetrics;
  handover: RunnerHandover;
  /** Most shadow requests waiting at once. */
  maxInFlight: number;
  /** Max abs difference above which an answer counts as diverging. */
  threshold: number | undefined;
  /** A failed shadow request counts like any slot's (the controller may drain the shadow). */
  failed(s: SlotRuntime, e: unknown): void;
  /** Where records go now (the controller's recorder can change while serving). */
  recorder(): ActRecorder | null;
}

export class ShadowSlot {
  readonly slot: SlotRuntime;
  /** Requests the shadow skipped because `maxInFlight` were waiting. */
  skipped = 0;
  private readonly window: ShadowDivergenceWindow;

  constructor(spec: SlotSpec, private readonly o: ShadowSlotOptions) {
    this.slot = makeSlotRuntime(spec, o.metrics);
    this.window = new ShadowDivergenceWindow(o.threshold);
  }

  /** The divergence window since the previous call (for the stats snapshot), which it resets. */
  take(): NonNullable<ServingStats['shadow']> {
    return this.window.take(this.slot.spec.ref, this.skipped);
  }

  /** Runs the primary request `seq` on the shadow and records how its answer differs from `primary`. */
  async run(seq: number, requestId: string, body: ActRequest, primary: ActOutput): Promise<void> {
    const sh = this.slot;
    if (sh.inFlight >= this.o.maxInFlight) {
      this.skipped++;
      return;
    }
    const { clock, metrics, handover } = this.o;
    const t0 = clock.monotonicMs();
    sh.inFlight++;
    metrics.inFlight.labels('shadow').inc();
    const routing = { slot: 'shadow' as const, routing_key: body.episode_id ?? requestId };
    const runner = sh.spec.runner;
    const modelVersion = runner.export.modelVersion;
    handover.up(runner);
    try {
      const out = await runner.act({ episodeId: body.episode_id ?? null, state: body.state });
      sh.consecutiveFailures = 0;
      const latencyMs = clock.monotonicMs() - t0;
      countSuccess(sh, out, latencyMs);
      const divergence = actionDivergence(primary.actions, out.actions);
      this.window.add(divergence);
      if (divergence) {
        metrics.shadowDivergence.labels('max_abs').observe(divergence.maxAbs);
        metrics.shadowDivergence.labels('cosine_distance').observe(Math.max(0, 1 - divergence.cosine));
        sh.maxDivergence = Math.max(sh.maxDivergence, divergence.maxAbs);
      }
      this.o.recorder()?.shadow({ seq, requestId, routing, modelVersion, result: out, latencyMs, error: null, divergence });
    } catch (e) {
      this.o.failed(sh, e);
      this.window.fail();
      const code = e instanceof SwitchyardError ? e.code : ErrorCodes.SWY_ERR_INFERENCE;
      this.o.recorder()?.shadow({
        seq, requestId, routing, modelVersion, result: null, latencyMs: clock.monotonicMs() - t0,
        error: { code, message: e instanceof Error ? e.message : String(e) }, divergence: null,
      });
    } finally {
      sh.inFlight--;
      handover.down(runner);
      metrics.inFlight.labels('shadow').dec();
    }
  }
}
