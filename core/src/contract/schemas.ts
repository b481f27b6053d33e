import { z } from 'zod';

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

export const SlotStateSchema = z.object({
  slot: SlotSchema,
  /** `policy@label` when registered, the export path otherwise. */
  versionRef: z.string(),
  modelVersion: z.string(),
  kind: PolicyKindSchema,
  ready: z.boolean(),
  drained: z.boolean(),
  consecutiveFailures: z.number().int().nonnegative(),
  crashes: z.number().int().nonnegative(),
  sizeBytes: z.number().int().nonnegative(),
});
export type SlotState = z.infer<typeof SlotStateSchema>;

export const ServingStateSchema = z.object({
  mode: z.enum(['off', 'single', 'ab']),
  /** Percent of new episodes routed to slot `a`; meaningful in `ab` mode. */
  split: z.number().int().min(0).max(100),
  drain: DrainStateSchema,
  slots: z.array(SlotStateSchema),
  actUrl: z.string().nullable(),
  rtc: z.boolean(),
  maxConsecutiveCrashes: z.number().int().positive(),
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
