/**
 * Writes one JSONL trace per serving session (spec §4.3), without ever holding up `/act`.
 *
 * `write*()` only stamps the record (seq, timestamp) and pushes it onto a bounded in-memory
 * queue; it returns synchronously and never throws. A background pump (setImmediate) builds,
 * serializes and hashes the queued records in batches. The sealed lines are handed to the file
 * in large writes: once `writeBytes` (64 KiB) are pending, or `writeDelayMs` (50 ms, an unref'd
 * timer) after the first of them, and at `flush()`/`close()`; so at low rates a request costs no
 * file-system call (one would be a thread-pool round trip per request), and a crash loses at
 * most the last ~50 ms of records (plus what the OS had not written). Stream backpressure is
 * honoured.
 * When the queue overflows or the disk fails (open error, EACCES, ENOSPC, the file or its
 * directory removed), recording stops: one error line in the log says why and that serving
 * continues, the dropped-records counter counts what was lost, and later writes are dropped
 * (and counted). Serving never sees an exception from here.
 *
 * Callers hand over their arrays (state, actions) and must not mutate them afterwards: the
 * record is serialized later, off the caller's path.
 */
import { randomBytes as cryptoRandomBytes } from 'node:crypto';
import { createWriteStream, fstat, fsync, promises as fsp, type WriteStream } from 'node:fs';
import { cpus, arch, platform, totalmem } from 'node:os';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { createGzip, constants as zconst, type Gzip, type ZlibOptions } from 'node:zlib';
import type { Logger } from '../platform/logger.js';
import { SWITCHYARD_VERSION } from '../version.js';
import type { Worker } from 'node:worker_threads';
import { LruMap } from '../domain/lru.js';
import { startModuleWorker } from '../platform/worker.js';
import { canonicalizeJs } from './canonical-json.js';
import { GENESIS_HASH } from './chain.js';
import type { Redaction, TraceError, TraceLatency, TracePolicyRef, TraceRequestInput, TraceResponse, TraceRouting, TraceShadowInput } from './trace-input.js';
import { imageSha256, TRACE_SCHEMA_VERSION } from './request-record.js';
import { describeError, recordBody, sealBatch, type SealedBatch, type SealerInit, type SealItem, type SealReply, type SealRequest } from './seal-batch.js';

export { imageSha256, TRACE_SCHEMA_VERSION };

export type { Redaction, TraceError, TraceLatency, TracePolicyRef, TraceRequestInput, TraceResponse, TraceRouting, TraceShadowInput };

export interface DroppedCounter {
  inc(n?: number): void;
}

export interface TraceWriterOptions {
  /** Directory for trace files; created when missing. */
  dir: string;
  /** The served model's hash, in the file name and the header (in two-policy mode: the caller's choice, e.g. slot `a`). */
  modelHash: string;
  gzip?: boolean;
  /** zlib level for gzip traces; default 1 (fast: traces are written at /act rates; level 6 costs ~3x the CPU for ~25% smaller files). */
  gzipLevel?: number;
  /** Default `hash_only`: only `image_sha256`. `full` keeps the image too; `none` stores neither. */
  redaction?: Redaction;
  providers?: string[];
  /** Defaults to `hostHardware()`. */
  hardware?: Record<string, unknown>;
  /** Two-policy mode: `[{slot, model_id, model_hash}]`. */
  policies?: TracePolicyRef[];
  /** The A/B split (percent to `a`), or null in single-policy mode. */
  split?: number | null;
  /** More header fields (cannot replace the ones above). */
  headerExtra?: Record<string, unknown>;
  switchyardVersion?: string;
  clock: { now(): number };
  logger: Logger;
  /** `switchyard_trace_records_dropped_total`; prom-client's Counter fits. */
  droppedCounter?: DroppedCounter;
  /** Fixed session id; otherwise 12 hex digits from `randomBytes`. */
  sessionId?: string;
  randomBytes?: (n: number) => Uint8Array;
  /** Records waiting to be written; beyond this recording stops. Default 10,000. */
  maxQueue?: number;
  /** Records serialized per event-loop turn. Default 256. */
  batchSize?: number;
  /**
   * How often buffered gzip output is flushed to the file and the file checked for deletion.
   * Default 250 ms: with `writeDelayMs` this bounds what a `kill -9` loses of a gzip trace.
   */
  flushIntervalMs?: number;
  /** Sealed lines are handed to the file once this many bytes are pending. Default 64 KiB. */
  writeBytes?: number;
  /**
   * ...or at the latest this long after the first of them was sealed (unref'd timer): at most
   * this much of the trace is lost to a crash. Default 50 ms; 0 writes every batch at once.
   */
  writeDelayMs?: number;
  /**
   * Serialize and hash records on a thread of their own (`trace-sealer-worker.ts`) instead of the
   * caller's: serving turns this on so that the thread answering `/act` only queues a record.
   * Records are posted to it in batches (every `sealDelayMs`, 32 records, or 64 K characters of
   * images, whichever comes first), and its answers come back as bytes; if the
   * thread cannot start or dies, the writer seals on its own thread from then on (one warning
   * in the log) and nothing is lost. Default false.
   */
  sealThread?: boolean;
  /** With `sealThread`: how long records wait to be posted as one batch. Default 20 ms. */
  sealDelayMs?: number;
  /** Tests: start the sealing thread some other way (the default runs trace-sealer-worker). */
  startSealer?: (init: SealerInit) => Worker;
  /** Tests: replace the file sink (gets the full path, returns the stream to write the file's bytes to). */
  createSink?: (path: string) => Writable;
}

