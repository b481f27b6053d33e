import Database from 'better-sqlite3';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { ErrorCodes, SwitchyardError } from '../contract/index.js';
import { LATEST_SCHEMA_VERSION, migrations, type Migration } from './migrations.js';
import { isStoreAccessError, translateStoreError } from './store-errors.js';

export type Db = Database.Database;

export interface OpenDatabaseOptions {
  readonly?: boolean;
  /** Only for tests of migration ordering. */
  migrations?: Migration[];
}

/**
 * Opens (creating when missing) the store. Refuses, without writing a byte, a database
 * that fails `integrity_check` or that a newer Switchyard wrote.
 */
/**
 * Opening a fresh store is several statements (integrity check, WAL switch, migration under
 * BEGIN IMMEDIATE). SQLite answers some of them SQLITE_BUSY at once, without waiting out
 * busy_timeout, while another process is switching the same new file to WAL (seen in a
 * clean-clone CI run: 1 of 12 processes opening 6 fresh stores in pairs failed). Opening is
 * idempotent, so a busy answer during the open is retried with backoff for up to this long.
 */
const OPEN_RETRY_MS = 15_000;

function isBusy(e: unknown): boolean {
  const code = (e as { code?: unknown }).code;
  return typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'));
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

export function openDatabase(path: string, opts: OpenDatabaseOptions = {}): Db {
  const deadline = Date.now() + OPEN_RETRY_MS;
  for (let attempt = 0; ; attempt++) {
    try {
      return openOnce(path, opts);
    } catch (e) {
      if (!(e instanceof BusyOnOpen)) throw e;
      if (Date.now() + 50 > deadline) throw e.translated;
      sleepSync(Math.min(1000, 20 * 2 ** attempt) * (0.5 + Math.random() / 2));
    }
  }
}

/** Carries the user-facing error of a busy open, so the retry loop can tell it apart. */
class BusyOnOpen extends Error {
  constructor(readonly translated: unknown) {
    super('busy while opening the store');
  }
}

function openOnce(path: string, opts: OpenDatabaseOptions): Db {
  const list = opts.migrations ?? migrations;
  const latest = list.length ? list[list.length - 1]!.version : 0;
  const isMemory = path === ':memory:';
  if (!isMemory && !opts.readonly) {
    try {
      mkdirSync(dirname(path), { recursive: true });
    } catch (e) {
      throw new SwitchyardError(ErrorCodes.SWY_ERR_STORE_IO, `Cannot create the data folder ${dirname(path)}: ${(e as Error).message}. Choose another --store path.`, path);
    }
  }
  if (opts.readonly && !isMemory && !existsSync(path)) {
    throw new SwitchyardError(ErrorCodes.SWY_ERR_NOT_FOUND, `No Switchyard store at ${path}. Run \`switchyard demo\` or \`switchyard register\` first.`, path);
  }
  let db: Db;
  try {
    db = new Database(path, { readonly: opts.readonly ?? false, fileMustExist: opts.readonly ?? false });
  } catch (e) {
    throw new SwitchyardError(ErrorCodes.SWY_ERR_STORE_IO, `Cannot open the store ${path}: ${(e as Error).message}.`, path);
  }
  try {
    db.pragma('busy_timeout = 5000');
    // Integrity first: a damaged file must be refused before any write touches it.
    let check: string;
    try {
      check = String(db.pragma('integrity_check', { simple: true }));
    } catch (e) {
      // A read-only or inaccessible folder is not a damaged database: say which it is.
      if (isStoreAccessError(e) || isBusy(e)) throw e;
      throw new SwitchyardError(
        ErrorCodes.SWY_ERR_STORE_CORRUPT,
        `The store ${path} is not a readable SQLite database (${(e as Error).message}). It was left untouched; restore it from a backup or point --store elsewhere.`,
        path,
      );
    }
    if (check !== 'ok') {
      throw new SwitchyardError(
        ErrorCodes.SWY_ERR_STORE_CORRUPT,
        `The store ${path} failed integrity_check (${check.slice(0, 200)}). It was left untouched; restore it from a backup or point --store elsewhere.`,
        path,
      );
    }
    const newer = (v: number) =>
      new SwitchyardError(
        ErrorCodes.SWY_ERR_STORE_NEWER_SCHEMA,
        `The store ${path} has schema version ${v}, newer than this Switchyard understands (${latest}). It was left untouched; upgrade Switchyard to open it.`,
        path,
      );
    // Checked before any write (WAL mode is one), and again under the lock below.
    const current = Number(db.pragma('user_version', { simple: true }));
    if (current > latest) throw newer(current);
    if (!opts.readonly) {
      if (!isMemory) db.pragma('journal_mode = WAL');
      db.pragma('foreign_keys = ON');
      db.pragma('synchronous = NORMAL');
      // Read the version and migrate under one write lock (BEGIN IMMEDIATE): a second process
      // opening the same fresh store waits here, then sees the migrated version and does nothing.
      db.transaction(() => {
        const locked = Number(db.pragma('user_version', { simple: true }));
        if (locked > latest) throw newer(locked);
        for (const m of list) {
          if (m.version <= locked) continue;
          db.exec(m.sql);
          db.pragma(`user_version = ${m.version}`);
        }
      }).immediate();
    } else if (current < latest) {
      throw new SwitchyardError(ErrorCodes.SWY_ERR_STORE_IO, `The store ${path} needs migrating to schema ${latest}; open it once read-write.`, path);
    }
    return db;
  } catch (e) {
    const err = translateStoreError(e, db);
    db.close();
    throw isBusy(e) ? new BusyOnOpen(err) : err;
  }
}

/**
 * Runs a decision write (promote, rollback, stage change, audit) in one transaction with
 * synchronous = FULL, so that an acknowledged decision survives a kill -9 or a power cut.
 */
export function durableWrite<T>(db: Db, fn: () => T): T {
  db.pragma('synchronous = FULL');
  try {
    return db.transaction(fn).immediate();
  } finally {
    db.pragma('synchronous = NORMAL');
  }
}

export { LATEST_SCHEMA_VERSION };
