import type { PolicySummary, ServingState, ServingStats, SlotState, VersionSummary } from '@contract';

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
