/**
 * The bundled cart-pole environment (`cartpole`, version `cartpole-1`): deterministic, no
 * dependencies, the same dynamics the demo policies were designed on (core/src/demo).
 *
 * State s = (x, x_dot, theta, theta_dot): cart position (m) and velocity (m/s), pole angle from
 * upright (rad, positive = leaning towards +x) and its rate (rad/s). Action: one force F in
 * newtons on the cart, clipped to [-10, 10] (the raw value is graded before clipping).
 *
 * Dynamics: the classic Barto, Sutton & Anderson (1983) cart-pole, as in Gym's CartPole, with
 *   g = 9.8 m/s², m_c = 1.0 kg (cart), m_p = `masspole` (default 0.1 kg), l = `length`
 *   (HALF the pole length, default 0.5 m), M = m_c + m_p:
 *
 *   temp      = (F + m_p·l·θ̇²·sin θ) / M
 *   θ̈         = (g·sin θ − cos θ·temp) / (l·(4/3 − m_p·cos²θ / M))
 *   ẍ         = temp − m_p·l·θ̈·cos θ / M
 *
 * integrated by explicit (forward) Euler with a fixed step τ = 0.02 s, positions first with the
 * old velocities:
 *   x ← x + τ·ẋ,  ẋ ← ẋ + τ·ẍ,  θ ← θ + τ·θ̇,  θ̇ ← θ̇ + τ·θ̈
 *
 * Episode: at most `max_steps` steps (default 500, i.e. 10 s). It ends early as a failure when,
 * after a step, |x| > 2.4 m (the cart leaves the track: the safety bound) or |θ| > 12° (the pole
 * has fallen). Reward: 1 for every step that ends inside both bounds, 0 for the failing step,
 * so the return is the number of steps survived.
 *
 * Sensors: the policy observes s + ε, ε_i ~ N(0, `noise_std`²) drawn independently per component
 * and step from the case's seeded PRNG (mulberry32); the bounds are graded on the true state.
 * Plain float64 arithmetic and a seeded PRNG: the same case gives the same episode bit for bit.
 */
import type { EnvParams, Environment, EnvironmentFactory, ParamSpec, StateBound, StepResult } from './environment.js';
import type { Rng } from './rng.js';

export const CARTPOLE_ENV = 'cartpole';
/** Bump on any change to the dynamics, bounds, rewards or noise model: it changes every fingerprint. */
export const CARTPOLE_VERSION = 'cartpole-1';

export const GRAVITY = 9.8;
export const MASS_CART = 1.0;
export const TAU = 0.02;
export const FORCE_MAG = 10;
export const X_THRESHOLD = 2.4;
export const THETA_THRESHOLD = (12 * Math.PI) / 180;

export const CARTPOLE_PARAMS: Readonly<Record<string, ParamSpec>> = {
  masspole: { default: 0.1, min: 0.01, max: 2, description: 'pole mass in kg' },
  length: { default: 0.5, min: 0.1, max: 2, description: 'half the pole length in m' },
  noise_std: { default: 0, min: 0, max: 0.5, description: 'standard deviation of the Gaussian sensor noise added to each observation component' },
  max_steps: { default: 500, min: 1, max: 100_000, integer: true, description: 'episode length in steps of 0.02 s' },
};

const BOUNDS: readonly StateBound[] = [
  { name: 'track', stateIndex: 0, limit: X_THRESHOLD, unit: 'm', kind: 'safety', description: 'the cart stays on the track: |x| <= 2.4 m' },
  { name: 'pole_angle', stateIndex: 2, limit: THETA_THRESHOLD, unit: 'rad', kind: 'failure', description: 'the pole stays up: |theta| <= 12 degrees' },
];

export class CartPole implements Environment {
  readonly name = CARTPOLE_ENV;
  readonly version = CARTPOLE_VERSION;
  readonly observationDim = 4;
  readonly stateDim = 4;
  readonly actionDim = 1;
  readonly paramSpec = CARTPOLE_PARAMS;
  readonly actionBounds = { low: [-FORCE_MAG], high: [FORCE_MAG], unit: 'N' } as const;
  readonly stateBounds = BOUNDS;
  /** Mean |ΔF| per step above 1 N is a chattering controller. */
  readonly smoothnessThreshold = 1.0;

