/**
 * Streams a trace (spec §4.3) line by line without reading the file whole: plain JSONL or gzip
 * (recognised by its magic bytes, not its name), from Switchyard or from another server that
 * writes the same format. Unknown fields are kept but ignored; a final partial line (a crash
 * mid-write) is reported and skipped; a malformed line anywhere else is an error naming its line.
 *
 * Lines are split on bytes rather than with `readline`, because a partial last line is told
 * apart by its missing newline, which `readline` hides.
 */
import { createReadStream, promises as fsp } from 'node:fs';
import type { Readable } from 'node:stream';
import { createGunzip, constants as zconst } from 'node:zlib';
import { ErrorCodes, SwitchyardError } from '../contract/errors.js';
import { JsonSyntaxError, NumberToken, parseLossless, toPlain, type JsonObject } from './canonical-json.js';
import { ChainVerifier, type ChainBreak } from './chain.js';

export interface RawTraceLine {
  /** 0-based index among the non-blank lines (the record index). */
  index: number;
  /** 1-based line number in the (decompressed) file. */
  line: number;
  text: string;
  /** Whether the line ended with a newline; only the last line of a file may not. */
  terminated: boolean;
  /** Size of the line in bytes, newline excluded. */
  bytes: number;
}

export interface PartialLastLine {
  line: number;
  bytes: number;
}

/** One record of a trace. */
export class TraceEntry {
  private plain: Record<string, unknown> | undefined;
  constructor(
    readonly index: number,
    readonly line: number,
    readonly text: string,
    /** The record with every number kept as its token (`NumberToken`), for verification. */
    readonly lossless: JsonObject,
  ) {}

  /** The record with plain JS numbers (computed on first use). */
  get record(): Record<string, unknown> {
    this.plain ??= toPlain(this.lossless) as Record<string, unknown>;
    return this.plain;
  }

  get kind(): string | undefined {
    const k = this.lossless.kind;
    return typeof k === 'string' ? k : undefined;
  }
}

function readError(path: string, e: unknown): SwitchyardError {
  const code = (e as { code?: unknown } | null)?.code;
  if (code === 'ENOENT') return new SwitchyardError(ErrorCodes.SWY_ERR_NOT_FOUND, `Trace file not found: ${path}. Check the path.`, path);
  if (code === 'EISDIR') return new SwitchyardError(ErrorCodes.SWY_ERR_INVALID_INPUT, `${path} is a directory; pass a trace file (.jsonl or .jsonl.gz).`, path);
  if (code === 'EACCES' || code === 'EPERM') return new SwitchyardError(ErrorCodes.SWY_ERR_INVALID_INPUT, `Cannot read ${path}: permission denied.`, path);
  const msg = e instanceof Error ? e.message : String(e);
  if (typeof code === 'string' && code.startsWith('Z_')) {
    return new SwitchyardError(ErrorCodes.SWY_ERR_INVALID_INPUT, `${path} is not a readable gzip file (${msg}).`, path);
  }
  return new SwitchyardError(ErrorCodes.SWY_ERR_INVALID_INPUT, `Cannot read ${path}: ${msg}`, path);
}

/** Parses one trace line; the value must be a JSON object. Throws `JsonSyntaxError`. */
export function parseTraceLine(text: string): JsonObject {
  const v = parseLossless(text);
  if (v === null || typeof v !== 'object' || Array.isArray(v) || v instanceof NumberToken) {
    throw new JsonSyntaxError('a trace line must be a JSON object', 0);
  }
  return v;
}

export class TraceReader implements AsyncIterable<TraceEntry> {
  /** Known once reading has started. */
  gzip: boolean | undefined;
  /** Set when the file ends in a line without a newline that does not parse (a crash mid-write). */
  partialLastLine: PartialLastLine | undefined;

  constructor(readonly path: string) {}

