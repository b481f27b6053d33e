/**
 * Simulated robots for the demo: N cart-poles in closed loop against the running server's
 * `/act` over real HTTP, one request per control step at 50 Hz. Each robot resets its cart-pole,
 * sends the observed state, applies the first action of the answer, steps the physics, and
 * starts a new episode (new `episode_id`) when the pole falls, the cart leaves the track or the
 * episode reaches its length, so Live, Traffic and recorded traces show real episodes.
 *
 * Episode lengths vary as on a real bench: each episode draws its length (150..500 steps, 3..10 s)
 * and a little sensor noise; a weak policy ends some early by dropping the pole.
 */
import { CartPole, CARTPOLE_PARAMS } from '../eval/cartpole.js';
import type { Logger } from '../platform/logger.js';
import { mulberry32, type Rng } from '../platform/rng.js';
import type { Timers } from '../platform/timers.js';

export interface DemoTrafficStatus {
  running: boolean;
  robots: number;
  hz: number;
  requests: number;
  errors: number;
  episodes: number;
  /** ISO-8601 when it started; null when off. */
  startedAt: string | null;
  lastError: string | null;
}

export interface DemoTrafficOptions {
  /** The `/act` URL (null until the server listens). */
  actUrl: () => string | null;
  logger: Logger;
  timers: Timers;
  now: () => number;
  /** Defaults to global fetch. */
  fetch?: typeof fetch;
  hz?: number;
  seed?: number;
}

export const DEFAULT_ROBOTS = 4;
export const MAX_ROBOTS = 64;

export class DemoTraffic {
  private generation = 0;
  private robots = 0;
  private requests = 0;
  private errors = 0;
  private episodes = 0;
  private startedAt: number | null = null;
  private lastError: string | null = null;
  private loops: Promise<void>[] = [];
  private readonly hz: number;
  private readonly fetchFn: typeof fetch;

  constructor(private readonly opts: DemoTrafficOptions) {
    this.hz = opts.hz ?? 50;
    this.fetchFn = opts.fetch ?? fetch;
  }

  status(): DemoTrafficStatus {
    return {
      running: this.startedAt !== null,
      robots: this.robots,
      hz: this.hz,
      requests: this.requests,
      errors: this.errors,
      episodes: this.episodes,
      startedAt: this.startedAt === null ? null : new Date(this.startedAt).toISOString(),
      lastError: this.lastError,
    };
  }

  /** Starts `robots` robots (restarting with the new count when already running). */
  async start(robots = DEFAULT_ROBOTS): Promise<DemoTrafficStatus> {
    const n = Math.max(1, Math.min(MAX_ROBOTS, Math.floor(robots)));
    if (this.startedAt !== null) {
      if (n === this.robots) return this.status();
      await this.stop();
    }
    const gen = ++this.generation;
    this.robots = n;
    this.startedAt = this.opts.now();
    this.requests = this.errors = this.episodes = 0;
    this.lastError = null;
    const seed = this.opts.seed ?? (this.opts.now() & 0x7fffffff);
    this.loops = Array.from({ length: n }, (_, k) => this.robot(gen, k, mulberry32(seed + k * 7919)));
    this.opts.logger.info({ robots: n, hz: this.hz }, 'demo traffic started');
    return this.status();
  }

  async stop(): Promise<DemoTrafficStatus> {
    if (this.startedAt === null) return this.status();
    this.generation++;
    this.startedAt = null;
    await Promise.allSettled(this.loops);
    this.loops = [];
    this.opts.logger.info({ requests: this.requests, episodes: this.episodes }, 'demo traffic stopped');
    return this.status();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((r) => this.opts.timers.setTimeout(r, ms));
  }

  private async robot(gen: number, k: number, rng: Rng): Promise<void> {
    const period = 1000 / this.hz;
    const env = new CartPole();
    // Robots start a little apart, as real ones do.
    await this.sleep(rng.next() * 200);
    let episodeNo = 0;
    while (gen === this.generation) {
      const url = this.opts.actUrl();
      if (!url) {
        await this.sleep(250);
        continue;
      }
      const episodeId = `robot-${k + 1}-${Math.floor(this.opts.now() / 1000).toString(36)}-${++episodeNo}`;
      const params = { ...Object.fromEntries(Object.entries(CARTPOLE_PARAMS).map(([n, p]) => [n, p.default])), noise_std: 0.002, max_steps: 150 + Math.floor(rng.next() * 351) };
      const init = [0, 0, 0, 0].map(() => (rng.next() - 0.5) * 0.08);
      let obs = env.reset(params, init, rng);
      this.episodes++;
      let next = this.opts.now();
      for (let done = false; !done && gen === this.generation; ) {
        const action = await this.act(url, episodeId, obs);
        if (gen !== this.generation) return;
        if (action === null) {
          // The server refused or is restarting: back off, then start a fresh episode.
          await this.sleep(500);
          break;
        }
        const r = env.step([action]);
        obs = r.obs;
        done = r.done;
        next += period;
        const wait = next - this.opts.now();
        if (wait > 0) await this.sleep(wait);
        else if (wait < -1000) next = this.opts.now(); // fell far behind (a slow machine): do not burst
      }
      // A reset takes the robot a moment.
      await this.sleep(300 + rng.next() * 400);
    }
  }

  private async act(url: string, episodeId: string, state: number[]): Promise<number | null> {
    try {
      const res = await this.fetchFn(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ episode_id: episodeId, state }), signal: AbortSignal.timeout(5000) });
      this.requests++;
      if (!res.ok) {
        this.errors++;
        this.lastError = `HTTP ${res.status}`;
        await res.arrayBuffer().catch(() => undefined);
        return null;
      }
      const body = (await res.json()) as { actions?: number[][] };
      const a = body.actions?.[0]?.[0];
      return typeof a === 'number' && Number.isFinite(a) ? a : 0;
    } catch (e) {
      this.errors++;
      this.lastError = (e as Error).message;
      return null;
    }
  }
}
