/**
 * Reliability: child processes promote and roll back in a tight loop on one real store file and
 * are killed with SIGKILL at random moments (a seeded sequence, so a failure can be replayed).
 * After every kill: every change a child acknowledged is in the stage history, nothing
 * half-written is (one production version at most per policy, every version's history is one
 * unbroken chain ending at its current stage, every lifecycle row has its audit entry and the
 * other way round), and `PRAGMA integrity_check` is ok. Two lanes run at once, on two policies
 * of the same store, so the kills also land while another process holds the write lock.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../platform/clock.js';
import type { PolicyExport } from '../runtime/types.js';
import { openDatabase } from '../store/database.js';
import { Registry } from '../store/registry.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const CHURN = join(ROOT, 'core', 'test-support', 'lifecycle-churn.ts');
const LANES = 2;
const KILLS_PER_LANE = 15;

let dir: string;
let store: string;

function fakeExport(policy: string, label: string, i: number): PolicyExport {
  const hash = (i.toString(16) + policy.length.toString(16)).padEnd(16, 'a');
  return {
    dir: `/exports/${policy}-${label}`,
    manifest: { policy, version: label, model_id: policy, kind: 'direct', observation: { name: 'obs', dim: 4 }, action: { name: 'action', dim: 1, chunk: 1 } },
    modelHash: hash,
    modelVersion: `${policy}@${hash}`,
    sizeBytes: 1,
    files: [],
    modelPath: `/exports/${policy}-${label}/policy.onnx`,
  };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'swy-kill-'));
  store = join(dir, 'store.db');
  const db = openDatabase(store);
  const reg = new Registry(db, systemClock);
  for (let lane = 0; lane < LANES; lane++) {
    for (let i = 0; i < 6; i++) {
      const stage = i === 0 ? 'production' : i < 5 ? 'staging' : 'candidate';
      reg.register(fakeExport(`churn-${lane}`, `1.${i}.0`, i), { actor: 'setup', stage });
    }
  }
  db.close();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Ack {
  action: string;
  versionId: number;
  stage: string;
  historyIds: number[];
}

/** Seeded delays: the same test run kills at the same offsets. */
function delays(seed: number, n: number): number[] {
  let s = seed;
  return Array.from({ length: n }, () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s % 140;
  });
}

/** One child: start, wait for `ready`, let it churn `delayMs`, SIGKILL it; its complete ack lines. */
function churnAndKill(policy: string, seed: number, delayMs: number): Promise<{ acks: Ack[]; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHURN, store, policy, String(seed)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let killTimer: NodeJS.Timeout | null = null;
    const guard = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      if (killTimer === null && out.startsWith('ready\n')) killTimer = setTimeout(() => child.kill('SIGKILL'), delayMs);
    });
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    child.on('error', reject);
    child.on('exit', (_code, signal) => {
      clearTimeout(guard);
      if (killTimer) clearTimeout(killTimer);
      // Only complete lines count: a line cut by the kill was never an acknowledgement.
      const lines = out.split('\n').slice(0, -1).filter((l) => l.startsWith('ack '));
      const acks = lines.map((l) => {
        const [, action, id, stage, ids] = l.split(' ');
        return { action: action!, versionId: Number(id), stage: stage!, historyIds: ids!.split(',').map(Number) };
      });
      resolve({ acks, signal, stderr: err });
    });
  });
}

function checkStore(acked: Ack[]): { historyRows: number } {
  const db = openDatabase(store); // refuses a store that fails integrity_check
  try {
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    // Every acknowledged change is there, as acknowledged.
    const byId = db.prepare<[number], { version_id: number; to_stage: string; action: string }>('SELECT version_id, to_stage, action FROM stage_history WHERE id = ?');
    for (const a of acked) {
      const own = byId.get(a.historyIds.at(-1)!);
      expect(own, `acknowledged ${JSON.stringify(a)}`).toEqual({ version_id: a.versionId, to_stage: a.stage, action: a.action });
      for (const id of a.historyIds) expect(byId.get(id)).toBeDefined();
    }
    // At most one production version per policy.
    const prods = db.prepare<[], { policy: string; n: number }>("SELECT policy, COUNT(*) AS n FROM versions WHERE stage = 'production' GROUP BY policy").all();
    for (const p of prods) expect(p.n, p.policy).toBe(1);
    // Each version's history is one unbroken chain that ends at its current stage.
    const versions = db.prepare<[], { id: number; stage: string }>('SELECT id, stage FROM versions').all();
    const chain = db.prepare<[number], { from_stage: string | null; to_stage: string }>('SELECT from_stage, to_stage FROM stage_history WHERE version_id = ? ORDER BY id');
    for (const v of versions) {
      const rows = chain.all(v.id);
      expect(rows[0]!.from_stage).toBeNull();
      for (let i = 1; i < rows.length; i++) expect(rows[i]!.from_stage, `version ${v.id} row ${i}`).toBe(rows[i - 1]!.to_stage);
      expect(rows.at(-1)!.to_stage, `version ${v.id}`).toBe(v.stage);
    }
    // Lifecycle rows and audit entries were written together or not at all.
    const lifecycleRows = db.prepare<[], { id: number }>("SELECT id FROM stage_history WHERE action IN ('promote', 'rollback', 'archive') ORDER BY id").all().map((r) => r.id);
    const audited = db
      .prepare<[], { detail: string }>("SELECT detail FROM audit_log WHERE action IN ('promote', 'rollback', 'archive')")
      .all()
      .flatMap((r) => (JSON.parse(r.detail) as { historyIds: number[] }).historyIds)
      .sort((x, y) => x - y);
    expect(audited).toEqual(lifecycleRows);
    return { historyRows: lifecycleRows.length };
  } finally {
    db.close();
  }
}

describe('SIGKILL during promote and rollback', () => {
  it(`${LANES * KILLS_PER_LANE} kills at random moments: every acknowledged change survives, nothing half-written, integrity ok`, async () => {
    const acked: Ack[] = [];
    const perLane = Array.from({ length: LANES }, (_, lane) => delays(lane + 7, KILLS_PER_LANE));
    let killedWhileRunning = 0;
    for (let round = 0; round < KILLS_PER_LANE; round++) {
      const results = await Promise.all(perLane.map((d, lane) => churnAndKill(`churn-${lane}`, 1000 * lane + round + 1, d[round]!)));
      for (const r of results) {
        expect(r.stderr).toBe('');
        expect(r.signal).toBe('SIGKILL');
        acked.push(...r.acks);
        if (r.acks.length > 0) killedWhileRunning++;
      }
      checkStore(acked);
    }
    const { historyRows } = checkStore(acked);
    // The loop did real work: many acknowledged changes, kills that landed mid-churn.
    expect(acked.length).toBeGreaterThan(LANES * KILLS_PER_LANE * 3);
    expect(killedWhileRunning).toBeGreaterThan(LANES * KILLS_PER_LANE * 0.6);
    expect(historyRows).toBeGreaterThanOrEqual(acked.reduce((n, a) => n + a.historyIds.length, 0));
  }, 600_000); // 30 child processes through tsx: minutes on a loaded 2-core machine (a hang detector, not a speed check)
});
