import { z } from 'zod';
import { ErrorCodes } from './errors.js';

export const StageSchema = z.enum(['candidate', 'staging', 'production', 'archived']);
export type Stage = z.infer<typeof StageSchema>;

export const SlotSchema = z.enum(['prod', 'a', 'b', 'shadow']);
export type Slot = z.infer<typeof SlotSchema>;

export const PolicyKindSchema = z.enum(['direct', 'iterative', 'external']);

export const VerdictValueSchema = z.enum(['GO', 'NO-GO', 'INCONCLUSIVE']);

export const VersionSummarySchema = z.object({
  policy: z.string(),
  label: z.string(),
  modelId: z.string(),
  modelHash: z.string(),
  /** `<model_id>@<model_hash>`: the identity shown everywhere. */
  modelVersion: z.string(),
  kind: PolicyKindSchema,
  stage: StageSchema,
  sizeBytes: z.number().int().nonnegative(),
  registeredAt: z.string(),
  productionSince: z.string().nullable(),
  doctorStatus: z.enum(['ok', 'failed', 'unknown']),
  lastVerdict: VerdictValueSchema.nullable(),
  exportPath: z.string().nullable(),
  notes: z.string().nullable(),
});
export type VersionSummary = z.infer<typeof VersionSummarySchema>;

export const PolicySummarySchema = z.object({
  name: z.string(),
  productionLabel: z.string().nullable(),
  versions: z.array(VersionSummarySchema),
});
export type PolicySummary = z.infer<typeof PolicySummarySchema>;

export const DrainStateSchema = z.enum(['none', 'drain-a', 'drain-b', 'degraded']);
export type DrainState = z.infer<typeof DrainStateSchema>;

/** What an operator needs to tell why a slot drained (optional: older servers lack them). */
const SlotDiagnosisFields = {
  /** Failures where the worker died or had to be replaced (crash, timeout). */
  workerCrashes: z.number().int().nonnegative().optional(),
  /** Failures where the worker stayed up but the request failed (an error, non-finite output). */
  requestFailures: z.number().int().nonnegative().optional(),
  /** The slot's newest failure. */
  lastError: z.object({ at: z.string(), code: z.string(), message: z.string(), crash: z.boolean() }).nullable().optional(),
};

export const SlotStateSchema = z.object({
  slot: SlotSchema,
  /** `policy@label` when registered, the export path otherwise. */
  versionRef: z.string(),
  modelVersion: z.string(),
  kind: PolicyKindSchema,
  ready: z.boolean(),
  drained: z.boolean(),
  consecutiveFailures: z.number().int().nonnegative(),
  /** Every failed request of the slot (request failures plus worker crashes). */
  crashes: z.number().int().nonnegative(),
  sizeBytes: z.number().int().nonnegative(),
  ...SlotDiagnosisFields,
});
export type SlotState = z.infer<typeof SlotStateSchema>;

/** Why the router's split is what it is (issue 12: a split change is shown with its cause). */
export const SplitChangeSchema = z.object({
  at: z.string(),
  split: z.number().int().min(0).max(100),
  /** `operator` (the slider or `switchyard split`), `rollback`, `promote`, `canary`, `start`. */
  cause: z.enum(['start', 'operator', 'rollback', 'promote', 'canary']),
  /** True when episodes in progress moved too (rollback, promotion): not only new episodes. */
  allEpisodes: z.boolean(),
  /** In words, e.g. "rollback of cartpole-balance to 1.0.0". */
  detail: z.string(),
});
export type SplitChange = z.infer<typeof SplitChangeSchema>;

const ServingCauseFields = {
  /** The newest change of the split, with its cause; null before any. */
  lastSplitChange: SplitChangeSchema.nullable().optional(),
  /** Single-policy mode serving `POLICY@production`: the policy whose production this server follows. */
  followsProduction: z.string().nullable().optional(),
};

