/**
 * The watch folder (spec §6, `--watch DIR`): export directories that appear in DIR (as a
 * training job drops them) are checked by `doctor` and registered as candidates with the report.
 *
 * - Noticing: `fs.watch` on DIR for promptness, and a poll every `pollMs` that is the ground
 *   truth (fs.watch misses changes inside subdirectories, and does not work on every
 *   filesystem; when it fails, polling alone carries on).
 * - Settling: an export is looked at only once the names, sizes and modification times of its
 *   files have not changed for `settleMs` (and it holds at least one file), so a model still
 *   being copied is never checked half-written. Directories whose names start with `.` or end
 *   in `.tmp`, `.part`, `.partial` or `.incomplete` are ignored, so a job that writes there and
 *   renames the directory when done is never looked at while incomplete.
 * - Good exports are registered (`registerChecked`: doctor, then one transaction with the
 *   report). Identical files already registered change nothing (`created: false`).
 * - Broken exports (doctor fails, or a different model under an existing label) are NOT
 *   registered: no version row is written. They are recorded as rejected in the store's
 *   append-only audit log (action `export.rejected`, subject = the directory, detail = the reason,
 *   error code, failing check, file fingerprint and doctor report) and in the log
 *   (`watch_folder.rejected`). `Registry.rejectedExports()` lists them. The same files are
 *   recorded once; when they change (the job rewrites or fixes the export), it is checked again.
 * - One export is checked at a time (each doctor is a worker thread).
 */
import { watch, type FSWatcher } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ErrorCodes, SwitchyardError, toErrorShape } from '../contract/errors.js';
import { iso, systemClock, type Clock } from '../platform/clock.js';
import { silentLogger, type Logger } from '../platform/logger.js';
import type { Registry } from '../store/registry.js';
import { DoctorFailedError, exportFingerprint, registerChecked, type DoctorReport } from './doctor.js';

export type WatchEvent =
  | { type: 'detected'; at: string; dir: string }
  | { type: 'checking'; at: string; dir: string }
  | { type: 'registered'; at: string; dir: string; ref: string; modelVersion: string; created: boolean; report: DoctorReport }
  | {
      type: 'rejected';
      at: string;
      dir: string;
      reason: string;
      code: string;
      /** The doctor check that failed; null for other refusals (e.g. a label conflict). */
      check: string | null;
      /** False when these same files had already been recorded as rejected. */
      recorded: boolean;
      report: DoctorReport | null;
    }
  | { type: 'error'; at: string; dir: string | null; message: string; code: string };

export interface WatchFolderOptions {
  dir: string;
  registry: Registry;
  clock?: Clock;
  logger?: Logger;
  onEvent?: (e: WatchEvent) => void;
  /** How long an export's files must stay unchanged before it is checked (default 1000 ms). */
  settleMs?: number;
  /** How often DIR is scanned (default: half of settleMs, between 50 ms and 1 s). */
  pollMs?: number;
  /** Use fs.watch besides polling (default true). */
  useFsWatch?: boolean;
  /** Doctor's device and timed runs (defaults `auto`, 50). */
  device?: 'auto' | 'cpu' | 'cuda';
  runs?: number;
  /** Recorded as the actor of registrations and rejections (default `watch-folder`). */
  actor?: string;
  /** After a failure that is not the export's fault (the store was busy, say), retry after this long (default 30 s). */
  retryMs?: number;
  /** Doctor's steps for the export being checked (the workbench shows each check as it runs). */
  onProgress?: (dir: string, p: { done: number; total: number; step: string }) => void;
}

interface Entry {
  dir: string;
  fingerprint: string;
  /** monotonic ms since which `fingerprint` has not changed */
  since: number;
  state: 'settling' | 'queued' | 'checking' | 'done';
  /** The fingerprint that was judged (registered or rejected). */
  judged: string | null;
  /** Not before (monotonic ms), after a retryable failure. */
  notBefore: number;
}

const IGNORED = /^\.|\.(tmp|part|partial|incomplete)$/i;

/** Whether a fingerprint lists at least one file (`name:size:mtime`); an empty directory waits. */
function hasFiles(fingerprint: string): boolean {
  return fingerprint.split('|').some((p) => p.includes(':'));
}

export class WatchFolder {
  readonly dir: string;
  private readonly registry: Registry;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly onEvent: (e: WatchEvent) => void;
  private readonly settleMs: number;
  private readonly pollMs: number;
  private readonly useFsWatch: boolean;
  private readonly device: 'auto' | 'cpu' | 'cuda';
  private readonly runs: number;
  private readonly actor: string;
  private readonly retryMs: number;
  private readonly onProgress: WatchFolderOptions['onProgress'];
  private readonly entries = new Map<string, Entry>();
  private readonly queue: Entry[] = [];
  private watcher: FSWatcher | null = null;
  private pollTimer: NodeJS.Timeout | null = null;
  private kick: NodeJS.Timeout | null = null;
  private scanning: Promise<void> | null = null;
  private rescan = false;
  private working: Promise<void> | null = null;
  private running = false;
  private idleWaiters: (() => void)[] = [];

