import pino from 'pino';

/** The logging surface the engine needs; pino satisfies it, and tests pass a recorder. */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/**
 * `json`: one pino JSON object a line (benches, log shippers, anything reading a pipe).
 * `pretty`: one sentence-like line a record for a person at a terminal.
 * `auto`: `pretty` when the destination is a terminal, `json` otherwise.
 */
export type LogFormat = 'auto' | 'json' | 'pretty';
export const LOG_FORMATS: readonly LogFormat[] = ['auto', 'json', 'pretty'];

export interface CreateLoggerOptions {
  level?: string;
  /** A file descriptor or path; stderr (2) by default. */
  destination?: number | string;
  format?: LogFormat;
  /** Whether the destination is a terminal; asked of the descriptor when not given (tests pass it). */
  isTTY?: boolean;
  /** Where pretty lines go; the destination descriptor when not given (tests pass a collector). */
  write?: (line: string) => void;
  /** Colour the level word (pretty only); on by default for a terminal unless NO_COLOR is set. */
  color?: boolean;
}

const BASE = { app: 'switchyard' };

export function createLogger(opts: CreateLoggerOptions = {}): Logger {
  const dest = opts.destination ?? 2;
  const level = opts.level ?? 'info';
  const isTTY = opts.isTTY ?? (typeof dest === 'number' && destinationIsTTY(dest));
  const format = opts.format === 'pretty' || (opts.format !== 'json' && isTTY) ? 'pretty' : 'json';
  if (format === 'json') return pino({ level, base: BASE }, pino.destination({ dest, sync: false }));
  const sink = opts.write ?? lineWriter(dest);
  const color = opts.color ?? (isTTY && !process.env['NO_COLOR']);
  // Sync, so a pretty line is on the screen before whatever the command prints next.
  return pino({ level, base: BASE }, { write: (json: string) => sink(formatPrettyLine(json, { color })) });
}

function destinationIsTTY(fd: number): boolean {
  if (fd === 2) return Boolean(process.stderr.isTTY);
  if (fd === 1) return Boolean(process.stdout.isTTY);
  return false;
}

function lineWriter(dest: number | string): (line: string) => void {
  if (dest === 2) return (l) => void process.stderr.write(l);
  if (dest === 1) return (l) => void process.stdout.write(l);
  const d = pino.destination({ dest, sync: true });
  return (l) => void d.write(l);
}

const LEVEL_NAMES: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const LEVEL_COLORS: Record<number, string> = { 10: '90', 20: '90', 30: '32', 40: '33', 50: '31', 60: '31' };
/** Fields every record carries that a person at a terminal does not need to read. */
const HIDDEN = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'app']);
const MAX_VALUE_CHARS = 160;

/**
 * One pino JSON line as `HH:MM:SS.mmm LEVEL message key=value …` (local time). A line that is not
 * JSON is passed through unchanged, so nothing is ever lost by formatting.
 */
export function formatPrettyLine(json: string, opts: { color?: boolean } = {}): string {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json.endsWith('\n') ? json : json + '\n';
  }
  const lvl = typeof rec['level'] === 'number' ? rec['level'] : 30;
  const name = (LEVEL_NAMES[lvl] ?? String(lvl)).padEnd(5);
  const levelText = opts.color ? `\u001b[${LEVEL_COLORS[lvl] ?? '0'}m${name}\u001b[0m` : name;
  const t = typeof rec['time'] === 'number' ? new Date(rec['time']) : new Date();
  const time = `${pad(t.getHours())}:${pad(t.getMinutes())}:${pad(t.getSeconds())}.${String(t.getMilliseconds()).padStart(3, '0')}`;
  const msg = typeof rec['msg'] === 'string' ? rec['msg'] : '';
  const fields = Object.entries(rec)
    .filter(([k, v]) => !HIDDEN.has(k) && v !== undefined)
    .map(([k, v]) => `${k}=${fieldValue(v)}`);
  return [time, levelText, msg, ...fields].filter((s) => s !== '').join(' ') + '\n';
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

function fieldValue(v: unknown): string {
  let s: string;
  if (typeof v === 'string') s = /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  else if (v !== null && typeof v === 'object' && 'message' in v && typeof (v as { message: unknown }).message === 'string') s = JSON.stringify((v as { message: string }).message);
  else s = JSON.stringify(v) ?? String(v);
  return s.length > MAX_VALUE_CHARS ? `${s.slice(0, MAX_VALUE_CHARS - 1)}…` : s;
}

export interface RecordedLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  obj: object;
  msg: string | undefined;
}

/** A logger that keeps what it is told, for tests. */
export function createMemoryLogger(): Logger & { lines: RecordedLine[] } {
  const lines: RecordedLine[] = [];
  const at = (level: RecordedLine['level']) => (obj: object, msg?: string) => void lines.push({ level, obj, msg });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** Waits until what the logger buffered is written (pino's JSON destination is asynchronous). */
export function flushLogger(logger: Logger): Promise<void> {
  const flush = (logger as { flush?: (cb?: (err?: Error) => void) => void }).flush;
  if (typeof flush !== 'function') return Promise.resolve();
  return new Promise((resolve) => flush.call(logger, () => resolve()));
}
