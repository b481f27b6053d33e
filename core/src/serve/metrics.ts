import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export type MetricSlot = 'prod' | 'a' | 'b' | 'shadow';
/** `policy_slot` of `switchyard_requests_total`: `none` when a request was refused before a slot was chosen. */
export type RequestSlot = MetricSlot | 'none';
export type RequestOutcome = 'ok' | 'client_error' | 'unavailable' | 'timeout' | 'server_error';
export const REQUEST_OUTCOMES: readonly RequestOutcome[] = ['ok', 'client_error', 'unavailable', 'timeout', 'server_error'];

/** One slot's labelled series, resolved once: `labels()` hashes its arguments on every call. */
export interface SlotMetricChildren {
  latency: { observe(v: number): void };
  ok: { inc(n?: number): void };
  cacheHit: { inc(n?: number): void };
  cacheMiss: { inc(n?: number): void };
  denoiseSteps: { inc(n?: number): void };
  inFlight: { inc(n?: number): void; dec(n?: number): void };
}

/** Latency buckets in seconds, from 100 µs: a policy on a GPU answers in well under a millisecond. */
export const LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/**
 * Every serving metric, on a registry that is passed in (never prom-client's global one),
 * so two engines in one process, or two tests, never share counters.
 */
export class ServingMetrics {
  readonly latency: Histogram<'policy_slot'>;
  readonly cacheHit: Counter<'policy_slot'>;
  readonly cacheMiss: Counter<'policy_slot'>;
  readonly denoiseSteps: Counter<'policy_slot'>;
  readonly inFlight: Gauge<'policy_slot'>;
  readonly requests: Counter<'policy_slot' | 'outcome'>;
  readonly crashes: Counter<'policy_slot'>;
  readonly drained: Gauge<'policy_slot'>;
  readonly split: Gauge;
  readonly degradedRouting: Counter;
  readonly traceDropped: Counter;
  readonly shadowDivergence: Histogram<'metric'>;
  readonly workerAbandoned: Counter<'policy_slot'>;

  constructor(readonly registry: Registry) {
    const registers = [registry];
    this.latency = new Histogram({
      name: 'switchyard_act_latency_seconds',
      help: 'Time to answer POST /act, from request parsed to response ready, per policy slot.',
      labelNames: ['policy_slot'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.cacheHit = new Counter({ name: 'switchyard_cache_hit_total', help: 'Episode-cache hits (warm starts) per policy slot.', labelNames: ['policy_slot'], registers });
    this.cacheMiss = new Counter({ name: 'switchyard_cache_miss_total', help: 'Episode-cache misses (cold starts) per policy slot.', labelNames: ['policy_slot'], registers });
    this.denoiseSteps = new Counter({ name: 'switchyard_denoise_steps_total', help: 'Iterative denoising steps run per policy slot.', labelNames: ['policy_slot'], registers });
    this.inFlight = new Gauge({ name: 'switchyard_in_flight_requests', help: 'POST /act requests being answered now, per policy slot.', labelNames: ['policy_slot'], registers });
    this.requests = new Counter({
      name: 'switchyard_requests_total',
      help: 'POST /act requests by policy slot (none when refused before a slot was chosen) and outcome (ok, client_error, unavailable, timeout, server_error).',
      labelNames: ['policy_slot', 'outcome'],
      registers,
    });
    this.crashes = new Counter({ name: 'switchyard_worker_failures_total', help: 'Failed inferences (exceptions, dead workers, non-finite output) per policy slot.', labelNames: ['policy_slot'], registers });
    this.drained = new Gauge({ name: 'switchyard_slot_drained', help: '1 when the slot is drained after too many consecutive failures, else 0.', labelNames: ['policy_slot'], registers });
    this.split = new Gauge({ name: 'switchyard_split_percent', help: 'Percent of new episodes routed to slot a.', registers });
    this.degradedRouting = new Counter({ name: 'switchyard_degraded_routing_total', help: 'Requests routed by request_id because they had no episode_id.', registers });
    this.traceDropped = new Counter({ name: 'switchyard_trace_records_dropped_total', help: 'Trace records dropped because the queue overflowed or the disk failed.', registers });
    this.workerAbandoned = new Counter({
      name: 'switchyard_worker_abandoned_total',
      help: 'Policy workers abandoned because a request ran past --act-timeout-ms (stuck in native code), per policy slot.',
      labelNames: ['policy_slot'],
      registers,
    });
    this.shadowDivergence = new Histogram({
      name: 'switchyard_shadow_divergence',
      help: 'Divergence of the shadow slot from the primary answer (cosine distance, max abs difference).',
      labelNames: ['metric'],
      buckets: [0.0001, 0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5],
      registers,
    });
  }

  private readonly children = new Map<MetricSlot, SlotMetricChildren>();

  forSlot(slot: MetricSlot): SlotMetricChildren {
    let c = this.children.get(slot);
    if (!c) {
      c = {
        latency: this.latency.labels(slot),
        ok: this.requests.labels(slot, 'ok'),
        cacheHit: this.cacheHit.labels(slot),
        cacheMiss: this.cacheMiss.labels(slot),
        denoiseSteps: this.denoiseSteps.labels(slot),
        inFlight: this.inFlight.labels(slot),
      };
      this.children.set(slot, c);
    }
    return c;
  }

  /** Creates every labelled series at zero so dashboards see the slots before traffic. */
  initSlots(slots: MetricSlot[]): void {
    for (const s of slots) {
      this.latency.labels(s);
      this.cacheHit.labels(s).inc(0);
      this.cacheMiss.labels(s).inc(0);
      this.denoiseSteps.labels(s).inc(0);
      this.inFlight.labels(s).set(0);
      this.crashes.labels(s).inc(0);
      this.drained.labels(s).set(0);
      this.workerAbandoned.labels(s).inc(0);
      for (const o of REQUEST_OUTCOMES) this.requests.labels(s, o).inc(0);
    }
  }

  /** Counts one POST /act answer. */
  countRequest(slot: RequestSlot, outcome: RequestOutcome): void {
    this.requests.labels(slot, outcome).inc();
  }
}

export function createMetricsRegistry(): Registry {
  return new Registry();
}
