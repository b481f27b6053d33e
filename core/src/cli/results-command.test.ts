/**
 * Per-case results out of the store: `eval --json` lists every case, `switchyard results RUN_ID`
 * exports a stored run as JSONL or CSV, row for row what the store holds.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDemoSuite } from '../eval/demo-suite.js';
import { suiteToJsonl } from '../eval/suite.js';
import { fixedClock } from '../platform/clock.js';
import { openDatabase } from '../store/database.js';
import { EvalStore, type StoredResult } from '../store/eval-store.js';
import { runCli } from '../../test-support/cli-process.js';
import { createDemoEngine } from '../../test-support/demo-engine.js';

let dir: string;
let store: string;
let suiteFile: string;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  const demo = await createDemoEngine();
  ({ dir, cleanup } = demo);
  store = join(dir, 'store.db');
  await demo.engine.buildDemo();
  await demo.engine.close();
  // A small suite keeps the test quick; its cases are the demo's own (every slice is there).
  const suite = buildDemoSuite();
  suiteFile = join(dir, 'small.jsonl');
  writeFileSync(suiteFile, suiteToJsonl({ ...suite, name: 'cartpole-small', cases: suite.cases.slice(0, 24) }));
});

afterAll(async () => {
  await cleanup();
});

function storedResults(runId: number): StoredResult[] {
  const db = openDatabase(store);
  try {
    return new EvalStore(db, fixedClock()).results(runId);
  } finally {
    db.close();
  }
}

interface CaseJson {
  id: string;
  slices: string[];
  pass: boolean;
  graders: { name: string; pass: boolean | null; value: number | null }[];
  score: number | null;
  latencyMs: number | null;
}

describe('per-case results', () => {
  let runId = 0;

  it('eval --json lists every case with slices, pass, grader results, score and latency', () => {
    const r = runCli(['eval', 'cartpole-balance@1.0.0', '--suite', suiteFile, '--reruns', '0', '--json', '--store', store]);
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { runId: number; cases: CaseJson[]; passed: number };
    runId = out.runId;
    expect(out.cases).toHaveLength(24);
    expect(out.cases.filter((c) => c.pass)).toHaveLength(out.passed);
    const stored = storedResults(runId);
    expect(out.cases.map((c) => [c.id, c.slices, c.pass, c.graders, c.score])).toEqual(stored.map((s) => [s.caseId, s.slices, s.pass, s.graders, s.score]));
    for (const c of out.cases) {
      expect(c.graders.length).toBeGreaterThan(0);
      expect(c.latencyMs).toBeGreaterThanOrEqual(0);
    }
  });

  it('results RUN_ID --format jsonl gives the stored rows; --format csv the same cases with a column per grader', () => {
    expect(runId).toBeGreaterThan(0);
    const stored = storedResults(runId);
    const jsonl = runCli(['results', String(runId), '--format', 'jsonl', '--store', store]);
    expect(jsonl.status, jsonl.stderr).toBe(0);
    const rows = jsonl.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as CaseJson);
    expect(rows.map((c) => [c.id, c.slices, c.pass, c.graders, c.score, c.latencyMs])).toEqual(stored.map((s) => [s.caseId, s.slices, s.pass, s.graders, s.score, s.latencyMs]));

    const out = join(dir, 'run.csv');
    const csv = runCli(['results', String(runId), '--format', 'csv', '--output', out, '--store', store]);
    expect(csv.status, csv.stderr).toBe(0);
    expect(csv.stderr).toContain(`Wrote 24 cases of run #${runId}`);
    const lines = readFileSync(out, 'utf8').trimEnd().split('\r\n');
    const header = lines[0]!.split(',');
    expect(header.slice(0, 3)).toEqual(['case_id', 'slices', 'pass']);
    for (const g of stored[0]!.graders) expect(header).toContain(`grader.${g.name}.pass`);
    expect(lines.slice(1).map((l) => l.split(',')[0])).toEqual(stored.map((s) => s.caseId));
    expect(lines.slice(1).map((l) => l.split(',')[2])).toEqual(stored.map((s) => String(s.pass)));
  });

  it('an unknown run or a bad id is refused with the code and what to do', () => {
    const missing = runCli(['results', '99999', '--store', store]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('No evaluation run 99999');
    expect(missing.stderr).toContain('SWY_ERR_NOT_FOUND');
    const bad = runCli(['results', 'abc', '--store', store]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('RUN_ID must be a whole number');
    const fmt = runCli(['results', '1', '--format', 'xml', '--store', store]);
    expect(fmt.status).not.toBe(0);
    expect(fmt.stderr).toContain('xml');
  });
});
