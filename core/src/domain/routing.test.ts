import { createHash } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { Router, routingBucket, slotForBucket } from './routing.js';
import { LruMap } from './lru.js';

/** Independent reference: BigInt over the first 8 digest bytes. */
function referenceBucket(key: string): number {
  const d = createHash('sha256').update(Buffer.from(key, 'utf8')).digest();
  return Number(d.readBigUInt64BE(0) % 100n);
}

describe('routingBucket', () => {
  it('matches the spec formula for many keys, including non-ASCII ones', () => {
    const keys = ['ep-1', '', 'episode/ü/ß', '机器人-42', '🤖', ...Array.from({ length: 2000 }, (_, i) => `episode-${i}`)];
    for (const k of keys) expect(routingBucket(k)).toBe(referenceBucket(k));
  });

  it('is close to uniform', () => {
    const counts = new Array<number>(100).fill(0);
    for (let i = 0; i < 20000; i++) counts[routingBucket(`u-${i}`)]!++;
    for (const c of counts) expect(c).toBeGreaterThan(120);
  });

  it('routes bucket < split to a', () => {
    expect(slotForBucket(79, 80)).toBe('a');
    expect(slotForBucket(80, 80)).toBe('b');
    expect(slotForBucket(0, 0)).toBe('b');
    expect(slotForBucket(99, 100)).toBe('a');
  });
});

describe('Router', () => {
  it('sends about split% of new episodes to a', () => {
    const r = new Router({ split: 80 });
    let a = 0;
    for (let i = 0; i < 5000; i++) if (r.route(`e${i}`, `r${i}`).slot === 'a') a++;
    expect(a / 5000).toBeGreaterThan(0.77);
    expect(a / 5000).toBeLessThan(0.83);
  });

  it('keeps an episode on its first slot after the split changes', () => {
    const r = new Router({ split: 100 });
    expect(r.route('ep', 'r1').slot).toBe('a');
    r.split = 0;
    const again = r.route('ep', 'r2');
    expect(again).toMatchObject({ slot: 'a', cached: true, degraded: false });
    expect(r.route('new-ep', 'r3').slot).toBe('b');
  });

  it('hashes the request id for degraded requests and warns once', () => {
    const warn = vi.fn();
    const r = new Router({ split: 50, onFirstDegraded: warn });
    const d1 = r.route(undefined, 'req-1');
    r.route(null, 'req-2');
    expect(d1).toMatchObject({ degraded: true, routingKey: 'req-1', slot: slotForBucket(referenceBucket('req-1'), 50) });
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn).toHaveBeenCalledWith('req-1');
    expect(r.degradedCount).toBe(2);
  });

  it('refuses a split outside 0..100', () => {
    expect(() => new Router({ split: 101 })).toThrow(/0 to 100/);
    const r = new Router({ split: 10 });
    expect(() => (r.split = -1)).toThrow(/0 to 100/);
    expect(() => (r.split = 2.5)).toThrow(/whole number/);
    expect(r.split).toBe(10);
  });

  it('forgets the oldest episodes beyond its capacity', () => {
    const r = new Router({ split: 100, stickyCapacity: 2 });
    r.route('e1', 'x');
    r.route('e2', 'x');
    r.route('e3', 'x');
    r.split = 0;
    expect(r.route('e1', 'x').slot).toBe('b');
    expect(r.route('e3', 'x').slot).toBe('a');
  });
});

describe('LruMap', () => {
  it('evicts the least recently used entry', () => {
    const m = new LruMap<string, number>(2);
    m.set('a', 1);
    m.set('b', 2);
    m.get('a');
    m.set('c', 3);
    expect(m.has('a')).toBe(true);
    expect(m.has('b')).toBe(false);
    expect(m.size).toBe(2);
  });
});

describe('LruMap under churn', () => {
  it('keeps exactly the most recent keys through many evictions, deletes and touches', () => {
    const cap = 50;
    const m = new LruMap<number, number>(cap);
    const order: number[] = []; // reference model: most recent last
    const touch = (k: number) => {
      const i = order.indexOf(k);
      if (i >= 0) order.splice(i, 1);
      order.push(k);
      if (order.length > cap) order.shift();
    };
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    for (let i = 0; i < 5000; i++) {
      const k = Math.floor(rand() * 120);
      const op = rand();
      if (op < 0.6) {
        m.set(k, k * 2);
        touch(k);
      } else if (op < 0.9) {
        const had = order.includes(k);
        expect(m.get(k)).toBe(had ? k * 2 : undefined);
        if (had) touch(k);
      } else {
        const i = order.indexOf(k);
        expect(m.delete(k)).toBe(i >= 0);
        if (i >= 0) order.splice(i, 1);
      }
      expect(m.size).toBe(order.length);
    }
    for (const k of order) expect(m.has(k)).toBe(true);
  });
});
