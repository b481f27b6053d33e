/**
 * `switchyard trace verify TRACE [--json]`: checks a trace's tamper-evident chain.
 * Exit codes: 0 the chain verifies (a skipped partial last line is reported, not a failure),
 * 1 a record does not verify (reported by index and line), 2 the file cannot be read.
 */
import { toErrorShape } from '../contract/errors.js';
import { verifyTrace, type TraceVerification } from './trace-reader.js';

export interface TraceVerifyOptions {
  json?: boolean;
  /** Where the report goes; default stdout. */
  out?: (text: string) => void;
}

export const TRACE_VERIFY_EXIT = { ok: 0, broken: 1, unreadable: 2 } as const;

export async function runTraceVerify(path: string, opts: TraceVerifyOptions = {}): Promise<number> {
  const out = opts.out ?? ((t: string) => void process.stdout.write(t));
  let v: TraceVerification;
  try {
    v = await verifyTrace(path);
  } catch (e) {
    const error = toErrorShape(e);
    if (opts.json) out(JSON.stringify({ ok: false, path, readable: false, error }) + '\n');
    else out(`Trace: ${path}\nCannot read the trace: ${error.message}\n`);
    return TRACE_VERIFY_EXIT.unreadable;
  }
  if (opts.json) {
    out(JSON.stringify({ ...v, readable: true }) + '\n');
  } else {
    out(formatVerification(v));
  }
  return v.ok ? TRACE_VERIFY_EXIT.ok : TRACE_VERIFY_EXIT.broken;
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : v === undefined ? '-' : JSON.stringify(v);
}

/** A human-readable report of a verification. */
export function formatVerification(v: TraceVerification): string {
  const lines: string[] = [];
  lines.push(`Trace:    ${v.path}${v.gzip ? ' (gzip)' : ''}`);
  if (v.header) {
    lines.push(`Session:  ${str(v.header.session_id)}, started ${str(v.header.started_at)}, model ${str(v.header.model_hash)}, switchyard ${str(v.header.switchyard_version)}`);
  }
  const kinds = Object.entries(v.kinds)
    .map(([k, n]) => `${n} ${k}`)
    .join(', ');
  lines.push(`Records:  ${v.records}${kinds ? ` (${kinds})` : ''}`);
  if (v.ok) {
    lines.push(`Chain:    OK, all ${v.records} records verify`);
  } else {
    lines.push(`Chain:    BROKEN at record ${v.firstBrokenIndex} (0-based)${v.firstBrokenLine !== undefined ? `, line ${v.firstBrokenLine}` : ''}`);
    lines.push(`          ${v.reason ?? 'unknown reason'}`);
    lines.push(`          Records before it verify; this record and everything after it cannot be trusted.`);
  }
  if (v.footer) lines.push(`Footer:   ended ${str(v.footer.ended_at)}, totals ${str(v.footer.totals)}`);
  if (v.partialLastLine) lines.push(`Partial:  line ${v.partialLastLine.line} (${v.partialLastLine.bytes} bytes) is incomplete and was skipped`);
  for (const w of v.warnings) {
    if (v.partialLastLine && w.startsWith('the last line')) continue;
    lines.push(`Note:     ${w}`);
  }
  // Text from the file (ids, hashes) may hold control characters: never send them to a terminal raw.
  return lines.map(printable).join('\n') + '\n';
}

function printable(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}
