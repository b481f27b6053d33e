/**
 * The Replay page's engine side on real traces written by `TraceWriter`: re-binning conserves
 * counts and answers any window, episodes come back in order with their steps, the path rule
 * keeps API callers inside the known folders, and a tampered trace names its broken record.
 */
import { appendFileSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReplayProgressPayload } from '../contract/index.js';
import { silentLogger } from '../platform/logger.js';
import { episodesInWindow, rebin } from './replay-bins.js';
import { checkReplayPath } from './replay-paths.js';
import { writeSyntheticTrace } from '../../test-support/replay-fixtures.js';
import { ReplayService } from './replay-service.js';
import { summarizeTrace } from './trace-summary.js';

let dir: string;
let outside: string;
let trace: string;
const N = 4000;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'swy-replay-svc-'));
  outside = mkdtempSync(join(tmpdir(), 'swy-replay-out-'));
  trace = await writeSyntheticTrace({ dir, requests: N, episodes: 25, sessionId: 'svc', stepMs: 3 });
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(outside, { recursive: true, force: true });
});

function service(events: ReplayProgressPayload[] = []) {
  return new ReplayService({
    roots: () => [dir],
    uploadDir: join(dir, 'uploads'),
    resolveExport: () => Promise.reject(new Error('no exports in this test')),
    emit: (p) => events.push(p),
    logger: silentLogger,
  });
}

async function opened(svc: ReplayService, path: string, events: ReplayProgressPayload[]): Promise<string> {
  const job = svc.open(path);
  for (let i = 0; i < 500 && svc.job(job.jobId).status === 'running'; i++) await new Promise((r) => setTimeout(r, 10));
  expect(svc.job(job.jobId).status).toBe('done');
  expect(events.some((e) => e.jobId === job.jobId && e.status === 'done')).toBe(true);
  return job.traceId;
}

describe('rebin', () => {
  it('conserves every request whatever the window and bin count', async () => {
    const { summary } = await summarizeTrace(trace, { timelineBuckets: 4096 });
    const total = summary.slots.reduce((n, s) => n + s.requests, 0);
    for (const bins of [1, 7, 100, 4000]) {
      const b = rebin(summary.timeline, { bins });
      expect(b.slots.reduce((n, s) => n + s.requests.reduce((x, y) => x + y, 0), 0)).toBe(total);
      expect(b.slots[0]!.requests).toHaveLength(bins);
    }
  });

  it('a zoomed window holds only its own requests, and halves add up to the whole', async () => {
    const { summary } = await summarizeTrace(trace, { timelineBuckets: 4096 });
    const start = summary.timeline.startMs!;
    const end = start + summary.timeline.buckets * summary.timeline.bucketMs;
    const mid = start + Math.round((end - start) / 2 / summary.timeline.bucketMs) * summary.timeline.bucketMs;
    const sum = (fromMs: number, toMs: number) => rebin(summary.timeline, { fromMs, toMs, bins: 50 }).slots.reduce((n, s) => n + s.requests.reduce((x, y) => x + y, 0), 0);
    const whole = sum(start, end);
    expect(sum(start, mid) + sum(mid, end)).toBe(whole);
    expect(sum(start, mid)).toBeGreaterThan(0);
    expect(sum(start, mid)).toBeLessThan(whole);
  });

  it('an empty timeline gives empty bins, not an error', () => {
    const b = rebin({ startMs: null, bucketMs: 1, buckets: 0, slots: [], shadow: { count: [], maxDivergence: [] }, early: 0 }, { bins: 10 });
    expect(b.slots).toEqual([]);
    expect(b.shadow.count).toEqual(new Array(10).fill(0));
  });
});

describe('episodesInWindow', () => {
  const spans = [
    { episodeId: 'ep-a', requests: 3, errors: 0, slots: ['a'], firstMs: 0, lastMs: 10, firstSeq: 0, lastSeq: 2 },
    { episodeId: 'ep-b', requests: 3, errors: 0, slots: ['b'], firstMs: 20, lastMs: 30, firstSeq: 3, lastSeq: 5 },
    { episodeId: 'other', requests: 3, errors: 0, slots: ['a'], firstMs: 5, lastMs: 25, firstSeq: 6, lastSeq: 8 },
  ];
  it('keeps the episodes that overlap the window and match the search', () => {
    expect(episodesInWindow(spans, { fromMs: 12, toMs: 18 }).episodes.map((e) => e.episodeId)).toEqual(['other']);
    expect(episodesInWindow(spans, { search: 'EP-' }).total).toBe(2);
    expect(episodesInWindow(spans, { offset: 1, limit: 1 }).episodes.map((e) => e.episodeId)).toEqual(['ep-b']);
  });
});

