// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { effectiveShare, markersIn, splitCauseText } from './serving-view';

describe('effective share', () => {
  it('is the configured split unless a slot is drained', () => {
    expect(effectiveShare({ split: 80, drain: 'none' })).toEqual({ a: 80, b: 20, why: null });
    expect(effectiveShare({ split: 80, drain: 'drain-b' })).toEqual({ a: 100, b: 0, why: 'slot B is drained' });
    expect(effectiveShare({ split: 80, drain: 'drain-a' })).toMatchObject({ a: 0, b: 100 });
    expect(effectiveShare({ split: 80, drain: 'degraded' })).toMatchObject({ a: 0, b: 0 });
  });
});

describe('split cause', () => {
  it('says that running episodes moved after a rollback, and that they stay after an operator change', () => {
    const rb = splitCauseText({ at: '2026-01-01T10:00:00.000Z', split: 100, cause: 'rollback', allEpisodes: true, detail: 'rollback of p to 1.0.0' });
    expect(rb).toMatch(/^Split set by a rollback at \d\d:\d\d:\d\d \S+: rollback of p to 1\.0\.0\. Every request goes by this split now, episodes that were already running included\.$/);
    const op = splitCauseText({ at: '2026-01-01T10:00:00.000Z', split: 20, cause: 'operator', allEpisodes: false, detail: 'set by an operator' });
    expect(op).toContain('episodes already running keep their slot');
  });
});

describe('markers', () => {
  it('keeps the events inside the window', () => {
    const ev = (id: number, at: string) => ({ id, at, kind: 'split' as const, slot: null, message: 'm' });
    const m = markersIn([ev(1, '2026-01-01T00:00:00.000Z'), ev(2, '2026-01-01T00:01:00.000Z'), ev(3, '2026-01-01T00:03:00.000Z')], Date.parse('2026-01-01T00:00:30.000Z'), Date.parse('2026-01-01T00:02:00.000Z'));
    expect(m.map((x) => x.id)).toEqual([2]);
  });
});

describe('grouped markers', () => {
  it('merges events closer than the gap into one marker labelled with every kind', async () => {
    const { groupMarkers } = await import('./serving-view');
    const g = groupMarkers(
      [
        { t: 0, kind: 'split', message: '', id: 1 },
        { t: 10, kind: 'rollback', message: '', id: 2 },
        { t: 1000, kind: 'start', message: '', id: 3 },
      ],
      100,
    );
    expect(g.map((m) => [m.label, m.kind])).toEqual([
      ['split·rollback', 'rollback'],
      ['start', 'start'],
    ]);
  });
});
