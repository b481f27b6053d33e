import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ErrorCodes, SwitchyardError } from '../contract/errors.js';
import { CARTPOLE_VERSION } from './cartpole.js';
import { buildDemoSuite, DEMO_SUITE_NAME, DEMO_SUITE_SLICES, demoSuite, writeDemoSuite } from './demo-suite.js';
import { caseParams, loadSuite, parseSuite, SuiteError, suiteFingerprint, suiteFromContent, suiteToJson, suiteToJsonl, type SuiteContent } from './suite.js';

const dir = mkdtempSync(join(tmpdir(), 'swy-suite-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const small: SuiteContent = {
  name: 'tiny',
  environment: 'cartpole',
  params: { max_steps: 200 },
  cases: [
    { id: 'a', slices: ['nominal'], seed: 1, params: {}, initial_state: [0, 0, 0.01, 0] },
    { id: 'b', slices: ['nominal', 'noisy_sensors'], seed: 2, params: { noise_std: 0.02 }, initial_state: [0.1, 0, -0.02, 0] },
    { id: 'c', slices: [], seed: 3, params: { masspole: 0.5 }, initial_state: [0, 0.1, 0.05, 0] },
  ],
};

function issuesOf(fn: () => unknown): SuiteError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(SuiteError);
    expect((e as SwitchyardError).code).toBe(ErrorCodes.SWY_ERR_INVALID_INPUT);
    return e as SuiteError;
  }
  throw new Error('expected a SuiteError');
}

const jsonl = (lines: unknown[]) => lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n';
const HEADER = { name: 'tiny', environment: 'cartpole', params: {} };
const CASE = (id: string, extra: Record<string, unknown> = {}) => ({ id, slices: ['nominal'], seed: 1, params: {}, initial_state: [0, 0, 0.01, 0], ...extra });

