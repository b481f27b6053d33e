/**
 * Numbered schema migrations, run in order at open. A migration is never edited once
 * shipped; changes come as a new number. `PRAGMA user_version` records the last applied.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const migrations: Migration[] = [
  {
    version: 1,
    name: 'policies, versions, stage history, audit log',
    sql: `
      CREATE TABLE policies (
        name        TEXT PRIMARY KEY,
        created_at  TEXT NOT NULL
      );
      CREATE TABLE versions (
        id             INTEGER PRIMARY KEY,
        policy         TEXT NOT NULL REFERENCES policies(name),
        label          TEXT NOT NULL,
        model_id       TEXT NOT NULL,
        model_hash     TEXT NOT NULL,
        kind           TEXT NOT NULL CHECK (kind IN ('direct', 'iterative', 'external')),
        stage          TEXT NOT NULL CHECK (stage IN ('candidate', 'staging', 'production', 'archived')),
        manifest_json  TEXT NOT NULL,
        size_bytes     INTEGER NOT NULL,
        files_json     TEXT NOT NULL,
        export_path    TEXT,
        registered_at  TEXT NOT NULL,
        doctor_status  TEXT NOT NULL DEFAULT 'unknown' CHECK (doctor_status IN ('ok', 'failed', 'unknown')),
        doctor_json    TEXT,
        UNIQUE (policy, label)
      );
      -- At most one production version per policy, enforced by the database itself.
      CREATE UNIQUE INDEX one_production_per_policy ON versions(policy) WHERE stage = 'production';
      CREATE TABLE stage_history (
        id          INTEGER PRIMARY KEY,
        version_id  INTEGER NOT NULL REFERENCES versions(id),
        policy      TEXT NOT NULL,
        from_stage  TEXT,
        to_stage    TEXT NOT NULL,
        at          TEXT NOT NULL,
        actor       TEXT NOT NULL,
        reason      TEXT NOT NULL,
        verdict_id  INTEGER,
        forced      INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX stage_history_policy_at ON stage_history(policy, at);
      CREATE TABLE audit_log (
        id       INTEGER PRIMARY KEY,
        at       TEXT NOT NULL,
        actor    TEXT NOT NULL,
        action   TEXT NOT NULL,
        subject  TEXT NOT NULL,
        detail   TEXT NOT NULL
      );
      CREATE TRIGGER audit_log_append_only_update BEFORE UPDATE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
      CREATE TRIGGER audit_log_append_only_delete BEFORE DELETE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
    `,
  },
];

export const LATEST_SCHEMA_VERSION = migrations[migrations.length - 1]!.version;