/** The sealing thread's entry module, beside this file (see `startModuleWorker` for .ts vs .js). */
const SEALER_ENTRY = new URL('./trace-sealer-worker', import.meta.url).href;

function startSealerThread(init: SealerInit): Worker {
  return startModuleWorker(SEALER_ENTRY, import.meta.url, init, 'switchyard-trace-sealer', { pureJs: true });
}

export type TraceWriterState = 'opening' | 'recording' | 'stopped' | 'failed' | 'closed';

export interface TraceWriterStats {
  state: TraceWriterState;
  /** Records handed to the file stream (header and footer included). */
  written: number;
  dropped: number;
  /** Records not yet handed to the file stream: queued, or sealed and waiting for the next write. */
  queued: number;
  stopReason: string | null;
}

/** Hardware description for the header, from `node:os`. */
export function hostHardware(): Record<string, unknown> {
  const c = cpus();
  return { platform: platform(), arch: arch(), cpu_model: c[0]?.model ?? 'unknown', cpu_count: c.length, total_memory_bytes: totalmem(), node: process.version };
}


/** `<YYYYMMDD>-<HHMMSS>-<model_hash>-<session_id>.jsonl[.gz]`, UTC. */
export function traceFileName(startedAtMs: number, modelHash: string, sessionId: string, gzip: boolean): string {
  const d = new Date(startedAtMs);
  const p = (n: number) => String(n).padStart(2, '0');
  const stamp = `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}-${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`;
  return `${stamp}-${modelHash}-${sessionId}.jsonl${gzip ? '.gz' : ''}`;
}


type Queued =
  | { k: 'header'; rec: Record<string, unknown> }
  | Extract<SealItem, { k: 'request' | 'shadow' }>
  | { k: 'footer'; rec: Record<string, unknown> };

const SAFE_NAME = /^[A-Za-z0-9_.-]+$/;
/**
 * Records are posted to the sealing thread once this many wait (or after `sealDelayMs`): at
 * high rates every few milliseconds, so the serving thread does not keep requests' objects alive
 * long enough for the garbage collector to copy and promote them (holding 20 ms of them at
 * 8,000 req/s cost 60% more GC time); at a robot's rate every 20 ms, so waking the thread is rare.
 */
const SEAL_POST_RECORDS = 32;
/**
 * ...or once their images add up to this many characters: a 224x224 JPEG is ~22 KB of base64,
 * and posting 32 of them at once (700 KB copied out, the sealed text copied back) showed as
 * multi-millisecond stalls in /act's tail.
 */
const SEAL_POST_IMAGE_CHARS = 64 * 1024;
const SINK_HIGH_WATER = 1 << 20;

export class TraceWriter {
  readonly sessionId: string;
  readonly fileName: string;
  readonly path: string;
  readonly startedAt: string;
  readonly redaction: Redaction;
  /** Resolves true once the file is open, false if it could not be opened. Never rejects. */
  readonly opened: Promise<boolean>;

