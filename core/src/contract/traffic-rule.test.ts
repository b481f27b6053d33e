import { describe, expect, it } from 'vitest';
import type { ServingState } from './schemas.js';
import { stageChangeTrafficEffect } from './traffic-rule.js';

const slot = (s: 'a' | 'b' | 'prod', ref: string) => ({ slot: s, versionRef: ref, modelVersion: 'm@h', kind: 'direct' as const, ready: true, drained: false, consecutiveFailures: 0, crashes: 0, sizeBytes: 1 });
const ab = (a: string, b: string): ServingState => ({ mode: 'ab', split: 50, drain: 'none', slots: [slot('a', a), slot('b', b)], actUrl: null, rtc: false, maxConsecutiveCrashes: 5 });
const change = (version: string, replaced: string | null, to: 'production' | 'staging' = 'production') => ({ policy: 'p', to, version, replaced });

describe('what a stage change does to a running server', () => {
  it('two-policy mode: a promotion of a slot\'s version over the other slot\'s production routes every request to it, like a rollback', () => {
    expect(stageChangeTrafficEffect(ab('p@1', 'p@2'), change('p@2', 'p@1'))).toMatchObject({ moves: true, slot: 'b', how: 'route-all' });
    expect(stageChangeTrafficEffect(ab('p@1', 'p@2'), change('p@1', 'p@2'))).toMatchObject({ moves: true, slot: 'a', how: 'route-all' });
  });

  it('says plainly when nothing moves, and why', () => {
    const other = stageChangeTrafficEffect(ab('p@1', 'p@3'), change('p@2', 'p@1'));
    expect(other.moves).toBe(false);
    expect(other.text).toMatch(/^Traffic does not move: slot A serves p@1 and slot B p@3/);
    expect(stageChangeTrafficEffect(ab('p@1', 'p@2'), change('p@2', 'p@1', 'staging')).text).toMatch(/only a change of production moves traffic/);
    expect(stageChangeTrafficEffect(null, change('p@2', 'p@1')).moves).toBe(false);
  });

  it('single-policy mode moves only when the server follows the policy\'s production', () => {
    const single = (follows: string | null): ServingState => ({ ...ab('x', 'y'), mode: 'single', slots: [slot('prod', 'p@1')], followsProduction: follows });
    expect(stageChangeTrafficEffect(single('p'), change('p@2', 'p@1'))).toMatchObject({ moves: true, slot: 'prod', how: 'swap' });
    expect(stageChangeTrafficEffect(single(null), change('p@2', 'p@1')).moves).toBe(false);
  });
});
