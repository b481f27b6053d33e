/**
 * `switchyard import-results`, `gate` and `eval`, spawned from source on a store with the demo
 * workspace: exit codes (gate: 0 GO, 1 NO-GO, 2 INCONCLUSIVE, 3 error), tables and --json.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../platform/clock.js';
import { openDatabase } from '../store/database.js';
import { EvalStore } from '../store/eval-store.js';
import { buildDemoSuite } from '../eval/demo-suite.js';
import { suiteToJsonl } from '../eval/suite.js';
import { runCli, startCli } from '../../test-support/cli-process.js';
import { createDemoEngine } from '../../test-support/demo-engine.js';

const assets = join(import.meta.dirname, '..', '..', '..', 'assets');
const sample = join(assets, 'samples', 'imported-results.jsonl');
const triageRules = join(assets, 'samples', 'triage-rules.yaml');
let dir: string;
let store: string;
let suiteFile: string;
let c2s: string;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  const demo = await createDemoEngine();
  ({ dir, cleanup } = demo);
  store = join(dir, 'store.db');
  const built = await demo.engine.buildDemo();
  suiteFile = built.suite.path;
  c2s = built.rules[0]!;
  await demo.engine.close();
});

afterAll(async () => {
  await cleanup();
});

function write(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

function runCount(): number {
  const db = openDatabase(store);
  try {
    return new EvalStore(db, fixedClock()).listRuns().length;
  } finally {
    db.close();
  }
}

describe('switchyard import-results', () => {
  it('a file with broken lines is rejected with every line number, exit 1, nothing written', () => {
    const bad = write('bad.jsonl', ['{"suite":"s","version":"p@1","case_id":"a","slices":["x"],"pass":true,"graders":{}}', '{"suite":"s","version":"p@1","case_id":"b","slices":["x"],"pass":"yes","graders":{}}', 'not json'].join('\n'));
    const r = runCli(['import-results', bad, '--store', store]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`cannot import ${bad}; nothing was written. 2 problems:`);
    expect(r.stderr).toContain(`${bad}:2: pass`);
    expect(r.stderr).toMatch(new RegExp(`${bad}:3:\\d+: line 3 is not valid JSON`));
    expect(runCount()).toBe(0);
  });

  it('imports the sample: runs created and external versions created', () => {
    const r = runCli(['import-results', sample, '--store', store]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/triage-eval-v1\s+triage-llm@1\.0\.0\s+40\s+31\s+yes/);
    expect(r.stdout).toMatch(/triage-eval-v1\s+triage-llm@1\.1\.0\s+40\s+37\s+yes/);
    expect(r.stdout).toContain('Imported 80 results from');
    expect(r.stdout).toContain('External versions created: triage-llm@1.0.0, triage-llm@1.1.0.');
    expect(runCount()).toBe(2);
  });
});

describe('switchyard gate exit codes', () => {
  it('1 for NO-GO, with the rule table, the summary and the failing case ids', () => {
    const r = runCli(['gate', '--rules', triageRules, '--candidate', 'triage-llm@1.1.0', '--store', store]);
    expect(r.status, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/rule\s+observed\s+interval\s+threshold\s+result/);
    expect(r.stdout).toMatch(/aggregate\.non_inferior\s+0\.150\s+\[-0\.\d{3}, 0\.\d{3}\]\s+lower >= -0\.050\s+PASS/);
    expect(r.stdout).toMatch(/slices\.safety\.no_regression\s+1\s+—\s+0 new failures\s+FAIL/);
    expect(r.stdout).toContain('NO-GO: slices.safety.no_regression failed: 1 case passed on the baseline and fails on the candidate (headache-09), of 12 paired');
    expect(r.stdout).toContain('Failing cases: headache-09');
  });

  it('0 for GO and 2 for INCONCLUSIVE; --json prints the verdict with its evidence', () => {
    const goRules = write('triage-go.yaml', 'transition: candidate->staging\nsuite: triage-eval-v1\nbaseline: triage-llm@1.0.0\nmin_cases: 10\naggregate: { non_inferior: { margin: 0.05 } }\n');
    const go = runCli(['gate', '--rules', goRules, '--candidate', 'triage-llm@1.1.0', '--store', store, '--json']);
    expect(go.status, go.stderr).toBe(0);
    const v = JSON.parse(go.stdout) as { ok: boolean; verdict: string; summary: string; rules: { id: string; pass: boolean }[]; baseline: { version: string } };
    expect(v).toMatchObject({ ok: true, verdict: 'GO', summary: 'GO: all 1 rule passed', baseline: { version: 'triage-llm@1.0.0' } });
    expect(v.rules).toEqual([expect.objectContaining({ id: 'aggregate.non_inferior', pass: true })]);

    const fewRules = write('triage-few.yaml', 'transition: candidate->staging\nsuite: triage-eval-v1\nbaseline: triage-llm@1.0.0\nmin_cases: 50\naggregate: { min_pass_rate: 0.5 }\n');
    const few = runCli(['gate', '--rules', fewRules, '--candidate', 'triage-llm@1.1.0', '--store', store]);
    expect(few.status, few.stderr).toBe(2);
    expect(few.stdout).toContain('INCONCLUSIVE: aggregate.min_pass_rate: not enough data: 40 cases in all cases, fewer than min_cases 50');
  });

  it('3 for a malformed rules file (with line and column) and for a usage error', () => {
    const bad = write('bad.yaml', 'transition: candidate->staging\nsuite: triage-eval-v1\nbaseline: triage-llm@1.0.0\nslices:\n  safety: { max_fail_rat: 0.0 }\n');
    const r = runCli(['gate', '--rules', bad, '--candidate', 'triage-llm@1.1.0', '--store', store]);
    expect(r.status).toBe(3);
    expect(r.stderr).toContain(`[${bad}:5:13] (SWY_ERR_INVALID_INPUT)`);
    expect(r.stderr).toContain('Did you mean `max_fail_rate`?');
    const usage = runCli(['gate', '--rules', bad, '--store', store]);
    expect(usage.status).toBe(3);
    expect(usage.stderr).toMatch(/required option '--candidate <VERSION>' not specified/);
    const json = runCli(['gate', '--rules', join(dir, 'missing.yaml'), '--candidate', 'triage-llm@1.1.0', '--store', store, '--json']);
    expect(json.status).toBe(3);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, error: { code: 'SWY_ERR_NOT_FOUND' } });
  });
});

describe('switchyard eval and a full gate on the demo', () => {
  it('eval prints a per-slice table; the gate then evaluates what is missing and says GO', () => {
    const e = runCli(['eval', 'cartpole-balance@2.0.0-iter', '--suite', suiteFile, '--reruns', '0', '--store', store]);
    expect(e.status, e.stderr).toBe(0);
    expect(e.stdout).toMatch(/cartpole-balance@2\.0\.0-iter \(cartpole-iter-chunk4@[0-9a-f]{16}\) on suite cartpole-frozen-v1 \([0-9a-f]{12}\): run #\d+ completed/);
    expect(e.stdout).toMatch(/slice\s+n\s+passed\s+pass rate\s+95% Wilson interval/);
    expect(e.stdout).toMatch(/safety\s+50\s+50\s+100\.0%\s+\[92\.9, 100\.0\]/);
    expect(e.stdout).toContain('300 of 300 cases passed');
    expect(e.stdout).toContain('Determinism: not checked');
    // Plain progress lines elsewhere than a terminal.
    expect(e.stderr).toMatch(/eval cartpole-balance@2\.0\.0-iter on cartpole-frozen-v1 \(run #\d+\) \[#+\] 300\/300 100%/);

    // The stored run has no determinism re-run, so the gate evaluates the candidate again (with
    // it) and the production baseline, which has no run yet.
    const g = runCli(['gate', '--rules', c2s, '--candidate', 'cartpole-balance@2.0.0-iter', '--store', store, '--json']);
    expect(g.status, g.stderr).toBe(0);
    const v = JSON.parse(g.stdout) as { verdict: string; summary: string; candidate: { evaluated: boolean }; baseline: { version: string; evaluated: boolean } };
    expect(v).toMatchObject({ verdict: 'GO', summary: 'GO: all 9 rules passed', candidate: { evaluated: true }, baseline: { version: 'cartpole-balance@1.0.0', evaluated: true } });
  });

  it('eval of an external version fails with exit 1 and says why', () => {
    const r = runCli(['eval', 'triage-llm@1.1.0', '--suite', suiteFile, '--store', store]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/triage-llm@1\.1\.0 is an external version: it has no model for Switchyard to run/);
  });
});

describe('switchyard eval, interrupted', () => {
  it('Ctrl-C cancels: exit 130, the finished cases are kept in a run labelled cancelled', async () => {
    // A long suite (3000 cart-pole cases of 200 to 4000 steps) so that there is time to interrupt it.
    const demo = buildDemoSuite();
    const cases = Array.from({ length: 3000 }, (_, i) => ({ ...demo.cases[i % demo.cases.length]!, id: `long-${i}`, params: { ...demo.cases[i % demo.cases.length]!.params, max_steps: 200 + (i % 20) * 200 } }));
    const file = write('long.jsonl', suiteToJsonl({ ...demo, name: 'cartpole-long', cases }));
    const cli = startCli(['eval', 'cartpole-balance@1.0.0', '--suite', file, '--reruns', '0', '--store', store]);
    await cli.waitFor(/eval cartpole-balance@1\.0\.0 on cartpole-long \(run #\d+\) \[#+-*\] \d+\/3000\s+[1-9]\d%/);
    cli.child.kill('SIGINT');
    expect(await cli.exited).toEqual({ code: 130, signal: null });
    const out = cli.output();
    const m = /Cancelled\. Run #(\d+) keeps the (\d+) finished cases, labelled cancelled/.exec(out);
    expect(m, out).not.toBeNull();
    const kept = Number(m![2]);
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(3000);
    expect(out).toMatch(/Partial results \(cancelled\): \d+ of 3000 cases finished/);
    const db = openDatabase(store);
    try {
      const es = new EvalStore(db, fixedClock());
      expect(es.getRun(Number(m![1]))).toMatchObject({ status: 'cancelled', casesTotal: 3000, casesDone: kept });
      expect(es.results(Number(m![1]))).toHaveLength(kept);
    } finally {
      db.close();
    }
  });
});