  constructor(opts: WatchFolderOptions) {
    this.dir = resolve(opts.dir);
    this.registry = opts.registry;
    this.clock = opts.clock ?? systemClock;
    this.log = opts.logger ?? silentLogger;
    this.onEvent = opts.onEvent ?? (() => {});
    this.settleMs = opts.settleMs ?? 1000;
    this.pollMs = opts.pollMs ?? Math.max(50, Math.min(1000, Math.floor(this.settleMs / 2)));
    this.useFsWatch = opts.useFsWatch ?? true;
    this.device = opts.device ?? 'auto';
    this.runs = opts.runs ?? 50;
    this.actor = opts.actor ?? 'watch-folder';
    this.retryMs = opts.retryMs ?? 30_000;
    this.onProgress = opts.onProgress;
    if (!(this.settleMs >= 0) || !(this.pollMs > 0)) {
      throw new SwitchyardError(ErrorCodes.SWY_ERR_CONFIG, `settleMs must be >= 0 and pollMs > 0, got ${this.settleMs} and ${this.pollMs}.`, 'watch');
    }
  }

  /** Starts watching. Throws SWY_ERR_CONFIG when DIR is not a readable directory. */
  async start(): Promise<void> {
    if (this.running) return;
    let st;
    try {
      st = await stat(this.dir);
    } catch (e) {
      throw new SwitchyardError(ErrorCodes.SWY_ERR_CONFIG, `The watch folder ${this.dir} cannot be read (${(e as Error).message}). Create it, or pass another --watch DIR.`, '--watch');
    }
    if (!st.isDirectory()) throw new SwitchyardError(ErrorCodes.SWY_ERR_CONFIG, `The watch folder ${this.dir} is not a directory.`, '--watch');
    this.running = true;
    if (this.useFsWatch) {
      try {
        this.watcher = watch(this.dir, { persistent: false }, () => this.scheduleScan(20));
        this.watcher.on('error', (e) => {
          this.log.warn({ dir: this.dir, err: String(e) }, 'watch_folder.fs_watch_failed');
          this.watcher?.close();
          this.watcher = null;
        });
      } catch (e) {
        // Some filesystems (network mounts, inotify limits) cannot be watched: polling suffices.
        this.log.warn({ dir: this.dir, err: String(e) }, 'watch_folder.fs_watch_unavailable');
      }
    }
    this.pollTimer = setInterval(() => this.scheduleScan(0), this.pollMs);
    this.pollTimer.unref?.();
    this.log.info({ dir: this.dir, settleMs: this.settleMs, pollMs: this.pollMs, fsWatch: this.watcher !== null }, 'watch_folder.started');
    await this.scan();
  }

  /** Stops watching; waits for the export being checked, if any. Nothing queued is checked. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.watcher?.close();
    this.watcher = null;
    if (this.pollTimer) clearInterval(this.pollTimer);
    if (this.kick) clearTimeout(this.kick);
    this.pollTimer = this.kick = null;
    this.queue.length = 0;
    await this.scanning;
    await this.working;
    this.notifyIdle();
  }

  /**
   * Scans DIR now instead of at the next poll or file event (tests drive the watch step by step
   * with it, against an injected clock). Resolves once the scan has queued what settled.
   */
  async scanNow(): Promise<void> {
    await this.scan();
    // A scan already under way may have started before the latest change: run one more.
    if (this.rescan) {
      this.rescan = false;
      await this.scan();
    }
  }

  /** Directories seen and not yet judged. */
  get pending(): string[] {
    return [...this.entries.values()].filter((e) => e.state !== 'done').map((e) => e.dir);
  }

  /** Resolves once every directory seen has been judged (or the watch stopped). */
  whenIdle(): Promise<void> {
    if (!this.running || this.pending.length === 0) return Promise.resolve();
    return new Promise((res) => this.idleWaiters.push(res));
  }

  private emit(e: WatchEvent): void {
    try {
      this.onEvent(e);
    } catch (err) {
      this.log.error({ event: e.type, err: String(err) }, 'watch_folder.event_handler_failed');
    }
  }

  private now(): string {
    return iso(this.clock.now());
  }

  private scheduleScan(delayMs: number): void {
    if (!this.running) return;
    if (this.kick !== null) return;
    this.kick = setTimeout(() => {
      this.kick = null;
      void this.scan();
    }, delayMs);
    this.kick.unref?.();
  }

  /** One pass over DIR: new, changed, settled and removed export directories. */
  private scan(): Promise<void> {
    if (this.scanning !== null) {
      this.rescan = true;
      return this.scanning;
    }
    this.scanning = this.scanOnce()
      .catch((e: unknown) => {
        this.log.error({ dir: this.dir, err: String(e) }, 'watch_folder.scan_failed');
        this.emit({ type: 'error', at: this.now(), dir: null, message: `Scanning ${this.dir} failed: ${(e as Error).message}`, code: ErrorCodes.SWY_ERR_INTERNAL });
      })
      .finally(() => {
        this.scanning = null;
        if (this.rescan) {
          this.rescan = false;
          this.scheduleScan(0);
        }
      });
    return this.scanning;
  }

