import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ErrorCodes, SwitchyardError } from '../contract/errors.js';
import { parseRules, rulesHash, validateRulesAgainstSuite } from './rules-parser.js';

const SPEC_EXAMPLE = `transition: candidate->staging       # or staging->production
suite: cartpole-frozen-v1
baseline: production                 # or an explicit version
confidence: 0.95
min_cases: 30                        # fewer cases in a ruled slice -> INCONCLUSIVE
aggregate: { min_pass_rate: 0.80, non_inferior: { margin: 0.02 } }
slices:
  safety:      { max_fail_rate: 0.0 }           # strict cap on the observed rate
  large_angle: { no_regression: true }          # no case that passed on baseline may fail now
  nominal:     { min_pass_rate: 0.95 }          # Wilson lower bound >= 0.95
  noisy:       { min_improvement: 0.05 }        # lower bound of (candidate - baseline) >= 0.05
  tools:       { pass_rate_range: [0.90, 1.0] } # observed rate inside the range
efficiency:
  p99_latency_ms: { max: 5.0 }
  latency_vs_baseline: { max_ratio: 1.10 }
determinism: { reruns: 1 }                      # re-run must give identical per-case results
`;

/** Parse and return the error it throws. */
function failure(text: string, file = 'promote.yaml'): SwitchyardError {
  try {
    parseRules(text, file);
  } catch (e) {
    expect(e).toBeInstanceOf(SwitchyardError);
    expect((e as SwitchyardError).code).toBe(ErrorCodes.SWY_ERR_INVALID_INPUT);
    return e as SwitchyardError;
  }
  throw new Error('expected parseRules to throw');
}

const HEAD = 'transition: candidate->staging\nsuite: s\n';

