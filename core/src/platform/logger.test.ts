import { describe, expect, it } from 'vitest';
import { createLogger, formatPrettyLine } from './logger.js';

const at = (h: number, m: number, s: number, ms: number) => new Date(2026, 10, 21, h, m, s, ms).getTime();

describe('pretty log lines', () => {
  it('reads as time, level, message and the fields that matter; pino bookkeeping is left out', () => {
    const json = JSON.stringify({ level: 30, time: at(9, 5, 7, 42), pid: 123, hostname: 'box', app: 'switchyard', msg: 'policy_runner.ready', slot: 'a', provider: 'cpu', startMs: 812 });
    expect(formatPrettyLine(json)).toBe('09:05:07.042 INFO  policy_runner.ready slot=a provider=cpu startMs=812\n');
  });

  it('quotes values with spaces, shortens long ones, and colours the level only when asked', () => {
    const json = JSON.stringify({ level: 40, time: at(23, 59, 59, 999), msg: 'x', reason: 'Failed to load shared library', blob: 'y'.repeat(400) });
    const line = formatPrettyLine(json);
    expect(line).toMatch(/^23:59:59\.999 WARN  x reason="Failed to load shared library" blob=y+…\n$/);
    expect(line.length).toBeLessThan(260);
    expect(formatPrettyLine(json, { color: true })).toContain('\u001b[33mWARN \u001b[0m');
  });

  it('passes a line that is not JSON through unchanged', () => {
    expect(formatPrettyLine('not json')).toBe('not json\n');
  });

  it('auto is pretty for a terminal and JSON otherwise; json and pretty force the format', () => {
    const out: string[] = [];
    createLogger({ format: 'auto', isTTY: true, color: false, write: (l) => out.push(l) }).warn({ slot: 'b' }, 'hello there');
    expect(out).toHaveLength(1);
    expect(out[0]).toMatch(/^\d\d:\d\d:\d\d\.\d{3} WARN  hello there slot=b\n$/);
    const forced: string[] = [];
    createLogger({ format: 'pretty', isTTY: false, write: (l) => forced.push(l) }).info({}, 'plain');
    expect(forced[0]).toMatch(/ INFO  plain\n$/);
    // Not a terminal, or --log-format json: pino's JSON (written to the descriptor, not `write`).
    const unused: string[] = [];
    createLogger({ format: 'json', isTTY: true, destination: '/dev/null', write: (l) => unused.push(l) }).info({}, 'x');
    createLogger({ format: 'auto', isTTY: false, destination: '/dev/null', write: (l) => unused.push(l) }).info({}, 'x');
    expect(unused).toEqual([]);
  });

  it('keeps the level filter', () => {
    const out: string[] = [];
    const log = createLogger({ level: 'warn', format: 'pretty', write: (l) => out.push(l) });
    log.info({}, 'hidden');
    log.error({ code: 'SWY_ERR_X' }, 'shown');
    expect(out.map((l) => l.replace(/^\S+ /, ''))).toEqual(['ERROR shown code=SWY_ERR_X\n']);
  });
});