  /** Opens the file (gunzipping when it starts with the gzip magic bytes). Throws SwitchyardError. */
  private async openStream(): Promise<Readable> {
    let fh: fsp.FileHandle;
    try {
      fh = await fsp.open(this.path, 'r');
    } catch (e) {
      throw readError(this.path, e);
    }
    let magic: Buffer;
    try {
      const st = await fh.stat();
      if (st.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
      magic = Buffer.alloc(2);
      const { bytesRead } = await fh.read(magic, 0, 2, 0);
      magic = magic.subarray(0, bytesRead);
    } catch (e) {
      await fh.close().catch(() => {});
      throw readError(this.path, e);
    }
    await fh.close();
    this.gzip = magic.length === 2 && magic[0] === 0x1f && magic[1] === 0x8b;
    const file = createReadStream(this.path, { highWaterMark: 256 * 1024 });
    if (!this.gzip) return file;
    // Z_SYNC_FLUSH: a gzip file cut short by a crash yields what it holds instead of an error.
    const gunzip = createGunzip({ finishFlush: zconst.Z_SYNC_FLUSH, chunkSize: 256 * 1024 });
    file.on('error', (e) => gunzip.destroy(e));
    return file.pipe(gunzip);
  }

  /** Every non-blank line, as text. Throws SwitchyardError when the file cannot be read. */
  async *lines(): AsyncGenerator<RawTraceLine> {
    const stream = await this.openStream();
    let pending: Buffer[] = [];
    let lineNo = 0;
    let index = 0;
    const make = (buf: Buffer, terminated: boolean): RawTraceLine | null => {
      lineNo++;
      let end = buf.length;
      if (end > 0 && buf[end - 1] === 0x0d) end--;
      if (isBlank(buf, end)) return null;
      return { index: index++, line: lineNo, text: buf.toString('utf8', 0, end), terminated, bytes: buf.length };
    };
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        let pos = 0;
        let nl: number;
        while ((nl = chunk.indexOf(0x0a, pos)) !== -1) {
          const piece = chunk.subarray(pos, nl);
          const buf = pending.length === 0 ? piece : Buffer.concat([...pending, piece]);
          pending = [];
          const l = make(buf, true);
          if (l) yield l;
          pos = nl + 1;
        }
        if (pos < chunk.length) pending.push(chunk.subarray(pos));
      }
    } catch (e) {
      if (e instanceof SwitchyardError) throw e;
      throw readError(this.path, e);
    } finally {
      stream.destroy();
    }
    if (pending.length > 0) {
      const l = make(Buffer.concat(pending), false);
      if (l) yield l;
    }
  }

  /**
   * Parsed records. A malformed line throws SwitchyardError (SWY_ERR_INVALID_INPUT) with
   * `where` = `path:line`; a partial last line is skipped and noted in `partialLastLine`.
   */
  async *[Symbol.asyncIterator](): AsyncGenerator<TraceEntry> {
    for await (const l of this.lines()) {
      let rec: JsonObject;
      try {
        rec = parseTraceLine(l.text);
      } catch (e) {
        if (!l.terminated) {
          this.partialLastLine = { line: l.line, bytes: l.bytes };
          return;
        }
        throw new SwitchyardError(
          ErrorCodes.SWY_ERR_INVALID_INPUT,
          `${this.path}:${l.line}: not valid JSON (${(e as Error).message}). The trace is damaged at this line.`,
          `${this.path}:${l.line}`,
        );
      }
      yield new TraceEntry(l.index, l.line, l.text, rec);
    }
  }
}

function isBlank(buf: Buffer, end: number): boolean {
  for (let i = 0; i < end; i++) {
    const c = buf[i];
    if (c !== 0x20 && c !== 0x09 && c !== 0x0d) return false;
  }
  return true;
}

/** Iterates the records of a trace; see `TraceReader`. */
export function readTrace(path: string): TraceReader {
  return new TraceReader(path);
}

// ---------------------------------------------------------------------------------------------
// Verification

export type BrokenKind = ChainBreak | 'bad_json';

