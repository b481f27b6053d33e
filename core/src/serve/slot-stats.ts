/**
 * One slot's numbers: the live window the Traffic page charts (reset by each snapshot), the
 * cumulative counters the canary and shadow evidence read (never reset), the latency ring, and
 * the Prometheus series. The controller decides what a request means (answered, refused,
 * failed); this file only counts it. Everything on the answered path is a field update: no
 * allocation beyond the window's latency sample.
 */
import type { ServingState, SlotStats } from '../contract/index.js';
import type { SlotCounters, SlotSpec } from '../lifecycle/serving-port.js';
import type { ActOutput } from '../runtime/types.js';
import type { MetricSlot, RequestOutcome, ServingMetrics, SlotMetricChildren } from './metrics.js';
import { nearestRankOfSorted } from '../domain/stats.js';

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

/** A loaded slot: its runner, its drain bookkeeping and its numbers. */
export interface SlotRuntime {
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

export function makeSlotRuntime(spec: SlotSpec, metrics: ServingMetrics): SlotRuntime {
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
    metrics: metrics.forSlot(metricSlot),
  };
}

/** An answered request. */
export function countSuccess(s: SlotRuntime, out: ActOutput, latencyMs: number): void {
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

/** A request the slot did not answer through no fault of the policy: counted, never toward a drain. */
export function countRefusal(s: SlotRuntime, metrics: ServingMetrics, outcome: RequestOutcome): void {
  s.windowErrors++;
  s.totalErrors++;
  s.windowRequests++;
  s.totalRequests++;
  metrics.countRequest(s.metricSlot, outcome);
}

/** A failure of the policy itself: counts toward the drain (the controller decides on it). */
export function countFailure(s: SlotRuntime, metrics: ServingMetrics, outcome: RequestOutcome, lastError: NonNullable<SlotRuntime['lastError']>): void {
  s.consecutiveFailures++;
  s.failures++;
  // A dead worker is a crash; an error the live worker answered with is a failed request.
  if (lastError.crash) s.workerCrashes++;
  else s.requestFailures++;
  s.lastError = lastError;
  s.windowErrors++;
  s.totalErrors++;
  s.windowRequests++;
  s.totalRequests++;
  metrics.crashes.labels(s.metricSlot).inc();
  metrics.countRequest(s.metricSlot, outcome);
}

/** The slot's live window since the previous call, which it resets. */
export function takeWindow(s: SlotRuntime, windowMs: number): SlotStats {
  const lat = s.windowLatencies.sort((x, y) => x - y);
  const stats: SlotStats = {
    slot: s.spec.slot,
    requests: s.totalRequests,
    errors: s.totalErrors,
    rps: (s.windowRequests * 1000) / windowMs,
    p50Ms: quantile(lat, 0.5),
    p99Ms: quantile(lat, 0.99),
    cacheHits: s.totalHits,
    cacheMisses: s.totalMisses,
    inFlight: s.inFlight,
  };
  s.windowLatencies = [];
  s.windowRequests = 0;
  s.windowErrors = 0;
  s.windowHits = 0;
  s.windowMisses = 0;
  return stats;
}

export function slotCounters(s: SlotRuntime): SlotCounters {
  return {
    slot: s.spec.slot,
    versionRef: s.spec.ref,
    modelVersion: s.spec.runner.export.modelVersion,
    requests: s.totalRequests,
    errors: s.totalErrors,
    latencyCount: s.latency.count,
    drained: s.drained,
    maxDivergence: s.maxDivergence,
  };
}

export function slotState(s: SlotRuntime): ServingState['slots'][number] {
  return {
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
  };
}

export function quantile(sorted: number[], q: number): number | null {
  return nearestRankOfSorted(sorted, q) ?? null;
}