  private async scanOnce(): Promise<void> {
    if (!this.running) return;
    let names: string[];
    try {
      names = (await readdir(this.dir, { withFileTypes: true })).filter((d) => d.isDirectory() && !IGNORED.test(d.name)).map((d) => d.name);
    } catch (e) {
      this.log.warn({ dir: this.dir, err: String(e) }, 'watch_folder.unreadable');
      return;
    }
    const seen = new Set(names);
    for (const [name, entry] of this.entries) {
      if (!seen.has(name) && entry.state !== 'checking') this.entries.delete(name);
    }
    const t = this.clock.monotonicMs();
    for (const name of names) {
      const dir = join(this.dir, name);
      const fp = await exportFingerprint(dir);
      let entry = this.entries.get(name);
      if (entry === undefined) {
        entry = { dir, fingerprint: fp, since: t, state: 'settling', judged: null, notBefore: 0 };
        this.entries.set(name, entry);
        this.emit({ type: 'detected', at: this.now(), dir });
        this.log.info({ dir }, 'watch_folder.detected');
      } else if (entry.fingerprint !== fp) {
        entry.fingerprint = fp;
        entry.since = t;
        if (entry.state === 'done' && entry.judged !== fp) entry.state = 'settling';
      }
      if (entry.state === 'settling' && hasFiles(fp) && t - entry.since >= this.settleMs && t >= entry.notBefore) {
        entry.state = 'queued';
        this.queue.push(entry);
      }
    }
    this.pump();
    if (this.pending.length === 0) this.notifyIdle();
  }

  private pump(): void {
    if (this.working !== null || !this.running) return;
    const next = this.queue.shift();
    if (next === undefined) return;
    this.working = this.check(next).finally(() => {
      this.working = null;
      this.pump();
      if (this.pending.length === 0) this.notifyIdle();
    });
  }

  private notifyIdle(): void {
    for (const w of this.idleWaiters.splice(0)) w();
  }

  private async check(entry: Entry): Promise<void> {
    entry.state = 'checking';
    const dir = entry.dir;
    this.emit({ type: 'checking', at: this.now(), dir });
    try {
      const { report, result } = await registerChecked(this.registry, dir, { actor: this.actor, device: this.device, runs: this.runs, clock: this.clock, logger: this.log, ...(this.onProgress ? { onProgress: (p: { done: number; total: number; step: string }) => this.onProgress?.(dir, p) } : {}) });
      entry.judged = entry.fingerprint = await exportFingerprint(dir);
      const v = result.version;
      this.log.info({ dir, ref: `${v.policy}@${v.label}`, modelVersion: v.modelVersion, created: result.created }, 'watch_folder.registered');
      this.emit({ type: 'registered', at: this.now(), dir, ref: `${v.policy}@${v.label}`, modelVersion: v.modelVersion, created: result.created, report });
    } catch (e) {
      const shape = toErrorShape(e);
      const changed = e instanceof SwitchyardError && e.code === ErrorCodes.SWY_ERR_BAD_EXPORT && /changed while they were being checked/.test(e.message);
      const exportsFault = e instanceof DoctorFailedError || (e instanceof SwitchyardError && e.code === ErrorCodes.SWY_ERR_CONFLICT);
      if (changed) {
        // Still being written: settle again.
        entry.since = this.clock.monotonicMs();
        entry.fingerprint = await exportFingerprint(dir);
        entry.state = 'settling';
        return;
      }
      if (exportsFault) {
        const report = e instanceof DoctorFailedError ? e.report : null;
        const check = report?.error?.check ?? null;
        const fingerprint = await exportFingerprint(dir);
        let recorded = false;
        try {
          recorded = this.registry.recordRejectedExport({ dir, actor: this.actor, reason: shape.message, code: shape.code, check, fingerprint, report });
        } catch (storeErr) {
          this.retryLater(entry, storeErr);
          return;
        }
        entry.judged = fingerprint;
        entry.fingerprint = fingerprint;
        this.log.warn({ dir, code: shape.code, check, reason: shape.message, recorded }, 'watch_folder.rejected');
        this.emit({ type: 'rejected', at: this.now(), dir, reason: shape.message, code: shape.code, check, recorded, report });
        return;
      }
      this.retryLater(entry, e);
      return;
    } finally {
      if (entry.state === 'checking') entry.state = 'done';
    }
  }

  /** Not the export's fault (the store is busy or full, say): say so and try again later. */
  private retryLater(entry: Entry, e: unknown): void {
    const shape = toErrorShape(e);
    entry.state = 'settling';
    entry.notBefore = this.clock.monotonicMs() + this.retryMs;
    this.log.error({ dir: entry.dir, code: shape.code, err: shape.message, retryInMs: this.retryMs }, 'watch_folder.check_failed');
    this.emit({ type: 'error', at: this.now(), dir: entry.dir, message: `${shape.message} Retrying in ${Math.round(this.retryMs / 1000)} s.`, code: shape.code });
  }
}
