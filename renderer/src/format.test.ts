// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { formatBytes, formatDateTime, formatMs, formatPercent, formatSplit, niceTicks, timeTicks } from './format';

describe('format', () => {
  it('formats sizes in binary units', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(812)).toBe('812 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(23 * 1024 * 1024)).toBe('23 MiB');
    expect(formatBytes(-1)).toBe('—');
  });

  it('formats the split as the slider shows it', () => {
    expect(formatSplit(80)).toBe('A 80% / B 20%');
    expect(formatSplit(0)).toBe('A 0% / B 100%');
  });

  it('shows a dash for a missing time and the raw text for an unparseable one', () => {
    expect(formatDateTime(null)).toBe('—');
    expect(formatDateTime('yesterday')).toBe('yesterday');
    expect(formatDateTime('2025-01-02T03:04:05.000Z')).toMatch(/^2025-01-0[12] \d\d:\d\d$/);
  });
});

describe('live values', () => {
  it('formats latency and shares, with a dash for no value (never NaN)', () => {
    expect(formatMs(0.4237)).toBe('0.42');
    expect(formatMs(12.34)).toBe('12.3');
    expect(formatMs(250.4)).toBe('250');
    expect(formatMs(null)).toBe('—');
    expect(formatMs(Number.NaN)).toBe('—');
    expect(formatPercent(0.875)).toBe('87.5%');
    expect(formatPercent(0)).toBe('0%');
    expect(formatPercent(1)).toBe('100%');
    expect(formatPercent(null)).toBe('—');
  });
});

describe('niceTicks', () => {
  it('covers the maximum in round steps from zero', () => {
    expect(niceTicks(2.2)).toEqual([0, 1, 2, 3]);
    expect(niceTicks(118)).toEqual([0, 50, 100, 150]);
    expect(niceTicks(80)).toEqual([0, 20, 40, 60, 80]);
    expect(niceTicks(0.42)).toEqual([0, 0.2, 0.4, 0.6]);
    expect(niceTicks(7)).toEqual([0, 2, 4, 6, 8]);
    expect(niceTicks(1)).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(niceTicks(0)).toEqual([0, 1]);
    expect(niceTicks(Number.NaN)).toEqual([0, 1]);
    expect(niceTicks(2, 4, true)).toEqual([0, 1, 2]);
    expect(niceTicks(7, 4, true)).toEqual([0, 2, 4, 6, 8]);
  });
});

describe('timeTicks', () => {
  it('puts at most about six whole-second ticks on the axis', () => {
    const start = Date.parse('2025-01-01T00:00:00.300Z');
    expect(timeTicks(start, start + 2_000)).toEqual([start + 700, start + 1_700]);
    const minute = timeTicks(start, start + 60_000);
    expect(minute.length).toBeLessThanOrEqual(6);
    expect(minute.every((t) => t % 1000 === 0)).toBe(true);
    expect(new Set(minute.map((t) => Math.floor(t / 1000))).size).toBe(minute.length);
    expect(timeTicks(start, start)).toEqual([start]);
  });
});

describe('timestamps name their time zone (issue 12)', () => {
  it('ends a timestamp with the zone it is in', async () => {
    const { formatTimestamp, zoneName } = await import('./format');
    const d = '2025-01-02T03:04:05.000Z';
    expect(formatTimestamp(d)).toMatch(/^2025-01-0[12] \d\d:\d\d:05 \S+/);
    expect(formatTimestamp(d).endsWith(zoneName(new Date(d)))).toBe(true);
  });
});
