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
  {
    version: 2,
    name: 'suites, evaluation runs and results, verdicts',
    sql: `
      CREATE TABLE suites (
        fingerprint  TEXT PRIMARY KEY,
        name         TEXT NOT NULL,
        environment  TEXT NOT NULL,
        env_version  TEXT NOT NULL,
        path         TEXT,
        case_count   INTEGER NOT NULL,
        slices_json  TEXT NOT NULL,
        created_at   TEXT NOT NULL
      );
      CREATE INDEX suites_name ON suites(name, created_at);
      CREATE TABLE eval_runs (
        id                 INTEGER PRIMARY KEY,
        version_id         INTEGER NOT NULL REFERENCES versions(id),
        suite_fingerprint  TEXT NOT NULL REFERENCES suites(fingerprint),
        kind               TEXT NOT NULL DEFAULT 'native' CHECK (kind IN ('native', 'imported')),
        status             TEXT NOT NULL CHECK (status IN ('running', 'completed', 'failed', 'cancelled')),
        started_at         TEXT NOT NULL,
        ended_at           TEXT,
        cases_total        INTEGER NOT NULL,
        cases_done         INTEGER NOT NULL DEFAULT 0,
        error              TEXT,
        determinism_json   TEXT,
        stats_json         TEXT
      );
      CREATE INDEX eval_runs_version_suite ON eval_runs(version_id, suite_fingerprint, status, id);
      CREATE TABLE eval_results (
        run_id        INTEGER NOT NULL REFERENCES eval_runs(id) ON DELETE CASCADE,
        case_id       TEXT NOT NULL,
        slices_json   TEXT NOT NULL,
        pass          INTEGER NOT NULL CHECK (pass IN (0, 1)),
        graders_json  TEXT NOT NULL,
        score         REAL,
        latency_ms    REAL,
        cost          REAL,
        -- 1: kept from a run that failed; evidence only, never a pass.
        partial       INTEGER NOT NULL DEFAULT 0 CHECK (partial IN (0, 1)),
        detail_json   TEXT,
        PRIMARY KEY (run_id, case_id)
      );
      CREATE TABLE verdicts (
        id                    INTEGER PRIMARY KEY,
        policy                TEXT NOT NULL,
        candidate_version_id  INTEGER NOT NULL REFERENCES versions(id),
        baseline_version_id   INTEGER REFERENCES versions(id),
        transition            TEXT NOT NULL,
        suite_fingerprint     TEXT,
        rules_hash            TEXT NOT NULL,
        verdict               TEXT NOT NULL CHECK (verdict IN ('GO', 'NO-GO', 'INCONCLUSIVE')),
        evidence_json         TEXT NOT NULL,
        created_at            TEXT NOT NULL
      );
      CREATE INDEX verdicts_candidate ON verdicts(candidate_version_id, transition, id);
    `,
  },
  {
    version: 3,
    name: 'lifecycle: stage history actions (append-only), shadow evidence',
    sql: `
      -- What made each stage change: promote, rollback, archive, or 'stage' (a plain stage change,
      -- e.g. registration or rows written before this migration). Rollbacks walk back through the
      -- production timeline by skipping what earlier rollbacks undid, so they must be told apart.
      ALTER TABLE stage_history ADD COLUMN action TEXT NOT NULL DEFAULT 'stage';
      CREATE INDEX stage_history_version ON stage_history(version_id, id);
      CREATE TRIGGER stage_history_append_only_update BEFORE UPDATE ON stage_history
        BEGIN SELECT RAISE(ABORT, 'stage_history is append-only'); END;
      CREATE TRIGGER stage_history_append_only_delete BEFORE DELETE ON stage_history
        BEGIN SELECT RAISE(ABORT, 'stage_history is append-only'); END;
      -- Shadow traffic evidence for staging->production rules: one row per version and serving
      -- session (counters restart with each session), compared with the primary it shadowed.
      CREATE TABLE shadow_evidence (
        version_id          INTEGER NOT NULL REFERENCES versions(id),
        session             TEXT NOT NULL,
        primary_version_id  INTEGER REFERENCES versions(id),
        requests            INTEGER NOT NULL CHECK (requests >= 0),
        errors              INTEGER NOT NULL CHECK (errors >= 0),
        max_divergence      REAL NOT NULL,
        started_at          TEXT NOT NULL,
        updated_at          TEXT NOT NULL,
        PRIMARY KEY (version_id, session)
      );
    `,
  },
  {
    version: 4,
    name: 'audit log: the authenticated caller and the name it claimed',
    sql: `
      -- actor is who authenticated (desktop, cli, token:<label>); claimed_by is the actor field an
      -- API caller put in its request, which nothing verifies. NULL for rows written before.
      ALTER TABLE audit_log ADD COLUMN claimed_by TEXT;
    `,
  },
];

export const LATEST_SCHEMA_VERSION = migrations[migrations.length - 1]!.version;
