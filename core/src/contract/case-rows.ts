/**
 * One case of a stored run as `eval.results` writes it (json and jsonl; csv flattens the graders).
 * The store's export (eval/case-export.ts) writes this shape and the workbench's run page reads it
 * back, so both name it here. It travels as text, not through a schema: the reader keeps only
 * well-formed rows.
 */
import type { GraderResult } from './schemas.js';

export interface EvalCaseRow {
  id: string;
  slices: string[];
  pass: boolean;
  graders: GraderResult[];
  score: number | null;
  latencyMs: number | null;
  partial: boolean;
  steps: number | null;
  failure: string | null;
}
