import { describe, expect, it } from 'vitest';
import type { StoredResult } from '../store/eval-store.js';
import { caseRows, toCsv, toJsonl } from './case-export.js';

const stored: StoredResult[] = [
  {
    caseId: 'cp-001',
    slices: ['nominal', 'safety'],
    pass: true,
    graders: [
      { name: 'balanced', pass: true, value: 500 },
      { name: 'max_angle', pass: null, value: 0.12 },
    ],
    score: 1,
    latencyMs: 3.25,
    cost: null,
    partial: false,
    detail: { steps: 500, failure: null },
  },
  {
    caseId: 'cp-002, "odd"',
    slices: ['large_angle'],
    pass: false,
    graders: [{ name: 'balanced', pass: false, value: 41 }],
    score: 0,
    latencyMs: null,
    cost: null,
    partial: false,
    detail: { steps: 41, failure: 'pole fell\nat step 41' },
  },
];

describe('case export', () => {
  it('keeps every case in store order with its graders, score, latency, steps and failure', () => {
    const rows = caseRows(stored);
    expect(rows.map((r) => r.id)).toEqual(['cp-001', 'cp-002, "odd"']);
    expect(rows[0]).toEqual({
      id: 'cp-001',
      slices: ['nominal', 'safety'],
      pass: true,
      graders: [
        { name: 'balanced', pass: true, value: 500 },
        { name: 'max_angle', pass: null, value: 0.12 },
      ],
      score: 1,
      latencyMs: 3.25,
      partial: false,
      steps: 500,
      failure: null,
    });
    expect(rows[1]?.failure).toBe('pole fell\nat step 41');
  });

  it('writes one JSON object a line that parses back to the rows', () => {
    const rows = caseRows(stored);
    const text = toJsonl(rows);
    expect(text.endsWith('\n')).toBe(true);
    expect(text.trimEnd().split('\n').map((l) => JSON.parse(l) as unknown)).toEqual(rows);
    expect(toJsonl([])).toBe('');
  });

  it('writes CSV with a column pair per grader name and RFC 4180 quoting', () => {
    const csv = toCsv(caseRows(stored));
    const lines = csv.split('\r\n');
    expect(lines[0]).toBe('case_id,slices,pass,score,latency_ms,partial,steps,failure,grader.balanced.pass,grader.balanced.value,grader.max_angle.pass,grader.max_angle.value');
    expect(lines[1]).toBe('cp-001,nominal|safety,true,1,3.25,false,500,,true,500,,0.12');
    // The quoted id and the multi-line failure stay one record.
    expect(csv).toContain('"cp-002, ""odd""",large_angle,false,0,,false,41,"pole fell\nat step 41",false,41,,\r\n');
  });
});
