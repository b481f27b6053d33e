/**
 * Per-case results out of the store, so a run can be checked outside Switchyard (a notebook,
 * another gate): one row per case as the determinism check sees it (id, slices, pass, every
 * grader, score), plus latency, which determinism leaves out. JSONL keeps the nesting; CSV flattens
 * graders into `grader.<name>.pass` / `grader.<name>.value` columns, one per grader name in the run.
 */
import { ErrorCodes, SwitchyardError, type EvalCaseRow } from '../contract/index.js';
import type { EvalStore, StoredResult } from '../store/eval-store.js';

export type CaseExportFormat = 'json' | 'jsonl' | 'csv';

/** One exported case: the contract's row, which the workbench's run page reads back. */
export type CaseRow = EvalCaseRow;

export function caseRows(results: readonly StoredResult[]): CaseRow[] {
  return results.map((r) => ({
    id: r.caseId,
    slices: [...r.slices],
    pass: r.pass,
    graders: r.graders.map((g) => ({ name: g.name, pass: g.pass, value: g.value })),
    score: r.score,
    latencyMs: r.latencyMs,
    partial: r.partial,
    steps: typeof r.detail?.steps === 'number' ? r.detail.steps : null,
    failure: typeof r.detail?.failure === 'string' ? r.detail.failure : null,
  }));
}

export function toJsonl(rows: readonly CaseRow[]): string {
  return rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length > 0 ? '\n' : '');
}

/** RFC 4180: quote a field that holds a comma, quote, CR or LF; double the quotes inside. */
function csvField(v: string | number | boolean | null): string {
  if (v === null) return '';
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCsv(rows: readonly CaseRow[]): string {
  const graderNames: string[] = [];
  for (const r of rows) for (const g of r.graders) if (!graderNames.includes(g.name)) graderNames.push(g.name);
  const header = ['case_id', 'slices', 'pass', 'score', 'latency_ms', 'partial', 'steps', 'failure', ...graderNames.flatMap((n) => [`grader.${n}.pass`, `grader.${n}.value`])];
  const lines = [header.map(csvField).join(',')];
  for (const r of rows) {
    const byName = new Map(r.graders.map((g) => [g.name, g]));
    const cells: (string | number | boolean | null)[] = [r.id, r.slices.join('|'), r.pass, r.score, r.latencyMs, r.partial, r.steps, r.failure];
    for (const n of graderNames) {
      const g = byName.get(n);
      cells.push(g?.pass ?? null, g?.value ?? null);
    }
    lines.push(cells.map(csvField).join(','));
  }
  return lines.join('\r\n') + '\r\n';
}

export interface RunExport {
  runId: number;
  status: string;
  suiteFingerprint: string;
  rows: CaseRow[];
}

/** The stored run's rows; SWY_ERR_NOT_FOUND names the run when there is none. */
export function exportRun(store: EvalStore, runId: number): RunExport {
  const run = store.getRun(runId);
  if (run === null) throw new SwitchyardError(ErrorCodes.SWY_ERR_NOT_FOUND, `No evaluation run ${runId} in this store. \`switchyard runs\` (or \`eval.runs\`) lists them.`, 'RUN_ID');
  return { runId, status: run.status, suiteFingerprint: run.suiteFingerprint, rows: caseRows(store.results(runId)) };
}

export function formatRows(rows: readonly CaseRow[], format: CaseExportFormat): string {
  if (format === 'csv') return toCsv(rows);
  if (format === 'jsonl') return toJsonl(rows);
  return JSON.stringify(rows, null, 2) + '\n';
}
