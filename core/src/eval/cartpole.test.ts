import { describe, expect, it } from 'vitest';
import { GAINS } from '../demo/cartpole-policies.js';
import { CARTPOLE_PARAMS, CARTPOLE_VERSION, CartPole, THETA_THRESHOLD, X_THRESHOLD } from './cartpole.js';
import { resolveParams, type StepResult } from './environment.js';
import { mulberry32 } from './rng.js';

const defaults = resolveParams(CARTPOLE_PARAMS);

function rollout(policy: (obs: number[]) => number, s0: number[], params = defaults, seed = 1): { steps: StepResult[]; obs0: number[] } {
  const env = new CartPole();
  const obs0 = env.reset(params, s0, mulberry32(seed));
  const steps: StepResult[] = [];
  let obs = obs0;
  for (;;) {
    const r = env.step([policy(obs)]);
    steps.push(r);
    obs = r.obs;
    if (r.done) break;
  }
  return { steps, obs0 };
}

const lqr = (o: number[]) => GAINS.lqr.reduce((a, k, i) => a + k * o[i]!, 0);

describe('mulberry32', () => {
  it('is a pure function of its seed', () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const c = mulberry32(43);
    const xa = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(xa);
    expect(Array.from({ length: 5 }, () => c.next())).not.toEqual(xa);
    expect(xa.every((x) => x >= 0 && x < 1)).toBe(true);
    // Standard normal: mean ≈ 0, variance ≈ 1 over many draws.
    const n = mulberry32(7);
    const xs = Array.from({ length: 20000 }, () => n.normal());
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    const v = xs.reduce((s, x) => s + (x - mean) ** 2, 0) / xs.length;
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(v - 1)).toBeLessThan(0.05);
  });
});

