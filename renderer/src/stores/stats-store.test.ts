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
  });
});
