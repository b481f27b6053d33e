import { ErrorCodes, SwitchyardError, type PolicySummary, type Stage, type VersionSummary } from '../contract/index.js';
import { insertAudit } from './audit.js';
import type { Clock } from '../platform/clock.js';
import { iso } from '../platform/clock.js';
import type { PolicyExport } from '../domain/policy-export.js';
import { durableWrite, type Db } from './database.js';
import { translateStoreError } from './store-errors.js';

interface VersionRow {
  id: number;
  policy: string;
  label: string;
  model_id: string;
  model_hash: string;
  kind: 'direct' | 'iterative' | 'external';
  stage: Stage;
  manifest_json: string;
  size_bytes: number;
  files_json: string;
  export_path: string | null;
  registered_at: string;
  doctor_status: 'ok' | 'failed' | 'unknown';
}

/** What the registry keeps of a doctor report: its verdict, and the whole report as JSON. */
export interface DoctorRecord {
  ok: boolean;
}

/** One policy's standing (`switchyard status`). */
export interface PolicyStatus {
  policy: string;
  production: VersionSummary | null;
  /** When the production version became production (null without one). */
  productionSince: string | null;
  staging: VersionSummary[];
  candidates: VersionSummary[];
  archived: number;
}

/** An export the watch folder (or another automatic source) looked at and did not register. */
export interface RejectedExport {
  at: string;
  actor: string;
  dir: string;
  reason: string;
  code: string;
  /** The doctor check that failed, when it was the doctor. */
  check: string | null;
  /** Names, sizes and mtimes of its files when it was judged (to notice a fixed copy). */
  fingerprint: string;
}

export interface RegisterResult {
  version: VersionSummary;
  /** False when identical files were already registered under this label. */
  created: boolean;
}

export interface VersionRecord extends VersionSummary {
  id: number;
  manifest: Record<string, unknown>;
}

interface AuditRow {
  id: number;
  at: string;
  actor: string;
  action: string;
  subject: string;
  detail: string;
}

const REJECTED_ACTION = 'export.rejected';

/** Policies and versions: the registry half of the store. */
export class Registry {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {}

  /**
   * Registers an export as a new version (a candidate unless `stage` says otherwise), with its
   * doctor report when given, in one durable transaction. Identical files under an existing
   * label change nothing but the stored doctor report (`created: false`); different files under
   * an existing label are refused (SWY_ERR_CONFLICT). A failed write throws SWY_ERR_STORE_IO.
   */
  register(exp: PolicyExport, opts: { actor: string; stage?: Stage; doctor?: DoctorRecord }): RegisterResult {
    const { manifest } = exp;
    const doctorStatus = opts.doctor === undefined ? 'unknown' : opts.doctor.ok ? 'ok' : 'failed';
    const doctorJson = opts.doctor === undefined ? null : JSON.stringify(opts.doctor);
    return this.write(true, () => {
      const existing = this.db
        .prepare<[string, string], VersionRow>('SELECT * FROM versions WHERE policy = ? AND label = ?')
        .get(manifest.policy, manifest.version);
      if (existing) {
        if (existing.model_hash === exp.modelHash) {
          if (doctorJson !== null) {
            this.db.prepare('UPDATE versions SET doctor_status = ?, doctor_json = ? WHERE id = ?').run(doctorStatus, doctorJson, existing.id);
          }
          return { version: this.summary(this.row(existing.id)), created: false };
        }
        throw new SwitchyardError(
          ErrorCodes.SWY_ERR_CONFLICT,
          `${manifest.policy}@${manifest.version} is already registered with model hash ${existing.model_hash}, but ${exp.dir} has ${exp.modelHash}. Versions are immutable: give the new export a new version label.`,
          `${exp.dir}/switchyard.json: version`,
        );
      }
      const now = iso(this.clock.now());
      this.db.prepare('INSERT OR IGNORE INTO policies (name, created_at) VALUES (?, ?)').run(manifest.policy, now);
      const stage = opts.stage ?? 'candidate';
      const info = this.db
        .prepare(
          `INSERT INTO versions (policy, label, model_id, model_hash, kind, stage, manifest_json, size_bytes, files_json, export_path, registered_at, doctor_status, doctor_json)
           VALUES (@policy, @label, @model_id, @model_hash, @kind, 'candidate', @manifest_json, @size_bytes, @files_json, @export_path, @registered_at, @doctor_status, @doctor_json)`,
        )
        .run({
          policy: manifest.policy,
          label: manifest.version,
          model_id: manifest.model_id,
          model_hash: exp.modelHash,
          kind: manifest.kind,
          manifest_json: JSON.stringify(manifest),
          size_bytes: exp.sizeBytes,
          files_json: JSON.stringify(exp.files),
          export_path: exp.dir,
          registered_at: now,
          doctor_status: doctorStatus,
          doctor_json: doctorJson,
        });
      const id = Number(info.lastInsertRowid);
      this.history(id, manifest.policy, null, 'candidate', opts.actor, 'registered', now);
      this.audit(opts.actor, 'register', `${manifest.policy}@${manifest.version}`, { modelHash: exp.modelHash, dir: exp.dir }, now);
      if (stage !== 'candidate') this.moveStage(id, stage, opts.actor, 'registered', now);
      return { version: this.summary(this.row(id)), created: true };
    });
  }