/** The shadow slot's divergence from the primary answers (spec §5 shadow mode). */
export const ShadowDivergenceSchema = z.object({
  versionRef: z.string(),
  /** Max abs difference above which an answer counts as diverging. */
  threshold: z.number(),
  /** Since the previous stats push. */
  window: z.object({
    compared: z.number().int().nonnegative(),
    overThreshold: z.number().int().nonnegative(),
    overRate: z.number().min(0).max(1).nullable(),
    cosineDistanceP50: z.number().nullable(),
    cosineDistanceP99: z.number().nullable(),
    maxAbsP50: z.number().nullable(),
    maxAbsP99: z.number().nullable(),
  }),
  /** Since the shadow slot was loaded. */
  total: z.object({
    compared: z.number().int().nonnegative(),
    overThreshold: z.number().int().nonnegative(),
    failed: z.number().int().nonnegative(),
    skipped: z.number().int().nonnegative(),
    /** Answers whose shape differed from the primary's (nothing to compare). */
    incomparable: z.number().int().nonnegative(),
  }),
});
export type ShadowDivergence = z.infer<typeof ShadowDivergenceSchema>;

export const ServingStateSchema = z.object({
  mode: z.enum(['off', 'single', 'ab']),
  /** Percent of new episodes routed to slot `a`; meaningful in `ab` mode. */
  split: z.number().int().min(0).max(100),
  drain: DrainStateSchema,
  slots: z.array(SlotStateSchema),
  actUrl: z.string().nullable(),
  rtc: z.boolean(),
  maxConsecutiveCrashes: z.number().int().positive(),
  /**
   * Single-policy mode serving `POLICY@production`: the previous production version, loaded and
   * warm but not routed, so that a rollback moves traffic at once. Null (or absent) when none.
   */
  standby: z.object({ versionRef: z.string(), modelVersion: z.string(), ready: z.boolean() }).nullable().optional(),
  /** The two-policy GPU memory budget checked at start; null on the CPU or with one policy. */
  vram: z
    .object({ requiredBytes: z.number().nonnegative(), availableBytes: z.number().nonnegative(), totalGpuBytes: z.number().nonnegative(), fraction: z.number(), ok: z.boolean() })
    .nullable()
    .optional(),
  ...ServingCauseFields,
  /**
   * While a shadow slot is loaded: its divergence from the primary in the newest stats window
   * (rate over the threshold, p50/p99 of cosine distance and max abs) and since it was loaded.
   * Null (or absent) without a shadow, or before its first window.
   */
  shadowDivergence: ShadowDivergenceSchema.nullable().optional(),
});
export type ServingState = z.infer<typeof ServingStateSchema>;

export const SlotStatsSchema = z.object({
  slot: SlotSchema,
  requests: z.number().int().nonnegative(),
  errors: z.number().int().nonnegative(),
  /** Requests per second over the last window. */
  rps: z.number().nonnegative(),
  p50Ms: z.number().nullable(),
  p99Ms: z.number().nullable(),
  cacheHits: z.number().int().nonnegative(),
  cacheMisses: z.number().int().nonnegative(),
  inFlight: z.number().int().nonnegative(),
});
export type SlotStats = z.infer<typeof SlotStatsSchema>;


export const ServingStatsSchema = z.object({
  at: z.string(),
  windowMs: z.number().int().positive(),
  slots: z.array(SlotStatsSchema),
  /** Present while a shadow slot is loaded. */
  shadow: ShadowDivergenceSchema.optional(),
});
export type ServingStats = z.infer<typeof ServingStatsSchema>;

export const AppInfoSchema = z.object({
  name: z.literal('switchyard'),
  version: z.string(),
  storePath: z.string(),
  schemaVersion: z.number().int(),
  demoWorkspace: z.boolean(),
});
export type AppInfo = z.infer<typeof AppInfoSchema>;

