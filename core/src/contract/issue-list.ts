/**
 * Validation errors that list every problem found in a file, each with where it is
 * (`<file>:<line>: <field>` or `<file>: <path>`), so a user fixes them all in one pass. In the
 * contract so that the API layer can tell one apart (to keep file content from outside callers)
 * without depending on the evaluation code that throws it.
 */
import { ErrorCodes, SwitchyardError } from './errors.js';

export interface Issue {
  where: string;
  message: string;
}

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
