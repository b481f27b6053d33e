import { describe, expect, it } from 'vitest';
import { ErrorCodes, SwitchyardError } from '../contract/index.js';
import { fixedClock } from '../platform/clock.js';
import type { PolicyExport } from '../runtime/types.js';
import { openDatabase } from './database.js';
import { Registry } from './registry.js';
import { isStoreAccessError, translateStoreError } from './store-errors.js';

function fakeExport(label: string, hash: string, policy = 'cartpole-balance'): PolicyExport {
  return {
    dir: `/exports/${policy}-${label}`,
    manifest: {
      policy,
      version: label,
      model_id: 'cartpole-lqr',
      kind: 'direct',
      observation: { name: 'obs', dim: 4 },
      action: { name: 'action', dim: 1, chunk: 1 },
    },
    modelHash: hash,
    modelVersion: `cartpole-lqr@${hash}`,
    sizeBytes: 321,
    files: [{ name: 'policy.onnx', bytes: 321 }],
    modelPath: `/exports/${policy}-${label}/policy.onnx`,
  };
}

const h = (c: string) => c.repeat(16);

describe('Registry: doctor reports', () => {
  it('stores the doctor report with the version in the same write', () => {
    const reg = new Registry(openDatabase(':memory:'), fixedClock());
    const report = { ok: true, modelVersion: `cartpole-lqr@${h('a')}`, latency: { p50Ms: 0.1 } };
    const r = reg.register(fakeExport('1.0.0', h('a')), { actor: 't', doctor: report });
    expect(r.version.doctorStatus).toBe('ok');
    expect(reg.getDoctorReport('cartpole-balance', '1.0.0')).toEqual(report);
    const plain = reg.register(fakeExport('1.1.0', h('b')), { actor: 't' });
    expect(plain.version.doctorStatus).toBe('unknown');
    expect(reg.getDoctorReport('cartpole-balance', '1.1.0')).toBeNull();
  });

  it('refreshes the report when identical files are registered again, and nothing else', () => {
    const db = openDatabase(':memory:');
    const reg = new Registry(db, fixedClock());
    const first = { ok: true, run: 1 };
    const second = { ok: true, run: 2 };
    reg.register(fakeExport('1.0.0', h('a')), { actor: 't', doctor: first });
    const auditBefore = db.prepare('SELECT COUNT(*) AS n FROM audit_log').get();
    const again = reg.register(fakeExport('1.0.0', h('a')), { actor: 't', doctor: second });
    expect(again.created).toBe(false);
    expect(reg.getDoctorReport('cartpole-balance', '1.0.0')).toEqual({ ok: true, run: 2 });
    expect(db.prepare('SELECT COUNT(*) AS n FROM audit_log').get()).toEqual(auditBefore);
    expect(reg.listPolicies()[0]!.versions).toHaveLength(1);
  });

  it('setDoctor records a later check', () => {
    const reg = new Registry(openDatabase(':memory:'), fixedClock());
    reg.register(fakeExport('1.0.0', h('a')), { actor: 't' });
    reg.setDoctor('cartpole-balance', '1.0.0', 'failed', { ok: false });
    expect(reg.find('cartpole-balance', '1.0.0')?.doctorStatus).toBe('failed');
    expect(reg.find('cartpole-balance', '9.9.9')).toBeNull();
  });
});

describe('Registry.status', () => {
  it('gives each policy its production version and since when, staging and candidates newest first', () => {
    const reg = new Registry(openDatabase(':memory:'), fixedClock());
    reg.register(fakeExport('1.0.0', h('a')), { actor: 't', stage: 'production', doctor: { ok: true } });
    reg.register(fakeExport('1.1.0', h('b')), { actor: 't' });
    reg.register(fakeExport('1.2.0', h('c')), { actor: 't' });
    reg.register(fakeExport('0.9.0', h('d')), { actor: 't', stage: 'staging' });
    reg.register(fakeExport('0.1.0', h('e')), { actor: 't', stage: 'archived' });
    reg.register(fakeExport('1.0.0', h('f'), 'reacher'), { actor: 't' });
    const all = reg.status();
    expect(all.map((s) => s.policy)).toEqual(['cartpole-balance', 'reacher']);
    const cp = all[0]!;
    expect(cp.production?.label).toBe('1.0.0');
    expect(cp.production?.doctorStatus).toBe('ok');
    expect(cp.productionSince).toBe(cp.production?.productionSince);
    expect(cp.productionSince).toMatch(/^2026-01-01T/);
    expect(cp.candidates.map((v) => v.label)).toEqual(['1.2.0', '1.1.0']);
    expect(cp.staging.map((v) => v.label)).toEqual(['0.9.0']);
    expect(cp.archived).toBe(1);
    const reacher = reg.status('reacher');
    expect(reacher).toHaveLength(1);
    expect([reacher[0]!.production, reacher[0]!.productionSince]).toEqual([null, null]);
    // Promotion moves "since" forward and the old production version to staging.
    reg.setStage('cartpole-balance', '1.2.0', 'production', { actor: 'ops', reason: 'GO' });
    const after = reg.status('cartpole-balance')[0]!;
    expect(after.production?.label).toBe('1.2.0');
    expect(after.productionSince! > cp.productionSince!).toBe(true);
    expect(after.staging.map((v) => v.label)).toEqual(['0.9.0', '1.0.0']); // newest registered first
  });

  it('names an unknown policy and lists the known ones', () => {
    const reg = new Registry(openDatabase(':memory:'), fixedClock());
    expect(() => reg.status('nope')).toThrow(/No policy named nope in the store\./);
    reg.register(fakeExport('1.0.0', h('a')), { actor: 't' });
    expect(() => reg.status('nope')).toThrow(expect.objectContaining({ code: ErrorCodes.SWY_ERR_NOT_FOUND, message: expect.stringMatching(/registered: cartpole-balance/) }));
    expect(reg.status()).toHaveLength(1);
  });
});

