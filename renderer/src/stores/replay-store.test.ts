import { describe, expect, it } from 'vitest';
import type { ReplayProgressPayload } from '@contract';
import { FakeClient } from '../testing/fake-client';
import { createReplayStore, type TraceUploader } from './replay-store';

const noUpload: TraceUploader = async () => ({ ok: false, error: { code: 'SWY_ERR_INTERNAL', message: 'no uploads in this test' } });

function job(jobId: string, status: ReplayProgressPayload['status'] = 'running'): ReplayProgressPayload {
  return { jobId, kind: 'open', status, fraction: 0, records: 0, elapsedMs: 0, traceId: jobId, path: `/traces/${jobId}.jsonl`, compared: null, maxDivergence: null, error: null };
}

describe('replay store: the desktop open dialog', () => {
  it('is offered only where the transport has it (the desktop); a browser keeps the upload', () => {
    expect(createReplayStore(new FakeClient(), noUpload, { nativeOpen: true }).getState().nativeOpen).toBe(true);
    expect(createReplayStore(new FakeClient(), noUpload).getState().nativeOpen).toBe(false);
  });

  it('follows the job the dialog started; a cancelled dialog leaves the open trace alone', async () => {
    const client = new FakeClient();
    let answer: { path: string | null; job: ReplayProgressPayload | null } = { path: null, job: null };
    client.on('replay.openDialog', () => ({ ok: true, value: answer }));
    client.on('replay.cancel', ({ jobId }) => ({ ok: true, value: { jobId, cancelled: true } }));
    const store = createReplayStore(client, noUpload, { nativeOpen: true });
    store.setState({ openJob: job('first') });
    await store.getState().openWithDialog();
    expect(store.getState().openJob?.jobId).toBe('first');
    expect(client.calls.map((c) => c.method)).toEqual(['replay.openDialog']);

    answer = { path: '/elsewhere/t.jsonl', job: job('second') };
    await store.getState().openWithDialog();
    expect(store.getState().openJob?.jobId).toBe('second');
    // The open still running when another file was picked is cancelled.
    expect(client.calls.map((c) => c.method)).toEqual(['replay.openDialog', 'replay.openDialog', 'replay.cancel']);
    expect(client.calls[2]!.input).toEqual({ jobId: 'first' });
  });

  it('an error from the dialog is shown with its code', async () => {
    const client = new FakeClient();
    client.on('replay.openDialog', () => ({ ok: false, error: { code: 'SWY_ERR_UNAVAILABLE', message: 'The native open dialog is part of the desktop app.' } }));
    const store = createReplayStore(client, noUpload, { nativeOpen: true });
    await store.getState().openWithDialog();
    expect(store.getState().error).toMatchObject({ title: 'Could not open a trace', error: { code: 'SWY_ERR_UNAVAILABLE' } });
  });
});
