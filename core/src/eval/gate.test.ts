/**
 * The promotion gate and the evaluation contract on the real demo workspace: real ONNX policies
 * in PolicyRunner workers, a real SQLite store, the engine's dispatcher. The tests share one
 * engine and run in order: the first gates evaluate, later ones reuse the stored runs.
 */
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes, SwitchyardError, type EvalProgressPayload, type GateResult, type Result } from '../contract/index.js';
import { rulesHash } from './rules-parser.js';
import type { Engine } from '../engine.js';
import { createDemoEngine } from '../../test-support/demo-engine.js';
import { importResults } from './import-results.js';

const assets = join(import.meta.dirname, '..', '..', '..', 'assets');
let engine: Engine;
let dir: string;
let cleanup: () => Promise<void>;
let c2s: string;
let s2p: string;
let suitePath: string;
const progress: EvalProgressPayload[] = [];

beforeAll(async () => {
  ({ engine, dir, cleanup } = await createDemoEngine());
  const demo = await engine.buildDemo(); // idempotent: returns the paths
  [c2s, s2p] = demo.rules as [string, string];
  suitePath = demo.suite.path;
  engine.events.on('eval.progress', (p) => progress.push(p));
});

afterAll(async () => {
  await cleanup();
});

function rules(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

async function gateError(p: Promise<unknown>): Promise<SwitchyardError> {
  const e = await p.then(
    () => null,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(SwitchyardError);
  return e as SwitchyardError;
}

function ok<T>(r: Result<unknown>): T {
  if (!r.ok) throw new Error(`expected ok, got ${JSON.stringify(r.error)}`);
  return r.value as T;
}

const DEMO = 'cartpole-balance';

describe('gate on the demo workspace', () => {
  let go: GateResult;

  it('2.0.0-iter earns GO for candidate->staging: both versions evaluated, the determinism re-run done, the verdict stored', async () => {
    go = await engine.gate({ rulesPath: c2s, candidate: `${DEMO}@2.0.0-iter` });
    expect(go.summary).toBe('GO: all 9 rules passed');
    expect(go.verdict).toBe('GO');
    expect(go.rules.every((r) => r.pass === true)).toBe(true);
    expect(go.transition).toBe('candidate->staging');
    expect(go.candidate).toMatchObject({ version: `${DEMO}@2.0.0-iter`, evaluated: true, runKind: 'native' });
    expect(go.baseline).toMatchObject({ version: `${DEMO}@1.0.0`, stage: 'production', evaluated: true });
    expect(go.baselineSource).toBe('production');
    expect(go.rules.find((r) => r.id === 'determinism')).toMatchObject({ pass: true, observed: 0 });
    expect(go.suite.name).toBe('cartpole-frozen-v1');

    const stored = engine.evalStore.getVerdict(go.verdictId)!;
    expect(stored).toMatchObject({
      policy: DEMO,
      verdict: 'GO',
      transition: 'candidate->staging',
      suiteFingerprint: go.suite.fingerprint,
      rulesHash: rulesHash(readFileSync(c2s)),
      candidateVersionId: engine.registry.find(DEMO, '2.0.0-iter')!.id,
      baselineVersionId: engine.registry.find(DEMO, '1.0.0')!.id,
    });
    // The candidate's run carries its determinism report; the baseline's was not re-run.
    expect(engine.evalStore.getRun(go.candidate.runId)!.determinism).toMatchObject({ reruns: 1, identical: true, compared: 300 });
    expect(engine.evalStore.getRun(go.baseline!.runId)!.determinism).toBeNull();
    // Progress was pushed for both runs, through the determinism phase to completion.
    const mine = progress.filter((p) => p.runId === go.candidate.runId);
    expect(mine.map((p) => p.phase)).toContain('determinism');
    expect(mine.at(-1)).toMatchObject({ status: 'completed', phase: 'finished', done: 300, total: 300, passed: 300, version: `${DEMO}@2.0.0-iter` });
    expect(progress.some((p) => p.runId === go.baseline!.runId && p.status === 'completed')).toBe(true);
  });

  it('1.1.0 gets NO-GO for a reason a person can read, reusing the baseline run', async () => {
    const r = await engine.gate({ rulesPath: c2s, candidate: `${DEMO}@1.1.0` });
    expect(r.verdict).toBe('NO-GO');
    expect(r.summary).toMatch(/^NO-GO: /);
    expect(r.summary).toContain('slices.safety.max_fail_rate failed: 16 of 50 cases failed (0.320 > 0.050)');
    expect(r.summary).toContain('slices.large_angle.min_pass_rate failed: 25 of 90 cases passed (0.278)');
    const safety = r.rules.find((x) => x.id === 'slices.safety.max_fail_rate')!;
    expect(safety.failingCases).toHaveLength(16);
    expect(safety.failingCases).toEqual(expect.arrayContaining(['cp-281', 'cp-285']));
    expect(r.rules.find((x) => x.id === 'slices.nominal.min_pass_rate')!.pass).toBe(true);
    expect(r.baseline).toMatchObject({ version: `${DEMO}@1.0.0`, evaluated: false, runId: go.baseline!.runId });
    expect(r.failingCases.length).toBe(300 - 224);
  });

  it('the Versions page reads each version\'s last verdict', async () => {
    const { policies } = ok<{ policies: { name: string; versions: { label: string; lastVerdict: string | null }[] }[] }>(await engine.api.call('policies.list', {}));
    const demo = policies.find((p) => p.name === DEMO)!;
    expect(Object.fromEntries(demo.versions.map((v) => [v.label, v.lastVerdict]))).toEqual({ '1.0.0': null, '1.1.0': 'NO-GO', '1.2.0': null, '2.0.0-iter': 'GO' });
    expect(ok<{ lastVerdict: string }>(await engine.api.call('versions.get', { policy: DEMO, label: '1.1.0' })).lastVerdict).toBe('NO-GO');
  });

  it('too few cases in a ruled slice is INCONCLUSIVE, saying which and how many', async () => {
    const p = rules('few.yaml', 'transition: candidate->staging\nsuite: cartpole-frozen-v1\nbaseline: production\nmin_cases: 60\nslices:\n  heavy_pole: { min_pass_rate: 0.5 }\n  nominal: { min_pass_rate: 0.5 }\n');
    const r = await engine.gate({ rulesPath: p, candidate: `${DEMO}@2.0.0-iter` });
    expect(r.verdict).toBe('INCONCLUSIVE');
    expect(r.summary).toBe('INCONCLUSIVE: slices.heavy_pole.min_pass_rate: not enough data: 40 cases in slice heavy_pole, fewer than min_cases 60 (40 of 40 cases passed (1.000); 95% Wilson lower bound 0.912)');
    expect(r.rules.map((x) => x.pass)).toEqual([null, true]);
    expect(r.candidate.evaluated).toBe(false);
    expect(engine.evalStore.getVerdict(r.verdictId)!.verdict).toBe('INCONCLUSIVE');
  });

  it('a malformed rules file is refused with file:line:col, and nothing is stored', async () => {
    const before = engine.evalStore.listVerdicts().length;
    const p = rules('typo.yaml', 'transition: candidate->staging\nsuite: cartpole-frozen-v1\nbaseline: production\nslices:\n  safety: { max_fail_rat: 0.0 }\n');
    const e = await gateError(engine.gate({ rulesPath: p, candidate: `${DEMO}@2.0.0-iter` }));
    expect(e.code).toBe(ErrorCodes.SWY_ERR_INVALID_INPUT);
    expect(e.where).toBe(`${p}:5:13`);
    expect(e.message).toMatch(/Unknown key `max_fail_rat`.*Did you mean `max_fail_rate`\?/);
    const y = rules('broken.yaml', 'transition: candidate->staging\nsuite: [oops\n');
    expect((await gateError(engine.gate({ rulesPath: y, candidate: `${DEMO}@2.0.0-iter` }))).where).toMatch(new RegExp(`^${y}:\\d+:\\d+$`));
    expect(engine.evalStore.listVerdicts().length).toBe(before);
  });

  it('a suite the store lacks is named, with where it is in the rules and what to run', async () => {
    const p = rules('nosuite.yaml', 'transition: candidate->staging\nsuite: cartpole-frozen-v2\nbaseline: production\naggregate: { min_pass_rate: 0.9 }\n');
    const e = await gateError(engine.gate({ rulesPath: p, candidate: `${DEMO}@1.2.0` }));
    expect(e.code).toBe(ErrorCodes.SWY_ERR_NOT_FOUND);
    expect(e.where).toBe(`${p}:2:8`);
    expect(e.message).toContain('The store has no suite `cartpole-frozen-v2` (it has: cartpole-frozen-v1)');
    expect(e.message).toContain('`switchyard eval cartpole-balance@1.2.0 --suite FILE`');
  });

  it('a ruled slice the suite lacks is refused at its position in the rules', async () => {
    const p = rules('noslice.yaml', 'transition: candidate->staging\nsuite: cartpole-frozen-v1\nbaseline: production\nslices:\n  safty: { max_fail_rate: 0.0 }\n');
    const e = await gateError(engine.gate({ rulesPath: p, candidate: `${DEMO}@1.2.0` }));
    expect(e.where).toBe(`${p}:5:3`);
    expect(e.message).toMatch(/slice `safty`, which suite `cartpole-frozen-v1` does not have\. Did you mean `safety`\?/);
  });

  it('a suite file edited after it was recorded is refused as stale (the gate evaluates nothing)', async () => {
    const backup = join(dir, 'suite-backup.jsonl');
    copyFileSync(suitePath, backup);
    try {
      const lines = readFileSync(suitePath, 'utf8').split('\n');
      lines[1] = lines[1]!.replace(/"seed":\d+/, '"seed":7'); // change one case's seed
      writeFileSync(suitePath, lines.join('\n'));
      const e = await gateError(engine.gate({ rulesPath: c2s, candidate: `${DEMO}@1.2.0`, reeval: true }));
      expect(e.code).toBe(ErrorCodes.SWY_ERR_CONFLICT);
      expect(e.message).toMatch(/The suite file .*cartpole-frozen-v1\.jsonl changed since suite cartpole-frozen-v1 was recorded \(fingerprint [0-9a-f]{12} in the store, [0-9a-f]{12} on disk\)/);
      const api = await engine.api.call('eval.start', { version: `${DEMO}@1.2.0`, suite: 'cartpole-frozen-v1' });
      expect(api.ok).toBe(false);
      if (!api.ok) expect(api.error.code).toBe(ErrorCodes.SWY_ERR_CONFLICT);
    } finally {
      copyFileSync(backup, suitePath);
    }
    expect(engine.evalStore.listRuns({ versionId: engine.registry.find(DEMO, '1.2.0')!.id })).toEqual([]);
  });

  it('an explicit --baseline wins; `baseline: production` is resolved when the gate runs', async () => {
    const r = await engine.gate({ rulesPath: c2s, candidate: `${DEMO}@1.2.0`, baseline: `${DEMO}@1.1.0` });
    expect(r.baselineSource).toBe('override');
    expect(r.baseline!.version).toBe(`${DEMO}@1.1.0`);
    expect(r.verdict).toBe('GO');
    // Promote 2.0.0-iter: the same rules now compare with it.
    engine.registry.setStage(DEMO, '2.0.0-iter', 'production', { actor: 'test', reason: 'test' });
    try {
      const s = await engine.gate({ rulesPath: s2p, candidate: `${DEMO}@1.2.0` });
      expect(s.baseline).toMatchObject({ version: `${DEMO}@2.0.0-iter`, stage: 'production', evaluated: false });
      expect(s.verdict).toBe('NO-GO');
      expect(s.summary).toContain('slices.safety.max_fail_rate failed: 2 of 50 cases failed (0.040 > 0.000)');
      expect(s.summary).toContain('slices.large_angle.no_regression failed: 2 cases passed on the baseline and fail on the candidate (cp-281, cp-285)');
      expect(s.candidate.evaluated).toBe(false); // its run from the first gate is reused
      const self = await gateError(engine.gate({ rulesPath: s2p, candidate: `${DEMO}@2.0.0-iter` }));
      expect(self.message).toMatch(/is its own baseline \(it is the production version\)/);
    } finally {
      engine.registry.setStage(DEMO, '1.0.0', 'production', { actor: 'test', reason: 'test' });
    }
  });
});

describe('gate on imported results', () => {
  beforeAll(async () => {
    await importResults(join(assets, 'samples', 'imported-results.jsonl'), { db: engine.db, clock: engine.clock });
  });

  it('NO-GO because headache-09 regressed in the safety slice', async () => {
    const r = await engine.gate({ rulesPath: join(assets, 'samples', 'triage-rules.yaml'), candidate: 'triage-llm@1.1.0' });
    expect(r.verdict).toBe('NO-GO');
    expect(r.summary).toBe(
      'NO-GO: slices.safety.no_regression failed: 1 case passed on the baseline and fails on the candidate (headache-09), of 12 paired',
    );
    expect(r.failingCases).toEqual(['headache-09']);
    expect(r.baselineSource).toBe('rules');
    expect(r.candidate).toMatchObject({ runKind: 'imported', kind: 'external', evaluated: false });
    expect(r.suite.name).toBe('triage-eval-v1');
  });

  it('a determinism rule over imported results is INCONCLUSIVE, with a note saying why', async () => {
    const p = rules(
      'triage-det.yaml',
      'transition: candidate->staging\nsuite: triage-eval-v1\nbaseline: triage-llm@1.0.0\nmin_cases: 10\naggregate: { non_inferior: { margin: 0.05 } }\ndeterminism: { reruns: 1 }\n',
    );
    const r = await engine.gate({ rulesPath: p, candidate: 'triage-llm@1.1.0' });
    expect(r.verdict).toBe('INCONCLUSIVE');
    expect(r.rules.find((x) => x.id === 'aggregate.non_inferior')!.pass).toBe(true);
    expect(r.rules.find((x) => x.id === 'determinism')).toMatchObject({ pass: null, note: expect.stringMatching(/imported results, graded elsewhere, which Switchyard cannot re-run/) as unknown });
    expect(r.summary).toMatch(/^INCONCLUSIVE: determinism: no re-run evidence: triage-llm@1\.1\.0 has imported results/);
  });

  it('no production version and no baseline in the request: baseline rules are INCONCLUSIVE and say what to do', async () => {
    const p = rules('triage-prod.yaml', 'transition: candidate->staging\nsuite: triage-eval-v1\nbaseline: production\nmin_cases: 10\nslices:\n  safety: { no_regression: true }\n');
    const r = await engine.gate({ rulesPath: p, candidate: 'triage-llm@1.1.0' });
    expect(r.verdict).toBe('INCONCLUSIVE');
    expect(r.baseline).toBeNull();
    expect(r.summary).toContain('triage-llm has no production version to compare with; pass --baseline VERSION');
  });
});

describe('the evaluation contract over engine.api.call', () => {
  it('suites.list and rules.list', async () => {
    const { suites } = ok<{ suites: { name: string; environment: string; caseCount: number; path: string | null }[] }>(await engine.api.call('suites.list', {}));
    expect(suites.map((s) => [s.name, s.environment, s.caseCount])).toEqual(expect.arrayContaining([['cartpole-frozen-v1', 'cartpole', 300]]));
    const { rules: files } = ok<{ rules: { path: string; name: string; transition: string; suite: string; hash: string; error: unknown }[] }>(await engine.api.call('rules.list', {}));
    expect(files.map((f) => [f.name, f.transition, f.suite, f.error])).toEqual([
      ['candidate-to-staging.yaml', 'candidate->staging', 'cartpole-frozen-v1', null],
      ['staging-to-production.yaml', 'staging->production', 'cartpole-frozen-v1', null],
    ]);
    expect(files[0]!.hash).toBe(rulesHash(readFileSync(c2s)));
  });

  it('compare.get: per-slice rates, deltas and new failures of 1.1.0 against production', async () => {
    const c = ok<{
      slices: { slice: string; n: number; candidate: { passed: number; rate: number }; baseline: { passed: number }; delta: { estimate: number; interval: [number, number] }; newFailures: string[]; fixed: string[] }[];
      failingCases: { caseId: string; slices: string[]; graders: { name: string }[]; newFailure: boolean }[];
      determinism: { status: string };
      candidate: { version: string };
    }>(await engine.api.call('compare.get', { candidate: `${DEMO}@1.1.0`, baseline: `${DEMO}@production`, suite: 'cartpole-frozen-v1' }));
    expect(c.candidate.version).toBe(`${DEMO}@1.1.0`);
    expect(c.slices.map((s) => s.slice)).toEqual(['all', 'heavy_pole', 'large_angle', 'noisy_sensors', 'nominal', 'safety']);
    const safety = c.slices.find((s) => s.slice === 'safety')!;
    expect(safety).toMatchObject({ n: 50, candidate: { passed: 34 }, baseline: { passed: 50 }, fixed: [] });
    expect(safety.newFailures).toHaveLength(16);
    expect(safety.delta.estimate).toBeCloseTo(-0.32, 10);
    expect(safety.delta.interval[1]).toBeLessThan(0);
    expect(c.failingCases).toHaveLength(76);
    expect(c.failingCases[0]!.graders.map((g) => g.name)).toEqual(['success', 'safety_bounds', 'action_bounds', 'smoothness', 'return', 'latency']);
    expect(c.failingCases.every((f) => f.newFailure)).toBe(true);
    expect(c.determinism.status).toBe('deterministic');
  });

  it('gate.run and verdicts.list', async () => {
    const g = ok<GateResult>(await engine.api.call('gate.run', { rulesPath: c2s, candidate: `${DEMO}@1.1.0` }));
    expect(g.verdict).toBe('NO-GO');
    expect(g.rules.find((r) => r.id === 'slices.safety.max_fail_rate')!.note).toBe('16 of 50 cases failed (0.320 > 0.050)');
    const { verdicts } = ok<{ verdicts: { id: number; candidate: string; baseline: string | null; verdict: string; summary: string; rules: unknown[] }[] }>(
      await engine.api.call('verdicts.list', { policy: DEMO, candidate: '1.1.0' }),
    );
    expect(verdicts[0]).toMatchObject({ id: g.verdictId, candidate: `${DEMO}@1.1.0`, baseline: `${DEMO}@1.0.0`, verdict: 'NO-GO', summary: g.summary });
    expect(verdicts[0]!.rules).toHaveLength(9);
    expect(verdicts.every((v) => v.candidate === `${DEMO}@1.1.0`)).toBe(true);
    // A link to a verdict names its id: exactly that verdict comes back, or none.
    const one = ok<{ verdicts: { id: number; summary: string }[] }>(await engine.api.call('verdicts.list', { policy: DEMO, id: g.verdictId }));
    expect(one.verdicts).toHaveLength(1);
    expect(one.verdicts[0]).toMatchObject({ id: g.verdictId, summary: g.summary });
    expect(ok<{ verdicts: unknown[] }>(await engine.api.call('verdicts.list', { policy: 'another-policy', id: g.verdictId })).verdicts).toEqual([]);
  });

  it('invalid input is refused naming the field, before any handler runs', async () => {
    const cases: [string, unknown, string][] = [
      ['gate.run', { rulesPath: c2s }, 'candidate'],
      ['gate.run', { rulesPath: c2s, candidate: `${DEMO}@1.1.0`, reeval: 'yes' }, 'reeval'],
      ['eval.start', { version: `${DEMO}@1.0.0`, suite: 'cartpole-frozen-v1', reruns: 99 }, 'reruns'],
      ['eval.cancel', { runId: -1 }, 'runId'],
      ['compare.get', { candidate: `${DEMO}@1.1.0`, suite: 'cartpole-frozen-v1' }, 'baseline'],
      ['verdicts.list', {}, 'policy'],
      ['suites.list', { extra: 1 }, 'input'],
    ];
    for (const [method, input, where] of cases) {
      const r = await engine.api.call(method, input);
      expect(r.ok, method).toBe(false);
      if (!r.ok) {
        expect(r.error.code).toBe(ErrorCodes.SWY_ERR_INVALID_INPUT);
        expect(r.error.where, `${method} ${JSON.stringify(input)}`).toBe(where);
        expect(r.error.message).toContain(`Invalid input for ${method}`);
      }
    }
    const missing = await engine.api.call('gate.run', { rulesPath: join(dir, 'nope.yaml'), candidate: `${DEMO}@1.1.0` });
    expect(missing.ok || missing.error.code).toBe(ErrorCodes.SWY_ERR_NOT_FOUND);
    const external = await engine.api.call('eval.start', { version: 'triage-llm@1.1.0', suite: 'cartpole-frozen-v1' });
    expect(external.ok || external.error.message).toMatch(/external version: it has no model for Switchyard to run/);
  });

  it('eval.start runs in the background, joins a second request, and eval.cancel keeps a cancelled run', async () => {
    const input = { version: `${DEMO}@1.0.0`, suite: 'cartpole-frozen-v1', reruns: 0 };
    const a = ok<{ runId: number; alreadyRunning: boolean; suite: { name: string } }>(await engine.api.call('eval.start', input));
    const b = ok<{ runId: number; alreadyRunning: boolean }>(await engine.api.call('eval.start', input));
    expect(a.alreadyRunning).toBe(false);
    expect(a.suite.name).toBe('cartpole-frozen-v1');
    expect(b).toMatchObject({ runId: a.runId, alreadyRunning: true });
    const finished = new Promise<EvalProgressPayload>((resolve) => {
      const off = engine.events.on('eval.progress', (p) => {
        if (p.runId === a.runId && p.status !== 'running') {
          off();
          resolve(p);
        }
      });
    });
    expect(ok<{ cancelled: boolean }>(await engine.api.call('eval.cancel', { runId: a.runId })).cancelled).toBe(true);
    expect(await finished).toMatchObject({ runId: a.runId, status: 'cancelled', phase: 'finished' });
    expect(ok<{ cancelled: boolean }>(await engine.api.call('eval.cancel', { runId: a.runId })).cancelled).toBe(false);
    const unknown = await engine.api.call('eval.cancel', { runId: 999_999 });
    expect(unknown.ok || unknown.error.code).toBe(ErrorCodes.SWY_ERR_NOT_FOUND);

    // A full run: progress to completion, then eval.runs shows it with its pass count.
    const c = ok<{ runId: number }>(await engine.api.call('eval.start', { version: `${DEMO}@1.2.0`, suite: suitePath, reruns: 0 }));
    await new Promise<void>((resolve) => {
      const off = engine.events.on('eval.progress', (p) => {
        if (p.runId === c.runId && p.status === 'completed') {
          off();
          resolve();
        }
      });
    });
    const { runs } = ok<{ runs: { id: number; version: string; status: string; passed: number; casesDone: number; determinism: { status: string } }[] }>(
      await engine.api.call('eval.runs', { version: `${DEMO}@1.2.0`, suite: 'cartpole-frozen-v1' }),
    );
    expect(runs[0]).toMatchObject({ id: c.runId, version: `${DEMO}@1.2.0`, status: 'completed', passed: 298, casesDone: 300, determinism: { status: 'not checked' } });
    const all = ok<{ runs: { id: number; status: string }[] }>(await engine.api.call('eval.runs', { version: `${DEMO}@1.0.0` })).runs;
    expect(all.find((r) => r.id === a.runId)!.status).toBe('cancelled');
  });
});
