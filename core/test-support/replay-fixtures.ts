/**
 * Traces for the replay tests and benchmark, written by the real `TraceWriter`: a two-policy
 * session (slots a and b, by the routing formula's split), cache statuses, a few errors, shadow
 * results with divergences. Deterministic for a given `seed`.
 */
import { silentLogger } from '../src/platform/logger.js';
import { canonicalizeJs, NumberToken } from '../src/trace/canonical-json.js';
import { chainHash, GENESIS_HASH } from '../src/trace/chain.js';
import { parseTraceLine } from '../src/trace/trace-reader.js';
import type { ActOutput } from '../src/runtime/types.js';
import { steppingClock } from './trace-fixtures.js';
import { TraceWriter, type TraceRequestInput } from '../src/trace/trace-writer.js';

export interface SyntheticTraceOptions {
  dir: string;
  requests: number;
  /** Distinct episodes (requests are dealt round-robin; default 50). */
  episodes?: number;
  /** One request in this many fails (no response; default 97, 0 for none). */
  errorEvery?: number;
  /** One request in this many gets a shadow result (default 10, 0 for none). */
  shadowEvery?: number;
  /** Actions per chunk and per action (default 8 x 2). */
  chunk?: number;
  actionDim?: number;
  gzip?: boolean;
  /** Milliseconds between requests (default 1). */
  stepMs?: number;
  sessionId?: string;
  /** Called every 10,000 requests. */
  onProgress?: (written: number) => void;
}

/** A small deterministic pseudo-random generator (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Writes a synthetic two-policy trace; resolves with its path once closed. */
export async function writeSyntheticTrace(o: SyntheticTraceOptions): Promise<string> {
  const episodes = o.episodes ?? 50;
  const errorEvery = o.errorEvery ?? 97;
  const shadowEvery = o.shadowEvery ?? 10;
  const chunk = o.chunk ?? 8;
  const dim = o.actionDim ?? 2;
  const clock = steppingClock(Date.UTC(2026, 0, 2, 3, 4, 5, 678), o.stepMs ?? 1);
  const w = new TraceWriter({
    dir: o.dir,
    modelHash: 'aaaaaaaaaaaaaaaa',
    gzip: o.gzip ?? false,
    clock,
    logger: silentLogger,
    maxQueue: 1_000_000,
    sessionId: o.sessionId ?? 'synthetic',
    policies: [
      { slot: 'a', model_id: 'model-a', model_hash: 'aaaaaaaaaaaaaaaa' },
      { slot: 'b', model_id: 'model-b', model_hash: 'bbbbbbbbbbbbbbbb' },
    ],
    split: 50,
    providers: ['cpu'],
  });
  const rand = rng(7);
  const seen = new Set<number>();
  for (let i = 0; i < o.requests; i++) {
    const ep = i % episodes;
    const slot = ep % 2 === 0 ? 'a' : 'b';
    const state = [rand() - 0.5, rand() * 2 - 1, (rand() - 0.5) * 0.2, rand() - 0.5];
    const failed = errorEvery > 0 && i % errorEvery === errorEvery - 1;
    const actions: number[][] = [];
    for (let k = 0; k < chunk; k++) {
      const row: number[] = [];
      for (let d = 0; d < dim; d++) row.push(Math.fround(Math.tanh(state[d % 4]! * 3 + k * 0.05)));
      actions.push(row);
    }
    const first = !seen.has(ep);
    seen.add(ep);
    const latency = slot === 'a' ? 0.15 + rand() * 0.1 : 0.3 + rand() * 0.4;
    const input: TraceRequestInput = {
      request: { episode_id: `episode-${ep}`, request_id: `req-${i}`, instruction: null, state },
      response: failed ? null : { actions },
      latency: { total_ms: latency, stages: { infer_ms: latency * 0.6 } },
      denoise: { steps_used: first ? 8 : 2, steps_configured: 8, adaptive: !first },
      cache: failed ? null : { status: first ? 'miss' : 'hit' },
      error: failed ? { code: 'SWY_ERR_INFERENCE', message: 'synthetic failure' } : null,
      routing: { slot, routing_key: `episode-${ep}`, degraded: false, cached: !first },
    };
    const seq = w.writeRequest(input);
    if (shadowEvery > 0 && i % shadowEvery === 0 && !failed) {
      const div = i % (shadowEvery * 7) === 0 ? 0 : rand() * 10 ** -(1 + (i % 5));
      w.writeShadowResult({
        seq,
        routing: { slot: 'shadow', routing_key: `episode-${ep}` },
        response: { actions },
        latency: { total_ms: latency * 1.1 },
        divergence: { cosine: 1 - div / 10, max_abs: div },
      });
    }
    if (i % 1000 === 999) await new Promise((r) => setImmediate(r));
    if (o.onProgress && i % 10_000 === 9_999) o.onProgress(i + 1);
  }
  await w.close();
  return w.path;
}

