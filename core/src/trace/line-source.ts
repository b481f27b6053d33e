/**
 * The lines of a trace file, streamed in large chunks and handed to a synchronous callback (no
 * promise or object per line: a million-line trace is read at the speed of the disk and the
 * decompressor). Plain JSONL or gzip, told apart by the magic bytes, not the name. Blank lines are
 * skipped (but counted in line numbers). Plain files can be read from a byte offset, which is
 * what the paged accessor uses; gzip streams cannot be entered in the middle.
 *
 * Lines are split on bytes: a final line without a newline (a crash mid-write) is passed with
 * `terminated = false` so the caller can tell it apart.
 */
import { isAscii } from 'node:buffer';
import { createReadStream, promises as fsp, type ReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { createGunzip, constants as zconst } from 'node:zlib';
import { ErrorCodes, SwitchyardError } from '../contract/errors.js';

/**
 * One line: its text (latin1-decoded when the bytes are ASCII, which canonical traces always are;
 * UTF-8 otherwise), the byte offset of its first byte in the (decompressed) stream, its 1-based
 * line number, whether a newline ended it, its length in bytes (newline excluded), and whether it is
 * pure ASCII. Return `false` to stop.
 */
export type LineHandler = (text: string, offset: number, lineNo: number, terminated: boolean, bytes: number, ascii: boolean) => boolean | void;

export interface LineSourceOptions {
  /** Start at this byte offset (plain files only; must be the first byte of a line). */
  start?: number;
  /** The line number of the line at `start` (default 1). */
  startLine?: number;
  signal?: AbortSignal;
  /** Called after each chunk: bytes of the file consumed so far (compressed bytes for gzip) and the file size. */
  onChunk?: (fileBytesRead: number, fileSize: number) => void;
  /** Awaited after each chunk's lines: reading waits for it (backpressure for a slow consumer). Return false to stop. */
  afterChunk?: () => Promise<boolean | void>;
  /** Bytes per read (default 1 MiB). */
  chunkSize?: number;
  /** A line longer than this is an error (default 256 MiB). */
  maxLineBytes?: number;
  /** Pass over this many non-blank lines without decoding them or calling the handler (they still count in line numbers). */
  skip?: number;
  /** Called once the file is open and known to be plain or gzip, before any line. */
  onOpen?: (info: TraceFileInfo) => void;
}

export interface LineSourceResult {
  gzip: boolean;
  fileSize: number;
  /** True when the handler returned false before the end. */
  stopped: boolean;
  /** Decompressed bytes passed through. */
  bytes: number;
}

export interface TraceFileInfo {
  gzip: boolean;
  fileSize: number;
}

/** Maps a file-system or zlib error to a SwitchyardError with a message that says what to do. */
export function traceReadError(path: string, e: unknown): SwitchyardError {
  if (e instanceof SwitchyardError) return e;
  const code = (e as { code?: unknown } | null)?.code;
  if (code === 'ENOENT') return new SwitchyardError(ErrorCodes.SWY_ERR_NOT_FOUND, `Trace file not found: ${path}. Check the path.`, path);
  if (code === 'EISDIR') return new SwitchyardError(ErrorCodes.SWY_ERR_INVALID_INPUT, `${path} is a directory; pass a trace file (.jsonl or .jsonl.gz).`, path);
  if (code === 'EACCES' || code === 'EPERM') return new SwitchyardError(ErrorCodes.SWY_ERR_INVALID_INPUT, `Cannot read ${path}: permission denied.`, path);
  const msg = e instanceof Error ? e.message : String(e);
  if (typeof code === 'string' && code.startsWith('Z_')) return new SwitchyardError(ErrorCodes.SWY_ERR_INVALID_INPUT, `${path} is not a readable gzip file (${msg}).`, path);
  return new SwitchyardError(ErrorCodes.SWY_ERR_INVALID_INPUT, `Cannot read ${path}: ${msg}`, path);
}

/** An error for a cancelled operation (`name === 'AbortError'`). */
export function abortError(signal: AbortSignal | undefined): Error {
  const r: unknown = signal?.reason;
  if (r instanceof Error && r.name === 'AbortError') return r;
  const e = new Error(typeof r === 'string' ? r : 'The operation was cancelled.');
  e.name = 'AbortError';
  return e;
}

export function isAbortError(e: unknown): boolean {
  return e instanceof Error && e.name === 'AbortError';
}

/** Size and compression of a trace file. Throws SwitchyardError when it cannot be read. */
export async function traceFileInfo(path: string): Promise<TraceFileInfo> {
  let fh: fsp.FileHandle;
  try {
    fh = await fsp.open(path, 'r');
  } catch (e) {
    throw traceReadError(path, e);
  }
  try {
    const st = await fh.stat();
    if (st.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    const magic = Buffer.alloc(2);
    const { bytesRead } = await fh.read(magic, 0, 2, 0);
    return { gzip: bytesRead === 2 && magic[0] === 0x1f && magic[1] === 0x8b, fileSize: st.size };
  } catch (e) {
    throw traceReadError(path, e);
  } finally {
    await fh.close().catch(() => {});
  }
}

/**
 * The file's bytes from `start`, decompressed when it is gzip. `file` is the underlying file
 * stream (its `bytesRead` is the progress through the file); destroy both when done.
 */
export function openTraceStream(path: string, info: TraceFileInfo, start = 0, chunkSize = 1 << 20): { file: ReadStream; stream: Readable } {
  const file: ReadStream = createReadStream(path, { highWaterMark: chunkSize, start });
  if (!info.gzip) return { file, stream: file };
  // Z_SYNC_FLUSH: a gzip file cut short by a crash yields what it holds instead of an error.
  const gunzip = createGunzip({ finishFlush: zconst.Z_SYNC_FLUSH, chunkSize });
  file.on('error', (e) => gunzip.destroy(e));
  return { file, stream: file.pipe(gunzip) };
}

function isBlank(buf: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = buf[i];
    if (c !== 0x20 && c !== 0x09 && c !== 0x0d) return false;
  }
  return true;
}

/**
 * Streams the lines of `path` to `onLine`. Throws SwitchyardError when the file cannot be read
 * (missing, a directory, not gzip past its magic bytes), and `AbortError` when `signal` fires.
 */
export async function streamLines(path: string, opts: LineSourceOptions, onLine: LineHandler): Promise<LineSourceResult> {
  const info = await traceFileInfo(path);
  opts.onOpen?.(info);
  const start = opts.start ?? 0;
  if (start > 0 && info.gzip) throw new SwitchyardError(ErrorCodes.SWY_ERR_INVALID_INPUT, `${path} is gzip-compressed: it can only be read from the start.`, path);
  const chunkSize = opts.chunkSize ?? 1 << 20;
  const maxLine = opts.maxLineBytes ?? 256 * 1024 * 1024;
  const { file, stream } = openTraceStream(path, info, start, chunkSize);
  const signal = opts.signal;
  let offset = start; // byte offset of the next unconsumed byte of the (decompressed) stream
  let lineNo = (opts.startLine ?? 1) - 1;
  let carry: Buffer[] = [];
  let carryBytes = 0;
  let stopped = false;
  let toSkip = Math.max(0, opts.skip ?? 0);
  // An error thrown by the handler passes through unchanged (it is not a read error).
  let handlerError: { e: unknown } | null = null;

  const emit = (buf: Buffer, s: number, e: number, lineStart: number, terminated: boolean, ascii: boolean): boolean => {
    lineNo++;
    const bytes = e - s;
    let end = e;
    if (end > s && buf[end - 1] === 0x0d) end--;
    if (isBlank(buf, s, end)) return true;
    if (toSkip > 0) {
      toSkip--;
      return true;
    }
    const isAsc = ascii || isAscii(buf.subarray(s, end));
    const text = isAsc ? buf.toString('latin1', s, end) : buf.toString('utf8', s, end);
    try {
      return onLine(text, lineStart, lineNo, terminated, bytes, isAsc) !== false;
    } catch (e) {
      handlerError = { e };
      throw e;
    }
  };

  try {
    if (signal?.aborted) throw abortError(signal);
    outer: for await (const chunk of stream as AsyncIterable<Buffer>) {
      if (signal?.aborted) throw abortError(signal);
      const ascii = isAscii(chunk);
      let pos = 0;
      let nl: number;
      while ((nl = chunk.indexOf(0x0a, pos)) !== -1) {
        if (carryBytes > 0) {
          carry.push(chunk.subarray(0, nl));
          const whole = Buffer.concat(carry, carryBytes + nl);
          const lineStart = offset - carryBytes;
          carry = [];
          carryBytes = 0;
          if (!emit(whole, 0, whole.length, lineStart, true, false)) {
            stopped = true;
            break outer;
          }
        } else if (!emit(chunk, pos, nl, offset + pos, true, ascii)) {
          stopped = true;
          break outer;
        }
        pos = nl + 1;
      }
      if (pos < chunk.length) {
        // The rest belongs to a line that continues in the next chunk: keep a copy (the stream may reuse its buffer).
        carry.push(Buffer.from(chunk.subarray(pos)));
        carryBytes += chunk.length - pos;
        if (carryBytes > maxLine) throw new SwitchyardError(ErrorCodes.SWY_ERR_INVALID_INPUT, `${path}:${lineNo + 1}: a line longer than ${maxLine} bytes; is this a trace?`, `${path}:${lineNo + 1}`);
      }
      offset += chunk.length;
      opts.onChunk?.(file.bytesRead, info.fileSize);
      if (opts.afterChunk) {
        let go: boolean | void;
        try {
          go = await opts.afterChunk();
        } catch (e) {
          handlerError = { e };
          throw e;
        }
        if (go === false) {
          stopped = true;
          break;
        }
      }
    }
    if (!stopped && carryBytes > 0) {
      const whole = Buffer.concat(carry, carryBytes);
      carry = [];
      emit(whole, 0, whole.length, offset - carryBytes, false, false);
    }
  } catch (e) {
    if (handlerError !== null || isAbortError(e)) throw e;
    throw traceReadError(path, e);
  } finally {
    stream.destroy();
    if (stream !== file) file.destroy();
  }
  return { gzip: info.gzip, fileSize: info.fileSize, stopped, bytes: offset - start };
}
