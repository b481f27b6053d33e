/**
 * Which trace files API callers may open (spec: only files under known folders). A minimal,
 * replay-only check kept apart so a general path-root check (`SWY_ERR_PATH_NOT_ALLOWED`, the
 * security work) can replace `checkReplayPath` without touching the rest of replay.
 *
 * The command line is trusted (the operator typed the path), so files named with `--trace` are
 * allowed one by one; everything else must resolve, links followed, under one of the roots.
 */
import { realpathSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { ErrorCodes, SwitchyardError } from '../contract/errors.js';

function real(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return resolve(p);
  }
}

function inside(root: string, file: string): boolean {
  const rel = relative(root, file);
  return rel === '' || (!rel.startsWith('..' + sep) && rel !== '..' && !isAbsolute(rel));
}

/** Returns the real path of `path` when it lies under a root or is an allowed file; throws SWY_ERR_PATH_NOT_ALLOWED otherwise. */
export function checkReplayPath(path: string, roots: readonly string[], allowedFiles: ReadonlySet<string> = new Set()): string {
  if (typeof path !== 'string' || path.length === 0 || path.includes('\0')) {
    throw new SwitchyardError(ErrorCodes.SWY_ERR_INVALID_INPUT, 'path: give the path of a .jsonl or .jsonl.gz trace.', 'path');
  }
  const file = real(path);
  if (allowedFiles.has(file)) return file;
  for (const r of roots) if (inside(real(r), file)) return file;
  throw new SwitchyardError(
    ErrorCodes.SWY_ERR_PATH_NOT_ALLOWED,
    `${path} is outside the folders this server may read (${roots.join(', ') || 'none configured'}). Copy the trace into the record folder, upload it, or start the console with --data-root DIR or --trace FILE.`,
    'path',
  );
}