// ---- evaluation, comparison and promotion gates (spec §4.4, §4.5, §7 Compare) ----

export const ErrorShapeSchema = z.object({ code: z.enum(ErrorCodes), message: z.string(), where: z.string().optional() });
export type ErrorShape = z.infer<typeof ErrorShapeSchema>;

export const TransitionSchema = z.enum(['candidate->staging', 'staging->production']);
export type TransitionName = z.infer<typeof TransitionSchema>;

const Interval = z.tuple([z.number(), z.number()]);

export const SuiteSummarySchema = z.object({
  fingerprint: z.string(),
  name: z.string(),
  /** `cartpole`, ... or `external` for a suite known only from imported results. */
  environment: z.string(),
  envVersion: z.string(),
  path: z.string().nullable(),
  caseCount: z.number().int().nonnegative(),
  /** Cases per slice. */
  slices: z.record(z.string(), z.number().int().nonnegative()),
  createdAt: z.string(),
});
export type SuiteSummary = z.infer<typeof SuiteSummarySchema>;

export const RulesFileSchema = z.object({
  path: z.string(),
  name: z.string(),
  transition: TransitionSchema.nullable(),
  suite: z.string().nullable(),
  baseline: z.string().nullable(),
  /** sha256 of the file's bytes. */
  hash: z.string(),
  /** Why the file cannot be used (with `where` = file:line:col), or null. */
  error: ErrorShapeSchema.nullable(),
});
export type RulesFile = z.infer<typeof RulesFileSchema>;

export const RunStatusSchema = z.enum(['running', 'completed', 'failed', 'cancelled']);

export const DeterminismBadgeSchema = z.object({
  status: z.enum(['deterministic', 'not frozen', 'not checked']),
  reruns: z.number().int().nonnegative().nullable(),
  /** Case ids whose results differed on a re-run. */
  differing: z.array(z.string()),
  note: z.string(),
});
export type DeterminismBadge = z.infer<typeof DeterminismBadgeSchema>;

export const EvalRunSummarySchema = z.object({
  id: z.number().int().positive(),
  /** `policy@label` */
  version: z.string(),
  suite: z.string(),
  suiteFingerprint: z.string(),
  kind: z.enum(['native', 'imported']),
  status: RunStatusSchema,
  startedAt: z.string(),
  endedAt: z.string().nullable(),
  casesTotal: z.number().int().nonnegative(),
  casesDone: z.number().int().nonnegative(),
  passed: z.number().int().nonnegative(),
  error: ErrorShapeSchema.nullable(),
  determinism: DeterminismBadgeSchema,
  casesPerSecond: z.number().nullable(),
});
export type EvalRunSummary = z.infer<typeof EvalRunSummarySchema>;

export const RateWithIntervalSchema = z.object({
  passed: z.number().int().nonnegative(),
  n: z.number().int().nonnegative(),
  rate: z.number().nullable(),
  /** Two-sided Wilson score interval. */
  interval: Interval,
});

export const SliceComparisonSchema = z.object({
  /** `all` first, then the suite's slices. */
  slice: z.string(),
  n: z.number().int().nonnegative(),
  candidate: RateWithIntervalSchema,
  baseline: RateWithIntervalSchema.nullable(),
  /** candidate - baseline with Newcombe's hybrid score interval. */
  delta: z.object({ estimate: z.number(), interval: Interval }).nullable(),
  newFailures: z.array(z.string()),
  fixed: z.array(z.string()),
});
export type SliceComparison = z.infer<typeof SliceComparisonSchema>;

export const GraderResultSchema = z.object({ name: z.string(), pass: z.boolean().nullable(), value: z.number().nullable() });
export type GraderResult = z.infer<typeof GraderResultSchema>;

export const FailingCaseSchema = z.object({
  caseId: z.string(),
  slices: z.array(z.string()),
  graders: z.array(GraderResultSchema),
  failure: z.string().nullable(),
  baselinePass: z.boolean().nullable(),
  newFailure: z.boolean(),
});