  private readonly opts: TraceWriterOptions;
  private readonly maxQueue: number;
  private readonly batchSize: number;
  private readonly flushIntervalMs: number;
  private readonly writeBytes: number;
  private readonly writeDelayMs: number;
  private readonly sealDelayMs: number;

  private queue: Queued[] = [];
  private head = 0;
  private _state: TraceWriterState = 'opening';
  private stopReason: string | null = null;
  private prevHash = GENESIS_HASH;

  private seq = 0;
  /**
   * Chunk counters of the 10,000 most recently seen episodes. An LruMap, not a Map evicted
   * through `keys().next()`: with a new episode per request that walk over deleted slots was
   * 4.6% of the serving thread at 8 connections.
   */
  private readonly chunkByEpisode = new LruMap<string, number>(10_000);
  private requests = 0;
  private shadows = 0;
  private errors = 0;
  private written = 0;
  private dropped = 0;
  /** Records handed to the stream whose write callback has not come back yet. */
  private unacked = 0;
  /**
   * Sealed lines (ASCII) not yet handed to the stream, in order: strings when sealed here, bytes
   * when the sealing thread sent them. Their total length, and how many records they hold.
   */
  private pendingChunks: (string | Uint8Array)[] = [];
  private pendingLength = 0;
  private pendingRecords = 0;
  private writeTimer: NodeJS.Timeout | null = null;
  /** The write delay has passed: hand the pending lines over at the next pump. */
  private writeDue = false;

  private sink: Writable | null = null;
  private gz: Gzip | null = null;
  private file: WriteStream | null = null;
  private sinkDone: Promise<void> = Promise.resolve();
  private pumpScheduled = false;
  private waitingDrain = false;
  private closing = false;
  private ended = false;
  private closePromise: Promise<void> | null = null;
  /** The sealing thread (sealThread), started with the first batch; null before and after. */
  private sealer: Worker | null = null;
  /** Seal on this thread: no sealing thread was asked for, or it failed. */
  private sealInline: boolean;
  /** The writer is stopping the sealing thread itself: its exit is not a failure. */
  private sealerStopping = false;
  /** Taken from the queue, waiting to be posted to the sealing thread. */
  private outbox: SealItem[] = [];
  /** Characters of image text in the outbox. */
  private outboxImageChars = 0;
  /** Posted, not answered yet: kept so they can be sealed here if the thread dies. */
  private inFlight: SealRequest[] = [];
  private inFlightRecords = 0;
  private nextBatchId = 1;
  private postTimer: NodeJS.Timeout | null = null;
  private postDue = false;
  private timer: NodeJS.Timeout | null = null;
  private dirty = false;
  private idleWaiters: (() => void)[] = [];

  constructor(opts: TraceWriterOptions) {
    this.opts = opts;
    this.maxQueue = Math.max(1, opts.maxQueue ?? 10_000);
    this.batchSize = Math.max(1, opts.batchSize ?? 256);
    this.flushIntervalMs = opts.flushIntervalMs ?? 250;
    this.writeBytes = Math.max(1, opts.writeBytes ?? 64 * 1024);
    this.writeDelayMs = Math.max(0, opts.writeDelayMs ?? 50);
    this.sealDelayMs = Math.max(0, opts.sealDelayMs ?? 20);
    this.sealInline = !opts.sealThread;
    this.redaction = opts.redaction ?? 'hash_only';
    const rnd = opts.randomBytes ?? ((n: number) => cryptoRandomBytes(n));
    this.sessionId = opts.sessionId ?? Buffer.from(rnd(6)).toString('hex');
    const now = opts.clock.now();
    this.startedAt = new Date(now).toISOString();
    const modelHash = SAFE_NAME.test(opts.modelHash) ? opts.modelHash : 'unknown';
    const sessionForName = SAFE_NAME.test(this.sessionId) ? this.sessionId : 'session';
    this.fileName = traceFileName(now, modelHash, sessionForName, opts.gzip ?? false);
    this.path = join(opts.dir, this.fileName);

    const header: Record<string, unknown> = { ...(opts.headerExtra ?? {}) };
    Object.assign(header, {
      kind: 'header',
      schema_version: TRACE_SCHEMA_VERSION,
      session_id: this.sessionId,
      started_at: this.startedAt,
      model_hash: opts.modelHash,
      providers: opts.providers ?? [],
      hardware: opts.hardware ?? hostHardware(),
      redaction: this.redaction,
      switchyard_version: opts.switchyardVersion ?? SWITCHYARD_VERSION,
      split: opts.split ?? null,
    });
    if (opts.policies && opts.policies.length > 0) header.policies = opts.policies.map((p) => ({ slot: p.slot, model_id: p.model_id, model_hash: p.model_hash }));
    this.queue.push({ k: 'header', rec: header });

    this.opened = this.open();
  }

