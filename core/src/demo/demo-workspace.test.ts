import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixedClock } from '../platform/clock.js';
import { dumpStore } from '../../test-support/fault-fixtures.js';
import { openDatabase } from '../store/database.js';
import { Registry } from '../store/registry.js';
import { buildDemoWorkspace } from './demo-workspace.js';

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'swy-demo-ws-'));
});
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('buildDemoWorkspace', () => {
  it('registers every demo version with a passing doctor report, 1.0.0 in production; a second run changes nothing', async () => {
    const db = openDatabase(join(root, 'store.db'));
    const registry = new Registry(db, fixedClock());
    const first = await buildDemoWorkspace({ registry, dir: join(root, 'demo') });
    expect(first.production).toBe('cartpole-balance@1.0.0');
    expect(first.registered.map((r) => [r.ref, r.created, r.doctor])).toEqual([
      ['cartpole-balance@1.0.0', true, 'ok'],
      ['cartpole-balance@1.1.0', true, 'ok'],
      ['cartpole-balance@1.2.0', true, 'ok'],
      ['cartpole-balance@2.0.0-iter', true, 'ok'],
    ]);
    for (const label of ['1.0.0', '1.1.0', '1.2.0', '2.0.0-iter']) {
      const report = registry.getDoctorReport('cartpole-balance', label) as { ok: boolean; device: string; provider: string; modelVersion: string; latency: { runs: number } };
      expect(report).toMatchObject({ ok: true, device: 'cpu', provider: 'cpu', latency: { runs: 20 } });
      expect(report.modelVersion).toBe(registry.find('cartpole-balance', label)!.modelVersion);
    }
    expect(registry.status('cartpole-balance')[0]!.production?.doctorStatus).toBe('ok');
    const dump = dumpStore(db);
    const again = await buildDemoWorkspace({ registry, dir: join(root, 'demo') });
    expect(again.registered.every((r) => !r.created && r.doctor === 'ok')).toBe(true);
    expect(dumpStore(db)).toBe(dump);
    db.close();
  });

  it('can skip doctor (versions stay unchecked) and check them on a later run', async () => {
    const db = openDatabase(':memory:');
    const registry = new Registry(db, fixedClock());
    const quick = await buildDemoWorkspace({ registry, dir: join(root, 'demo2'), doctor: false });
    expect(quick.registered.map((r) => r.doctor)).toEqual(['unknown', 'unknown', 'unknown', 'unknown']);
    const checked = await buildDemoWorkspace({ registry, dir: join(root, 'demo2'), doctor: { runs: 5 } });
    expect(checked.registered.map((r) => [r.created, r.doctor])).toEqual(Array(4).fill([false, 'ok']));
    expect(registry.getDoctorReport('cartpole-balance', '1.1.0')).toMatchObject({ latency: { runs: 5 } });
    db.close();
  });
});