export const RunRefSchema = z.object({
  version: z.string(),
  modelVersion: z.string(),
  kind: PolicyKindSchema,
  stage: StageSchema,
  runId: z.number().int().positive(),
  runKind: z.enum(['native', 'imported']),
  evaluatedAt: z.string(),
});

export const ComparisonSchema = z.object({
  suite: z.object({ name: z.string(), fingerprint: z.string() }),
  candidate: RunRefSchema,
  baseline: RunRefSchema,
  confidence: z.number(),
  slices: z.array(SliceComparisonSchema),
  failingCases: z.array(FailingCaseSchema),
  determinism: DeterminismBadgeSchema,
});
export type Comparison = z.infer<typeof ComparisonSchema>;

export const RuleEvidenceSchema = z.object({
  /** `aggregate.min_pass_rate`, `slices.safety.max_fail_rate`, `efficiency.p99_latency_ms`, `determinism`, ... */
  id: z.string(),
  description: z.string(),
  observed: z.number().nullable(),
  interval: Interval.nullable(),
  threshold: z.union([z.number(), Interval]),
  /** null = not enough data to decide. */
  pass: z.boolean().nullable(),
  failingCases: z.array(z.string()),
  note: z.string(),
});
export type RuleEvidence = z.infer<typeof RuleEvidenceSchema>;

export const GateSideSchema = RunRefSchema.extend({ evaluated: z.boolean() });

export const GateResultSchema = z.object({
  verdictId: z.number().int().positive(),
  verdict: VerdictValueSchema,
  summary: z.string(),
  rules: z.array(RuleEvidenceSchema),
  transition: TransitionSchema,
  rulesFile: z.string(),
  rulesHash: z.string(),
  suite: z.object({ name: z.string(), fingerprint: z.string() }),
  candidate: GateSideSchema,
  baseline: GateSideSchema.nullable(),
  baselineSource: z.enum(['production', 'rules', 'override']),
  failingCases: z.array(z.string()),
  createdAt: z.string(),
});
export type GateResult = z.infer<typeof GateResultSchema>;

export const VerdictSummarySchema = z.object({
  id: z.number().int().positive(),
  policy: z.string(),
  candidate: z.string(),
  baseline: z.string().nullable(),
  transition: z.string(),
  suite: z.string().nullable(),
  suiteFingerprint: z.string().nullable(),
  rulesHash: z.string(),
  rulesFile: z.string().nullable(),
  verdict: VerdictValueSchema,
  summary: z.string(),
  rules: z.array(RuleEvidenceSchema),
  failingCases: z.array(z.string()),
  createdAt: z.string(),
});
export type VerdictSummary = z.infer<typeof VerdictSummarySchema>;

export const EvalProgressSchema = z.object({
  runId: z.number().int().positive(),
  /** `policy@label` */
  version: z.string(),
  /** The suite's name. */
  suite: z.string(),
  suiteFingerprint: z.string(),
  done: z.number().int().nonnegative(),
  total: z.number().int().nonnegative(),
  passed: z.number().int().nonnegative(),
  fraction: z.number().min(0).max(1),
  status: RunStatusSchema,
  phase: z.enum(['starting', 'evaluating', 'determinism', 'finished']),
  error: ErrorShapeSchema.nullable(),
});
export type EvalProgressPayload = z.infer<typeof EvalProgressSchema>;

// ---- lifecycle: promote, rollback, archive, history, canary (spec §6) ----

/** How a lifecycle change moved live traffic on this server. */
export const TrafficMoveSchema = z.object({
  /** True when a slot of this server now serves the new production version. */
  moved: z.boolean(),
  /** From the call to the swap (or the split change), milliseconds; null when nothing moved. */
  ms: z.number().nullable(),
  /** `standby` (warm swap), `cold-load`, `split` (two-policy mode), or why nothing moved. */
  how: z.string(),
});
export type TrafficMove = z.infer<typeof TrafficMoveSchema>;

