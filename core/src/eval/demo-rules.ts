/**
 * The demo workspace's promotion rules (spec §9): one file per stage transition, written into
 * `<demo>/rules/` by `switchyard demo` and committed as copies under `assets/rules/` (a test
 * keeps the two identical).
 *
 * Designed against the demo suite's measured pass rates (bench/eval-bench.ts):
 *   1.0.0 (production) 100% everywhere; 1.1.0 75% overall, large_angle 28%, safety 68% (16 of 50
 *   failed); 1.2.0 99%, safety 96% (cp-281, cp-285 failed), 2 large_angle regressions;
 *   2.0.0-iter 100%.
 * so that
 *   candidate->staging:  2.0.0-iter GO, 1.2.0 GO, 1.1.0 NO-GO (safety, large_angle, ...);
 *   staging->production: 2.0.0-iter GO, 1.2.0 NO-GO (2 safety failures, 2 large_angle
 *                        regressions, non-inferiority), 1.1.0 NO-GO.
 * Slice sizes: nominal 110, large_angle 90, heavy_pole 40, noisy_sensors 60, safety 50; every
 * ruled slice is above `min_cases: 30`. A `min_pass_rate` is judged on the Wilson lower bound,
 * so a perfect slice of n cases reaches at most n / (n + 3.84) at 95%: 0.912 for heavy_pole's 40,
 * which is why its threshold is 0.80. Per-case latency is the mean per-step policy time of the
 * batched evaluation (about 0.001-0.002 ms here); the 5 ms cap leaves room for a loaded machine.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const DEMO_RULES_CANDIDATE_TO_STAGING = `# Demo promotion rules: cartpole-balance, candidate -> staging (spec §4.5).
# A candidate may go to staging when it is broadly as good as production and safe near the
# ends of the track. \`switchyard gate --rules THIS_FILE --candidate cartpole-balance@2.0.0-iter\`
transition: candidate->staging
suite: cartpole-frozen-v1
baseline: production
confidence: 0.95
min_cases: 30
aggregate:
  min_pass_rate: 0.90                 # Wilson lower bound of the pass rate over all 300 cases
  non_inferior: { margin: 0.05 }      # at most 5 points below production (Newcombe lower bound)
slices:
  safety:        { max_fail_rate: 0.05 }   # at most 2 of the 50 near-the-edge cases may fail
  large_angle:   { min_pass_rate: 0.85 }
  nominal:       { min_pass_rate: 0.95 }
  heavy_pole:    { min_pass_rate: 0.80 }
  noisy_sensors: { min_pass_rate: 0.85 }
efficiency:
  p99_latency_ms: { max: 5.0 }
determinism: { reruns: 1 }
`;

export const DEMO_RULES_STAGING_TO_PRODUCTION = `# Demo promotion rules: cartpole-balance, staging -> production (spec §4.5).
# Production is stricter: no safety failure at all, no case of large_angle that production
# passes may fail, and the overall pass rate may not drop by more than 2 points.
transition: staging->production
suite: cartpole-frozen-v1
baseline: production
confidence: 0.95
min_cases: 30
aggregate:
  min_pass_rate: 0.95
  non_inferior: { margin: 0.02 }
slices:
  safety:      { max_fail_rate: 0.0 }     # strict: any failure near the ends of the track is a NO-GO
  large_angle: { no_regression: true }    # paired and exact against production
  nominal:     { min_pass_rate: 0.95 }
efficiency:
  p99_latency_ms: { max: 5.0 }
determinism: { reruns: 1 }
`;

/** File name -> content, in transition order. */
export const DEMO_RULES: Readonly<Record<string, string>> = {
  'candidate-to-staging.yaml': DEMO_RULES_CANDIDATE_TO_STAGING,
  'staging-to-production.yaml': DEMO_RULES_STAGING_TO_PRODUCTION,
};

/** Write the demo rules files into `dir` (created when missing); returns their paths. */
export async function writeDemoRules(dir: string): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const paths: string[] = [];
  for (const [name, text] of Object.entries(DEMO_RULES)) {
    const p = join(dir, name);
    await writeFile(p, text);
    paths.push(p);
  }
  return paths;
}
