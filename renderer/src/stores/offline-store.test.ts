// @vitest-environment node
import { describe, expect, it } from 'vitest';
import type { ConnectionSource, ConnectionStatus } from '../api/connection';
import { FakeClient, flush } from '../testing/fake-client';
import { stats } from '../testing/fixtures';
import { createOfflineStore } from './offline-store';
import { createStatsStore } from './stats-store';

function fakeConnection(initial: ConnectionStatus = 'connecting') {
  let status = initial;
  const listeners = new Set<(s: ConnectionStatus) => void>();
  const source: ConnectionSource & { set(s: ConnectionStatus): void } = {
    getStatus: () => status,
    onStatus: (l) => (listeners.add(l), () => void listeners.delete(l)),
    set(s) {
      status = s;
      for (const l of [...listeners]) l(s);
    },
  };
  return source;
}

describe('offline store', () => {
  it('is offline while reconnecting, with the time it went down, and runs the reconnect hooks once it is back', () => {
    const conn = fakeConnection();
    let now = 1_000;
    const store = createOfflineStore(conn, () => now);
    let reloads = 0;
    store.onReconnect(() => reloads++);
    conn.set('open');
    // The first open is not a reconnect: nothing was missed.
    expect(store.getState()).toMatchObject({ offline: false, reconnects: 0 });
    expect(reloads).toBe(0);
    now = 2_000;
    conn.set('reconnecting');
    expect(store.getState()).toMatchObject({ offline: true, since: 2_000 });
    now = 3_000;
    conn.set('reconnecting');
    expect(store.getState().since).toBe(2_000);
    now = 9_000;
    conn.set('open');
    expect(store.getState()).toMatchObject({ offline: false, since: null, reconnectedAt: 9_000, reconnects: 1 });
    expect(reloads).toBe(1);
  });
});

describe('stats store history', () => {
  it('backfills the server history under the live samples, without duplicates, oldest first', async () => {
    const client = new FakeClient();
    const history = ['00', '01', '02', '03'].map((s) => stats(`2025-01-01T00:00:${s}.000Z`, 1));
    client.on('serving.history', () => ({
      ok: true,
      value: { samples: history, events: [{ id: 7, at: '2025-01-01T00:00:02.000Z', kind: 'split', slot: null, message: 'split 80/20 (operator: set by an operator)' }], intervalMs: 500, retentionMs: 3_600_000 },
    }));
    client.hold();
    const store = createStatsStore(client, { capacity: 10 });
    store.getState().start();
    // A live sample arrives before the history answers: it is kept, and wins over the history's copy.
    client.emit('serving.stats', stats('2025-01-01T00:00:03.000Z', 9));
    client.emit('serving.stats', stats('2025-01-01T00:00:04.000Z', 9));
    await client.releaseOne();
    await flush();
    const s = store.getState();
    expect(s.samples.map((x) => x.at.slice(17, 19))).toEqual(['00', '01', '02', '03', '04']);
    expect(s.samples[3]!.slots[0]!.rps).toBe(9);
    expect(s.points).toHaveLength(5);
    expect(s.events.map((e) => e.id)).toEqual([7]);
    expect(s.backfilled).toBe(true);
    client.emit('serving.event', { id: 8, at: '2025-01-01T00:00:05.000Z', kind: 'drain', slot: 'b', message: 'slot b drained' });
    expect(store.getState().events.map((e) => e.kind)).toEqual(['split', 'drain']);
  });

  it('fills from live samples alone when the server has no history (an older server)', async () => {
    const client = new FakeClient();
    const store = createStatsStore(client, { capacity: 10 });
    store.getState().start();
    await flush();
    client.emit('serving.stats', stats('2025-01-01T00:00:03.000Z'));
    expect(store.getState()).toMatchObject({ backfilled: true });
    expect(store.getState().samples).toHaveLength(1);
  });
});
