import { describe, expect, it } from 'vitest';
import { ErrorCodes, SwitchyardError } from '../contract/errors.js';
import { canaryConfig, judgeLook, plannedLooks, type CanaryConfig, type SlotWindow } from './canary.js';
import { newcombeIntervalZ, zOneSided } from './stats.js';

const lat = (n: number, ms: number) => Array.from({ length: n }, () => ms);
const slot = (requests: number, errors: number, latencyMs = 1): SlotWindow => ({ requests, errors, latenciesMs: lat(Math.max(0, requests - errors), latencyMs) });

describe('canary configuration', () => {
  it('defaults to 5, 25, 50, 100 and plans one look per step plus one per monitor interval', () => {
    const c = canaryConfig();
    expect(c.steps).toEqual([5, 25, 50, 100]);
    expect(plannedLooks(c)).toBe(4 + 5); // 300 s monitor / 60 s
    expect(plannedLooks(canaryConfig({ monitorWindowMs: 0 }))).toBe(4);
    expect(plannedLooks(canaryConfig({ steps: [50, 100], intervalMs: 1000, monitorWindowMs: 2500 }))).toBe(2 + 3);
  });

  it('refuses steps that do not increase to 100 and out-of-range numbers, naming the field', () => {
    for (const [partial, field] of [
      [{ steps: [5, 25, 50] }, 'steps'],
      [{ steps: [50, 25, 100] }, 'steps'],
      [{ steps: [0, 100] }, 'steps'],
      [{ alpha: 0.7 }, 'alpha'],
      [{ p99MaxRatio: 0.5 }, 'p99MaxRatio'],
      [{ intervalMs: 1 }, 'intervalMs'],
    ] as [Partial<CanaryConfig>, string][]) {
      let e: unknown;
      try {
        canaryConfig(partial);
      } catch (x) {
        e = x;
      }
      expect(e).toBeInstanceOf(SwitchyardError);
      expect((e as SwitchyardError).code).toBe(ErrorCodes.SWY_ERR_INVALID_INPUT);
      expect((e as SwitchyardError).where).toBe(field);
    }
  });
});

describe('a look', () => {
  const config = canaryConfig({ steps: [5, 25, 50, 100], monitorWindowMs: 0, errorMargin: 0.02, alpha: 0.05 });
  const look = (production: SlotWindow | null, canary: SlotWindow | null, newCanary = canary?.requests ?? 0, extra: { sourceError?: string } = {}) =>
    judgeLook({ config, plannedLooks: plannedLooks(config), production, canary, newCanaryRequests: newCanary, ...extra });

  it('passes a canary that is as good as production with enough traffic, at alpha / looks', () => {
    const j = look(slot(5000, 5), slot(2000, 2));
    expect(j.pass).toBe(true);
    expect(j.alpha).toBeCloseTo(0.0125, 12);
    expect(j.checks.map((c) => [c.id, c.pass])).toEqual([
      ['data', true],
      ['error_rate', true],
      ['p99_latency', true],
    ]);
    // The bound is Newcombe's hybrid score upper bound at one-sided 1 - alpha/4.
    const iv = newcombeIntervalZ(2, 2000, 5, 5000, zOneSided(1 - 0.0125));
    expect(j.checks[1]!.bound).toBeCloseTo(iv.upper, 12);
    expect(j.checks[1]!.bound!).toBeLessThanOrEqual(0.02);
  });

  it('fails a canary whose error rate is worse by more than the margin, with the numbers', () => {
    const j = look(slot(5000, 5), slot(1000, 60));
    expect(j.pass).toBe(false);
    expect(j.failed!.id).toBe('error_rate');
    expect(j.failed!.note).toMatch(/^canary 60\/1000 errors \(6%\), production 5\/5000 \(0\.1%\); difference 0\.059 with one-sided upper bound 0\.0\d+ at 98\.75% \(alpha 0\.05 \/ 4 looks\) > margin 0\.02/);
    expect(j.canary).toMatchObject({ requests: 1000, errors: 60, errorRate: 0.06 });
  });

  it('fails closed: too little canary traffic cannot show it is no worse', () => {
    const j = look(slot(5000, 0), slot(30, 0));
    expect(j.pass).toBe(false);
    expect(j.failed!.id).toBe('error_rate');
    expect(j.failed!.note).toContain('the canary is not shown to be no worse than production');
  });

  it('dividing alpha by the planned looks makes each look stricter: a borderline canary passes one look but not one of nine', () => {
    const one = canaryConfig({ steps: [100], monitorWindowMs: 0, errorMargin: 0.02 });
    const nine = canaryConfig({ steps: [100], monitorWindowMs: 8 * 60_000, errorMargin: 0.02 });
    const args = { production: slot(4000, 0), canary: slot(300, 0), newCanaryRequests: 300 };
    expect(judgeLook({ config: one, plannedLooks: plannedLooks(one), ...args }).pass).toBe(true);
    expect(plannedLooks(nine)).toBe(9);
    const strict = judgeLook({ config: nine, plannedLooks: plannedLooks(nine), ...args });
    expect(strict.pass).toBe(false);
    expect(strict.failed!.id).toBe('error_rate');
  });

  it('a missing metric fails the look: no answer, no slot, no new canary requests, no production traffic', () => {
    const cases: [ReturnType<typeof look>, RegExp][] = [
      [look(null, null, 0, { sourceError: 'no answer within 5000 ms' }), /the metrics source did not answer \(no answer within 5000 ms\)/],
      [look(slot(100, 0), null), /no numbers for the canary slot \(b\)/],
      [look(slot(5000, 0), slot(2000, 0), 0), /the canary answered 0 requests since the previous look, fewer than 1/],
      [look(slot(0, 0), slot(2000, 0)), /production answered no request since the canary started/],
    ];
    for (const [j, re] of cases) {
      expect(j.pass).toBe(false);
      expect(j.failed!.id).toBe('data');
      expect(j.failed!.note).toMatch(/^missing metric: /);
      expect(j.failed!.note).toMatch(re);
    }
  });

  it('fails a p99 beyond the ratio limit, but not a sub-floor difference, and fails without canary latencies', () => {
    const slow = look(slot(5000, 0, 2), slot(3000, 0, 5));
    expect(slow.pass).toBe(false);
    expect(slow.failed!.id).toBe('p99_latency');
    expect(slow.failed!.observed).toBeCloseTo(2.5, 12);
    expect(slow.failed!.note).toBe('canary p99 5 ms, production p99 2 ms: ratio 2.5 > 1.5 and 3 ms more than production');
    const jitter = look(slot(5000, 0, 0.2), slot(3000, 0, 0.5));
    expect(jitter.pass).toBe(true);
    expect(jitter.checks[2]!.note).toContain('under the 1 ms floor');
    const noLatency = look(slot(5000, 0), { requests: 3000, errors: 0, latenciesMs: [] });
    expect(noLatency.pass).toBe(false);
    expect(noLatency.failed!.note).toContain('no latency sample for the canary slot');
  });
});