export const PromotionResultSchema = z.object({
  policy: z.string(),
  version: VersionSummarySchema,
  from: StageSchema,
  to: StageSchema,
  at: z.string(),
  /** The production version this promotion sent back to staging. */
  replaced: VersionSummarySchema.nullable(),
  /** The verdict the promotion rested on (also recorded when forced). */
  verdictId: z.number().int().positive().nullable(),
  forced: z.boolean(),
  /** With `forced`: the missing, NO-GO or stale verdict the override went past. */
  overridden: z.array(z.string()),
  reason: z.string(),
  actor: z.string(),
  traffic: TrafficMoveSchema,
});
export type PromotionResult = z.infer<typeof PromotionResultSchema>;

export const RollbackResultSchema = z.object({
  policy: z.string(),
  restored: VersionSummarySchema,
  replaced: VersionSummarySchema,
  at: z.string(),
  /** When the restored version was production before (its newest span). */
  lastProduction: z.object({ from: z.string(), until: z.string().nullable() }).nullable(),
  /** Archived versions the rollback passed over. */
  skipped: z.array(z.string()),
  reason: z.string(),
  actor: z.string(),
  traffic: TrafficMoveSchema,
});
export type RollbackResult = z.infer<typeof RollbackResultSchema>;

export const ArchiveResultSchema = z.object({
  policy: z.string(),
  version: VersionSummarySchema,
  from: StageSchema,
  at: z.string(),
  reason: z.string(),
  actor: z.string(),
});
export type ArchiveResult = z.infer<typeof ArchiveResultSchema>;

export const LifecycleActionSchema = z.enum(['promote', 'rollback', 'archive', 'stage']);

export const HistoryEntrySchema = z.object({
  id: z.number().int().positive(),
  at: z.string(),
  policy: z.string(),
  label: z.string(),
  from: StageSchema.nullable(),
  to: StageSchema,
  /** `stage`: a plain stage change (registration, changes recorded before lifecycle actions). */
  action: LifecycleActionSchema,
  actor: z.string(),
  reason: z.string(),
  verdictId: z.number().int().positive().nullable(),
  forced: z.boolean(),
});
export type HistoryEntry = z.infer<typeof HistoryEntrySchema>;

export const ProductionAtSchema = z.object({
  policy: z.string(),
  at: z.string(),
  production: VersionSummarySchema.nullable(),
  since: z.string().nullable(),
  until: z.string().nullable(),
  message: z.string(),
});
export type ProductionAt = z.infer<typeof ProductionAtSchema>;

export const HistoryResultSchema = z.object({
  policy: z.string(),
  entries: z.array(HistoryEntrySchema),
  /** With `at`: what was production then. */
  productionAt: ProductionAtSchema.nullable(),
});
export type HistoryResult = z.infer<typeof HistoryResultSchema>;

export const LifecycleChangedSchema = z.object({
  policy: z.string(),
  action: z.enum(['promote', 'rollback', 'archive']),
  /** `policy@label` */
  version: z.string(),
  from: StageSchema,
  to: StageSchema,
  at: z.string(),
  actor: z.string(),
  reason: z.string(),
  verdictId: z.number().int().positive().nullable(),
  forced: z.boolean(),
  /** The production version the change replaced (`policy@label`). */
  replaced: z.string().nullable(),
});
export type LifecycleChanged = z.infer<typeof LifecycleChangedSchema>;

export const CanaryCheckSchema = z.object({
  id: z.enum(['data', 'error_rate', 'p99_latency']),
  pass: z.boolean(),
  observed: z.number().nullable(),
  threshold: z.number(),
  bound: z.number().nullable(),
  note: z.string(),
});

