// @vitest-environment node
import { describe, expect, it } from 'vitest';
import type { ServingState } from '@contract';
import { FakeClient, flush } from '../testing/fake-client';
import { servingState, slot } from '../testing/fixtures';
import { createServingStore, selectShownSplit } from './serving-store';

/** A fake router: setSplit answers with the state carrying the new split. */
function routerClient(initial: ServingState = servingState()) {
  let current = initial;
  const client = new FakeClient()
    .on('serving.getState', () => ({ ok: true, value: current }))
    .on('serving.setSplit', ({ split }) => {
      current = { ...current, split };
      return { ok: true, value: current };
    })
    .on('serving.restoreSlot', ({ slot: name }) => {
      current = { ...current, drain: 'none', slots: current.slots.map((s) => (s.slot === name ? { ...s, drained: false } : s)) };
      return { ok: true, value: current };
    });
  return client;
}

describe('serving store', () => {
  it('loads the state and follows serving.state events', async () => {
    const client = routerClient();
    const store = createServingStore(client);
    const stop = store.getState().start();
    await flush();
    expect(store.getState().status).toBe('ready');
    expect(store.getState().state?.split).toBe(50);

    client.emit('serving.state', servingState({ split: 30 }));
    expect(store.getState().state?.split).toBe(30);

    stop();
    expect(client.subscriberCount('serving.state')).toBe(0);
  });

  it('ignores a getState answer older than a pushed event', async () => {
    const client = routerClient(servingState({ split: 50 }));
    client.hold();
    const store = createServingStore(client);
    store.getState().start();
    client.emit('serving.state', servingState({ split: 70 }));
    await client.releaseOne();
    expect(store.getState().state?.split).toBe(70);
  });

  it('previews a dragged split without sending it, and sends once where the drag comes to rest', async () => {
    const client = routerClient();
    const store = createServingStore(client);
    await store.getState().load();
    for (const value of [52, 58, 63, 71, 80]) store.getState().previewSplit(value);
    expect(selectShownSplit(store.getState())).toBe(80);
    expect(client.callsOf('serving.setSplit')).toEqual([]);
    store.getState().commitSplit(80);
    expect(client.callsOf('serving.setSplit')).toEqual([{ split: 80 }]);
    await flush();
    expect(store.getState().state?.split).toBe(80);
    expect(store.getState().draftSplit).toBeNull();
    // A drag that ends where it began sends nothing.
    store.getState().previewSplit(64);
    store.getState().commitSplit(80);
    expect(client.callsOf('serving.setSplit')).toHaveLength(1);
    expect(store.getState().draftSplit).toBeNull();
  });

  it('keeps a newer preview when the answer to an earlier change arrives (the slider never jumps back under the operator)', async () => {
    const client = routerClient();
    const store = createServingStore(client);
    await store.getState().load();
    client.hold();
    store.getState().commitSplit(82);
    store.getState().previewSplit(81);
    store.getState().previewSplit(80);
    await client.releaseOne();
    expect(store.getState().state?.split).toBe(82);
    expect(selectShownSplit(store.getState()), 'the preview stays shown').toBe(80);
    store.getState().commitSplit(80);
    await client.releaseOne();
    expect(store.getState().state?.split).toBe(80);
    expect(store.getState().draftSplit).toBeNull();
  });

  it('sends a split change at once', async () => {
    const client = routerClient();
    const store = createServingStore(client);
    await store.getState().load();
    store.getState().setSplit(80);
    expect(selectShownSplit(store.getState())).toBe(80);
    expect(client.callsOf('serving.setSplit')).toEqual([{ split: 80 }]);
    await flush();
    expect(store.getState().state?.split).toBe(80);
    expect(store.getState().draftSplit).toBeNull();
    expect(store.getState().splitPending).toBe(false);
  });

  it('keeps at most one call in flight and always sends the latest value', async () => {
    const client = routerClient();
    const store = createServingStore(client);
    await store.getState().load();
    client.hold();

    for (const value of [51, 52, 53, 54, 60]) store.getState().setSplit(value);
    expect(client.callsOf('serving.setSplit')).toEqual([{ split: 51 }]);
    expect(store.getState().splitPending).toBe(true);
    expect(selectShownSplit(store.getState())).toBe(60);

    await client.releaseOne(); // 51 answered; 60 is the latest queued value
    expect(client.callsOf('serving.setSplit')).toEqual([{ split: 51 }, { split: 60 }]);
    expect(client.heldCount).toBe(1);
    // The draft still shows the operator's value, not the intermediate answer.
    expect(selectShownSplit(store.getState())).toBe(60);

    await client.releaseOne();
    expect(client.callsOf('serving.setSplit')).toHaveLength(2);
    expect(store.getState().state?.split).toBe(60);
    expect(store.getState().splitPending).toBe(false);
    expect(selectShownSplit(store.getState())).toBe(60);
  });

  it('does not resend when the latest value equals the one in flight', async () => {
    const client = routerClient();
    const store = createServingStore(client);
    await store.getState().load();
    client.hold();
    store.getState().setSplit(70);
    store.getState().setSplit(71);
    store.getState().setSplit(70);
    await client.releaseOne();
    expect(client.callsOf('serving.setSplit')).toEqual([{ split: 70 }]);
    expect(store.getState().splitPending).toBe(false);
  });

  it('clamps and rounds values', async () => {
    const client = routerClient();
    const store = createServingStore(client);
    store.getState().setSplit(140);
    store.getState().setSplit(-3);
    await flush();
    await flush();
    expect(client.callsOf('serving.setSplit')).toEqual([{ split: 100 }, { split: 0 }]);
  });

  it('reports a refused split and falls back to the router value', async () => {
    const client = routerClient().on('serving.setSplit', () => ({
      ok: false,
      error: { code: 'SWY_ERR_NOT_SERVING', message: 'Nothing is being served.' },
    }));
    const store = createServingStore(client);
    await store.getState().load();
    store.getState().setSplit(90);
    await flush();
    expect(store.getState().actionError?.code).toBe('SWY_ERR_NOT_SERVING');
    expect(store.getState().draftSplit).toBeNull();
    expect(selectShownSplit(store.getState())).toBe(50);
  });

  it('treats SWY_ERR_NOT_SERVING from getState as "off", not as a failure', async () => {
    const client = new FakeClient().on('serving.getState', () => ({
      ok: false,
      error: { code: 'SWY_ERR_NOT_SERVING', message: 'Nothing is being served.' },
    }));
    const store = createServingStore(client);
    await store.getState().load();
    expect(store.getState().status).toBe('ready');
    expect(store.getState().state?.mode).toBe('off');
    expect(store.getState().error).toBeNull();
  });

  it('shows other load failures as errors', async () => {
    const client = new FakeClient().on('serving.getState', () => ({
      ok: false,
      error: { code: 'SWY_ERR_INTERNAL', message: 'Cannot reach the Switchyard server at http://x; is it running?' },
    }));
    const store = createServingStore(client);
    await store.getState().load();
    expect(store.getState().status).toBe('error');
    expect(store.getState().error?.message).toMatch(/Cannot reach/);
  });

  it('restores a drained slot', async () => {
    const client = routerClient(servingState({ drain: 'drain-a', slots: [slot({ slot: 'a', drained: true }), slot({ slot: 'b' })] }));
    const store = createServingStore(client);
    await store.getState().load();
    const pending = store.getState().restoreSlot('a');
    expect(store.getState().restoring).toBe('a');
    await pending;
    expect(client.callsOf('serving.restoreSlot')).toEqual([{ slot: 'a' }]);
    expect(store.getState().restoring).toBeNull();
    expect(store.getState().state?.drain).toBe('none');
    expect(store.getState().state?.slots[0]?.drained).toBe(false);
  });
});
