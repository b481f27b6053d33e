// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { formatBytes, formatDateTime, formatSplit } from './format';

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