const CanarySlotNumbersSchema = z.object({
  requests: z.number().int().nonnegative(),
  errors: z.number().int().nonnegative(),
  errorRate: z.number().nullable(),
  p99Ms: z.number().nullable(),
});

export const CanaryLookSchema = z.object({
  /** 1-based, out of `plannedLooks`. */
  index: z.number().int().positive(),
  phase: z.enum(['ramp', 'monitor']),
  /** Percent of new episodes on the canary when the look was taken. */
  percent: z.number().int().min(0).max(100),
  at: z.string(),
  pass: z.boolean(),
  /** alpha / plannedLooks */
  alpha: z.number(),
  confidence: z.number(),
  checks: z.array(CanaryCheckSchema),
  canary: CanarySlotNumbersSchema.nullable(),
  production: CanarySlotNumbersSchema.nullable(),
});
export type CanaryLook = z.infer<typeof CanaryLookSchema>;

export const CanaryStateSchema = z.enum(['ramping', 'paused', 'monitoring', 'completed', 'rolled_back', 'aborted']);

export const CanaryConfigSchema = z.object({
  steps: z.array(z.number().int().min(1).max(100)),
  intervalMs: z.number(),
  alpha: z.number(),
  errorMargin: z.number(),
  p99MaxRatio: z.number(),
  p99MinDeltaMs: z.number(),
  minRequestsPerLook: z.number().int(),
  monitorWindowMs: z.number(),
  lookTimeoutMs: z.number(),
});

export const CanaryStatusSchema = z.object({
  id: z.string(),
  policy: z.string(),
  /** `policy@label` in slot b. */
  candidate: z.string(),
  /** The production version when the canary started (`policy@label`), in slot a. */
  baseline: z.string(),
  state: CanaryStateSchema,
  /** What a paused canary was doing. */
  pausedFrom: z.enum(['ramping', 'monitoring']).nullable(),
  /** Index into `config.steps` of the current step. */
  stepIndex: z.number().int().nonnegative(),
  /** Percent of new episodes on the canary now. */
  percent: z.number().int().min(0).max(100),
  config: CanaryConfigSchema,
  plannedLooks: z.number().int().positive(),
  looks: z.array(CanaryLookSchema),
  startedAt: z.string(),
  updatedAt: z.string(),
  nextLookAt: z.string().nullable(),
  promotedAt: z.string().nullable(),
  verdictId: z.number().int().positive().nullable(),
  forced: z.boolean(),
  /** How it ended (or null while it runs): which check failed with its numbers, or why it stopped. */
  outcome: z.string().nullable(),
  failedCheck: CanaryCheckSchema.nullable(),
});
export type CanaryStatus = z.infer<typeof CanaryStatusSchema>;

// ---------------------------------------------------------------- serving journal (issue 12)

/** Something that happened to serving, drawn as a marker on every time chart. */
export const ServingEventKindSchema = z.enum(['start', 'deploy', 'split', 'drain', 'restore', 'rollback', 'promote', 'canary']);
export type ServingEventKind = z.infer<typeof ServingEventKindSchema>;

export const ServingEventSchema = z.object({
  id: z.number().int().positive(),
  at: z.string(),
  kind: ServingEventKindSchema,
  /** The slot it concerns, when one. */
  slot: SlotSchema.nullable(),
  /** In words, e.g. "slot b now serves cartpole-balance@1.2.0 (was …@2.0.0-iter)". */
  message: z.string(),
});
export type ServingEvent = z.infer<typeof ServingEventSchema>;

export const ServingHistorySchema = z.object({
  /** The newest samples since the asked time, oldest first (the server keeps at least an hour). */
  samples: z.array(ServingStatsSchema),
  events: z.array(ServingEventSchema),
  /** Milliseconds between samples. */
  intervalMs: z.number().int().positive(),
  /** How far back the server keeps samples, milliseconds. */
  retentionMs: z.number().int().positive(),
});
export type ServingHistory = z.infer<typeof ServingHistorySchema>;
