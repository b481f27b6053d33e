import { describe, expect, it } from 'vitest';
import { createProgress, evalProgressReporter, formatBar } from './progress.js';

function sink(isTTY: boolean) {
  const out: string[] = [];
  return { out, stream: { isTTY, write: (s: string) => out.push(s) } };
}

describe('progress line', () => {
  it('draws a bar', () => {
    expect(formatBar(0, 10, 10)).toBe('[----------]');
    expect(formatBar(5, 10, 10)).toBe('[#####-----]');
    expect(formatBar(12, 10, 4)).toBe('[####]');
    expect(formatBar(0, 0, 4)).toBe('[----]');
  });

  it('redraws one line in place on a terminal, throttled', () => {
    let t = 0;
    const { out, stream } = sink(true);
    const p = createProgress({ label: 'eval', stream, now: () => t, intervalMs: 100, width: 10 });
    p.update(0, 300);
    t = 50;
    p.update(10, 300); // throttled
    t = 150;
    p.update(150, 300, 'pass 150');
    t = 160;
    p.update(300, 300); // the last one always draws
    p.done('300 cases, 300 passed');
    expect(out.filter((s) => s.startsWith('\r'))).toHaveLength(4);
    expect(out[0]).toBe('\reval [----------] 0/300   0% 0.0s');
    expect(out[1]).toBe('\reval [#####-----] 150/300  50% 0.1s pass 150');
    expect(out.join('')).not.toMatch(/10\/300/);
    expect(out[out.length - 1]).toBe('\n300 cases, 300 passed\n');
    // The share of work done may lead the case count (episodes that step together finish together).
    const q = sink(true);
    createProgress({ label: 'eval', stream: q.stream, now: () => 0, width: 10 }).update(0, 300, '', 0.4);
    expect(q.out[0]).toBe('\reval [####------] 0/300  40% 0.0s');
    p.update(1, 2); // after done: ignored
    expect(out.join('')).not.toMatch(/1\/2/);
  });

  it('prints plain lines at every tenth elsewhere', () => {
    const { out, stream } = sink(false);
    const p = createProgress({ label: 'eval', stream, now: () => 0, width: 4 });
    const report = evalProgressReporter(p);
    for (let d = 0; d <= 100; d++) report({ done: d, total: 100, fraction: d / 100, passed: d, running: 0, policyCalls: 0, elapsedMs: 0 });
    p.done('done');
    expect(out.every((s) => !s.includes('\r'))).toBe(true);
    expect(out).toHaveLength(12);
    expect(out[5]).toBe('eval [##--] 50/100  50% 0.0s pass 50\n');
    expect(out[11]).toBe('done\n');
  });
});
