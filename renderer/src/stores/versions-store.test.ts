// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { FakeClient } from '../testing/fake-client';
import { policy, version } from '../testing/fixtures';
import type { HistoryEntry } from '@contract';
import { createVersionsStore, forcedEntry, selectSelectedVersion, versionHistory } from './versions-store';

const v1 = version({ label: '1.0.0', stage: 'production', productionSince: '2025-01-02T00:00:00.000Z' });
const v2 = version({ label: '1.1.0', stage: 'candidate', notes: 'higher gains' });

describe('versions store', () => {
  it('loads the policies', async () => {
    const client = new FakeClient().on('policies.list', () => ({ ok: true, value: { policies: [policy('cartpole-balance', [v1, v2])] } }));
    const store = createVersionsStore(client);
    expect(store.getState().status).toBe('idle');
    const loading = store.getState().load();
    expect(store.getState().status).toBe('loading');
    await loading;
    expect(store.getState().status).toBe('ready');
    expect(store.getState().policies[0]?.versions).toHaveLength(2);
  });

  it('selects a version and derives its summary', async () => {
    const client = new FakeClient().on('policies.list', () => ({ ok: true, value: { policies: [policy('cartpole-balance', [v1, v2])] } }));
    const store = createVersionsStore(client);
    await store.getState().load();
    store.getState().select({ policy: 'cartpole-balance', label: '1.1.0' });
    expect(selectSelectedVersion(store.getState())?.notes).toBe('higher gains');
    store.getState().select(null);
    expect(selectSelectedVersion(store.getState())).toBeNull();
  });

  it('drops a selection that no longer exists after a reload', async () => {
    let list = [policy('cartpole-balance', [v1, v2])];
    const client = new FakeClient().on('policies.list', () => ({ ok: true, value: { policies: list } }));
    const store = createVersionsStore(client);
    await store.getState().load();
    store.getState().select({ policy: 'cartpole-balance', label: '1.1.0' });
    list = [policy('cartpole-balance', [v1])];
    await store.getState().load();
    expect(store.getState().selected).toBeNull();
  });

  it('keeps the error readable', async () => {
    const client = new FakeClient().on('policies.list', () => ({
      ok: false,
      error: { code: 'SWY_ERR_STORE_CORRUPT', message: 'The store failed integrity_check.' },
    }));
    const store = createVersionsStore(client);
    await store.getState().load();
    expect(store.getState().status).toBe('error');
    expect(store.getState().error).toEqual({ code: 'SWY_ERR_STORE_CORRUPT', message: 'The store failed integrity_check.' });
  });

  it('lets the newest load win', async () => {
    let n = 0;
    const client = new FakeClient().on('policies.list', () => {
      n += 1;
      return { ok: true, value: { policies: n === 1 ? [] : [policy('cartpole-balance', [v1])] } };
    });
    client.hold();
    const store = createVersionsStore(client);
    const first = store.getState().load();
    const second = store.getState().load();
    await client.releaseOne();
    await client.releaseOne();
    await client.releaseOne(); // the second load's stage history of its one policy
    await client.releaseOne(); // and its verdicts
    await Promise.all([first, second]);
    expect(store.getState().policies).toHaveLength(1);
  });

  it('marks a version FORCED when the change into its current stage was an override, with its reason', async () => {
    const entry = (id: number, label: string, from: HistoryEntry['from'], to: HistoryEntry['to'], forced: boolean, reason = ''): HistoryEntry => ({
      id,
      at: new Date(Date.UTC(2025, 0, 1, 0, id)).toISOString(),
      policy: 'cartpole-balance',
      label,
      from,
      to,
      action: from === null ? 'stage' : 'promote',
      actor: 'api',
      reason,
      verdictId: forced ? null : 7,
      forced,
    });
    const entries = [
      entry(1, '1.1.0', null, 'candidate', false),
      entry(2, '1.1.0', 'candidate', 'staging', true, 'bench run on the edge cases'),
      entry(3, '1.0.0', null, 'production', false),
    ];
    const client = new FakeClient()
      .on('policies.list', () => ({ ok: true, value: { policies: [policy('cartpole-balance', [v1, version({ label: '1.1.0', stage: 'staging' })])] } }))
      .on('lifecycle.history', () => ({ ok: true, value: { policy: 'cartpole-balance', entries, productionAt: null } }));
    const store = createVersionsStore(client);
    await store.getState().load();
    const h = store.getState().history;
    expect(store.getState().lastVerdictId).toEqual({});
    expect(versionHistory(h, { policy: 'cartpole-balance', label: '1.1.0' }).map((e) => e.id)).toEqual([2, 1]);
    expect(forcedEntry(h, { policy: 'cartpole-balance', label: '1.1.0', stage: 'staging' })?.reason).toBe('bench run on the edge cases');
    expect(forcedEntry(h, { policy: 'cartpole-balance', label: '1.0.0', stage: 'production' })).toBeNull();
    // Once it moves on without an override, the mark goes: it describes the current stage.
    expect(forcedEntry(h, { policy: 'cartpole-balance', label: '1.1.0', stage: 'candidate' })).toBeNull();
  });

  it("links each version's last verdict: the newest verdict of that candidate", async () => {
    const verdict = (id: number, candidate: string) => ({
      id,
      policy: 'cartpole-balance',
      candidate,
      baseline: null,
      transition: 'candidate->staging',
      suite: null,
      suiteFingerprint: null,
      rulesHash: 'h',
      rulesFile: null,
      verdict: 'GO' as const,
      summary: 'GO',
      rules: [],
      failingCases: [],
      createdAt: '2025-01-01T00:00:00.000Z',
    });
    const client = new FakeClient()
      .on('policies.list', () => ({ ok: true, value: { policies: [policy('cartpole-balance', [v1, v2])] } }))
      .on('verdicts.list', () => ({ ok: true, value: { verdicts: [verdict(9, 'cartpole-balance@1.1.0'), verdict(4, 'cartpole-balance@1.0.0'), verdict(2, 'cartpole-balance@1.1.0')] } }));
    const store = createVersionsStore(client);
    await store.getState().load();
    expect(store.getState().lastVerdictId).toEqual({ 'cartpole-balance@1.1.0': 9, 'cartpole-balance@1.0.0': 4 });
  });
});
