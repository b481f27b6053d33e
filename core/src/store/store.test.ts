import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { fixedClock } from '../platform/clock.js';
import type { PolicyExport } from '../runtime/types.js';
import { LATEST_SCHEMA_VERSION, openDatabase } from './database.js';
import { Registry } from './registry.js';

function fakeExport(label: string, hash: string): PolicyExport {
  return {
    dir: `/exports/cartpole-balance-${label}`,
    manifest: {
      policy: 'cartpole-balance',
      version: label,
      model_id: 'cartpole-lqr',
      kind: 'direct',
      observation: { name: 'obs', dim: 4 },
      action: { name: 'action', dim: 1, chunk: 1 },
      notes: `controller ${label}`,
    },
    modelHash: hash,
    modelVersion: `cartpole-lqr@${hash}`,
    sizeBytes: 321,
    files: [{ name: 'policy.onnx', bytes: 321 }],
    modelPath: `/exports/cartpole-balance-${label}/policy.onnx`,
  };
}

function tmpDb(): string {
  return join(mkdtempSync(join(tmpdir(), 'swy-store-')), 'store.db');
}

describe('store', () => {
  it('migrates a new database to the latest schema in WAL mode', () => {
    const db = openDatabase(tmpDb());
    expect(db.pragma('user_version', { simple: true })).toBe(LATEST_SCHEMA_VERSION);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
  });

  it('registers idempotently and refuses different files under an existing label', () => {
    const reg = new Registry(openDatabase(':memory:'), fixedClock());
    const first = reg.register(fakeExport('1.0.0', 'aaaaaaaaaaaaaaaa'), { actor: 'test' });
    const again = reg.register(fakeExport('1.0.0', 'aaaaaaaaaaaaaaaa'), { actor: 'test' });
    expect(first.created).toBe(true);
    expect(again.created).toBe(false);
    expect(again.version.modelVersion).toBe('cartpole-lqr@aaaaaaaaaaaaaaaa');
    expect(() => reg.register(fakeExport('1.0.0', 'bbbbbbbbbbbbbbbb'), { actor: 'test' })).toThrow(/immutable/);
    expect(reg.listPolicies()[0]!.versions).toHaveLength(1);
  });

  it('keeps one production version per policy and records what it replaced', () => {
    const reg = new Registry(openDatabase(':memory:'), fixedClock());
    reg.register(fakeExport('1.0.0', 'a'.repeat(16)), { actor: 't', stage: 'production' });
    reg.register(fakeExport('1.1.0', 'b'.repeat(16)), { actor: 't' });
    const { version, replaced } = reg.setStage('cartpole-balance', '1.1.0', 'production', { actor: 'ops', reason: 'better' });
    expect(version.stage).toBe('production');
    expect(version.productionSince).not.toBeNull();
    expect(replaced?.label).toBe('1.0.0');
    const [p] = reg.listPolicies();
    expect(p!.productionLabel).toBe('1.1.0');
    expect(p!.versions.filter((v) => v.stage === 'production')).toHaveLength(1);
    expect(reg.resolve('cartpole-balance@production').label).toBe('1.1.0');
    expect(reg.resolve('cartpole-balance@1.0.0').stage).toBe('staging');
  });

  it('explains bad references', () => {
    const reg = new Registry(openDatabase(':memory:'), fixedClock());
    expect(() => reg.resolve('nope')).toThrow(/policy@label/);
    expect(() => reg.resolve('cartpole-balance@production')).toThrow(/no production version/);
    expect(() => reg.getVersion('cartpole-balance', '9.9.9')).toThrow(/No version cartpole-balance@9.9.9/);
  });

  it('keeps the audit log append-only', () => {
    const db = openDatabase(':memory:');
    const reg = new Registry(db, fixedClock());
    reg.register(fakeExport('1.0.0', 'a'.repeat(16)), { actor: 't' });
    expect(() => db.prepare('DELETE FROM audit_log').run()).toThrow(/append-only/);
    expect(() => db.prepare("UPDATE audit_log SET actor = 'x'").run()).toThrow(/append-only/);
  });

  it('refuses a database from a newer schema and leaves it untouched', () => {
    const path = tmpDb();
    const raw = new Database(path);
    raw.pragma(`user_version = ${LATEST_SCHEMA_VERSION + 5}`);
    raw.close();
    const before = readFileSync(path);
    expect(() => openDatabase(path)).toThrow(expect.objectContaining({ code: 'SWY_ERR_STORE_NEWER_SCHEMA' }));
    expect(readFileSync(path).equals(before)).toBe(true);
  });

  it('refuses a file that is not a database and leaves it untouched', () => {
    const path = tmpDb();
    writeFileSync(path, Buffer.from('this is not sqlite at all, just some bytes '.repeat(200)));
    const before = readFileSync(path);
    expect(() => openDatabase(path)).toThrow(expect.objectContaining({ code: 'SWY_ERR_STORE_CORRUPT' }));
    expect(readFileSync(path).equals(before)).toBe(true);
  });
});