  private x = 0;
  private xDot = 0;
  private theta = 0;
  private thetaDot = 0;
  private massPole = 0.1;
  private length = 0.5;
  private noiseStd = 0;
  private maxSteps = 500;
  private steps = 0;
  private done = true;
  private rng: Rng | null = null;

  checkInitialState(s: readonly number[]): string | null {
    if (s.length !== 4) return `initial_state must have 4 values (x, x_dot, theta, theta_dot), got ${s.length}`;
    if (Math.abs(s[0]!) > X_THRESHOLD) return `initial_state x = ${s[0]} starts off the track (|x| <= ${X_THRESHOLD})`;
    if (Math.abs(s[2]!) > THETA_THRESHOLD) return `initial_state theta = ${s[2]} starts beyond the failure angle (|theta| <= ${THETA_THRESHOLD.toFixed(4)} rad, 12 degrees)`;
    return null;
  }

  reset(params: EnvParams, initialState: readonly number[], rng: Rng): number[] {
    this.massPole = params['masspole'] ?? CARTPOLE_PARAMS['masspole']!.default;
    this.length = params['length'] ?? CARTPOLE_PARAMS['length']!.default;
    this.noiseStd = params['noise_std'] ?? 0;
    this.maxSteps = params['max_steps'] ?? CARTPOLE_PARAMS['max_steps']!.default;
    [this.x, this.xDot, this.theta, this.thetaDot] = [initialState[0] ?? 0, initialState[1] ?? 0, initialState[2] ?? 0, initialState[3] ?? 0];
    this.rng = rng;
    this.steps = 0;
    this.done = false;
    return this.observe();
  }

  step(action: ArrayLike<number>): StepResult {
    if (this.done) throw new Error('CartPole.step called on a finished episode; call reset first.');
    const raw = action[0] ?? 0;
    const force = raw > FORCE_MAG ? FORCE_MAG : raw < -FORCE_MAG ? -FORCE_MAG : raw;
    const mp = this.massPole;
    const l = this.length;
    const total = MASS_CART + mp;
    const pml = mp * l;
    const cos = Math.cos(this.theta);
    const sin = Math.sin(this.theta);
    const temp = (force + pml * this.thetaDot * this.thetaDot * sin) / total;
    const thetaAcc = (GRAVITY * sin - cos * temp) / (l * (4 / 3 - (mp * cos * cos) / total));
    const xAcc = temp - (pml * thetaAcc * cos) / total;
    this.x += TAU * this.xDot;
    this.xDot += TAU * xAcc;
    this.theta += TAU * this.thetaDot;
    this.thetaDot += TAU * thetaAcc;
    this.steps++;

    let failure: string | null = null;
    if (Math.abs(this.x) > X_THRESHOLD) failure = 'track';
    else if (Math.abs(this.theta) > THETA_THRESHOLD) failure = 'pole_angle';
    const truncated = failure === null && this.steps >= this.maxSteps;
    this.done = failure !== null || truncated;
    return {
      obs: this.observe(),
      reward: failure === null ? 1 : 0,
      done: this.done,
      info: { applied: [force], state: [this.x, this.xDot, this.theta, this.thetaDot], failure, truncated },
    };
  }

  private observe(): number[] {
    const s = [this.x, this.xDot, this.theta, this.thetaDot];
    const sd = this.noiseStd;
    if (sd > 0 && this.rng !== null) for (let i = 0; i < 4; i++) s[i] = s[i]! + sd * this.rng.normal();
    return s;
  }
}

export const cartpoleFactory: EnvironmentFactory = {
  name: CARTPOLE_ENV,
  version: CARTPOLE_VERSION,
  paramSpec: CARTPOLE_PARAMS,
  stateDim: 4,
  create: () => new CartPole(),
};