describe('suite files', () => {
  it('loads JSON and JSONL forms of the same content with the same fingerprint', async () => {
    const pj = join(dir, 'tiny.json');
    const pl = join(dir, 'tiny.jsonl');
    writeFileSync(pj, suiteToJson(small));
    writeFileSync(pl, suiteToJsonl(small));
    const a = await loadSuite(pj);
    const b = await loadSuite(pl);
    expect([a.format, b.format]).toEqual(['json', 'jsonl']);
    expect(a.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(b.fingerprint).toBe(a.fingerprint);
    expect(a.cases).toEqual(small.cases);
    expect(a.sliceNames).toEqual(['noisy_sensors', 'nominal']);
    expect(a.sliceCounts).toEqual({ noisy_sensors: 1, nominal: 2 });
    expect(a.envVersion).toBe(CARTPOLE_VERSION);
    expect(a.path).toBe(pj);
    // Whitespace and key order are not content.
    const reformatted = JSON.stringify({ cases: small.cases.map((c) => ({ initial_state: c.initial_state, seed: c.seed, slices: c.slices, params: c.params, id: c.id })), params: small.params, environment: 'cartpole', name: 'tiny' }, null, 4);
    expect(parseSuite(reformatted, { file: 'x.json' }).fingerprint).toBe(a.fingerprint);
    // Effective parameters: defaults < suite < case.
    expect(caseParams(a, a.cases[1]!)).toEqual({ masspole: 0.1, length: 0.5, noise_std: 0.02, max_steps: 200 });
  });

  it('changes the fingerprint on any edit of the content or of the environment version', () => {
    const base = suiteFromContent(small).fingerprint;
    expect(suiteFingerprint(small, CARTPOLE_VERSION)).toBe(base);
    const edits: ((s: SuiteContent) => void)[] = [
      (s) => (s.name = 'tiny2'),
      (s) => (s.params = { max_steps: 201 }),
      (s) => (s.description = 'x'),
      (s) => (s.cases[0]!.id = 'a2'),
      (s) => (s.cases[0]!.seed = 4),
      (s) => (s.cases[0]!.slices = ['nominal', 'safety']),
      (s) => (s.cases[1]!.params = { noise_std: 0.03 }),
      (s) => (s.cases[2]!.initial_state = [0, 0.1, 0.0500001, 0]),
      (s) => s.cases.reverse(),
      (s) => s.cases.pop(),
    ];
    const seen = new Set([base]);
    for (const edit of edits) {
      const copy = structuredClone(small);
      edit(copy);
      const fp = suiteFromContent(copy).fingerprint;
      expect(seen.has(fp), String(edit)).toBe(false);
      seen.add(fp);
    }
    expect(suiteFingerprint(small, 'cartpole-2')).not.toBe(base);
  });

  it('reports bad JSON with file, line and column', () => {
    const e = issuesOf(() => parseSuite(jsonl([HEADER, CASE('a'), '{"id": "b", "slices": [}', CASE('c')]), { file: 's.jsonl' }));
    expect(e.issues).toHaveLength(1);
    expect(e.issues[0]!.where).toMatch(/^s\.jsonl:3:\d+$/);
    expect(e.message).toMatch(/s\.jsonl:3:\d+: line 3 is not valid JSON/);
    const j = issuesOf(() => parseSuite('{\n  "name": "x",\n  "environment": "cartpole",,\n  "cases": []\n}\n', { file: 's.json' }));
    expect(j.where).toMatch(/^s\.json:3:\d+$/);
  });

  it('names the file, line and field of a missing or wrong field, listing every problem', () => {
    const text = jsonl([HEADER, CASE('a'), { id: 'b', slices: ['nominal'], params: {}, initial_state: [0, 0, 0, 0] }, CASE('c', { initial_state: [0, 0, 0] }), CASE('d', { seed: -1 }), CASE('e', { slices: 'nominal' })]);
    const e = issuesOf(() => parseSuite(text, { file: 'cases.jsonl' }));
    expect(e.issues.map((i) => i.where)).toEqual(['cases.jsonl:3: seed', 'cases.jsonl:4: initial_state', 'cases.jsonl:5: seed', 'cases.jsonl:6: slices']);
    expect(e.issues[0]!.message).toMatch(/seed is missing/);
    expect(e.issues[1]!.message).toMatch(/4 values/);
    expect(e.message).toMatch(/and 3 more problems/);
    // Header fields.
    expect(issuesOf(() => parseSuite(jsonl([{ environment: 'cartpole' }, CASE('a')]), { file: 'h.jsonl' })).where).toBe('h.jsonl:1: name');
    // JSON form: the field path.
    const bad = structuredClone(small) as unknown as { cases: Record<string, unknown>[] };
    delete bad.cases[1]!['initial_state'];
    expect(issuesOf(() => parseSuite(JSON.stringify(bad), { file: 's.json' })).where).toBe('s.json: cases[1].initial_state');
  });

  it('rejects duplicate case ids naming both lines', () => {
    const e = issuesOf(() => parseSuite(jsonl([HEADER, CASE('a'), CASE('b'), '', CASE('a')]), { file: 'dup.jsonl' }));
    expect(e.where).toBe('dup.jsonl:5: id');
    expect(e.message).toMatch(/duplicate case id "a": line 5 repeats the id of line 2/);
    const j = issuesOf(() => suiteFromContent({ ...small, cases: [small.cases[0]!, small.cases[1]!, { ...small.cases[2]!, id: 'a' }] }));
    expect(j.message).toMatch(/cases\[2\] repeats the id of cases\[0\]/);
  });

  it('rejects an unknown environment, unknown or out-of-range parameters, impossible states and typos', () => {
    const env = issuesOf(() => parseSuite(jsonl([{ ...HEADER, environment: 'mujoco-humanoid' }, CASE('a')]), { file: 'e.jsonl' }));
    expect(env.where).toBe('e.jsonl:1: environment');
    expect(env.message).toMatch(/unknown environment "mujoco-humanoid"; this Switchyard bundles: cartpole/);
    const p = issuesOf(() =>
      parseSuite(jsonl([{ ...HEADER, params: { gravity: 3 } }, CASE('a', { params: { noise_std: 2 } }), CASE('b', { initial_state: [3, 0, 0, 0] }), CASE('c', { sede: 1 })]), { file: 'p.jsonl' }),
    );
    expect(p.issues.map((i) => i.where)).toEqual(['p.jsonl:1: params.gravity', 'p.jsonl:2: params.noise_std', 'p.jsonl:3: initial_state', 'p.jsonl:4: sede']);
    expect(p.issues[0]!.message).toMatch(/unknown parameter "gravity"/);
    expect(p.issues[1]!.message).toMatch(/outside \[0, 0\.5\]/);
    expect(p.issues[2]!.message).toMatch(/off the track/);
    expect(p.issues[3]!.message).toMatch(/did you mean "seed"/);
    expect(issuesOf(() => parseSuite(jsonl([HEADER]), { file: 'n.jsonl' })).message).toMatch(/no cases/);
    expect(issuesOf(() => parseSuite('\n\n', { file: 'z.jsonl' })).message).toMatch(/empty/);
  });

  it('reports a missing file as not found', async () => {
    await expect(loadSuite(join(dir, 'nope.jsonl'))).rejects.toMatchObject({ code: ErrorCodes.SWY_ERR_NOT_FOUND });
  });
});

describe('demo suite', () => {
  it('is generated deterministically with a few hundred cases in overlapping slices', () => {
    const a = demoSuite();
    expect(demoSuite().fingerprint).toBe(a.fingerprint);
    expect(suiteToJsonl(buildDemoSuite())).toBe(suiteToJsonl(buildDemoSuite()));
    expect(a.name).toBe(DEMO_SUITE_NAME);
    expect(a.cases).toHaveLength(300);
    expect(a.sliceNames).toEqual([...DEMO_SUITE_SLICES].sort());
    for (const s of DEMO_SUITE_SLICES) expect(a.sliceCounts[s]).toBeGreaterThanOrEqual(40);
    expect(a.cases.filter((c) => c.slices.length > 1).length).toBeGreaterThan(30);
    const safety = a.cases.filter((c) => c.slices.includes('safety'));
    expect(safety.every((c) => Math.abs(c.initial_state[0]!) >= 1.4)).toBe(true);
    const large = a.cases.filter((c) => c.slices.includes('large_angle'));
    expect(large.every((c) => Math.abs(c.initial_state[2]!) >= 0.1)).toBe(true);
  });

  it('writes a file that loads to the same fingerprint, matching the copy in assets/', async () => {
    const p = join(dir, 'demo.jsonl');
    const w = await writeDemoSuite(p);
    const loaded = await loadSuite(p);
    expect(loaded.fingerprint).toBe(w.fingerprint);
    expect(w).toMatchObject({ name: DEMO_SUITE_NAME, cases: 300 });
    const asset = new URL('../../../assets/suites/cartpole-frozen-v1.jsonl', import.meta.url);
    expect(readFileSync(asset, 'utf8'), 'assets/suites/cartpole-frozen-v1.jsonl is stale: regenerate it with writeDemoSuite').toBe(readFileSync(p, 'utf8'));
    const pj = join(dir, 'demo.json');
    expect((await writeDemoSuite(pj)).fingerprint).toBe(w.fingerprint);
    expect((await loadSuite(pj)).fingerprint).toBe(w.fingerprint);
  });
});