export interface TraceVerification {
  /** True when every complete record verifies (a skipped partial last line does not count against it). */
  ok: boolean;
  path: string;
  gzip: boolean;
  /** Complete records read (a partial last line excluded). */
  records: number;
  /** Records per `kind`. */
  kinds: Record<string, number>;
  /** 0-based index of the first record that does not verify. */
  firstBrokenIndex?: number;
  /** 1-based line number of that record. */
  firstBrokenLine?: number;
  brokenKind?: BrokenKind;
  reason?: string;
  partialLastLine?: PartialLastLine;
  header?: Record<string, unknown>;
  footer?: Record<string, unknown>;
  /** Things worth knowing that do not break the chain (a missing footer, an unknown schema version). */
  warnings: string[];
}

/**
 * Verifies a trace's chain, record by record, streaming. Throws SwitchyardError only when the
 * file cannot be read at all (missing, a directory, permission); damage inside the file is
 * reported in the result.
 */
export async function verifyTrace(path: string): Promise<TraceVerification> {
  const reader = new TraceReader(path);
  const chain = new ChainVerifier();
  const result: TraceVerification = { ok: true, path, gzip: false, records: 0, kinds: {}, warnings: [] };
  // A Map, since `kind` comes from the file and may be "__proto__".
  const kinds = new Map<string, number>();
  const versions = new Set<string>();
  let broken = false;
  let last: { kind: string | undefined; lossless: JsonObject } | null = null;
  const breakAt = (l: RawTraceLine, kind: BrokenKind, reason: string) => {
    broken = true;
    result.ok = false;
    result.firstBrokenIndex = l.index;
    result.firstBrokenLine = l.line;
    result.brokenKind = kind;
    result.reason = reason;
  };
  try {
    for await (const l of reader.lines()) {
      result.gzip = reader.gzip ?? false;
      let rec: JsonObject;
      try {
        rec = parseTraceLine(l.text);
      } catch (e) {
        if (!l.terminated) {
          result.partialLastLine = { line: l.line, bytes: l.bytes };
          break;
        }
        result.records++;
        if (!broken) breakAt(l, 'bad_json', `line ${l.line} is not valid JSON: ${(e as Error).message}`);
        continue;
      }
      result.records++;
      const kind = typeof rec.kind === 'string' ? rec.kind : '(none)';
      kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
      const sv = rec.schema_version;
      const svText = sv instanceof NumberToken ? sv.value : JSON.stringify(sv ?? null);
      if (svText !== '1') versions.add(svText);
      if (l.index === 0 && kind === 'header') result.header = toPlain(rec) as Record<string, unknown>;
      last = { kind, lossless: rec };
      if (!broken) {
        const step = chain.check(rec);
        if (!step.ok) breakAt(l, step.kind, step.reason);
      }
    }
  } catch (e) {
    if (result.records === 0) throw e;
    // Readable at first, unreadable later (a corrupt gzip block): the damage is at the next record.
    if (!broken) {
      broken = true;
      result.ok = false;
      result.firstBrokenIndex = result.records;
      result.brokenKind = 'bad_json';
      result.reason = `the file cannot be read past record ${result.records}: ${(e as Error).message}`;
    }
  }
  result.gzip = reader.gzip ?? false;
  result.kinds = Object.fromEntries(kinds);
  if (last && last.kind === 'footer') result.footer = toPlain(last.lossless) as Record<string, unknown>;
  if (result.records === 0) result.warnings.push('the trace holds no complete record');
  else {
    if (!result.header) result.warnings.push('the first record is not a header');
    if (!result.footer) result.warnings.push('no footer: the session did not close cleanly (allowed; the records present are still checked)');
  }
  if (versions.size > 0) result.warnings.push(`schema_version other than 1 seen: ${[...versions].join(', ')}`);
  if (result.partialLastLine) {
    result.warnings.push(`the last line (${result.partialLastLine.line}, ${result.partialLastLine.bytes} bytes) is incomplete, probably a crash mid-write; skipped`);
  }
  return result;
}
