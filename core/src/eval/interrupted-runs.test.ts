import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { fixedClock } from '../platform/clock.js';
import { openDatabase } from '../store/database.js';
import { EvalStore } from '../store/eval-store.js';
import { failInterruptedRuns, runOwner } from './interrupted-runs.js';

function setup() {
  const db = openDatabase(':memory:');
  const store = new EvalStore(db, fixedClock());
  db.prepare("INSERT INTO policies (name, created_at) VALUES ('p', 'now')").run();
  db.prepare(
    "INSERT INTO versions (id, policy, label, model_id, model_hash, kind, stage, manifest_json, size_bytes, files_json, export_path, registered_at) VALUES (1, 'p', '1', 'm', 'h', 'external', 'candidate', '{}', 0, '[]', NULL, 'now')",
  ).run();
  store.upsertSuiteRow({ fingerprint: 'f'.repeat(64), name: 's', environment: 'external', envVersion: 'external', path: null, caseCount: 1, slices: {} });
  const start = (stats?: Record<string, unknown>) => store.startRun({ versionId: 1, suiteFingerprint: 'f'.repeat(64), casesTotal: 1, ...(stats ? { stats } : {}) });
  return { db, store, start };
}

describe('failInterruptedRuns', () => {
  it('closes runs of dead or unknown owners as failed, and leaves a live process\'s run running', () => {
    const { store, start } = setup();
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const deadPid = Number(dead.stdout);
    const noOwner = start();
    const deadOwner = start({ pid: deadPid, host: hostname() });
    const liveOwner = start({ pid: process.ppid, host: hostname() });
    const otherHost = start({ pid: process.ppid, host: `${hostname()}-elsewhere` });
    const mine = start(runOwner()); // this very process is starting up: a run in its name is an orphan
    store.appendResults(deadOwner, [{ caseId: 'a', slices: [], pass: true, graders: [] }]);

    expect(failInterruptedRuns(store).sort((a, b) => a - b)).toEqual([noOwner, deadOwner, otherHost, mine]);
    expect(store.getRun(liveOwner)!.status).toBe('running');
    const closed = store.getRun(deadOwner)!;
    expect(closed).toMatchObject({ status: 'failed', error: { message: 'Switchyard stopped while this evaluation was running.' } });
    expect(store.results(deadOwner)).toEqual([expect.objectContaining({ caseId: 'a', pass: false, partial: true })]);
    expect(failInterruptedRuns(store)).toEqual([]);
  });
});
