/**
 * SQLite failures, said in words: a busy, full, read-only or damaged store becomes a
 * SwitchyardError that names the store and what to do. Used for writes (registry) and at open.
 */
import { ErrorCodes, SwitchyardError } from '../contract/index.js';
import type Database from 'better-sqlite3';

const STORE_ERR_RE = /^SQLITE_/;

/** SQLite result codes that mean the file could not be used, not that its content is bad. */
export function isStoreAccessError(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^SQLITE_(CANTOPEN|READONLY|IOERR|BUSY|LOCKED|FULL|PERM)/.test(code);
}

/**
 * Turns a failed SQLite write into an error that says what happened to the store and what to
 * do. Errors that are not SQLite's pass through unchanged.
 */
export function translateStoreError(e: unknown, db: Pick<Database.Database, 'name' | 'pragma'>): unknown {
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !STORE_ERR_RE.test(code)) return e;
  const path = db.name;
  const msg = (e as Error).message;
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    const waited = Number(db.pragma('busy_timeout', { simple: true }));
    return new SwitchyardError(
      ErrorCodes.SWY_ERR_STORE_IO,
      `The store ${path} is busy: another process has held a write lock on it for more than ${waited} ms (${code}). Nothing was written. Retry once the other Switchyard command or server has finished writing.`,
      path,
    );
  }
  if (code === 'SQLITE_FULL') {
    return new SwitchyardError(
      ErrorCodes.SWY_ERR_STORE_IO,
      `The store ${path} could not be written: the disk (or the database's size limit) is full (${msg}). Nothing was written. Free space in its folder and retry.`,
      path,
    );
  }
  if (code.startsWith('SQLITE_READONLY') || code.startsWith('SQLITE_CANTOPEN')) {
    return new SwitchyardError(
      ErrorCodes.SWY_ERR_STORE_IO,
      `The store ${path} cannot be written: its file or folder is read-only or not accessible (${code}: ${msg}). Nothing was written. Make the folder writable, or point --store at a writable path.`,
      path,
    );
  }
  if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB') {
    return new SwitchyardError(
      ErrorCodes.SWY_ERR_STORE_CORRUPT,
      `The store ${path} is damaged (${code}: ${msg}). Nothing was written; restore it from a backup.`,
      path,
    );
  }
  return new SwitchyardError(ErrorCodes.SWY_ERR_STORE_IO, `Writing the store ${path} failed (${code}: ${msg}). Nothing was written.`, path);
}