describe('Registry: rejected exports', () => {
  it('records a rejected export in the audit log without a version, once per set of files', () => {
    const db = openDatabase(':memory:');
    const reg = new Registry(db, fixedClock());
    const rec = { dir: '/watch/bad', actor: 'watch-folder', reason: 'load check failed: truncated', code: 'SWY_ERR_MODEL_LOAD', check: 'load', fingerprint: 'policy.onnx:10:1' };
    expect(reg.recordRejectedExport(rec)).toBe(true);
    expect(reg.recordRejectedExport(rec)).toBe(false);
    expect(reg.recordRejectedExport({ ...rec, fingerprint: 'policy.onnx:12:2', reason: 'still broken' })).toBe(true);
    expect(reg.recordRejectedExport({ ...rec, dir: '/watch/other' })).toBe(true);
    expect(reg.listPolicies()).toEqual([]);
    expect(db.prepare('SELECT COUNT(*) AS n FROM versions').get()).toEqual({ n: 0 });
    const bad = reg.rejectedExports('/watch/bad');
    expect(bad.map((r) => r.reason)).toEqual(['still broken', 'load check failed: truncated']);
    expect(bad[1]).toMatchObject({ actor: 'watch-folder', dir: '/watch/bad', code: 'SWY_ERR_MODEL_LOAD', check: 'load' });
    expect(reg.rejectedExports()).toHaveLength(3);
  });
});

describe('store errors', () => {
  const db = { name: '/data/store.db', pragma: () => 5000 } as unknown as Parameters<typeof translateStoreError>[1];
  const sqlite = (code: string, message = 'x') => Object.assign(new Error(message), { code });

  it('says busy, full, read-only and damaged in words, with the store path', () => {
    const cases: [string, string, RegExp][] = [
      ['SQLITE_BUSY', ErrorCodes.SWY_ERR_STORE_IO, /is busy: another process has held a write lock on it for more than 5000 ms/],
      ['SQLITE_BUSY_SNAPSHOT', ErrorCodes.SWY_ERR_STORE_IO, /is busy/],
      ['SQLITE_FULL', ErrorCodes.SWY_ERR_STORE_IO, /disk \(or the database's size limit\) is full/],
      ['SQLITE_READONLY', ErrorCodes.SWY_ERR_STORE_IO, /read-only or not accessible/],
      ['SQLITE_CANTOPEN', ErrorCodes.SWY_ERR_STORE_IO, /read-only or not accessible/],
      ['SQLITE_CORRUPT', ErrorCodes.SWY_ERR_STORE_CORRUPT, /is damaged/],
      ['SQLITE_IOERR_WRITE', ErrorCodes.SWY_ERR_STORE_IO, /Writing the store \/data\/store\.db failed/],
    ];
    for (const [code, swy, re] of cases) {
      const e = translateStoreError(sqlite(code), db) as SwitchyardError;
      expect(e, code).toBeInstanceOf(SwitchyardError);
      expect(e.code, code).toBe(swy);
      expect(e.message, code).toMatch(re);
      expect(e.message, code).toContain('/data/store.db');
      expect(e.where, code).toBe('/data/store.db');
    }
  });

  it('passes other errors through and tells access problems from damage', () => {
    const conflict = new SwitchyardError(ErrorCodes.SWY_ERR_CONFLICT, 'no');
    expect(translateStoreError(conflict, db)).toBe(conflict);
    const plain = new Error('boom');
    expect(translateStoreError(plain, db)).toBe(plain);
    expect(isStoreAccessError(sqlite('SQLITE_CANTOPEN'))).toBe(true);
    expect(isStoreAccessError(sqlite('SQLITE_IOERR_SHORT_READ'))).toBe(true);
    expect(isStoreAccessError(sqlite('SQLITE_NOTADB'))).toBe(false);
    expect(isStoreAccessError(new Error('x'))).toBe(false);
  });
});