describe('cart-pole', () => {
  it('has a version and the classic constants', () => {
    const env = new CartPole();
    expect(env.version).toBe(CARTPOLE_VERSION);
    expect([env.observationDim, env.actionDim]).toEqual([4, 1]);
    expect(env.actionBounds).toMatchObject({ low: [-10], high: [10] });
    expect(X_THRESHOLD).toBe(2.4);
    expect(THETA_THRESHOLD).toBeCloseTo(0.20944, 5);
    expect(defaults).toEqual({ masspole: 0.1, length: 0.5, noise_std: 0, max_steps: 500 });
  });

  it('integrates the Barto-Sutton-Anderson equations with forward Euler', () => {
    const env = new CartPole();
    const s = [0.1, -0.2, 0.05, 0.3];
    env.reset(defaults, s, mulberry32(0));
    const F = 3;
    const r = env.step([F]);
    // Hand-computed reference.
    const [g, mc, mp, l, tau] = [9.8, 1.0, 0.1, 0.5, 0.02];
    const M = mc + mp;
    const temp = (F + mp * l * s[3]! ** 2 * Math.sin(s[2]!)) / M;
    const thAcc = (g * Math.sin(s[2]!) - Math.cos(s[2]!) * temp) / (l * (4 / 3 - (mp * Math.cos(s[2]!) ** 2) / M));
    const xAcc = temp - (mp * l * thAcc * Math.cos(s[2]!)) / M;
    expect(r.info.state).toEqual([s[0]! + tau * s[1]!, s[1]! + tau * xAcc, s[2]! + tau * s[3]!, s[3]! + tau * thAcc]);
    expect(r.obs).toEqual(r.info.state); // no noise
    expect(r.reward).toBe(1);
    expect(r.done).toBe(false);
  });

  it('clips the force to ±10 N', () => {
    const a = new CartPole();
    const b = new CartPole();
    a.reset(defaults, [0, 0, 0.05, 0], mulberry32(0));
    b.reset(defaults, [0, 0, 0.05, 0], mulberry32(0));
    const ra = a.step([1000]);
    const rb = b.step([10]);
    expect(ra.info.applied).toEqual([10]);
    expect(ra.info.state).toEqual(rb.info.state);
  });

  it('lets the pole fall with zero force, ending the episode at 12 degrees', () => {
    const { steps } = rollout(() => 0, [0, 0, 0.05, 0]);
    const last = steps[steps.length - 1]!;
    expect(last.info.failure).toBe('pole_angle');
    expect(last.reward).toBe(0);
    expect(Math.abs(last.info.state[2]!)).toBeGreaterThan(THETA_THRESHOLD);
    expect(steps.length).toBeLessThan(100); // well under 2 s
    // It falls the way it leans, faster and faster.
    const th = steps.map((s) => s.info.state[2]!);
    for (let i = 1; i < th.length; i++) expect(th[i]!).toBeGreaterThan(th[i - 1]!);
  });

  it('fails at the end of the track', () => {
    const { steps } = rollout(() => 0, [2.39, 1, 0, 0]);
    expect(steps.length).toBe(1);
    expect(steps[0]!.info.failure).toBe('track');
    expect(steps[0]!.done).toBe(true);
  });

  it('an LQR controller balances a nominal case for the whole episode', () => {
    const { steps } = rollout(lqr, [0.2, 0, 0.05, 0]);
    expect(steps).toHaveLength(500);
    const last = steps[499]!;
    expect(last.info.truncated).toBe(true);
    expect(last.info.failure).toBeNull();
    expect(steps.reduce((s, r) => s + r.reward, 0)).toBe(500);
    expect(Math.abs(last.info.state[2]!)).toBeLessThan(0.01);
    expect(Math.max(...steps.map((s) => Math.abs(s.info.state[0]!)))).toBeLessThan(2.4);
  });

  it('honours max_steps, masspole and length', () => {
    expect(rollout(lqr, [0, 0, 0.02, 0], { ...defaults, max_steps: 37 }).steps).toHaveLength(37);
    const light = rollout(() => 0, [0, 0, 0.05, 0]).steps.length;
    const long = rollout(() => 0, [0, 0, 0.05, 0], { ...defaults, length: 1.5 }).steps.length;
    expect(long).toBeGreaterThan(light); // a longer pole falls more slowly
    const heavy = rollout(() => 5, [0, 0, 0, 0], { ...defaults, masspole: 1 }).steps[0]!.info.state[1]!;
    const nominal = rollout(() => 5, [0, 0, 0, 0]).steps[0]!.info.state[1]!;
    expect(heavy).toBeLessThan(nominal); // same push, more mass, less acceleration
  });

  it('is deterministic; sensor noise follows the seed and leaves the true state alone', () => {
    const noisy = { ...defaults, noise_std: 0.05 };
    const a = rollout(lqr, [0, 0, 0.05, 0], noisy, 11);
    const b = rollout(lqr, [0, 0, 0.05, 0], noisy, 11);
    const c = rollout(lqr, [0, 0, 0.05, 0], noisy, 12);
    expect(b).toEqual(a);
    expect(c.obs0).not.toEqual(a.obs0);
    expect(a.obs0).not.toEqual([0, 0, 0.05, 0]);
    const r = a.steps[0]!;
    expect(r.obs).not.toEqual(r.info.state);
    expect(Math.abs(r.obs[2]! - r.info.state[2]!)).toBeLessThan(0.3);
    // Without noise the seed does not matter.
    expect(rollout(lqr, [0, 0, 0.05, 0], defaults, 1)).toEqual(rollout(lqr, [0, 0, 0.05, 0], defaults, 2));
  });

  it('checks initial states', () => {
    const env = new CartPole();
    expect(env.checkInitialState([0, 0, 0, 0])).toBeNull();
    expect(env.checkInitialState([0, 0, 0])).toMatch(/4 values/);
    expect(env.checkInitialState([2.5, 0, 0, 0])).toMatch(/off the track/);
    expect(env.checkInitialState([0, 0, 0.3, 0])).toMatch(/failure angle/);
    expect(() => env.step([0])).toThrow(/reset/);
  });
});
