// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { FakeClient } from '../testing/fake-client';
import { stats } from '../testing/fixtures';
import { RingBuffer } from './ring-buffer';
import { createStatsStore } from './stats-store';

describe('RingBuffer', () => {
  it('keeps the newest items in order', () => {
    const ring = new RingBuffer<number>(3);
    expect(ring.toArray()).toEqual([]);
    for (const n of [1, 2]) ring.push(n);
    expect(ring.toArray()).toEqual([1, 2]);
    for (const n of [3, 4, 5]) ring.push(n);
    expect(ring.toArray()).toEqual([3, 4, 5]);
    expect(ring.size).toBe(3);
    ring.clear();
    expect(ring.toArray()).toEqual([]);
    ring.push(9);
    expect(ring.toArray()).toEqual([9]);
  });

  it('refuses a capacity that is not a positive integer', () => {
    expect(() => new RingBuffer(0)).toThrow(RangeError);
    expect(() => new RingBuffer(1.5)).toThrow(RangeError);
  });
});

describe('stats store', () => {
  it('keeps the last N serving.stats samples', () => {
    const client = new FakeClient();
    const store = createStatsStore(client, { capacity: 3 });
    const stop = store.getState().start();
    for (let i = 0; i < 5; i += 1) client.emit('serving.stats', stats(`2025-01-01T00:00:0${i}.000Z`, i));
    const samples = store.getState().samples;
    expect(samples.map((s) => s.at)).toEqual(['2025-01-01T00:00:02.000Z', '2025-01-01T00:00:03.000Z', '2025-01-01T00:00:04.000Z']);
    stop();
    client.emit('serving.stats', stats('2025-01-01T00:00:09.000Z'));
    expect(store.getState().samples).toBe(samples);
  });

  it('gives React a new array on every sample', () => {
    const client = new FakeClient();
    const store = createStatsStore(client, { capacity: 2 });
    store.getState().start();
    client.emit('serving.stats', stats('2025-01-01T00:00:00.000Z'));
    const before = store.getState().samples;
    client.emit('serving.stats', stats('2025-01-01T00:00:01.000Z'));
    expect(store.getState().samples).not.toBe(before);
    store.getState().clear();
    expect(store.getState().samples).toEqual([]);
    expect(store.getState().points).toEqual([]);
  });

  it('holds 15 minutes at two samples a second by default', () => {
    const store = createStatsStore(new FakeClient());
    expect(store.getState().capacity).toBeGreaterThanOrEqual(15 * 60 * 2);
  });

  it('derives each point once, from the sample before it', () => {
    const client = new FakeClient();
    const store = createStatsStore(client, { capacity: 3 });
    store.getState().start();
    const sample = (i: number) => {
      const s = stats(`2025-01-01T00:00:0${i}.000Z`);
      s.slots = s.slots.map((slot) => ({ ...slot, requests: 10 * i, cacheHits: 3 * i, cacheMisses: i }));
      return s;
    };
    client.emit('serving.stats', sample(0));
    expect(store.getState().points[0]?.slots.a?.hitRate).toBeNull();
    client.emit('serving.stats', sample(1));
    const kept = store.getState().points[1];
    expect(kept?.slots.a).toMatchObject({ dRequests: 10, hitRate: 0.75 });
    for (const i of [2, 3, 4]) client.emit('serving.stats', sample(i));
    const points = store.getState().points;
    expect(points.map((p) => p.t)).toEqual(store.getState().samples.map((s) => Date.parse(s.at)));
    expect(points[0]?.slots.a?.dRequests).toBe(10);
    // Points already derived are kept as they are, not derived again.
    const before = store.getState().points;
    client.emit('serving.stats', sample(5));
    expect(store.getState().points[1]).toBe(before[2]);
  });
});
