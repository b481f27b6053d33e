/**
 * Files an API caller may name (README "Security model"). Contract methods that take a path accept
 * only files under the configured roots: the store's data folder, the record directory and the
 * `--data-root` folders. Symlinks are resolved before the check, and the check runs before the
 * file is opened, so a refused path is never read and its existence is never revealed. Errors
 * about a file's content reach an API caller with the file and the position only, never a quote.
 *
 * Local CLI commands do not go through the API and keep accepting any path.
 */
import { realpathSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { ErrorCodes, IssueListError, SwitchyardError, type MethodName, type SwitchyardErrorShape } from '../contract/index.js';

/**
 * Every contract method input field that names a file. A new method taking a path must be listed
 * here (path-guard.test.ts fails on an input field that looks like a path and is missing).
 * `storedName`: the field may also name a record in the store (a suite's name or fingerprint),
 * which is not a path.
 */
export const PATH_FIELDS: Partial<Record<MethodName, readonly { field: string; storedName?: boolean }[]>> = {
  'eval.start': [{ field: 'suite', storedName: true }],
  'gate.run': [{ field: 'rulesPath' }],
  'lifecycle.promote': [{ field: 'rulesPath' }],
  'replay.open': [{ field: 'path' }],
  'registry.registerExport': [{ field: 'path' }],
};

/** Follows symlinks as far as the path exists; the missing tail is appended as written. */
export function realPathOf(p: string): string {
  const abs = resolve(p);
  let head = abs;
  const tail: string[] = [];
  for (let i = 0; i < 4096; i++) {
    try {
      const real = realpathSync(head);
      return tail.length ? join(real, ...tail.reverse()) : real;
    } catch {
      const up = dirname(head);
      if (up === head) return abs;
      tail.push(basename(head));
      head = up;
    }
  }
  return abs;
}

function inside(child: string, root: string): boolean {
  const rel = relative(root, child);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel) && !rel.startsWith(`..${sep}`));
}

export class PathRoots {
  private readonly roots = new Set<string>();

  constructor(roots: readonly string[] = []) {
    for (const r of roots) this.add(r);
  }

  add(root: string): void {
    this.roots.add(resolve(root));
  }

  list(): string[] {
    return [...this.roots];
  }

  /**
   * The resolved path when it lies under a root (after following symlinks), else
   * SWY_ERR_PATH_NOT_ALLOWED. Nothing is opened; only the folders are looked up.
   */
  check(path: string, field: string): string {
    const abs = resolve(path);
    const real = realPathOf(abs);
    const roots = this.list();
    // Both the path as written and the file it reaches must be inside: a link inside a root that
    // points outside is refused, and so is a path outside that happens to point in.
    const ok = roots.some((r) => inside(abs, r) || inside(abs, realPathOf(r))) && roots.some((r) => inside(real, realPathOf(r)));
    if (!ok) {
      throw new SwitchyardError(
        ErrorCodes.SWY_ERR_PATH_NOT_ALLOWED,
        `${field}: ${path} is outside the folders this server reads files from (${roots.join(', ') || 'none'}). Put the file in one of them, or start the server with --data-root DIR.`,
        field,
      );
    }
    return real;
  }
}

/**
 * Checks the path fields of one call. `isStoredName` says whether a value names a store record
 * instead of a file (a suite name): those pass without a file check.
 */
export function checkPathFields(
  roots: PathRoots,
  method: MethodName,
  input: Record<string, unknown>,
  isStoredName: (field: string, value: string) => boolean,
): { field: string; path: string }[] {
  const checked: { field: string; path: string }[] = [];
  for (const f of PATH_FIELDS[method] ?? []) {
    const v = input[f.field];
    if (typeof v !== 'string') continue;
    if (f.storedName && !looksLikePath(v)) {
      if (isStoredName(f.field, v)) continue;
      // A bare word that names no record is not looked up as a file in the server's working folder.
      if (!roots.list().some((r) => inside(resolve(v), r))) {
        throw new SwitchyardError(ErrorCodes.SWY_ERR_NOT_FOUND, `${f.field}: "${v}" is not in the store, and is not a file under the folders this server reads files from.`, f.field);
      }
    }
    checked.push({ field: f.field, path: roots.check(v, f.field) });
  }
  return checked;
}

/**
 * An error about a file's content, rewritten for an API caller: the file and the positions stay
 * (so the caller can find the problem), the words that may quote the file's text go.
 */
export function withoutFileContent(e: SwitchyardErrorShape, files: readonly string[], issues?: readonly { where: string }[]): SwitchyardErrorShape {
  if (e.code !== ErrorCodes.SWY_ERR_INVALID_INPUT || e.where === undefined) return e;
  const where = e.where;
  const file = files.find((f) => where.startsWith(f));
  if (file === undefined) return e;
  const places = (issues && issues.length ? issues.map((i) => i.where) : [where]).slice(0, 4);
  const more = issues && issues.length > 4 ? ` and ${issues.length - 4} more` : '';
  return {
    code: e.code,
    message: `${file} cannot be used: problem at ${places.join('; ')}${more}. The file's content is not shown to API callers; open it on the server, or check it with the switchyard command line there.`,
    where,
  };
}

export function issuesOf(e: unknown): readonly { where: string }[] | undefined {
  return e instanceof IssueListError ? e.issues : undefined;
}

function looksLikePath(v: string): boolean {
  return /[\\/]/.test(v) || /\.(jsonl?|ya?ml)$/i.test(v);
}