describe('parseRules', () => {
  it('parses the spec example', () => {
    const r = parseRules(SPEC_EXAMPLE);
    expect(r).toEqual({
      transition: 'candidate->staging',
      suite: 'cartpole-frozen-v1',
      baseline: 'production',
      confidence: 0.95,
      min_cases: 30,
      aggregate: { min_pass_rate: 0.8, non_inferior: { margin: 0.02 } },
      slices: {
        safety: { max_fail_rate: 0 },
        large_angle: { no_regression: true },
        nominal: { min_pass_rate: 0.95 },
        noisy: { min_improvement: 0.05 },
        tools: { pass_rate_range: [0.9, 1] },
      },
      efficiency: { p99_latency_ms: { max: 5 }, latency_vs_baseline: { max_ratio: 1.1 } },
      determinism: { reruns: 1 },
    });
    expect(Object.keys(r.slices)).toEqual(['safety', 'large_angle', 'nominal', 'noisy', 'tools']);
  });

  it('fills defaults, allows several rules per slice, explicit baselines and shadow on staging->production', () => {
    const r = parseRules(
      `transition: staging->production
suite: s
baseline: cartpole-balance@1.2.0
slices:
  safety:
    max_fail_rate: 0
    no_regression: true
    min_pass_rate: 0.9
    pass_rate_range: [0.5, 1]
    non_inferior: { margin: 0.05 }
    min_improvement: 0
shadow: { min_requests: 5000, max_divergence: 0.05 }
`,
    );
    expect(r.confidence).toBe(0.95);
    expect(r.min_cases).toBe(30);
    expect(r.baseline).toBe('cartpole-balance@1.2.0');
    expect(Object.keys(r.slices.safety!)).toEqual(['max_fail_rate', 'no_regression', 'min_pass_rate', 'pass_rate_range', 'non_inferior', 'min_improvement']);
    expect(r.shadow).toEqual({ min_requests: 5000, max_divergence: 0.05 });
  });

  it('keeps a slice named like an Object prototype key as plain data', () => {
    const r = parseRules(`${HEAD}slices:\n  __proto__: { max_fail_rate: 0 }\n  2024: { min_pass_rate: 0.5 }\n`);
    expect(Object.keys(r.slices)).toEqual(['2024', '__proto__']);
    expect(Object.getPrototypeOf(r.slices)).toBe(Object.prototype);
  });

  it('reports YAML syntax errors with line and column', () => {
    const e = failure(`${HEAD}aggregate: { min_pass_rate: 0.8\nslices: {}\n`);
    expect(e.message).toMatch(/not valid YAML/);
    expect(e.where).toMatch(/^promote\.yaml:\d+:\d+$/);
  });

  it('reports duplicate keys at the repeated key', () => {
    const e = failure(`${HEAD}aggregate: { min_pass_rate: 0.8 }\nsuite: t\n`);
    expect(e.where).toBe('promote.yaml:4:1');
    expect(e.message).toMatch(/unique/);
  });

  it('rejects an empty file and a non-mapping', () => {
    expect(failure('').message).toMatch(/empty/);
    expect(failure('# only a comment\n').message).toMatch(/empty/);
    const e = failure('- a\n- b\n');
    expect(e.message).toMatch(/mapping/);
    expect(e.where).toBe('promote.yaml:1:1');
  });

  it('names an unknown top-level key, with the closest known key', () => {
    const e = failure(`${HEAD}confidnce: 0.9\naggregate: { min_pass_rate: 0.8 }\n`);
    expect(e.where).toBe('promote.yaml:3:1');
    expect(e.message).toContain('Unknown key `confidnce`');
    expect(e.message).toContain('Did you mean `confidence`?');
  });

  it('names an unknown key deep inside, at its own line and column', () => {
    const e = failure(`${HEAD}slices:\n  nominal: { min_pass_rte: 0.9 }\n`);
    expect(e.where).toBe('promote.yaml:4:14');
    expect(e.message).toContain('in `slices.nominal`');
    expect(e.message).toContain('Did you mean `min_pass_rate`?');
    const e2 = failure(`${HEAD}efficiency:\n  p99_latency_ms: { maximum: 5 }\n`);
    expect(e2.where).toBe('promote.yaml:4:21');
    expect(e2.message).toContain('Allowed here: max');
  });

  it('explains a rule written in the wrong place', () => {
    const e = failure(`${HEAD}max_fail_rate: 0\n`);
    expect(e.message).toMatch(/put it under `aggregate:` or under a slice/);
    const e2 = failure(`${HEAD}slices:\n  max_fail_rate: 0\n`);
    expect(e2.message).toMatch(/is a rule, not a slice name/);
    expect(e2.where).toBe('promote.yaml:4:3');
  });

  it('rejects thresholds out of range at the value, saying what to write', () => {
    const e = failure(`${HEAD}aggregate:\n  min_pass_rate: 1.5\n`);
    expect(e.where).toBe('promote.yaml:4:18');
    expect(e.message).toContain('`aggregate.min_pass_rate` must be a number from 0 to 1, got 1.5');
    expect(e.message).not.toContain('fractions');
    const pct = failure(`${HEAD}aggregate: { min_pass_rate: 95 }\n`);
    expect(pct.message).toContain('Write rates as fractions: 0.95, not 95');
    expect(failure(`${HEAD}confidence: 0.3\naggregate: { min_pass_rate: 0.8 }\n`).message).toContain('from 0.5 to 0.9999');
    expect(failure(`${HEAD}confidence: 1\naggregate: { min_pass_rate: 0.8 }\n`).where).toBe('promote.yaml:3:13');
    expect(failure(`${HEAD}min_cases: 0\naggregate: { min_pass_rate: 0.8 }\n`).message).toContain('whole number of at least 1');
    expect(failure(`${HEAD}min_cases: 2.5\naggregate: { min_pass_rate: 0.8 }\n`).where).toBe('promote.yaml:3:12');
    expect(failure(`${HEAD}efficiency: { p99_latency_ms: { max: 0 } }\n`).message).toContain('greater than 0');
    expect(failure(`${HEAD}determinism: { reruns: 0 }\n`).message).toContain('from 1 to 100');
    expect(failure(`${HEAD}aggregate: { non_inferior: { margin: -0.1 } }\n`).where).toBe('promote.yaml:3:38');
  });

  it('rejects wrong types', () => {
    const quoted = failure(`${HEAD}aggregate: { min_pass_rate: "0.9" }\n`);
    expect(quoted.message).toContain('got the text "0.9"');
    expect(quoted.message).toContain('Remove the quotes');
    expect(failure(`${HEAD}slices:\n  a: { no_regression: yes }\n`).message).toContain('must be `true` or `false`, got the text "yes"');
    expect(failure(`${HEAD}slices:\n  a: 0.9\n`).message).toContain('`slices.a` must be a mapping');
    expect(failure(`${HEAD}slices:\n  a:\n`).message).toContain('got nothing');
    expect(failure(`${HEAD}aggregate: { min_pass_rate: }\n`).message).toContain('got nothing');
    expect(failure('transition: candidate->staging\nsuite: [a]\naggregate: { min_pass_rate: 0.8 }\n').where).toBe('promote.yaml:2:8');
  });

  it('checks pass_rate_range shape and order', () => {
    const e = failure(`${HEAD}slices:\n  tools: { pass_rate_range: [0.95, 0.9] }\n`);
    expect(e.where).toBe('promote.yaml:4:29');
    expect(e.message).toContain('lower bound 0.95 is above its upper bound 0.9');
    expect(failure(`${HEAD}slices:\n  tools: { pass_rate_range: [0.9] }\n`).message).toContain('list of two numbers');
    const bad = failure(`${HEAD}slices:\n  tools: { pass_rate_range: [0.9, 2] }\n`);
    expect(bad.where).toBe('promote.yaml:4:35');
  });

  it('checks transition and baseline', () => {
    const t = failure('transition: candidate -> staging\nsuite: s\naggregate: { min_pass_rate: 0.8 }\n');
    expect(t.where).toBe('promote.yaml:1:13');
    expect(t.message).toContain('Did you mean `candidate->staging`?');
    const b = failure(`${HEAD}baseline: staging\naggregate: { min_pass_rate: 0.8 }\n`);
    expect(b.where).toBe('promote.yaml:3:11');
    expect(b.message).toContain('policy@label');
  });

  it('requires transition, suite and at least one rule', () => {
    const e = failure('suite: s\naggregate: { min_pass_rate: 0.8 }\n');
    expect(e.message).toContain('missing `transition`');
    expect(e.where).toBe('promote.yaml:1:1');
    expect(failure('transition: candidate->staging\naggregate: { min_pass_rate: 0.8 }\n').message).toContain('missing `suite`');
    expect(failure(HEAD).message).toContain('sets no rule');
    expect(failure(`${HEAD}slices:\n  a: {}\n`).message).toContain('`slices.a` sets no rule');
    expect(failure(`${HEAD}aggregate: { non_inferior: {} }\n`).message).toContain('missing `margin`');
    expect(failure(`${HEAD}shadow_x: 1\n`).message).toContain('Did you mean `shadow`?');
  });

  it('refuses shadow rules on candidate->staging, at the shadow key', () => {
    const e = failure(`${HEAD}aggregate: { min_pass_rate: 0.8 }\nshadow: { min_requests: 5000, max_divergence: 0.1 }\n`);
    expect(e.where).toBe('promote.yaml:4:1');
    expect(e.message).toContain('only to `transition: staging->production`');
  });

  it('resolves aliases', () => {
    const r = parseRules(`${HEAD}slices:\n  a: &strict { max_fail_rate: 0 }\n  b: *strict\n`);
    expect(r.slices).toEqual({ a: { max_fail_rate: 0 }, b: { max_fail_rate: 0 } });
  });
});

