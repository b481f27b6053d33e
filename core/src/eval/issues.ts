/**
 * Validation errors that list every problem found in a file, each with where it is
 * (`<file>:<line>: <field>` or `<file>: <path>`), so a user fixes them all in one pass.
 */
export { IssueListError, type Issue } from '../contract/issue-list.js';

/** Stop collecting after this many problems. */
export const MAX_ISSUES = 100;

export { closest } from '../domain/text.js';
