/**
 * Validation errors that list every problem found in a file, each with where it is
 * (`<file>:<line>: <field>` or `<file>: <path>`), so a user fixes them all in one pass.
 */
import { ErrorCodes, SwitchyardError } from '../contract/errors.js';

export interface Issue {
  where: string;
  message: string;
}

/** Stop collecting after this many problems. */
export const MAX_ISSUES = 100;

export class IssueListError extends SwitchyardError {
  readonly issues: Issue[];
  constructor(what: string, issues: Issue[], hint: string) {
    const first = issues[0] ?? { where: what, message: 'invalid' };
    const rest = issues.slice(1, 4).map((i) => `${i.where}: ${i.message}`);
    const more =
      issues.length > 1
        ? ` (and ${issues.length - 1} more problem${issues.length > 2 ? 's' : ''}: ${rest.join('; ')}${issues.length > 4 ? '; …' : ''})`
        : '';
    super(ErrorCodes.SWY_ERR_INVALID_INPUT, `${what}: ${first.where}: ${first.message}${more}. ${hint}`, first.where);
    this.name = 'IssueListError';
    this.issues = issues;
  }
}

/** Closest candidate by edit distance, when it is close enough to be a likely typo. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const [w, k] = [word.toLowerCase(), c.toLowerCase()];
    // A prefix ("latency" for "latency_ms") is as good as a one-letter typo.
    const d = w.length >= 3 && (k.startsWith(w) || w.startsWith(k)) ? 1 : editDistance(w, k);
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return bestD <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length]!;
}
