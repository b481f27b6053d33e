import { describe, expect, it } from 'vitest';
import { LruMap } from './lru.js';

describe('LruMap', () => {
  it('forgets the least recently used key once full; get refreshes a key, peek does not', () => {
    const m = new LruMap<string, number>(2);
    m.set('a', 1);
    m.set('b', 2);
    expect(m.get('a')).toBe(1); // a is now the most recent
    m.set('c', 3); // evicts b
    expect(m.has('b')).toBe(false);
    expect(m.peek('a')).toBe(1); // leaves a the older of the two
    m.set('d', 4); // evicts a
    expect([m.has('a'), m.has('c'), m.has('d'), m.size]).toEqual([false, true, true, 2]);
  });

  it('updates a present key in place and makes it the most recent', () => {
    const m = new LruMap<string, number>(2);
    m.set('a', 1);
    m.set('b', 2);
    m.set('a', 10);
    m.set('c', 3); // evicts b, not a
    expect([m.get('a'), m.has('b'), m.size]).toEqual([10, false, 2]);
  });

  it('stays bounded through many deletes and inserts', () => {
    const m = new LruMap<number, number>(8);
    for (let i = 0; i < 10_000; i++) {
      m.set(i, i);
      if (i % 3 === 0) m.delete(i - 1);
    }
    expect(m.size).toBeLessThanOrEqual(8);
    expect(m.get(9_999)).toBe(9_999);
  });

  it('rejects a capacity that is not a positive integer', () => {
    expect(() => new LruMap(0)).toThrow(RangeError);
    expect(() => new LruMap(1.5)).toThrow(RangeError);
  });
});