describe('validateRulesAgainstSuite', () => {
  it('passes when every ruled slice exists', () => {
    expect(() => validateRulesAgainstSuite(parseRules(SPEC_EXAMPLE), ['safety', 'large_angle', 'nominal', 'noisy', 'tools', 'extra'])).not.toThrow();
  });

  it('names the slice the suite lacks, at its place in the rules file', () => {
    const rules = parseRules(SPEC_EXAMPLE, 'rules/promote.yaml');
    try {
      validateRulesAgainstSuite(rules, ['safety', 'large_angles', 'nominal', 'noisy', 'tools']);
      throw new Error('expected a throw');
    } catch (e) {
      const err = e as SwitchyardError;
      expect(err.code).toBe(ErrorCodes.SWY_ERR_INVALID_INPUT);
      expect(err.message).toContain('slice `large_angle`, which suite `cartpole-frozen-v1` does not have');
      expect(err.message).toContain('Did you mean `large_angles`?');
      expect(err.where).toBe('rules/promote.yaml:9:3');
    }
  });

  it('works on rules not from parseRules', () => {
    const rules = { ...parseRules(SPEC_EXAMPLE) };
    expect(() => validateRulesAgainstSuite(rules, [])).toThrow(/slices `safety`, `large_angle`/);
  });
});

describe('rulesHash', () => {
  it('is the sha256 hex of the file bytes', () => {
    expect(rulesHash(SPEC_EXAMPLE)).toBe(createHash('sha256').update(Buffer.from(SPEC_EXAMPLE, 'utf8')).digest('hex'));
    expect(rulesHash(Buffer.from('x'))).toBe(rulesHash('x'));
    expect(rulesHash('é')).toBe(createHash('sha256').update(Buffer.from([0xc3, 0xa9])).digest('hex'));
  });
});
