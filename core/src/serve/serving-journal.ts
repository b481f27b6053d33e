/**
 * The server-side memory of serving (issue 12): a bounded ring of `serving.stats` samples (at
 * least an hour at the stats interval) that the workbench backfills its charts from on load, and
 * the serving events (kept in the store, so markers survive a restart) drawn on every chart.
 * The console's serving configuration is kept here too, so a restart serves the same versions.
 */
import type { ServingEvent, ServingEventKind, ServingHistory, ServingStats, Slot } from '../contract/index.js';
import { iso, type Clock } from '../platform/clock.js';
import type { Logger } from '../platform/logger.js';
import type { Db } from '../store/database.js';
import type { ServingEventInput } from './serving-controller.js';

/** The console's serving configuration, with slots as resolved `policy@label` references. */
export interface ConsoleServingConfig {
  single?: string;
  a?: string;
  b?: string;
  split?: number;
  shadow?: string;
}

export interface ServingJournalOptions {
  db: Db;
  clock: Clock;
  logger: Logger;
  /** Milliseconds between samples (the stats interval). */
  intervalMs: number;
  /** How far back samples are kept; at least an hour. */
  retentionMs?: number;
  /** Most events kept in the store. */
  maxEvents?: number;
}

export const HOUR_MS = 3_600_000;

export class ServingJournal {
  private readonly samples: (ServingStats | undefined)[];
  private readonly times: Float64Array;
  private head = 0;
  private count = 0;
  readonly retentionMs: number;
  readonly intervalMs: number;
  private readonly maxEvents: number;

  constructor(private readonly o: ServingJournalOptions) {
    this.intervalMs = Math.max(1, Math.round(o.intervalMs));
    this.retentionMs = Math.max(HOUR_MS, o.retentionMs ?? HOUR_MS);
    // A little more than the retention divided by the interval, so an hour is always whole.
    const capacity = Math.ceil(this.retentionMs / this.intervalMs) + 16;
    this.samples = new Array<ServingStats | undefined>(capacity);
    this.times = new Float64Array(capacity);
    this.maxEvents = o.maxEvents ?? 5_000;
  }

  get capacity(): number {
    return this.samples.length;
  }

  addSample(s: ServingStats): void {
    const cap = this.samples.length;
    this.samples[this.head] = s;
    this.times[this.head] = Date.parse(s.at);
    this.head = (this.head + 1) % cap;
    if (this.count < cap) this.count++;
  }

  /** Samples at or after `fromMs` (epoch), oldest first. */
  samplesSince(fromMs: number): ServingStats[] {
    const cap = this.samples.length;
    const out: ServingStats[] = [];
    const start = (this.head - this.count + cap) % cap;
    for (let i = 0; i < this.count; i++) {
      const k = (start + i) % cap;
      if (this.times[k]! >= fromMs) out.push(this.samples[k]!);
    }
    return out;
  }

  /** Records an event in the store and returns it with its id and time. */
  record(e: ServingEventInput): ServingEvent {
    const at = iso(this.o.clock.now());
    try {
      const r = this.o.db.prepare('INSERT INTO serving_events (at, kind, slot, message) VALUES (?, ?, ?, ?)').run(at, e.kind, e.slot, e.message);
      const id = Number(r.lastInsertRowid);
      if (id % 100 === 0) this.o.db.prepare('DELETE FROM serving_events WHERE id <= ?').run(id - this.maxEvents);
      this.o.logger.info({ kind: e.kind, slot: e.slot }, `serving event: ${e.message}`);
      return { id, at, kind: e.kind, slot: e.slot, message: e.message };
    } catch (err) {
      // The journal never stops serving: an event that cannot be stored is logged and still shown.
      this.o.logger.warn({ err: String(err) }, 'could not store a serving event');
      return { id: Math.max(1, this.o.clock.now()), at, kind: e.kind, slot: e.slot, message: e.message };
    }
  }

  eventsSince(fromMs: number): ServingEvent[] {
    const rows = this.o.db
      .prepare('SELECT id, at, kind, slot, message FROM serving_events WHERE at >= ? ORDER BY id DESC LIMIT ?')
      .all(iso(fromMs), this.maxEvents) as { id: number; at: string; kind: ServingEventKind; slot: Slot | null; message: string }[];
    return rows.reverse().map((r) => ({ id: r.id, at: r.at, kind: r.kind, slot: r.slot, message: r.message }));
  }

  history(sinceMs?: number): ServingHistory {
    const now = this.o.clock.now();
    const from = now - Math.min(sinceMs ?? this.retentionMs, this.retentionMs);
    return { samples: this.samplesSince(from), events: this.eventsSince(from), intervalMs: this.intervalMs, retentionMs: this.retentionMs };
  }

  loadConsoleConfig(): ConsoleServingConfig | null {
    const row = this.o.db.prepare('SELECT config_json FROM console_serving WHERE id = 1').get() as { config_json: string } | undefined;
    if (!row) return null;
    try {
      return JSON.parse(row.config_json) as ConsoleServingConfig;
    } catch {
      return null;
    }
  }

  saveConsoleConfig(c: ConsoleServingConfig): void {
    this.o.db
      .prepare('INSERT INTO console_serving (id, config_json, updated_at) VALUES (1, ?, ?) ON CONFLICT(id) DO UPDATE SET config_json = excluded.config_json, updated_at = excluded.updated_at')
      .run(JSON.stringify(c), iso(this.o.clock.now()));
  }
}
