import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildDemoWorkspace } from '../demo/demo-workspace.js';
import { parseRules, validateRulesAgainstSuite } from './rules-parser.js';
import { fixedClock } from '../platform/clock.js';
import { openDatabase } from '../store/database.js';
import { EvalStore } from '../store/eval-store.js';
import { Registry } from '../store/registry.js';
import { DEMO_RULES } from './demo-rules.js';
import { DEMO_SUITE_NAME, demoSuite } from './demo-suite.js';

const assets = join(import.meta.dirname, '..', '..', '..', 'assets');
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('demo rules', () => {
  it('the committed copies under assets/rules/ are exactly what the demo writes', () => {
    for (const [name, text] of Object.entries(DEMO_RULES)) expect(readFileSync(join(assets, 'rules', name), 'utf8'), name).toBe(text);
  });

  it('parse, cover both transitions, gate on the demo suite and name only slices it has', () => {
    const suite = demoSuite();
    const parsed = Object.entries(DEMO_RULES).map(([name, text]) => parseRules(text, name));
    expect(parsed.map((r) => r.transition)).toEqual(['candidate->staging', 'staging->production']);
    for (const r of parsed) {
      expect(r.suite).toBe(DEMO_SUITE_NAME);
      expect(r.baseline).toBe('production');
      expect(r.determinism).toEqual({ reruns: 1 });
      expect(() => validateRulesAgainstSuite(r, suite.sliceNames)).not.toThrow();
      // Every ruled slice has enough cases to be decided.
      for (const s of Object.keys(r.slices)) expect(suite.sliceCounts[s]!, s).toBeGreaterThanOrEqual(r.min_cases);
    }
  });

  it('buildDemoWorkspace writes the suite and both rules files and records the suite', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'swy-demo-rules-'));
    dirs.push(dir);
    const db = openDatabase(':memory:');
    const evalStore = new EvalStore(db, fixedClock());
    const demo = await buildDemoWorkspace({ registry: new Registry(db, fixedClock()), evalStore, dir, doctor: false });
    expect(demo.rules.map((p) => p.slice(dir.length + 1))).toEqual(['rules/candidate-to-staging.yaml', 'rules/staging-to-production.yaml']);
    for (const p of demo.rules) expect(readFileSync(p, 'utf8')).toBe(readFileSync(join(assets, 'rules', p.split('/').pop()!), 'utf8'));
    expect(demo.suite.path).toBe(join(dir, 'suites', 'cartpole-frozen-v1.jsonl'));
    expect(demo.suite.fingerprint).toBe(demoSuite().fingerprint);
    expect(readFileSync(demo.suite.path, 'utf8')).toBe(readFileSync(join(assets, 'suites', 'cartpole-frozen-v1.jsonl'), 'utf8'));
    const rec = evalStore.findSuite(DEMO_SUITE_NAME)!;
    expect(rec).toMatchObject({ fingerprint: demo.suite.fingerprint, path: demo.suite.path, caseCount: 300 });
    expect(rec.slices).toEqual({ heavy_pole: 40, large_angle: 90, noisy_sensors: 60, nominal: 110, safety: 50 });
    db.close();
  });
});
