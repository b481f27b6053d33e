// @vitest-environment node
import { describe, expect, it } from 'vitest';
import type { PreloadBridge } from '@contract';
import { servingState, stats } from '../testing/fixtures';
import { IpcTransport } from './ipc-transport';

function fakeBridge(answer: (method: string, input: unknown) => unknown) {
  const calls: Array<{ method: string; input: unknown }> = [];
  const handlers = new Map<string, (payload: unknown) => void>();
  const bridge: PreloadBridge = {
    invoke: async (method, input) => {
      calls.push({ method, input });
      return answer(method, input);
    },
    subscribe: (event, handler) => {
      handlers.set(event, handler);
      return () => handlers.delete(event);
    },
  };
  return { bridge, calls, handlers };
}

describe('IpcTransport', () => {
  it('passes method and input to the bridge and validates the answer', async () => {
    const state = servingState({ split: 20 });
    const { bridge, calls } = fakeBridge(() => ({ ok: true, value: state }));
    const t = new IpcTransport(bridge);
    expect(await t.invoke('serving.setSplit', { split: 20 })).toEqual({ ok: true, value: state });
    expect(calls).toEqual([{ method: 'serving.setSplit', input: { split: 20 } }]);
  });

  it('passes error results through', async () => {
    const error = { code: 'SWY_ERR_SLOT_DRAINED', message: 'Slot a is drained.' };
    const { bridge } = fakeBridge(() => ({ ok: false, error }));
    expect(await new IpcTransport(bridge).invoke('serving.getState', {})).toEqual({ ok: false, error });
  });

  it('turns a bridge exception into an error value', async () => {
    const bridge: PreloadBridge = {
      invoke: () => Promise.reject(new Error('channel closed')),
      subscribe: () => () => undefined,
    };
    const result = await new IpcTransport(bridge).invoke('app.info', {});
    expect(result.ok === false && result.error.code).toBe('SWY_ERR_INTERNAL');
    expect(result.ok === false && result.error.message).toMatch(/desktop bridge failed to deliver app\.info: channel closed/);
  });

  it('rejects malformed answers', async () => {
    const { bridge } = fakeBridge(() => ({ ok: true, value: { policies: [{ name: 1 }] } }));
    const result = await new IpcTransport(bridge).invoke('policies.list', {});
    expect(result.ok === false && result.error.where).toBe('policies.0.name');
  });

  it('validates events and drops bad ones', () => {
    const { bridge, handlers } = fakeBridge(() => null);
    const errors: string[] = [];
    const t = new IpcTransport(bridge, (e) => errors.push(e.message));
    const seen: unknown[] = [];
    const stop = t.subscribe('serving.stats', (p) => seen.push(p));
    const sample = stats('2025-01-01T00:00:00.000Z');
    handlers.get('serving.stats')?.(sample);
    handlers.get('serving.stats')?.({ nope: true });
    expect(seen).toEqual([sample]);
    expect(errors).toHaveLength(1);
    stop();
    expect(handlers.has('serving.stats')).toBe(false);
  });
});