  get state(): TraceWriterState {
    return this._state;
  }

  get stats(): TraceWriterStats {
    return {
      state: this._state,
      written: this.written,
      dropped: this.dropped,
      queued: this.queue.length - this.head + this.outbox.length + this.inFlightRecords + this.pendingRecords,
      stopReason: this.stopReason,
    };
  }

  /**
   * Queues a `request` record; returns its `seq`: `input.seq` when given, otherwise counted
   * from 1 (assigned even when the record is dropped, so a gap in `seq` shows a drop).
   * Never throws, never blocks.
   */
  writeRequest(input: TraceRequestInput): number {
    let seq: number;
    if (typeof input.seq === 'number') {
      seq = input.seq;
      if (seq > this.seq) this.seq = seq;
    } else seq = ++this.seq;
    if (!this.accepting()) return seq;
    let chunk = input.chunk_id;
    const episode = input.request?.episode_id;
    if (chunk === undefined) {
      if (episode) {
        chunk = this.chunkByEpisode.get(episode) ?? 0;
        this.chunkByEpisode.set(episode, chunk + 1);
      } else chunk = 0;
    }
    this.enqueue({ k: 'request', seq, chunk, ts: input.at ?? this.opts.clock.now(), input });
    return seq;
  }

  /** Queues a `shadow_result` record for request `input.seq`. Never throws, never blocks. */
  writeShadowResult(input: TraceShadowInput): void {
    if (!this.accepting()) return;
    this.enqueue({ k: 'shadow', ts: input.at ?? this.opts.clock.now(), input });
  }

