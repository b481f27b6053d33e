/**
 * Closed-loop HTTP load generator on Node's http client with keep-alive agents.
 *
 * Each "robot" owns one keep-alive connection (an Agent with maxSockets 1) and sends one
 * request at a time: the next request leaves only when the previous answer has arrived, as a
 * robot's control loop does. `concurrency` robots run side by side. Latency is measured from just
 * before `http.request` to the end of the response body, i.e. what the robot observes.
 *
 * Every loop is bounded in time (warm-up + measurement, plus a per-request timeout) and in count.
 */
import http from 'node:http';
import { Samples, quantile } from './stats.js';

export interface LoadOptions {
  url: string;
  concurrency: number;
  warmupMs: number;
  measureMs: number;
  /** Distinct tag put into episode ids so every run starts new episodes. */
  tag: string;
  /** Serialized observations to cycle through (JSON arrays). */
  states: string[];
  /** Requests per episode before a robot starts a new one. */
  episodeSteps?: number;
  /** Hard cap on requests per robot (safety bound). */
  maxRequestsPerRobot?: number;
  requestTimeoutMs?: number;
  /**
   * Paced robots: each robot sends at this rate (a control loop's tick) instead of closed loop.
   * A tick whose answer comes late is sent as soon as the answer is in (no catch-up burst).
   */
  rateHz?: number;
  /** Raw JSON appended to every body (e.g. `,"image":"..."`), so the bodies can carry an image. */
  extraBody?: string;
}

export interface LoadResult {
  concurrency: number;
  /** Requests completed inside the measurement window, per second. */
  rps: number;
  /** Latency samples kept (requests started inside the measurement window). */
  requests: number;
  /** Every answered request, warm-up included (for CPU per request). */
  totalAnswered: number;
  errors: number;
  /** First non-200 status or transport error seen, for the report. */
  firstError: string | null;
  p50Us: number;
  p90Us: number;
  p99Us: number;
  maxUs: number;
  meanUs: number;
  /** Latency samples over 5 ms (the "no request over 5 ms" check). */
  over5ms: number;
  /** Median of the server's own `latency_ms` field (Switchyard only), in µs. */
  serverP50Us: number;
  serverP99Us: number;
  /** TCP connections opened (should equal concurrency with keep-alive). */
  connections: number;
  measuredMs: number;
}

interface Reply {
  status: number;
  body: string;
}

function post(agent: http.Agent, u: URL, body: string, timeoutMs: number, onSocket: (s: object) => void): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        agent,
        host: u.hostname,
        port: u.port,
        path: u.pathname,
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        let data = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (data += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data }));
        res.on('error', reject);
      },
    );
    req.on('socket', onSocket);
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const u = new URL(o.url);
  const episodeSteps = o.episodeSteps ?? 100;
  const maxPerRobot = o.maxRequestsPerRobot ?? 2_000_000;
  const timeoutMs = o.requestTimeoutMs ?? 10_000;
  // Generous bound: 2 M samples (16 MB); more is counted but not kept.
  const lat = new Samples(2_000_000);
  const srv = new Samples(2_000_000);
  const sockets = new WeakSet<object>();
  let connections = 0;
  const onSocket = (s: object): void => {
    if (!sockets.has(s)) {
      sockets.add(s);
      connections++;
    }
  };
  let errors = 0;
  let firstError: string | null = null;
  let completedInWindow = 0;
  let totalAnswered = 0;
  let latSum = 0;
  let over5ms = 0;
  const periodMs = o.rateHz && o.rateHz > 0 ? 1000 / o.rateHz : 0;
  const extra = o.extraBody ?? '';

  const start = performance.now();
  const measureStart = start + o.warmupMs;
  const measureEnd = measureStart + o.measureMs;

  const robot = async (r: number): Promise<void> => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      // Paced robots start spread over one period, as independent control loops would.
      let nextTick = start + (periodMs * r) / Math.max(1, o.concurrency);
      for (let k = 0; k < maxPerRobot; k++) {
        if (periodMs > 0) {
          const wait = nextTick - performance.now();
          if (wait > 0) await new Promise((res) => setTimeout(res, wait));
          nextTick = Math.max(nextTick + periodMs, performance.now());
        }
        const t0 = performance.now();
        if (t0 >= measureEnd) break;
        const episode = Math.floor(k / episodeSteps);
        const body = `{"episode_id":"bench-${o.tag}-${r}-${episode}","state":${o.states[(k + r * 7) % o.states.length]}${extra}}`;
        let reply: Reply;
        try {
          reply = await post(agent, u, body, timeoutMs, onSocket);
        } catch (e) {
          errors++;
          firstError ??= e instanceof Error ? e.message : String(e);
          // A transport error: back off a little so a dead server cannot spin this loop.
          await new Promise((res) => setTimeout(res, 50));
          continue;
        }
        const t1 = performance.now();
        totalAnswered++;
        if (reply.status !== 200) {
          errors++;
          firstError ??= `HTTP ${reply.status}: ${reply.body.slice(0, 200)}`;
          continue;
        }
        if (t1 >= measureStart && t1 <= measureEnd) completedInWindow++;
        if (t0 >= measureStart) {
          const us = (t1 - t0) * 1000;
          lat.push(us);
          latSum += us;
          if (us > 5000) over5ms++;
          const parsed = JSON.parse(reply.body) as { actions?: unknown; latency_ms?: unknown };
          if (!Array.isArray(parsed.actions)) {
            errors++;
            firstError ??= `answer without actions: ${reply.body.slice(0, 200)}`;
          }
          if (typeof parsed.latency_ms === 'number') srv.push(parsed.latency_ms * 1000);
        }
      }
    } finally {
      agent.destroy();
    }
  };

  await Promise.all(Array.from({ length: o.concurrency }, (_, r) => robot(r)));
  const end = Math.min(performance.now(), measureEnd);
  const measuredMs = Math.max(1, end - measureStart);
  const s = lat.sorted();
  const ss = srv.sorted();
  return {
    concurrency: o.concurrency,
    rps: (completedInWindow * 1000) / measuredMs,
    requests: lat.count,
    totalAnswered,
    errors,
    firstError,
    p50Us: quantile(s, 0.5),
    p90Us: quantile(s, 0.9),
    p99Us: quantile(s, 0.99),
    maxUs: s.length ? s[s.length - 1]! : Number.NaN,
    meanUs: lat.count ? latSum / lat.count : Number.NaN,
    over5ms,
    serverP50Us: quantile(ss, 0.5),
    serverP99Us: quantile(ss, 0.99),
    connections,
    measuredMs,
  };
}