  /** Moves a version to a stage; the production version it replaces goes back to staging. */
  setStage(policy: string, label: string, stage: Stage, opts: { actor: string; reason: string }): { version: VersionSummary; replaced: VersionSummary | null } {
    return this.write(true, () => {
      const row = this.requireRow(policy, label);
      const now = iso(this.clock.now());
      const replaced = this.moveStage(row.id, stage, opts.actor, opts.reason, now);
      return { version: this.summary(this.row(row.id)), replaced };
    });
  }

  setDoctor(policy: string, label: string, status: 'ok' | 'failed', report: unknown): void {
    const row = this.requireRow(policy, label);
    this.write(false, () => {
      this.db.prepare('UPDATE versions SET doctor_status = ?, doctor_json = ? WHERE id = ?').run(status, JSON.stringify(report), row.id);
    });
  }

  /** The stored doctor report of a version (null when it was never checked). */
  getDoctorReport(policy: string, label: string): unknown {
    const row = this.requireRow(policy, label);
    const r = this.db.prepare<[number], { doctor_json: string | null }>('SELECT doctor_json FROM versions WHERE id = ?').get(row.id);
    return r?.doctor_json ? (JSON.parse(r.doctor_json) as unknown) : null;
  }

  /** The version registered under `policy@label`, or null. */
  find(policy: string, label: string): VersionRecord | null {
    const row = this.db.prepare<[string, string], VersionRow>('SELECT * FROM versions WHERE policy = ? AND label = ?').get(policy, label);
    return row ? { ...this.summary(row), id: row.id, manifest: JSON.parse(row.manifest_json) as Record<string, unknown> } : null;
  }

  /**
   * Each policy's production version (and since when), staging versions and candidates, newest
   * first. With `policy`, that policy only (SWY_ERR_NOT_FOUND when it has no versions).
   */
  status(policy?: string): PolicyStatus[] {
    const all = this.listPolicies().filter((p) => policy === undefined || p.name === policy);
    if (policy !== undefined && all.length === 0) {
      const names = this.listPolicies().map((p) => p.name);
      throw new SwitchyardError(
        ErrorCodes.SWY_ERR_NOT_FOUND,
        `No policy named ${policy} in the store${names.length ? ` (registered: ${names.join(', ')})` : ''}. \`switchyard policies\` lists them.`,
        policy,
      );
    }
    return all.map((p) => {
      const newestFirst = [...p.versions].reverse();
      const production = newestFirst.find((v) => v.stage === 'production') ?? null;
      return {
        policy: p.name,
        production,
        productionSince: production?.productionSince ?? null,
        staging: newestFirst.filter((v) => v.stage === 'staging'),
        candidates: newestFirst.filter((v) => v.stage === 'candidate'),
        archived: newestFirst.filter((v) => v.stage === 'archived').length,
      };
    });
  }

  /**
   * Records, in the append-only audit log (action `export.rejected`), an export that was looked
   * at automatically (the watch folder) and not registered, with the reason. No version is
   * created. Returns false, writing nothing, when the same directory with the same files was
   * already recorded (`fingerprint` unchanged), so a restart does not repeat the entry.
   */
  recordRejectedExport(r: { dir: string; actor: string; reason: string; code: string; check?: string | null; fingerprint: string; report?: unknown }): boolean {
    return this.write(true, () => {
      const last = this.rejectedExports(r.dir)[0];
      if (last !== undefined && last.fingerprint === r.fingerprint) return false;
      const detail = { reason: r.reason, code: r.code, check: r.check ?? null, fingerprint: r.fingerprint, report: r.report ?? null };
      this.audit(r.actor, REJECTED_ACTION, r.dir, detail, iso(this.clock.now()));
      return true;
    });
  }

  /** Rejected exports, newest first; only those of `dir` when given. */
  rejectedExports(dir?: string): RejectedExport[] {
    const rows =
      dir === undefined
        ? this.db.prepare<[string], AuditRow>('SELECT * FROM audit_log WHERE action = ? ORDER BY id DESC').all(REJECTED_ACTION)
        : this.db.prepare<[string, string], AuditRow>('SELECT * FROM audit_log WHERE action = ? AND subject = ? ORDER BY id DESC').all(REJECTED_ACTION, dir);
    return rows.map((row) => {
      const d = JSON.parse(row.detail) as { reason: string; code: string; check: string | null; fingerprint: string };
      return { at: row.at, actor: row.actor, dir: row.subject, reason: d.reason, code: d.code, check: d.check, fingerprint: d.fingerprint };
    });
  }

  /**
   * One write: durable (synchronous = FULL, BEGIN IMMEDIATE) for decisions, else a plain
   * transaction. SQLite failures (busy, full, read-only) become SWY_ERR_STORE_IO; the
   * transaction is rolled back, so the store is as it was.
   */
  private write<T>(durable: boolean, fn: () => T): T {
    try {
      return durable ? durableWrite(this.db, fn) : this.db.transaction(fn).immediate();
    } catch (e) {
      throw translateStoreError(e, this.db);
    }
  }

