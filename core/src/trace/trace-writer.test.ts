import { createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import { createMemoryLogger } from '../platform/logger.js';
import { liveWorkerThreads, startModuleWorker } from '../platform/worker.js';
import { sampleRequest, steppingClock } from '../../test-support/trace-fixtures.js';
import { readTrace, verifyTrace } from './trace-reader.js';
import { actionDivergence } from '../domain/divergence.js';
import { imageSha256, TraceWriter, type TraceWriterOptions } from './trace-writer.js';

const root = mkdtempSync(join(tmpdir(), 'swy-trace-writer-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = () => join(root, `t${n++}`);

function counter() {
  const c = { total: 0, inc: (k = 1) => void (c.total += k) };
  return c;
}

function baseWriter(over: Partial<TraceWriterOptions> = {}) {
  const logger = createMemoryLogger();
  const dropped = counter();
  const w = new TraceWriter({
    dir: freshDir(),
    modelHash: 'abcdef0123456789',
    clock: steppingClock(),
    logger,
    droppedCounter: dropped,
    randomBytes: (k) => new Uint8Array(k).fill(0xab),
    hardware: { cpu_count: 2, total_memory_bytes: 8_000_000_000 },
    providers: ['CPUExecutionProvider'],
    ...over,
  });
  return { w, logger, dropped };
}

async function records(path: string): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  for await (const e of readTrace(path)) out.push(e.record);
  return out;
}

// Every behaviour holds whether records are sealed on the caller's thread or on the sealing
// thread serving uses (a real worker thread running trace-sealer-worker.ts).
describe.each([{ mode: 'inline' }, { mode: 'sealing thread' }])('TraceWriter ($mode)', ({ mode }) => {
  const writer = (over: Partial<TraceWriterOptions> = {}) => baseWriter({ sealThread: mode === 'sealing thread', ...over });

  it('writes header, requests, shadow results and footer into a chain that verifies', async () => {
    const { w, logger, dropped } = writer({
      policies: [
        { slot: 'a', model_id: 'cartpole', model_hash: 'abcdef0123456789' },
        { slot: 'b', model_id: 'cartpole', model_hash: '0123456789abcdef' },
      ],
      split: 30,
    });
    expect(w.fileName).toBe('20260102-030405-abcdef0123456789-abababababab.jsonl');
    const seq1 = w.writeRequest(sampleRequest(1, { routing: { slot: 'a', routing_key: 'ep-1', degraded: false, cached: true } }));
    const seq2 = w.writeRequest(sampleRequest(2, { request: { state: [1, 2, 3, 4], instruction: 'pick up the 机器人 🤖' }, error: { code: 'SWY_ERR_INFERENCE', message: 'boom' }, response: null }));
    w.writeShadowResult({ seq: seq1, routing: { slot: 'shadow' }, response: { actions: [[0.5, 1]] }, latency: { total_ms: 1 }, divergence: { cosine: actionDivergence([[0.5, 1]], [[0.5, 0.75]])!.cosine, max_abs: actionDivergence([[0.5, 1]], [[0.5, 0.75]])!.maxAbs } });
    expect([seq1, seq2]).toEqual([1, 2]);
    await w.close();
    expect(w.state).toBe('closed');

    const v = await verifyTrace(w.path);
    expect(v).toMatchObject({ ok: true, records: 5, kinds: { header: 1, request: 2, shadow_result: 1, footer: 1 }, gzip: false, warnings: [] });
    expect(v.header).toMatchObject({
      kind: 'header',
      schema_version: 1,
      session_id: 'abababababab',
      started_at: '2026-01-02T03:04:05.678Z',
      model_hash: 'abcdef0123456789',
      redaction: 'hash_only',
      providers: ['CPUExecutionProvider'],
      split: 30,
      policies: [
        { slot: 'a', model_id: 'cartpole', model_hash: 'abcdef0123456789' },
        { slot: 'b', model_id: 'cartpole', model_hash: '0123456789abcdef' },
      ],
    });
    expect(v.footer).toMatchObject({ kind: 'footer', totals: { requests: 2, shadow_results: 1, errors: 1, dropped_records: 0 } });
    expect(String(v.footer?.ended_at)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

    const recs = await records(w.path);
    expect(recs[1]).toMatchObject({
      kind: 'request',
      schema_version: 1,
      seq: 1,
      chunk_id: 0,
      request: { episode_id: 'ep-1', request_id: 'req-1', instruction: null },
      response: { num_actions: 8, action_dim: 2 },
      denoise: { steps_used: 1, steps_configured: 1, adaptive: false },
      cache: { status: 'hit' },
      routing: { slot: 'a', routing_key: 'ep-1', degraded: false, cached: true },
    });
    expect(typeof recs[1]!.timestamp).toBe('number');
    expect(recs[2]).toMatchObject({ seq: 2, error: { code: 'SWY_ERR_INFERENCE' }, response: null, request: { instruction: 'pick up the 机器人 🤖' } });
    expect(recs[3]).toMatchObject({ kind: 'shadow_result', seq: 1, divergence: { max_abs: 0.25 } });
    // Whole floats are written as Python floats, ints as ints; non-ASCII escaped.
    const text = readFileSync(w.path, 'utf8');
    expect(text).toContain('"state":[1.0,2.0,3.0,4.0]');
    expect(text).toContain('"seq":2,');
    expect(text).toContain('\\u673a\\u5668\\u4eba \\ud83e\\udd16');
    expect(text).toMatch(/^\{.*"prev_record_hash":"0{64}","record_hash":"[0-9a-f]{64}"\}\n/);
    expect(logger.lines.filter((l) => l.level === 'error')).toEqual([]);
    expect(dropped.total).toBe(0);
  });

  it('counts chunk ids per episode unless given', async () => {
    const { w } = writer();
    w.writeRequest(sampleRequest(1, { request: { episode_id: 'e1', state: [0] } }));
    w.writeRequest(sampleRequest(2, { request: { episode_id: 'e2', state: [0] } }));
    w.writeRequest(sampleRequest(3, { request: { episode_id: 'e1', state: [0] } }));
    w.writeRequest(sampleRequest(4, { chunk_id: 42, request: { episode_id: 'e1', state: [0] } }));
    await w.close();
    expect((await records(w.path)).filter((r) => r.kind === 'request').map((r) => r.chunk_id)).toEqual([0, 0, 1, 42]);
  });

  it('remembers the 10,000 most recently seen episodes for chunk ids, and forgets the oldest', async () => {
    const { w } = writer({ maxQueue: 20_000 });
    w.writeRequest(sampleRequest(1, { request: { episode_id: 'kept', state: [0] } }));
    w.writeRequest(sampleRequest(2, { request: { episode_id: 'forgotten', state: [0] } }));
    let seq = 3;
    for (let i = 0; i < 9_998; i++) w.writeRequest(sampleRequest(seq++, { request: { episode_id: `fill-${i}`, state: [0] } }));
    // 10,000 episodes known; seeing 'kept' again makes it the most recent, so the next new
    // episode evicts 'forgotten' (the least recently seen), not 'kept'.
    w.writeRequest(sampleRequest(seq++, { request: { episode_id: 'kept', state: [0] } }));
    w.writeRequest(sampleRequest(seq++, { request: { episode_id: 'new', state: [0] } }));
    w.writeRequest(sampleRequest(seq++, { request: { episode_id: 'kept', state: [0] } }));
    w.writeRequest(sampleRequest(seq++, { request: { episode_id: 'forgotten', state: [0] } }));
    await w.close();
    const byEpisode = (await records(w.path))
      .filter((r) => r.kind === 'request' && ['kept', 'forgotten', 'new'].includes((r.request as { episode_id: string }).episode_id))
      .map((r) => `${(r.request as { episode_id: string }).episode_id}:${String(r.chunk_id)}`);
    expect(byEpisode).toEqual(['kept:0', 'forgotten:0', 'kept:1', 'new:0', 'kept:2', 'forgotten:0']);
  });

  it('applies the image redaction modes', async () => {
    const image = Buffer.from('not really a png').toString('base64');
    const out: Record<string, Record<string, unknown>> = {};
    for (const mode of ['hash_only', 'full', 'none'] as const) {
      const { w } = writer({ redaction: mode });
      w.writeRequest(sampleRequest(1, { request: { state: [0.5], image } }));
      await w.close();
      const recs = await records(w.path);
      expect(recs[0]!.redaction).toBe(mode);
      out[mode] = recs[1]!.request as Record<string, unknown>;
      expect((await verifyTrace(w.path)).ok).toBe(true);
    }
    expect(out.hash_only!.image_sha256).toBe(imageSha256(image));
    expect(imageSha256(image)).toMatch(/^[0-9a-f]{16}$/);
    expect('image' in out.hash_only!).toBe(false);
    expect(out.full!.image).toBe(image);
    expect(out.full!.image_sha256).toBe(imageSha256(image));
    expect('image' in out.none!).toBe(false);
    expect('image_sha256' in out.none!).toBe(false);
  });

  it('writes gzip with periodic flushes, read back by magic bytes', async () => {
    const { w } = writer({ gzip: true, flushIntervalMs: 5 });
    expect(w.fileName.endsWith('.jsonl.gz')).toBe(true);
    for (let i = 0; i < 200; i++) w.writeRequest(sampleRequest(i));
    await w.flush();
    await new Promise((r) => setTimeout(r, 60));
    // Before close: the periodic sync flush has pushed complete records to the file.
    const mid = await verifyTrace(w.path);
    expect(mid.ok).toBe(true);
    expect(mid.records).toBeGreaterThan(0);
    await w.close();
    const bytes = readFileSync(w.path);
    expect([bytes[0], bytes[1]]).toEqual([0x1f, 0x8b]);
    const v = await verifyTrace(w.path);
    expect(v).toMatchObject({ ok: true, gzip: true, records: 202 });
    // Named .jsonl, still gzip: detected by content.
    const renamed = w.path.replace(/\.gz$/, '.renamed.jsonl');
    writeFileSync(renamed, bytes);
    expect(await verifyTrace(renamed)).toMatchObject({ ok: true, gzip: true, records: 202 });
  });

  it('stops recording on queue overflow: no throw, one error line, dropped counted, file still verifies', async () => {
    const { w, logger, dropped } = writer({ maxQueue: 5 });
    const seqs: number[] = [];
    expect(() => {
      for (let i = 0; i < 100; i++) seqs.push(w.writeRequest(sampleRequest(i)));
    }).not.toThrow();
    expect(seqs.at(-1)).toBe(100);
    // The header holds one place: 4 requests fit, 96 are dropped.
    expect(dropped.total).toBe(96);
    expect(w.state).toBe('stopped');
    w.writeShadowResult({ seq: 1, response: null, latency: { total_ms: 1 } });
    expect(dropped.total).toBe(97);
    await w.close();
    const errors = logger.lines.filter((l) => l.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]!.msg).toMatch(/queue is full.*Serving continues/);
    const v = await verifyTrace(w.path);
    expect(v).toMatchObject({ ok: true, records: 6 });
    expect(v.footer).toMatchObject({ totals: { requests: 4, dropped_records: 97 }, recording_stopped: expect.stringMatching(/queue is full/) });
  });

  it('logs once when an overflow is followed by a disk failure', async () => {
    const failing = () =>
      new Writable({
        write(_chunk, _enc, cb) {
          cb(Object.assign(new Error('no space left on device, write'), { code: 'ENOSPC' }));
        },
      });
    const { w, logger, dropped } = writer({ maxQueue: 3, createSink: failing });
    for (let i = 0; i < 20; i++) w.writeRequest(sampleRequest(i));
    expect(w.state).toBe('stopped');
    await w.close();
    expect(w.state).toBe('failed');
    expect(logger.lines.filter((l) => l.level === 'error')).toHaveLength(1);
    // 18 overflowed, then the header, 2 requests and the footer were lost to the disk.
    expect(dropped.total).toBe(22);
  });

  it('survives a directory it cannot create (parent is a file): one error line, writes dropped', async () => {
    const parentFile = join(root, `plain-file-${n++}`);
    writeFileSync(parentFile, 'x');
    const { w, logger, dropped } = writer({ dir: join(parentFile, 'traces') });
    expect(() => w.writeRequest(sampleRequest(1))).not.toThrow();
    expect(await w.opened).toBe(false);
    expect(w.state).toBe('failed');
    for (let i = 0; i < 10; i++) w.writeRequest(sampleRequest(i));
    await w.close();
    const errors = logger.lines.filter((l) => l.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]!.msg).toMatch(/cannot create the trace directory.*ENOTDIR|cannot create the trace directory.*EEXIST/);
    expect(errors[0]!.msg).toMatch(/Serving continues/);
    // header + the first request were queued and lost, then 10 more.
    expect(dropped.total).toBe(12);
    expect(w.stats).toMatchObject({ state: 'failed', dropped: 12 });
  });

  it('survives a disk that fills up mid-session (ENOSPC)', async () => {
    // Linux's /dev/full fails every write with a real ENOSPC; elsewhere a sink that fills up after 4 kB.
    let bytes = 0;
    const fake = () =>
      new Writable({
        write(chunk: Buffer, _enc, cb) {
          bytes += chunk.length;
          if (bytes > 4000) cb(Object.assign(new Error('no space left on device, write'), { code: 'ENOSPC' }));
          else cb();
        },
      });
    const devFull = existsSync('/dev/full');
    const { w, logger, dropped } = writer({ createSink: devFull ? () => createWriteStream('/dev/full', { flags: 'w' }) : fake, batchSize: 4 });
    for (let i = 0; i < 50; i++) w.writeRequest(sampleRequest(i));
    await w.flush();
    for (let i = 0; i < 50 && w.state !== 'failed'; i++) await new Promise((r) => setTimeout(r, 5));
    expect(w.state).toBe('failed');
    for (let i = 0; i < 10; i++) w.writeRequest(sampleRequest(i));
    await w.close();
    const errors = logger.lines.filter((l) => l.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]!.msg).toMatch(/ENOSPC/);
    expect(errors[0]!.obj).toMatchObject({ code: 'ENOSPC' });
    expect(dropped.total).toBeGreaterThanOrEqual(10);
  });

  it('notices the trace file deleted (its directory removed) while recording', async () => {
    const { w, logger, dropped } = writer({ flushIntervalMs: 10 });
    w.writeRequest(sampleRequest(1));
    expect(await w.opened).toBe(true);
    await w.flush();
    rmSync(join(w.path, '..'), { recursive: true, force: true });
    w.writeRequest(sampleRequest(2));
    await w.flush();
    for (let i = 0; i < 50 && w.state !== 'failed'; i++) await new Promise((r) => setTimeout(r, 10));
    expect(w.state).toBe('failed');
    w.writeRequest(sampleRequest(3));
    await w.close();
    const errors = logger.lines.filter((l) => l.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]!.msg).toMatch(/deleted/);
    expect(dropped.total).toBeGreaterThanOrEqual(1);
  });

  it('write*() only queues: 50,000 calls return before any of it reaches the file, and all of it arrives; throughput printed', async () => {
    const { w, dropped } = writer({ maxQueue: 60_000 });
    const inputs = Array.from({ length: 1000 }, (_, i) => sampleRequest(i));
    const onDisk = () => (existsSync(w.path) ? statSync(w.path).size : 0);
    const sizeAtStart = onDisk();
    const writtenAtStart = w.stats.written;
    const t0 = performance.now();
    for (let i = 0; i < 50_000; i++) {
      // Returns the record's sequence number, synchronously: nothing is awaited by the caller.
      expect(typeof w.writeRequest(inputs[i % 1000]!)).toBe('number');
    }
    const t1 = performance.now();
    // "At once", as structure rather than as a time: every record is still waiting when the calls
    // return (the batches run later, off the caller's turn of the event loop) and the file has not
    // grown. A write() that wrote inline would fail both.
    expect(w.stats.written).toBe(writtenAtStart);
    expect(w.stats.queued).toBeGreaterThanOrEqual(50_000);
    expect(onDisk()).toBe(sizeAtStart);
    await w.close();
    const t2 = performance.now();
    const size = readFileSync(w.path).length;
    console.log(
      `trace writer: 50,000 request records: ${((50_000 / (t2 - t0)) * 1000).toFixed(0)} records/s end to end, ` +
        `${(((t1 - t0) * 1000) / 50_000).toFixed(2)} µs per write() call, ${(size / 50_002).toFixed(0)} bytes per record`,
    );
    expect(dropped.total).toBe(0);
    expect(w.stats).toMatchObject({ state: 'closed', written: 50_002, dropped: 0, queued: 0 });
    expect(readFileSync(w.path, 'latin1').split('\n')).toHaveLength(50_003);
  });

  it('buffers sealed lines: one large write instead of one per record, the rest written on close', async () => {
    const writes: number[] = [];
    let file = '';
    const take = (text: string) => {
      writes.push(text.split('\n').length - 1);
      file += text;
    };
    // Like a file stream: chunks written while corked arrive as one writev.
    const counting = () =>
      new Writable({
        write(chunk: Buffer, _enc, cb) {
          take(chunk.toString('latin1'));
          cb();
        },
        writev(chunks, cb) {
          take(chunks.map((c) => Buffer.from(c.chunk as Uint8Array).toString('latin1')).join(''));
          cb();
        },
      });
    const { w } = writer({ createSink: counting, writeDelayMs: 60_000, sealDelayMs: 60_000 });
    expect(await w.opened).toBe(true);
    // The header and 99 requests (~97 kB) pass 64 KiB in one pump turn: one write. With the
    // sealing thread they go out in batches of 32 (the last 4 wait for the seal delay, a minute
    // here), and the third answer passes 64 KiB.
    const first = mode === 'inline' ? 100 : 96;
    for (let i = 0; i < 99; i++) w.writeRequest(sampleRequest(i));
    if (mode === 'inline') for (let i = 0; i < 5 && writes.length === 0; i++) await new Promise((r) => setImmediate(r));
    else for (let i = 0; i < 500 && writes.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(writes).toEqual([first]);
    // Records trickling in one per turn (one robot) wait for more: no write per request.
    for (let i = 0; i < 10; i++) {
      w.writeRequest(sampleRequest(100 + i));
      await new Promise((r) => setImmediate(r));
    }
    expect(writes).toEqual([first]);
    expect(w.stats).toMatchObject({ written: first, queued: 110 - first });
    await w.close();
    // The rest and the footer went out together.
    expect(writes).toEqual([first, 111 - first]);
    expect(w.stats).toMatchObject({ state: 'closed', written: 111, queued: 0 });
    const lines = file.trimEnd().split('\n').map((l) => JSON.parse(l) as { kind: string; seq?: number });
    expect(lines.map((l) => l.kind)).toEqual(['header', ...new Array(109).fill('request'), 'footer']);
    expect(lines.slice(1, -1).map((l) => l.seq)).toEqual(Array.from({ length: 109 }, (_, i) => i + 1));
  });

  it('writes buffered lines by its timer without flush or close (a crash loses at most the write delay)', async () => {
    const { w } = writer({ writeDelayMs: 40 });
    expect(await w.opened).toBe(true);
    w.writeRequest(sampleRequest(1));
    w.writeRequest(sampleRequest(2));
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    // Sealed but not yet written.
    expect(w.stats).toMatchObject({ written: 0, queued: 3 });
    expect(readFileSync(w.path, 'latin1')).toBe('');
    const t0 = performance.now();
    let text = '';
    while (performance.now() - t0 < 5_000) {
      text = readFileSync(w.path, 'latin1');
      if (text.split('\n').length === 4) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(text.split('\n')).toHaveLength(4); // header, 2 requests, and the final newline
    expect(w.stats).toMatchObject({ written: 3, queued: 0 });
    // What a crash now would leave verifies.
    expect(await verifyTrace(w.path)).toMatchObject({ ok: true, records: 3 });
    // flush() does not wait for the timer.
    w.writeRequest(sampleRequest(3));
    await w.flush();
    expect(w.stats).toMatchObject({ written: 4, queued: 0 });
    await w.close();
    expect(await verifyTrace(w.path)).toMatchObject({ ok: true, records: 5 });
  });

  it('counts written-but-unacknowledged and buffered lines as dropped when the disk fails', async () => {
    let fail = false;
    const sink = () =>
      new Writable({
        write(_chunk, _enc, cb) {
          // A slow disk that then reports it is full.
          if (fail) setTimeout(() => cb(Object.assign(new Error('no space left on device, write'), { code: 'ENOSPC' })), 30);
          else cb();
        },
      });
    const { w, logger, dropped } = writer({ createSink: sink, writeDelayMs: 60_000 });
    expect(await w.opened).toBe(true);
    for (let i = 0; i < 5; i++) w.writeRequest(sampleRequest(i));
    await w.flush();
    fail = true;
    for (let i = 0; i < 4; i++) w.writeRequest(sampleRequest(5 + i));
    await w.flush(); // the 4 are handed to the disk, which has not answered yet
    for (let i = 0; i < 3; i++) w.writeRequest(sampleRequest(9 + i));
    await new Promise((r) => setImmediate(r));
    expect(w.stats).toMatchObject({ state: 'recording', written: 10, queued: 3, dropped: 0 });
    for (let i = 0; i < 100 && w.state !== 'failed'; i++) await new Promise((r) => setTimeout(r, 5));
    expect(w.state).toBe('failed');
    expect(dropped.total).toBe(7);
    await w.close();
    expect(logger.lines.filter((l) => l.level === 'error')).toHaveLength(1);
    expect(w.stats).toMatchObject({ state: 'failed', queued: 0, dropped: 7 });
  });

  it('computes the divergence of two action chunks', () => {
    expect(actionDivergence([[1, 0]], [[1, 0]])).toEqual({ cosine: 1, maxAbs: 0 });
    expect(actionDivergence([[1, 0]], [[0, 1]])).toEqual({ cosine: 0, maxAbs: 1 });
    expect(actionDivergence([[0, 0]], [[0, 0]])).toEqual({ cosine: 1, maxAbs: 0 });
    expect(actionDivergence([[1, 2]], [[1]])).toBeNull();
  });
});

describe('TraceWriter sealing thread', () => {
  const sealerEntry = new URL('./trace-sealer-worker', import.meta.url).href;
  const mixed = (w: TraceWriter, from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const seq = w.writeRequest(sampleRequest(i, i % 5 === 0 ? { error: { code: 'SWY_ERR_INFERENCE', message: `boom ${i}` }, response: null } : {}));
      if (i % 4 === 0) w.writeShadowResult({ seq, routing: { slot: 'shadow' }, response: { actions: [[0.5, i]] }, latency: { total_ms: 1.5 }, divergence: null });
    }
  };

  it('writes the same bytes as sealing inline', async () => {
    const a = baseWriter({ sessionId: 'same', redaction: 'full' });
    const b = baseWriter({ sessionId: 'same', redaction: 'full', sealThread: true });
    for (const w of [a.w, b.w]) {
      mixed(w, 0, 300);
      w.writeRequest(sampleRequest(300, { request: { state: [1, -0, 1e-300], image: 'aGVsbG8=', instruction: 'lone \ud800 surrogate' } }));
      await w.close();
    }
    const bytes = readFileSync(b.w.path, 'latin1');
    expect(bytes.split('\n')).toHaveLength(300 + 75 + 1 + 2 + 1);
    expect(bytes).toBe(readFileSync(a.w.path, 'latin1'));
    expect(b.logger.lines.filter((l) => l.level !== 'info')).toEqual([]);
  });

  it('seals on the writer\'s thread when the sealing thread dies with batches unanswered: nothing lost, one warning', async () => {
    // A real thread that exits on the first batch it receives, answering nothing.
    const dying = () => new Worker("require('node:worker_threads').parentPort.on('message', () => process.exit(3));", { eval: true });
    const { w, logger, dropped } = baseWriter({ sealThread: true, startSealer: dying, sealDelayMs: 1 });
    mixed(w, 0, 100);
    await w.flush();
    mixed(w, 100, 200);
    await w.close();
    const v = await verifyTrace(w.path);
    expect(v.ok).toBe(true);
    const recs = await records(w.path);
    expect(recs.filter((r) => r.kind === 'request')).toHaveLength(200);
    expect(recs.filter((r) => r.kind === 'shadow_result')).toHaveLength(50);
    expect(recs.at(-1)).toMatchObject({ kind: 'footer', totals: { requests: 200, shadow_results: 50, errors: 40, dropped_records: 0 } });
    expect(dropped.total).toBe(0);
    const warnings = logger.lines.filter((l) => l.level === 'warn');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.msg).toMatch(/sealing thread stopped.*none were lost/);
    expect(String((warnings[0]!.obj as { err: string }).err)).toMatch(/exited with code 3/);
  });

  it('carries the chain on across a thread that stopped after answering (the hash it sent back links the next record)', async () => {
    let thread: Worker | null = null;
    const real = (init: unknown) => (thread = startModuleWorker(sealerEntry, import.meta.url, init, 'test-sealer'));
    const { w, logger } = baseWriter({ sealThread: true, startSealer: real });
    mixed(w, 0, 40);
    await w.flush();
    expect(thread).not.toBeNull();
    const exited = new Promise((r) => thread!.once('exit', r));
    await thread!.terminate();
    await exited;
    mixed(w, 40, 80);
    await w.close();
    expect((await verifyTrace(w.path)).ok).toBe(true);
    expect((await records(w.path)).filter((r) => r.kind === 'request').map((r) => r.seq)).toEqual(Array.from({ length: 80 }, (_, i) => i + 1));
    expect(logger.lines.filter((l) => l.level === 'warn')).toHaveLength(1);
  });

  it('starts the sealing thread as pure JavaScript (serve\'s exit never waits on it as stuck native code)', async () => {
    const live = liveWorkerThreads();
    const { w, logger } = baseWriter({ sealThread: true });
    mixed(w, 0, 40);
    await w.flush();
    expect(liveWorkerThreads()).toBe(live);
    await w.close();
    expect(logger.lines.filter((l) => l.level === 'warn')).toEqual([]);
  });

  it('posts to the thread every 32 records, or sooner once their images reach 64 K characters', async () => {
    const posted: number[] = [];
    const counting = (init: unknown) => {
      const t = startModuleWorker(sealerEntry, import.meta.url, init, 'test-sealer', { pureJs: true });
      const post = t.postMessage.bind(t);
      t.postMessage = (m: { items: unknown[] }) => {
        posted.push(m.items.length);
        post(m);
      };
      return t;
    };
    const { w } = baseWriter({ sealThread: true, startSealer: counting, sealDelayMs: 60_000, redaction: 'full' });
    expect(await w.opened).toBe(true);
    for (let i = 0; i < 100; i++) w.writeRequest(sampleRequest(i));
    await new Promise((r) => setImmediate(r));
    // The header and 100 requests: three batches of 32; the last 5 wait for the delay (a minute here).
    expect(posted).toEqual([32, 32, 32]);
    const image = 'A'.repeat(30_000);
    for (let i = 100; i < 110; i++) w.writeRequest(sampleRequest(i, { request: { state: [i], image } }));
    await new Promise((r) => setImmediate(r));
    // 5 small ones waiting, then 30 K characters of image each: a batch whenever 64 K is passed.
    expect(posted).toEqual([32, 32, 32, 8, 3, 3]);
    await w.flush();
    expect(posted).toEqual([32, 32, 32, 8, 3, 3, 1]);
    await w.close();
    expect((await records(w.path)).filter((r) => r.kind === 'request')).toHaveLength(110);
  });

  it('seals inline when the thread cannot start', async () => {
    const { w, logger } = baseWriter({
      sealThread: true,
      startSealer: () => {
        throw new Error('EAGAIN: no more threads');
      },
    });
    mixed(w, 0, 20);
    await w.close();
    expect((await verifyTrace(w.path)).ok).toBe(true);
    expect((await records(w.path)).filter((r) => r.kind === 'request')).toHaveLength(20);
    expect(logger.lines.filter((l) => l.level === 'warn').map((l) => (l.obj as { err: string }).err)).toEqual(['EAGAIN: no more threads']);
  });

  it('records a request that carries something a thread cannot be sent (a function), serialized on the writer\'s thread', async () => {
    const { w, logger, dropped } = baseWriter({ sealThread: true });
    mixed(w, 0, 10);
    const odd = sampleRequest(10);
    (odd.request as Record<string, unknown>).callback = () => 1;
    w.writeRequest(odd);
    mixed(w, 11, 20);
    await w.close();
    expect((await verifyTrace(w.path)).ok).toBe(true);
    expect((await records(w.path)).filter((r) => r.kind === 'request').map((r) => r.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(dropped.total).toBe(0);
    expect(logger.lines.filter((l) => l.level !== 'info')).toEqual([]);
  });

  it('drops only a record that cannot be serialized at all, on the thread, and says so', async () => {
    const { w, logger, dropped } = baseWriter({ sealThread: true });
    mixed(w, 0, 5);
    w.writeRequest(sampleRequest(5, { latency: { total_ms: 1, stages: new Map([['infer_ms', 1]]) as unknown as Record<string, number> } }));
    mixed(w, 6, 10);
    await w.close();
    expect((await verifyTrace(w.path)).ok).toBe(true);
    expect((await records(w.path)).filter((r) => r.kind === 'request')).toHaveLength(9);
    expect(dropped.total).toBe(1);
    expect(logger.lines.filter((l) => l.level === 'warn').map((l) => l.msg)).toEqual(['trace record could not be serialized and was dropped']);
  });
});

