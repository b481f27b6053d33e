import type {
  Comparison,
  EvalProgressPayload,
  EvalRunSummary,
  GateResult,
  PolicySummary,
  RulesFile,
  ServingState,
  ServingStats,
  SlotState,
  SuiteSummary,
  VersionSummary,
} from '@contract';

export function version(overrides: Partial<VersionSummary> = {}): VersionSummary {
  const label = overrides.label ?? '1.0.0';
  const modelId = overrides.modelId ?? 'cartpole-pd';
  const modelHash = overrides.modelHash ?? '0123456789abcdef';
  return {
    policy: 'cartpole-balance',
    label,
    modelId,
    modelHash,
    modelVersion: `${modelId}@${modelHash}`,
    kind: 'direct',
    stage: 'candidate',
    sizeBytes: 2048,
    registeredAt: '2025-01-01T00:00:00.000Z',
    productionSince: null,
    doctorStatus: 'ok',
    lastVerdict: null,
    exportPath: `/exports/cartpole-balance-${label}`,
    notes: null,
    ...overrides,
  };
}

export function policy(name: string, versions: VersionSummary[]): PolicySummary {
  return { name, productionLabel: versions.find((v) => v.stage === 'production')?.label ?? null, versions };
}

export function slot(overrides: Partial<SlotState> = {}): SlotState {
  return {
    slot: 'a',
    versionRef: 'cartpole-balance@1.0.0',
    modelVersion: 'cartpole-pd@0123456789abcdef',
    kind: 'direct',
    ready: true,
    drained: false,
    consecutiveFailures: 0,
    crashes: 0,
    sizeBytes: 2048,
    ...overrides,
  };
}

export function servingState(overrides: Partial<ServingState> = {}): ServingState {
  return {
    mode: 'ab',
    split: 50,
    drain: 'none',
    slots: [slot({ slot: 'a' }), slot({ slot: 'b', versionRef: 'cartpole-balance@1.1.0' })],
    actUrl: 'http://127.0.0.1:8000/act',
    rtc: false,
    maxConsecutiveCrashes: 5,
    ...overrides,
  };
}

export function stats(at: string, rpsA = 10, rpsB = 5): ServingStats {
  const s = (name: 'a' | 'b', rps: number) => ({
    slot: name,
    requests: Math.round(rps * 10),
    errors: 0,
    rps,
    p50Ms: 0.4,
    p99Ms: 1.2,
    cacheHits: 0,
    cacheMisses: 0,
    inFlight: 0,
  });
  return { at, windowMs: 500, slots: [s('a', rpsA), s('b', rpsB)] };
}

// ---- evaluation, comparison and gates (the Compare page) ----

export const SUITE_FP = 'f00dfeedf00dfeedf00dfeedf00dfeedf00dfeedf00dfeedf00dfeedf00dfeed';

export function suiteSummary(overrides: Partial<SuiteSummary> = {}): SuiteSummary {
  return {
    fingerprint: SUITE_FP,
    name: 'cartpole-frozen-v1',
    environment: 'cartpole',
    envVersion: '1',
    path: '/demo/suites/cartpole-frozen-v1.jsonl',
    caseCount: 300,
    slices: { nominal: 110, large_angle: 90, heavy_pole: 40, noisy_sensors: 60, safety: 50 },
    createdAt: '2025-01-01T00:00:00.000Z',
    ...overrides,
  };
}

export function rulesFile(overrides: Partial<RulesFile> = {}): RulesFile {
  return {
    path: '/demo/rules/candidate-to-staging.yaml',
    name: 'candidate-to-staging.yaml',
    transition: 'candidate->staging',
    suite: 'cartpole-frozen-v1',
    baseline: 'production',
    hash: 'abc',
    error: null,
    ...overrides,
  };
}

export function evalRun(overrides: Partial<EvalRunSummary> = {}): EvalRunSummary {
  return {
    id: 1,
    version: 'cartpole-balance@1.0.0',
    suite: 'cartpole-frozen-v1',
    suiteFingerprint: SUITE_FP,
    kind: 'native',
    status: 'completed',
    startedAt: '2025-01-01T00:00:00.000Z',
    endedAt: '2025-01-01T00:00:02.000Z',
    casesTotal: 300,
    casesDone: 300,
    passed: 300,
    error: null,
    determinism: { status: 'deterministic', reruns: 1, differing: [], note: '1 re-run gave identical per-case results on 300 cases' },
    casesPerSecond: 150,
    ...overrides,
  };
}

export function progress(overrides: Partial<EvalProgressPayload> = {}): EvalProgressPayload {
  return {
    runId: 1,
    version: 'cartpole-balance@1.0.0',
    suite: 'cartpole-frozen-v1',
    suiteFingerprint: SUITE_FP,
    done: 0,
    total: 300,
    passed: 0,
    fraction: 0,
    status: 'running',
    phase: 'evaluating',
    error: null,
    ...overrides,
  };
}

function runRef(version: string, runId: number): Comparison['candidate'] {
  return {
    version,
    modelVersion: 'cartpole-pd@0123456789abcdef',
    kind: 'direct',
    stage: 'candidate',
    runId,
    runKind: 'native',
    evaluatedAt: '2025-01-01T00:00:02.000Z',
  };
}

export function comparison(candidate: string, baseline: string, overrides: Partial<Comparison> = {}): Comparison {
  const rate = { passed: 300, n: 300, rate: 1, interval: [0.987, 1] as [number, number] };
  return {
    suite: { name: 'cartpole-frozen-v1', fingerprint: SUITE_FP },
    candidate: runRef(candidate, 2),
    baseline: runRef(baseline, 1),
    confidence: 0.95,
    slices: [{ slice: 'all', n: 300, candidate: rate, baseline: rate, delta: { estimate: 0, interval: [-0.0127, 0.0127] }, newFailures: [], fixed: [] }],
    failingCases: [],
    determinism: { status: 'deterministic', reruns: 1, differing: [], note: 'ok' },
    ...overrides,
  };
}

export function gateResult(candidate: string, baseline: string, overrides: Partial<GateResult> = {}): GateResult {
  return {
    verdictId: 1,
    verdict: 'GO',
    summary: 'GO: every rule passed',
    rules: [],
    transition: 'candidate->staging',
    rulesFile: '/demo/rules/candidate-to-staging.yaml',
    rulesHash: 'abc',
    suite: { name: 'cartpole-frozen-v1', fingerprint: SUITE_FP },
    candidate: { ...runRef(candidate, 2), evaluated: false },
    baseline: { ...runRef(baseline, 1), evaluated: false },
    baselineSource: 'production',
    failingCases: [],
    createdAt: '2025-01-01T00:00:03.000Z',
    ...overrides,
  };
}