describe('ReplayService', () => {
  it('lists traces newest first and opens one with progress; the summary matches the CLI pass', async () => {
    const events: ReplayProgressPayload[] = [];
    const svc = service(events);
    const list = await svc.list();
    expect(list.traces.map((t) => t.path)).toContain(trace);
    const id = await opened(svc, trace, events);
    const view = svc.summary(id);
    const { summary } = await summarizeTrace(trace);
    expect(view.records).toBe(summary.records);
    expect(view.overall.requests).toBe(summary.overall.requests);
    expect(view.chain.status).toBe('verified');
    expect(view.footer.present).toBe(true);
    expect(view.slots.map((s) => s.slot).sort()).toEqual(summary.slots.map((s) => s.slot).sort());
  });

  it('a root that is one file (`--trace FILE`, any name) is listed itself, once, beside the folders\' traces', async () => {
    const single = join(dir, 'single');
    mkdirSync(single, { recursive: true });
    const file = join(single, 'night-run.log');
    copyFileSync(trace, file);
    const svc = new ReplayService({
      roots: () => [dir, file, join(dir, 'missing.jsonl')],
      uploadDir: join(dir, 'uploads'),
      resolveExport: () => Promise.reject(new Error('no exports in this test')),
      emit: () => {},
      logger: silentLogger,
    });
    const list = await svc.list();
    const mine = list.traces.filter((t) => t.path === file);
    expect(mine).toEqual([expect.objectContaining({ name: 'night-run.log', root: single, bytes: statSync(trace).size, gzip: false })]);
    expect(list.traces.map((t) => t.path)).toContain(trace);
  });

  it('gives one episode its requests in seq order, with states', async () => {
    const events: ReplayProgressPayload[] = [];
    const svc = service(events);
    const id = await opened(svc, trace, events);
    const eps = svc.episodes(id, {});
    expect(eps.total).toBe(25);
    const pick = eps.episodes[3]!;
    const ep = await svc.episode(id, pick.episodeId);
    const brute = readFileSync(trace, 'utf8')
      .split('\n')
      .filter((l) => l.includes('"kind":"request"'))
      .map((l) => JSON.parse(l) as { seq: number; request: { episode_id: string } })
      .filter((r) => r.request.episode_id === pick.episodeId);
    expect(ep.steps.map((s) => s.seq)).toEqual(brute.map((r) => r.seq));
    expect(ep.steps.every((s) => s.state !== null)).toBe(true);
    const at = await svc.at(id, ep.steps[5]!.tMs!);
    expect(at.step?.tMs).toBe(ep.steps[5]!.tMs);
  });

  it('names the first broken record of a tampered trace, as trace verify does', async () => {
    const events: ReplayProgressPayload[] = [];
    const svc = service(events);
    const lines = readFileSync(trace, 'utf8').split('\n');
    lines[7] = lines[7]!.replace(/"total_ms":[0-9.]+/, '"total_ms":999.5');
    const bad = join(dir, 'tampered.jsonl');
    writeFileSync(bad, lines.join('\n'));
    const id = await opened(svc, bad, events);
    const view = svc.summary(id);
    expect(view.chain.status).toBe('broken');
    expect(view.chain.firstBroken?.index).toBe(7);
  });

  it('refuses files outside the known folders, and allows a --trace file by name', () => {
    const foreign = join(outside, 'x.jsonl');
    copyFileSync(trace, foreign);
    const svc = service();
    expect(() => svc.open(foreign)).toThrow(expect.objectContaining({ code: 'SWY_ERR_PATH_NOT_ALLOWED' }));
    expect(() => svc.open(join(dir, '..', 'etc', 'passwd'))).toThrow(expect.objectContaining({ code: 'SWY_ERR_PATH_NOT_ALLOWED' }));
    svc.setInitialTrace(foreign);
    expect(svc.open(foreign).status).toBe('running');
  });

  it('a --trace file is read from the start; opening it joins that job, opening it after it changed reads it again', async () => {
    const events: ReplayProgressPayload[] = [];
    const svc = service(events);
    const file = join(outside, 'initial.jsonl');
    copyFileSync(trace, file);
    svc.setInitialTrace(file);
    // Nobody asked to open it: the job runs to the end by itself.
    await expect.poll(() => events.find((e) => e.kind === 'open' && e.status === 'done'), { timeout: 60_000 }).toBeTruthy();
    const done = events.find((e) => e.status === 'done')!;
    expect(svc.open(file)).toMatchObject({ jobId: done.jobId, status: 'done' });
    expect(svc.open(file)).toMatchObject({ jobId: done.jobId, status: 'done' });
    appendFileSync(file, readFileSync(trace, 'utf8').split('\n')[1] + '\n');
    expect(svc.open(file).jobId).not.toBe(done.jobId);
    svc.close();
  });

  it('checkReplayPath follows links out of a root', () => {
    mkdirSync(join(dir, 'sub'), { recursive: true });
    expect(checkReplayPath(join(dir, 'sub', '..', 'tampered.jsonl'), [dir])).toBe(join(dir, 'tampered.jsonl'));
    expect(() => checkReplayPath(`${dir}-evil/x.jsonl`, [dir])).toThrow(/outside the folders/);
  });

  it('a trace that is not open says why', () => {
    expect(() => service().timeline('t99', { bins: 10 })).toThrow(/not open/);
  });
});
