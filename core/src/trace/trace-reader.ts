/**
 * Streams a trace (spec §4.3) line by line without reading the file whole: plain JSONL or gzip
 * (recognised by its magic bytes, not its name), from Switchyard or from another server that
 * writes the same format. Unknown fields are kept but ignored; a final partial line (a crash
 * mid-write) is reported and skipped; a malformed line anywhere else is an error naming its line.
 *
 * The bytes are read and split by `streamLines` (line-source.ts), the one line reader every trace
 * consumer shares: it tells a partial last line apart by its missing newline, which `readline` hides.
 */
import { ErrorCodes, SwitchyardError } from '../contract/errors.js';
import { JsonSyntaxError, NumberToken, parseLossless, toPlain, type JsonObject } from './canonical-json.js';
import { ChainVerifier, type ChainBreak } from './chain.js';
import { streamLines } from './line-source.js';

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

  /**
   * Every non-blank line, as text. Throws SwitchyardError when the file cannot be read. The
   * lines come from `streamLines` a chunk at a time: it waits in `afterChunk` until this
   * generator has handed the chunk's lines on, so memory stays one chunk deep.
   */
  async *lines(): AsyncGenerator<RawTraceLine> {
    let batch: RawTraceLine[] = [];
    let index = 0;
    let cancelled = false;
    // The producer (streamLines) and this consumer take turns: `ready` fires when a batch is
    // full or reading ended, `drained` when the batch has been handed on.
    let ready: (() => void) | null = null;
    let drained: (() => void) | null = null;
    let finished = false;
    let failure: { e: unknown } | null = null;
    const signal = () => {
      const r = ready;
      ready = null;
      r?.();
    };
    const producer = streamLines(
      this.path,
      {
        chunkSize: 256 * 1024,
        onOpen: (info) => {
          this.gzip = info.gzip;
        },
        afterChunk: async () => {
          // Once the consumer has gone, nobody would drain the batch: stop without waiting.
          if (cancelled || batch.length === 0) return !cancelled;
          await new Promise<void>((res) => {
            drained = res;
            signal();
          });
          return !cancelled;
        },
      },
      (text, _offset, line, terminated, bytes) => {
        batch.push({ index: index++, line, text, terminated, bytes });
      },
    ).then(
      () => {
        finished = true;
        signal();
      },
      (e: unknown) => {
        failure = { e };
        finished = true;
        signal();
      },
    );
    try {
      for (;;) {
        if (batch.length === 0 && !finished) await new Promise<void>((res) => (ready = res));
        const out = batch;
        batch = [];
        for (const l of out) yield l;
        const d = drained as (() => void) | null;
        drained = null;
        if (d) d();
        else if (finished) break;
      }
      if (failure !== null) throw (failure as { e: unknown }).e;
    } finally {
      cancelled = true;
      const d = drained as (() => void) | null;
      drained = null;
      d?.();
      await producer;
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