/** Records a trace of real answers: `act` is called in order for each request (e.g. a PolicyRunner). */
export async function recordPolicyTrace(o: {
  dir: string;
  requests: number;
  episodes: number;
  act: (episodeId: string, state: number[]) => Promise<ActOutput & { latencyMs?: number }>;
  modelHash?: string;
  gzip?: boolean;
  sessionId?: string;
}): Promise<string> {
  const w = new TraceWriter({
    dir: o.dir,
    modelHash: o.modelHash ?? 'cccccccccccccccc',
    gzip: o.gzip ?? false,
    clock: steppingClock(),
    logger: silentLogger,
    maxQueue: 1_000_000,
    sessionId: o.sessionId ?? 'recorded',
  });
  const rand = rng(11);
  for (let i = 0; i < o.requests; i++) {
    const ep = `ep-${i % o.episodes}`;
    const state = [(rand() - 0.5) * 0.4, (rand() - 0.5) * 0.6, (rand() - 0.5) * 0.2, (rand() - 0.5) * 0.8];
    const t = performance.now();
    const out = await o.act(ep, state);
    const ms = out.latencyMs ?? performance.now() - t;
    w.writeRequest({
      request: { episode_id: ep, request_id: `r${i}`, instruction: null, state },
      response: { actions: out.actions, num_actions: out.numActions, action_dim: out.actionDim },
      latency: { total_ms: ms, stages: { infer_ms: out.inferMs } },
      denoise: { steps_used: out.denoiseSteps, steps_configured: out.denoiseSteps, adaptive: false },
      cache: out.cache === 'none' ? null : { status: out.cache },
    });
  }
  await w.close();
  return w.path;
}

/**
 * A trace as FastCrest tether's recorder writes it: Python's default `json.dumps` (", " and ": ",
 * its own key order, here each object's keys reversed), the chain over the sorted compact form.
 * Read the byte way (`record-bytes.ts`), unlike TraceWriter's lines.
 */
export function referenceTrace(n: number): string {
  const dump = (v: unknown): string => {
    if (v instanceof NumberToken) return v.value;
    if (Array.isArray(v)) return '[' + v.map(dump).join(', ') + ']';
    if (v !== null && typeof v === 'object') return '{' + Object.entries(v).reverse().map(([k, x]) => `${JSON.stringify(k)}: ${dump(x)}`).join(', ') + '}';
    return JSON.stringify(v);
  };
  const r = rng(9);
  let prev = GENESIS_HASH;
  const out: string[] = [];
  const add = (rec: Record<string, unknown>) => {
    const hash = chainHash(prev, canonicalizeJs(rec));
    out.push(dump({ ...parseTraceLine(canonicalizeJs(rec)), prev_record_hash: prev, record_hash: hash }));
    prev = hash;
  };
  add({ kind: 'header', schema_version: 1, session_id: 'ref', started_at: '2026-03-01T00:00:00.000Z', model_hash: '0123456789abcdef', tether_version: '0.9.0' });
  for (let i = 0; i < n; i++) {
    add({
      kind: 'request',
      schema_version: 1,
      seq: i + 1,
      timestamp: 1772323200 + i * 0.005,
      request: { episode_id: `ep-${i % 7}`, request_id: `req-${i}`, instruction: 'pick up the cube, then: place it', state: [r() - 0.5, r(), -1e-7] },
      response: { actions: [[r(), r()], [r() - 1, 0.25]], num_actions: 2, action_dim: 2 },
      latency: { total_ms: 5 + r() * 10, stages: { infer_ms: 4.5 } },
      cache: { status: r() < 0.7 ? 'hit' : 'miss' },
      routing: { slot: i % 3 === 0 ? 'b' : 'a', policy: 'p' },
      ...(i % 11 === 0 ? { error: { code: 'E', message: 'boom' } } : {}),
      evidence: { kind: 'tether.rollout_evidence', outcome: { status: 'success', error_slug: null } },
    });
    if (i % 50 === 0) add({ kind: 'shadow_result', seq: i + 1, timestamp: 1772323200 + i * 0.005, divergence: { max_abs: r() / 10, cosine: 1 - r() / 100 }, latency: { total_ms: 7.5 }, routing: { slot: 'shadow' } });
  }
  add({ kind: 'footer', ended_at: '2026-03-01T00:10:00.000Z', totals: { requests: n } });
  return out.join('\n') + '\n';
}
