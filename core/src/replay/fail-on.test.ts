import { describe, expect, it } from 'vitest';
import { evaluateFailOn, parseDiff, parseFailOn, type FailOnMetrics } from './fail-on.js';

const metrics = (m: Partial<FailOnMetrics>): FailOnMetrics => ({
  divergence: null,
  'mean-divergence': null,
  'p99-divergence': null,
  cosine: null,
  incomparable: null,
  'p50-latency-ratio': null,
  'p99-latency-ratio': null,
  'cache-mismatch': null,
  'error-rate': null,
  errors: 0,
  ...m,
});

describe('--diff', () => {
  it('accepts one aspect, all, or a comma list; defaults to all', () => {
    expect(parseDiff(undefined)).toEqual(['actions', 'latency', 'cache']);
    expect(parseDiff('all')).toEqual(['actions', 'latency', 'cache']);
    expect(parseDiff('cache,actions')).toEqual(['actions', 'cache']);
    expect(parseDiff('LATENCY')).toEqual(['latency']);
  });
  it('names the flag and the choices when wrong', () => {
    expect(() => parseDiff('action')).toThrow(/--diff "action": "action" is not one of actions, latency, cache, all/);
    try {
      parseDiff('x');
    } catch (e) {
      expect(e).toMatchObject({ code: 'SWY_ERR_INVALID_INPUT', where: '--diff' });
    }
  });
});

describe('--fail-on grammar', () => {
  it('parses conditions, percentages, the word error and comma lists', () => {
    expect(parseFailOn('divergence>0.1')).toEqual([{ text: 'divergence>0.1', metric: 'divergence', op: '>', threshold: 0.1 }]);
    expect(parseFailOn(' p99-latency-ratio >= 1.5 , cache-mismatch>5% ,error')).toEqual([
      { text: 'p99-latency-ratio >= 1.5', metric: 'p99-latency-ratio', op: '>=', threshold: 1.5 },
      { text: 'cache-mismatch>5%', metric: 'cache-mismatch', op: '>', threshold: 0.05 },
      { text: 'error', metric: 'errors', op: '>', threshold: 0 },
    ]);
    expect(parseFailOn('cosine<0.99')[0]).toMatchObject({ metric: 'cosine', op: '<', threshold: 0.99 });
    expect(parseFailOn('errors>=3')[0]).toMatchObject({ metric: 'errors', op: '>=', threshold: 3 });
    expect(parseFailOn('divergence>1e-3')[0]!.threshold).toBe(0.001);
    expect(parseFailOn(undefined)).toEqual([]);
  });

  it.each([
    ['divergance>0.1', /unknown metric "divergance"/],
    ['divergence', /cannot read "divergence"/],
    ['divergence>>1', /cannot read/],
    ['divergence>abc', /cannot read/],
    ['divergence=0.1', /cannot read/],
    ['', /empty condition/],
    ['divergence>0.1,', /empty condition/],
  ])('rejects %j with a message naming --fail-on', (text, re) => {
    let err: unknown;
    try {
      parseFailOn(text);
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'SWY_ERR_INVALID_INPUT', where: '--fail-on' });
    expect((err as Error).message).toMatch(/^--fail-on /);
    expect((err as Error).message).toMatch(re);
  });

  it('refuses a metric that --diff leaves out, naming both flags', () => {
    expect(() => parseFailOn('divergence>0.1', ['latency'])).toThrow(/--fail-on "divergence>0.1" compares actions, but --diff latency leaves actions out/);
    expect(parseFailOn('error', ['latency'])).toHaveLength(1);
  });
});

describe('evaluateFailOn', () => {
  it('trips when any condition holds; a metric with no data never trips; NaN divergence always does', () => {
    const c = parseFailOn('divergence>0.01,p99-latency-ratio>1.5');
    expect(evaluateFailOn(c, metrics({ divergence: 0, 'p99-latency-ratio': 1.2 })).tripped).toBe(false);
    expect(evaluateFailOn(c, metrics({ divergence: 0.02, 'p99-latency-ratio': 1.2 })).tripped).toBe(true);
    const r = evaluateFailOn(c, metrics({ divergence: null, 'p99-latency-ratio': 2 }));
    expect(r.outcomes).toEqual([
      { condition: 'divergence>0.01', metric: 'divergence', observed: null, tripped: false },
      { condition: 'p99-latency-ratio>1.5', metric: 'p99-latency-ratio', observed: 2, tripped: true },
    ]);
    expect(evaluateFailOn(parseFailOn('divergence>10'), metrics({ divergence: NaN })).tripped).toBe(true);
    expect(evaluateFailOn(parseFailOn('error'), metrics({ errors: 0 })).tripped).toBe(false);
    expect(evaluateFailOn(parseFailOn('error'), metrics({ errors: 1 })).tripped).toBe(true);
  });
});
