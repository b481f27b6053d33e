import { describe, expect, it } from 'vitest';
import type { Stage } from '../contract/schemas.js';
import { gatedTransition, productionSpansOf, productionStackOf, rollbackPlanOf, type TimelineRow } from './production-timeline.js';

type Row = TimelineRow & { label: string; versionId: number };
let id = 0;
const row = (label: string, from: Stage | null, to: Stage, action = 'promote'): Row => {
  id++;
  return { id, at: `2026-01-01T00:00:${String(id).padStart(2, '0')}Z`, from, to, action, label, versionId: label.charCodeAt(0) };
};

describe('production timeline (shared by core and the workbench)', () => {
  // A, B, C promoted in turn; rollback to B; C archived. Rows given out of id order on purpose.
  const rows = [row('A', 'staging', 'production'), row('B', 'staging', 'production'), row('A', 'production', 'staging'), row('C', 'staging', 'production')];
  rows.push(row('B', 'staging', 'production', 'rollback'), row('C', 'production', 'archived', 'archive'));
  const shuffled = [rows[3]!, rows[0]!, rows[5]!, rows[1]!, rows[4]!, rows[2]!];

  it('gives the same stack, spans and rollback target keyed by label or by version id', () => {
    expect(productionStackOf(shuffled, (r) => r.label)).toEqual(['A', 'B']);
    expect(productionStackOf(shuffled, (r) => r.versionId)).toEqual([65, 66]);
    const spans = productionSpansOf(shuffled, (r) => r.label);
    expect(spans.map((s) => [s.key, s.from.slice(-3), s.until?.slice(-3) ?? null])).toEqual([
      ['A', '01Z', '02Z'],
      ['B', '02Z', '04Z'],
      ['C', '04Z', '05Z'],
      ['B', '05Z', null],
    ]);
    expect(rollbackPlanOf(shuffled, (r) => r.label, 'B', () => false)).toEqual({ target: 'A', skipped: [] });
    expect(rollbackPlanOf(shuffled, (r) => r.versionId, 66, (v) => v === 65)).toBeNull();
  });

  it('skips archived versions on the way down and names them', () => {
    const more = [...rows, row('D', 'staging', 'production')];
    expect(rollbackPlanOf(more, (r) => r.label, 'D', (l) => l === 'B')).toEqual({ target: 'A', skipped: ['B'] });
  });

  it('gates only candidate/archived -> staging and staging -> production', () => {
    expect(gatedTransition('candidate', 'staging')).toBe('candidate->staging');
    expect(gatedTransition('archived', 'staging')).toBe('candidate->staging');
    expect(gatedTransition('staging', 'production')).toBe('staging->production');
    expect(gatedTransition('production', 'staging')).toBeNull();
    expect(gatedTransition('candidate', 'production')).toBeNull();
    expect(gatedTransition('staging', 'archived')).toBeNull();
  });
});