  listPolicies(): PolicySummary[] {
    const rows = this.db.prepare<[], VersionRow>('SELECT * FROM versions ORDER BY policy, registered_at, id').all();
    const byPolicy = new Map<string, PolicySummary>();
    for (const r of rows) {
      let p = byPolicy.get(r.policy);
      if (!p) byPolicy.set(r.policy, (p = { name: r.policy, productionLabel: null, versions: [] }));
      const s = this.summary(r);
      if (s.stage === 'production') p.productionLabel = s.label;
      p.versions.push(s);
    }
    return [...byPolicy.values()];
  }

  getVersion(policy: string, label: string): VersionRecord {
    const row = this.requireRow(policy, label);
    return { ...this.summary(row), id: row.id, manifest: JSON.parse(row.manifest_json) as Record<string, unknown> };
  }

  /** `policy@label` or `policy@<stage>` (the newest version in that stage). */
  resolve(ref: string): VersionRecord {
    const at = ref.lastIndexOf('@');
    if (at <= 0 || at === ref.length - 1) {
      throw new SwitchyardError(ErrorCodes.SWY_ERR_INVALID_INPUT, `"${ref}" is not a version reference; write policy@label or policy@production.`, ref);
    }
    const policy = ref.slice(0, at);
    const which = ref.slice(at + 1);
    if (which === 'production' || which === 'staging' || which === 'candidate') {
      const row = this.db
        .prepare<[string, string], VersionRow>('SELECT * FROM versions WHERE policy = ? AND stage = ? ORDER BY registered_at DESC, id DESC LIMIT 1')
        .get(policy, which);
      if (!row) throw new SwitchyardError(ErrorCodes.SWY_ERR_NOT_FOUND, `${policy} has no ${which} version. See \`switchyard status ${policy}\`.`, ref);
      return this.getVersion(policy, row.label);
    }
    return this.getVersion(policy, which);
  }

  private moveStage(id: number, stage: Stage, actor: string, reason: string, now: string): VersionSummary | null {
    const row = this.row(id);
    if (row.stage === stage) return null;
    let replaced: VersionSummary | null = null;
    if (stage === 'production') {
      const prev = this.db
        .prepare<[string, number], VersionRow>("SELECT * FROM versions WHERE policy = ? AND stage = 'production' AND id != ?")
        .get(row.policy, id);
      if (prev) {
        this.db.prepare("UPDATE versions SET stage = 'staging' WHERE id = ?").run(prev.id);
        this.history(prev.id, prev.policy, 'production', 'staging', actor, `replaced by ${row.label}`, now);
        replaced = this.summary(this.row(prev.id));
      }
    }
    this.db.prepare('UPDATE versions SET stage = ? WHERE id = ?').run(stage, id);
    this.history(id, row.policy, row.stage, stage, actor, reason, now);
    this.audit(actor, 'stage', `${row.policy}@${row.label}`, { from: row.stage, to: stage, reason }, now);
    return replaced;
  }

  private history(versionId: number, policy: string, from: Stage | null, to: Stage, actor: string, reason: string, at: string): void {
    this.db
      .prepare('INSERT INTO stage_history (version_id, policy, from_stage, to_stage, at, actor, reason) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(versionId, policy, from, to, at, actor, reason);
  }

  private audit(actor: string, action: string, subject: string, detail: unknown, at: string): void {
    insertAudit(this.db, at, actor, action, subject, detail);
  }

  private row(id: number): VersionRow {
    return this.db.prepare<[number], VersionRow>('SELECT * FROM versions WHERE id = ?').get(id)!;
  }

  private requireRow(policy: string, label: string): VersionRow {
    const row = this.db.prepare<[string, string], VersionRow>('SELECT * FROM versions WHERE policy = ? AND label = ?').get(policy, label);
    if (!row) {
      throw new SwitchyardError(ErrorCodes.SWY_ERR_NOT_FOUND, `No version ${policy}@${label} in the store. \`switchyard policies\` lists what is registered.`, `${policy}@${label}`);
    }
    return row;
  }

  private productionSince(id: number): string | null {
    const r = this.db
      .prepare<[number], { at: string }>("SELECT at FROM stage_history WHERE version_id = ? AND to_stage = 'production' ORDER BY id DESC LIMIT 1")
      .get(id);
    return r?.at ?? null;
  }

  private summary(r: VersionRow): VersionSummary {
    const manifest = JSON.parse(r.manifest_json) as { notes?: unknown };
    return {
      policy: r.policy,
      label: r.label,
      modelId: r.model_id,
      modelHash: r.model_hash,
      modelVersion: `${r.model_id}@${r.model_hash}`,
      kind: r.kind,
      stage: r.stage,
      sizeBytes: r.size_bytes,
      registeredAt: r.registered_at,
      productionSince: r.stage === 'production' ? this.productionSince(r.id) : null,
      doctorStatus: r.doctor_status,
      lastVerdict: null,
      exportPath: r.export_path,
      notes: typeof manifest.notes === 'string' ? manifest.notes : null,
    };
  }
}
