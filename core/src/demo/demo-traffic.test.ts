/**
 * The demo robots over real HTTP on loopback against a small /act that answers like the server
 * (a push towards the upright): each robot runs episodes of cart-pole steps, one request a step,
 * a new episode id per episode, and stops cleanly.
 */
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../platform/logger.js';
import { systemTimers } from '../platform/timers.js';
import { DemoTraffic } from './demo-traffic.js';

let server: Server;
let url = '';
const seen: { episode_id: string; state: number[] }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const b = JSON.parse(body) as { episode_id: string; state: number[] };
      seen.push(b);
      const [, xDot, theta, thetaDot] = b.state;
      const force = 10 * (theta! * 10 + thetaDot! + 0.1 * xDot!);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ actions: [[force]], num_actions: 1 }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/act`;
});

afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('DemoTraffic', () => {
  it('runs N robots in closed loop, one request per control step, and stops', async () => {
    const t = new DemoTraffic({ actUrl: () => url, logger: silentLogger, timers: systemTimers, now: () => Date.now(), hz: 200, seed: 7 });
    const started = await t.start(2);
    expect(started).toMatchObject({ running: true, robots: 2, hz: 200 });
    for (let i = 0; i < 100 && t.status().requests < 60; i++) await new Promise((r) => setTimeout(r, 50));
    const stopped = await t.stop();
    expect(stopped.running).toBe(false);
    expect(stopped.requests).toBeGreaterThanOrEqual(60);
    expect(stopped.errors).toBe(0);
    const robots = new Set(seen.map((s) => s.episode_id.split('-')[1]));
    expect(robots).toEqual(new Set(['1', '2']));
    // Closed loop: consecutive states of one episode follow the physics (small steps), not noise.
    const ep = seen.filter((s) => s.episode_id === seen[0]!.episode_id);
    expect(ep.length).toBeGreaterThan(5);
    for (let i = 1; i < ep.length; i++) expect(Math.abs(ep[i]!.state[0]! - ep[i - 1]!.state[0]!)).toBeLessThan(0.05);
    const after = seen.length;
    await new Promise((r) => setTimeout(r, 150));
    expect(seen.length).toBe(after);
  });

  it('counts a server that refuses as errors and keeps trying', async () => {
    const t = new DemoTraffic({ actUrl: () => 'http://127.0.0.1:1/act', logger: silentLogger, timers: systemTimers, now: () => Date.now(), seed: 1 });
    await t.start(1);
    for (let i = 0; i < 100 && t.status().errors < 1; i++) await new Promise((r) => setTimeout(r, 50));
    const s = await t.stop();
    expect(s.errors).toBeGreaterThanOrEqual(1);
    expect(s.lastError).not.toBeNull();
  });
});