  /**
   * Resolves when everything queued so far has been handed to the file stream (or dropped),
   * without waiting for the write delay.
   */
  flush(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => {
      this.idleWaiters.push(resolve);
      this.schedule();
    });
  }

  /**
   * Makes what the writer holds durable now, without closing: queued records are written, the
   * gzip stream is flushed (a sync flush point, so a reader can decode up to here), and the file
   * is fsync'ed. For a shutdown that may not get to `close()` (a second signal). Never rejects;
   * gives up after `timeoutMs`.
   */
  async sync(timeoutMs = 2000): Promise<void> {
    const work = (async () => {
      await this.flush();
      const gz = this.gz;
      if (gz && !this.ended && this._state !== 'failed') await new Promise<void>((resolve) => gz.flush(zconst.Z_SYNC_FLUSH, () => resolve()));
      const file = this.file;
      if (file && !file.destroyed && !file.writableEnded && file.writableLength > 0) await new Promise<void>((resolve) => file.write('', () => resolve()));
      const fd = (file as unknown as { fd?: unknown } | null)?.fd;
      if (typeof fd === 'number') await new Promise<void>((resolve) => fsync(fd, () => resolve()));
    })().catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([work, new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
  }

  /** Writes the footer, flushes, closes the file (fsync'ed first). Never rejects; safe to call twice. */
  close(): Promise<void> {
    if (this.closePromise) return this.closePromise;
    this.closePromise = this.doClose();
    return this.closePromise;
  }

  // -------------------------------------------------------------------------------------------

  private accepting(): boolean {
    if (this._state === 'opening' || this._state === 'recording') {
      if (!this.closing) return true;
    }
    this.countDropped(1);
    return false;
  }

  private enqueue(item: Queued): void {
    if (this.queue.length - this.head >= this.maxQueue) {
      this.countDropped(1);
      this.stop('overflow', `the trace queue is full (${this.maxQueue} records waiting: the disk is slower than the traffic)`);
      return;
    }
    this.queue.push(item);
    this.schedule();
  }

  private countDropped(n: number): void {
    if (n <= 0) return;
    this.dropped += n;
    try {
      this.opts.droppedCounter?.inc(n);
    } catch {
      // a metrics failure must not reach serving
    }
  }

  /**
   * Stops recording once. `overflow`: what is queued is still written and the footer says why;
   * `failed`: the disk failed, everything not yet written is dropped.
   */
  private stop(mode: 'overflow' | 'failed', reason: string, err?: unknown): void {
    if (this._state === 'failed' || this._state === 'closed') return;
    const firstStop = this._state !== 'stopped';
    if (mode === 'failed') {
      const lost = this.queue.length - this.head + this.unacked + this.pendingRecords + this.outbox.length + this.inFlightRecords;
      this.queue = [];
      this.head = 0;
      this.outbox = [];
      this.outboxImageChars = 0;
      this.inFlight = [];
      this.inFlightRecords = 0;
      this.unacked = 0;
      this.pendingChunks = [];
      this.pendingLength = 0;
      this.pendingRecords = 0;
      this.countDropped(lost);
      this._state = 'failed';
      this.teardown();
    } else {
      this._state = 'stopped';
    }
    if (firstStop) {
      this.stopReason = reason;
      const code = (err as { code?: unknown } | undefined)?.code;
      try {
        this.opts.logger.error(
          { path: this.path, reason, ...(typeof code === 'string' ? { code } : {}), dropped_records: this.dropped },
          `trace recording stopped: ${reason}. Serving continues without recording; later records are dropped and counted in switchyard_trace_records_dropped_total.`,
        );
      } catch {
        // the logger failing must not reach serving either
      }
    }
    this.wakeIdle();
  }

  private async open(): Promise<boolean> {
    try {
      await fsp.mkdir(this.opts.dir, { recursive: true });
    } catch (e) {
      this.stop('failed', `cannot create the trace directory ${this.opts.dir} (${describeError(e)})`, e);
      return false;
    }
    if (this._state === 'failed') return false;
    try {
      if (this.opts.createSink) {
        const s = this.opts.createSink(this.path);
        this.attach(s, s, null);
      } else {
        // Large buffers so serializing the next batch overlaps the write of the previous one.
        // flush: the file is fsync'ed before it is closed, so the footer is on disk once close() resolves.
        const file = createWriteStream(this.path, { flags: 'wx', highWaterMark: SINK_HIGH_WATER, flush: true });
        this.file = file;
        if (this.opts.gzip) {
          // highWaterMark reaches the Transform underneath; @types/node's ZlibOptions omits it.
          const gz = createGzip({ level: this.opts.gzipLevel ?? 1, highWaterMark: SINK_HIGH_WATER, chunkSize: 256 * 1024 } as ZlibOptions);
          this.gz = gz;
          this.attach(gz, file, pipeline(gz, file));
        } else {
          this.attach(file, file, null);
        }
        await new Promise<void>((resolve) => {
          const done = () => {
            file.off('open', done);
            file.off('error', done);
            file.off('close', done);
            resolve();
          };
          file.once('open', done);
          file.once('error', done);
          file.once('close', done);
        });
      }
    } catch (e) {
      this.stop('failed', `cannot open the trace file ${this.path} (${describeError(e)})`, e);
      return false;
    }
    // The stream's 'error' handler may have failed the writer while we waited.
    if ((this._state as TraceWriterState) === 'failed') return false;
    if (this._state === 'opening') this._state = 'recording';
    this.schedule();
    return true;
  }

  private attach(head: Writable, tail: Writable, piped: Promise<void> | null): void {
    this.sink = head;
    const onError = (e: unknown) => this.stop('failed', `cannot write the trace file ${this.path} (${describeError(e)})`, e);
    head.on('error', onError);
    if (tail !== head) tail.on('error', onError);
    const done = piped ?? finished(tail);
    this.sinkDone = done.then(
      () => undefined,
      (e: unknown) => onError(e),
    );
  }

  private teardown(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    this.clearWriteTimer();
    this.clearPostTimer();
    void this.stopSealer();
    const sink = this.sink;
    this.sink = null;
    try {
      sink?.destroy();
      if (this.file && !this.file.destroyed) this.file.destroy();
    } catch {
      // already gone
    }
  }

  private schedule(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private isIdle(): boolean {
    return (
      (this.head >= this.queue.length && this.pendingRecords === 0 && this.outbox.length === 0 && this.inFlight.length === 0) ||
      this._state === 'failed' ||
      this._state === 'closed'
    );
  }

  private wakeIdle(): void {
    if (!this.isIdle() || this.idleWaiters.length === 0) return;
    const w = this.idleWaiters;
    this.idleWaiters = [];
    for (const f of w) f();
  }

  private pump(): void {
    if (this._state === 'failed' || this._state === 'closed' || this._state === 'opening') return this.wakeIdle();
    const sink = this.sink;
    if (!sink || this.waitingDrain) return;
    // With a sealing thread, at most a few batches are in its hands; the rest waits in the
    // bounded queue (which stops recording when it overflows, as a slow disk does).
    const room = this.sealInline ? this.batchSize : Math.min(this.batchSize, 4 * this.batchSize - this.outbox.length - this.inFlightRecords);
    const end = Math.min(this.queue.length, this.head + Math.max(0, room));
    if (end > this.head) {
      const items: SealItem[] = [];
      for (let i = this.head; i < end; i++) {
        const item = this.queue[i]!;
        if (item.k === 'request') {
          this.countRequest(item.input);
          items.push(item);
        } else if (item.k === 'shadow') {
          this.shadows++;
          items.push(item);
        } else {
          try {
            items.push({ k: 'text', body: canonicalizeJs(this.buildEnd(item)) });
          } catch (e) {
            this.dropUnserializable(describeError(e));
          }
        }
      }
      this.head = end;
      if (this.head === this.queue.length) {
        this.queue = [];
        this.head = 0;
      } else if (this.head > 4096) {
        this.queue = this.queue.slice(this.head);
        this.head = 0;
      }
      if (this.sealInline) this.accept(sealBatch(this.prevHash, items, this.redaction));
      else {
        for (const it of items) {
          this.outbox.push(it);
          if (it.k === 'request') {
            const image = it.input.request?.image;
            if (typeof image === 'string') this.outboxImageChars += image.length;
          }
          if (this.outbox.length >= SEAL_POST_RECORDS || this.outboxImageChars >= SEAL_POST_IMAGE_CHARS) this.postOutbox();
        }
      }
    }
    const drained = this.head >= this.queue.length;
    const urgent = drained && (this.closing || this.idleWaiters.length > 0);
    if (this.outbox.length > 0) {
      if (urgent || this.postDue || this.sealDelayMs === 0) this.postOutbox();
      else this.armPostTimer();
    }
    const sealing = this.outbox.length > 0 || this.inFlight.length > 0;
    if (this.pendingRecords > 0) {
      const due = this.writeDue || this.writeDelayMs === 0 || this.pendingLength >= this.writeBytes || (urgent && !sealing);
      if (due) this.writeOut(sink);
      else this.armWriteTimer();
    }
    if (!drained) {
      // With no room (the sealing thread holds enough), its answer schedules the next pump.
      if (!this.waitingDrain && room > 0) this.schedule();
      return;
    }
    // An answer from the sealing thread schedules the next pump.
    if (sealing) return;
    this.wakeIdle();
    if (this.closing && !this.ended && !this.waitingDrain && this.pendingRecords === 0) {
      this.ended = true;
      if (this.timer) {
        clearTimeout(this.timer);
        this.timer = null;
      }
      sink.end();
    }
  }

  /** Sealed lines join what waits for the next write. */
  private accept(batch: SealedBatch | SealReply): void {
    this.prevHash = batch.hash;
    const lines = 'bytes' in batch ? batch.bytes : batch.text;
    if (lines.length > 0) {
      const last = this.pendingChunks.length - 1;
      // Strings sealed here join into one (V8 keeps the concatenation as a rope until it is written).
      if (typeof lines === 'string' && last >= 0 && typeof this.pendingChunks[last] === 'string') this.pendingChunks[last] += lines;
      else this.pendingChunks.push(lines);
      this.pendingLength += lines.length;
    }
    this.pendingRecords += batch.n;
    for (const err of batch.errors) this.dropUnserializable(err);
  }

  private dropUnserializable(err: string): void {
    // A value that cannot be serialized (a Map, a cycle): drop that record, keep recording.
    this.countDropped(1);
    try {
      this.opts.logger.warn({ err }, 'trace record could not be serialized and was dropped');
    } catch {
      // the logger failing must not reach serving
    }
  }

  private armPostTimer(): void {
    if (this.postTimer !== null) return;
    this.postTimer = setTimeout(() => {
      this.postTimer = null;
      this.postDue = true;
      this.schedule();
    }, this.sealDelayMs);
    this.postTimer.unref();
  }

  private clearPostTimer(): void {
    if (this.postTimer !== null) {
      clearTimeout(this.postTimer);
      this.postTimer = null;
    }
  }

  /** Posts the outbox to the sealing thread as one batch (seals it here when there is no thread). */
  private postOutbox(): void {
    this.clearPostTimer();
    this.postDue = false;
    let items = this.outbox;
    this.outbox = [];
    this.outboxImageChars = 0;
    if (items.length === 0) return;
    const sealer = this.ensureSealer();
    if (sealer === null) return this.accept(sealBatch(this.prevHash, items, this.redaction));
    const id = this.nextBatchId++;
    try {
      sealer.postMessage({ id, items } satisfies SealRequest);
    } catch {
      // Something structured clone cannot copy (a function, a symbol): serialize the batch here
      // and post the text, which always can be (a record that cannot be serialized is dropped).
      const texts: SealItem[] = [];
      for (const it of items) {
        try {
          texts.push({ k: 'text', body: recordBody(it, this.redaction) });
        } catch (e) {
          this.dropUnserializable(describeError(e));
        }
      }
      items = texts;
      sealer.postMessage({ id, items } satisfies SealRequest);
    }
    this.inFlight.push({ id, items });
    this.inFlightRecords += items.length;
  }

  private ensureSealer(): Worker | null {
    if (this.sealer !== null) return this.sealer;
    if (this.sealInline) return null;
    let w: Worker;
    try {
      w = (this.opts.startSealer ?? startSealerThread)({ prevHash: this.prevHash, redaction: this.redaction });
    } catch (e) {
      this.sealerFailed(e);
      return null;
    }
    this.sealer = w;
    w.on('message', (m: SealReply) => this.onSealed(w, m));
    w.on('error', (e) => this.sealerFailed(e, w));
    w.on('messageerror', (e) => this.sealerFailed(e, w));
    w.on('exit', (code) => {
      if (!this.sealerStopping) this.sealerFailed(new Error(`the thread exited with code ${code}`), w);
    });
    // Recording never keeps the process alive; close() waits for what is in flight.
    w.unref();
    return w;
  }

  private onSealed(from: Worker, m: SealReply): void {
    if (from !== this.sealer || this._state === 'failed' || this._state === 'closed') return;
    const batch = this.inFlight[0];
    if (batch === undefined || batch.id !== m.id) return;
    this.inFlight.shift();
    this.inFlightRecords -= batch.items.length;
    this.accept(m);
    this.schedule();
  }

  /**
   * The sealing thread could not start or died: seal here from now on, beginning with what it
   * had not answered (from the last hash it sent back, so the chain has no gap).
   */
  private sealerFailed(err: unknown, from?: Worker): void {
    if (from !== undefined && from !== this.sealer) return;
    if (this.sealInline) return;
    this.sealInline = true;
    void this.stopSealer();
    if (this._state === 'failed' || this._state === 'closed') return;
    try {
      this.opts.logger.warn({ err: describeError(err) }, 'the trace sealing thread stopped; records are now serialized and hashed on the serving thread, none were lost');
    } catch {
      // the logger failing must not reach serving
    }
    const batches = this.inFlight;
    this.inFlight = [];
    this.inFlightRecords = 0;
    for (const b of batches) this.accept(sealBatch(this.prevHash, b.items, this.redaction));
    const rest = this.outbox;
    this.outbox = [];
    this.outboxImageChars = 0;
    if (rest.length > 0) this.accept(sealBatch(this.prevHash, rest, this.redaction));
    this.schedule();
  }

  /** Resolves once the thread has exited. */
  private stopSealer(): Promise<void> {
    const w = this.sealer;
    if (w === null) return Promise.resolve();
    this.sealer = null;
    this.sealerStopping = true;
    return w.terminate().then(
      () => undefined,
      () => undefined,
    );
  }

  /** Hands the pending lines to the stream in one write. */
  private writeOut(sink: Writable): void {
    const chunks = this.pendingChunks;
    const n = this.pendingRecords;
    this.pendingChunks = [];
    this.pendingLength = 0;
    this.pendingRecords = 0;
    this.writeDue = false;
    this.clearWriteTimer();
    this.unacked += n;
    this.written += n;
    // Corked, several chunks reach a file stream as one writev. Canonical lines are pure ASCII,
    // so latin1 is exact and the cheapest encoding for the strings.
    const many = chunks.length > 1;
    if (many) sink.cork();
    // Callbacks run in order, so the last chunk's says all n records reached the stream.
    const acked = (err?: Error | null) => {
      if (!err && this.unacked >= n) this.unacked -= n;
    };
    let ok = true;
    for (let i = 0; i < chunks.length; i++) {
      const chunk = chunks[i]!;
      const done = i === chunks.length - 1 ? acked : undefined;
      ok = typeof chunk === 'string' ? sink.write(chunk, 'latin1', done) : sink.write(chunk, done);
    }
    if (many) sink.uncork();
    this.armTimer();
    if (!ok) {
      this.waitingDrain = true;
      sink.once('drain', () => {
        this.waitingDrain = false;
        this.schedule();
      });
    }
  }

  /** At most `writeDelayMs` after a line is sealed, it is handed to the stream. */
  private armWriteTimer(): void {
    if (this.writeTimer !== null) return;
    this.writeTimer = setTimeout(() => {
      this.writeTimer = null;
      if (this.pendingRecords === 0) return;
      this.writeDue = true;
      this.schedule();
    }, this.writeDelayMs);
    this.writeTimer.unref();
  }

  private clearWriteTimer(): void {
    if (this.writeTimer !== null) {
      clearTimeout(this.writeTimer);
      this.writeTimer = null;
    }
  }

  /** Periodic: push buffered gzip output to the file, and notice a deleted file. */
  private armTimer(): void {
    this.dirty = true;
    if (this.timer || this.flushIntervalMs <= 0) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      if (!this.dirty || this._state === 'failed' || this.ended) return;
      this.dirty = false;
      if (this.gz) this.gz.flush(zconst.Z_SYNC_FLUSH, () => {});
      const fd = (this.file as unknown as { fd?: unknown } | null)?.fd;
      if (typeof fd === 'number') {
        fstat(fd, (err, st) => {
          if (!err && st.nlink === 0) this.stop('failed', `the trace file ${this.path} was deleted (or its directory removed) while recording`);
        });
      }
    }, this.flushIntervalMs);
    this.timer.unref();
  }

  private async doClose(): Promise<void> {
    const endedAt = new Date(this.opts.clock.now()).toISOString();
    if (this._state === 'opening' || this._state === 'recording' || this._state === 'stopped') {
      const footer: Record<string, unknown> = {
        kind: 'footer',
        schema_version: TRACE_SCHEMA_VERSION,
        ended_at: endedAt,
        totals: { requests: this.requests, shadow_results: this.shadows, errors: this.errors, dropped_records: this.dropped },
      };
      if (this.stopReason) footer.recording_stopped = this.stopReason;
      // The footer bypasses the queue bound: it is one record and closes the file.
      this.queue.push({ k: 'footer', rec: footer });
    }
    this.closing = true;
    await this.opened;
    if (this._state !== 'failed') {
      this.schedule();
      await this.sinkDone;
    }
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    this.clearWriteTimer();
    this.clearPostTimer();
    // A closed writer holds no thread.
    await this.stopSealer();
    if (this._state !== 'failed') this._state = 'closed';
    this.wakeIdle();
  }

  private countRequest(inp: TraceRequestInput): void {
    this.requests++;
    if (inp.error) this.errors++;
  }

  /** The header or footer record, keys in the order given (the serializer sorts them). */
  private buildEnd(item: Extract<Queued, { k: 'header' | 'footer' }>): Record<string, unknown> {
    if (item.k === 'header') return item.rec;
    // Totals as of the footer's turn in the queue: everything before it has been counted.
    const totals = item.rec.totals as Record<string, number>;
    totals.requests = this.requests;
    totals.shadow_results = this.shadows;
    totals.errors = this.errors;
    totals.dropped_records = this.dropped;
    return item.rec;
  }
}
