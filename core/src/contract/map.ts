import { z } from 'zod';
import {
  AppInfoSchema,
  ArchiveResultSchema,
  CanaryStatusSchema,
  ComparisonSchema,
  EvalProgressSchema,
  EvalRunSummarySchema,
  GateResultSchema,
  HistoryResultSchema,
  LifecycleChangedSchema,
  PolicySummarySchema,
  PromotionResultSchema,
  RollbackResultSchema,
  RulesFileSchema,
  ServingEventSchema,
  ServingHistorySchema,
  ServingStateSchema,
  ServingStatsSchema,
  SlotSchema,
  StageSchema,
  SuiteSummarySchema,
  VerdictSummarySchema,
  VersionSummarySchema,
} from './schemas.js';
import { replayEvents, replayMethods } from './replay-schemas.js';
import { demoTrafficMethods } from './demo-traffic-schemas.js';
import { registrationEvents, registrationMethods } from './registration-schemas.js';
import { shadowMethods } from './shadow-schemas.js';

const Empty = z.object({}).strict();
/** `policy@label` or `policy@<stage>` (e.g. `cartpole-balance@production`). */
const VersionRef = z.string().min(1).max(300);
/** A suite's name or fingerprint (or, for `eval.start`, the path of a suite file). */
const SuiteRef = z.string().min(1).max(4096);
const PolicyName = z.string().min(1).max(200);
/** Who made a change, for the history and the audit log (default: `api`). */
const Actor = z.string().min(1).max(200);
const Reason = z.string().max(2000);

/**
 * The one map of the API. Every transport (Electron IPC, HTTP `POST /api/<method>`,
 * the WebSocket at `/api/events`) is generated from these two objects; nothing else
 * names a method or an event.
 */
export const methods = {
  'app.info': { input: Empty, output: AppInfoSchema },
  'policies.list': { input: Empty, output: z.object({ policies: z.array(PolicySummarySchema) }) },
  'versions.get': {
    input: z.object({ policy: z.string().min(1), label: z.string().min(1) }).strict(),
    output: VersionSummarySchema,
  },
  'serving.getState': { input: Empty, output: ServingStateSchema },
  'serving.setSplit': {
    input: z.object({ split: z.number().int().min(0).max(100) }).strict(),
    output: ServingStateSchema,
  },
  'serving.restoreSlot': {
    input: z.object({ slot: SlotSchema }).strict(),
    output: ServingStateSchema,
  },
  /**
   * The server's bounded serving history (samples for at least an hour, events for longer) since
   * `sinceMs` milliseconds ago (default: everything kept): what the charts backfill from on load.
   */
  'serving.history': {
    input: z.object({ sinceMs: z.number().int().min(0).max(604_800_000).optional() }).strict(),
    output: ServingHistorySchema,
  },
  /** Every suite recorded in the store (native and imported-only). */
  'suites.list': { input: Empty, output: z.object({ suites: z.array(SuiteSummarySchema) }) },
  /** The rules files the engine knows (the demo's, `<dataDir>/rules/`, a configured folder). */
  'rules.list': { input: Empty, output: z.object({ rules: z.array(RulesFileSchema) }) },
  /** Start evaluating a version on a suite in the background; progress arrives as `eval.progress`. */
  'eval.start': {
    input: z.object({ version: VersionRef, suite: SuiteRef, reruns: z.number().int().min(0).max(10).optional() }).strict(),
    output: z.object({
      runId: z.number().int().positive(),
      version: z.string(),
      suite: z.object({ name: z.string(), fingerprint: z.string() }),
      /** True when the same version was already being evaluated on this suite (this is that run). */
      alreadyRunning: z.boolean(),
    }),
  },
  /** Cancel a running evaluation; its finished cases are kept, the run is labelled `cancelled`. */
  'eval.cancel': {
    input: z.object({ runId: z.number().int().positive() }).strict(),
    output: z.object({ runId: z.number().int().positive(), cancelled: z.boolean() }),
  },
  'eval.runs': {
    input: z.object({ version: VersionRef.optional(), suite: SuiteRef.optional(), limit: z.number().int().min(1).max(1000).optional() }).strict(),
    output: z.object({ runs: z.array(EvalRunSummarySchema) }),
  },
  /**
   * Every case of a stored run (id, slices, pass, grader results, score, latency) as a file's text:
   * `jsonl` one case a line, `csv` graders as columns. For downloads and outside checks.
   */
  'eval.results': {
    input: z.object({ runId: z.number().int().positive(), format: z.enum(['json', 'jsonl', 'csv']).optional() }).strict(),
    output: z.object({
      runId: z.number().int().positive(),
      version: z.string(),
      status: z.string(),
      format: z.enum(['json', 'jsonl', 'csv']),
      cases: z.number().int().nonnegative(),
      /** A file name to save it under, e.g. `run-12-cartpole-balance-1.1.0.csv`. */
      fileName: z.string(),
      text: z.string(),
    }),
  },
  /** Per-slice comparison of the newest completed runs of two versions on one suite. */
  'compare.get': {
    input: z.object({ candidate: VersionRef, baseline: VersionRef, suite: SuiteRef }).strict(),
    output: ComparisonSchema,
  },
  /** Run the promotion gate (evaluating what is missing) and store the verdict. */
  'gate.run': {
    input: z.object({ rulesPath: z.string().min(1).max(4096), candidate: VersionRef, baseline: VersionRef.optional(), reeval: z.boolean().optional() }).strict(),
    output: GateResultSchema,
  },
  /** A policy's verdicts, newest first; with `id`, that one verdict (a link to a verdict's detail). */
  'verdicts.list': {
    input: z
      .object({ policy: z.string().min(1).max(200), candidate: VersionRef.optional(), limit: z.number().int().min(1).max(1000).optional(), id: z.number().int().positive().optional() })
      .strict(),
    output: z.object({ verdicts: z.array(VerdictSummarySchema) }),
  },
  /**
   * Move a version to a stage: only with a GO verdict for the transition that still holds
   * (current suite, rules file and baseline), unless `force` with a `reason` (recorded). With
   * `rulesPath` the gate runs first. `to: archived` archives (with the archive guards).
   * `expectedProduction`: refuse (SWY_ERR_CONFLICT) unless production is still this label (null: none).
   */
  'lifecycle.promote': {
    input: z
      .object({
        version: VersionRef,
        to: StageSchema,
        force: z.boolean().optional(),
        reason: Reason.optional(),
        rulesPath: z.string().min(1).max(4096).optional(),
        expectedProduction: z.string().min(1).max(300).nullable().optional(),
        actor: Actor.optional(),
      })
      .strict(),
    output: PromotionResultSchema,
  },
  /** The previous production version becomes production again; traffic on this server moves at once. */
  'lifecycle.rollback': {
    input: z.object({ policy: PolicyName, reason: Reason.optional(), expectedProduction: z.string().min(1).max(300).nullable().optional(), actor: Actor.optional() }).strict(),
    output: RollbackResultSchema,
  },
  /** Every stage change of a policy; with `at` (ISO or relative, e.g. `-2h`), what was production then. */
  'lifecycle.history': {
    input: z.object({ policy: PolicyName, at: z.string().min(1).max(100).optional() }).strict(),
    output: HistoryResultSchema,
  },
  /** Archive a version; refused for the production version and the last 3 that were production. */
  'lifecycle.archive': {
    input: z.object({ version: VersionRef, reason: Reason.optional(), actor: Actor.optional() }).strict(),
    output: ArchiveResultSchema,
  },
  /**
   * Ramp a staging candidate (slot b) against production (slot a) in two-policy mode, looking at
   * error rate and p99 at each step; a failed look rolls back at once; at 100% it is promoted and
   * watched for `monitorWindowMs`. Progress arrives as `canary.progress`.
   */
  'canary.start': {
    input: z
      .object({
        policy: PolicyName,
        candidate: VersionRef,
        steps: z.array(z.number().int().min(1).max(100)).min(1).max(20).optional(),
        intervalMs: z.number().int().min(10).max(86_400_000).optional(),
        alpha: z.number().gt(0).lt(0.5).optional(),
        errorMargin: z.number().min(0).lt(1).optional(),
        p99MaxRatio: z.number().min(1).optional(),
        p99MinDeltaMs: z.number().min(0).optional(),
        minRequestsPerLook: z.number().int().min(1).optional(),
        monitorWindowMs: z.number().int().min(0).max(604_800_000).optional(),
        lookTimeoutMs: z.number().int().min(1).max(600_000).optional(),
        force: z.boolean().optional(),
        reason: Reason.optional(),
        actor: Actor.optional(),
      })
      .strict(),
    output: CanaryStatusSchema,
  },
  'canary.pause': { input: z.object({ actor: Actor.optional() }).strict(), output: CanaryStatusSchema },
  'canary.resume': { input: z.object({ actor: Actor.optional() }).strict(), output: CanaryStatusSchema },
  /** Stop the canary and send every request back to the version that was production when it started. */
  'canary.abort': { input: z.object({ reason: Reason.optional(), actor: Actor.optional() }).strict(), output: CanaryStatusSchema },
  /** The running canary, or the last one of this server (null: none yet). */
  'canary.status': { input: Empty, output: z.object({ canary: CanaryStatusSchema.nullable() }) },
  // ---- replay (spec §7.6) ----
  ...replayMethods,
  // ---- demo traffic ----
  ...demoTrafficMethods,
  // ---- registration from the workbench, watched folders (issue 13) ----
  ...registrationMethods,
  // ---- the shadow evidence promotion rules read (issue 13) ----
  ...shadowMethods,
} as const;

export const events = {
  /** Per-slot serving statistics, pushed about twice a second while serving. */
  'serving.stats': ServingStatsSchema,
  /** The serving state, pushed whenever it changes (split, drain, slot readiness). */
  'serving.state': ServingStateSchema,
  /** An evaluation's progress: at most ~10 a second per run, plus every phase or status change. */
  'eval.progress': EvalProgressSchema,
  /** A committed stage change: promote, rollback or archive (from this engine). */
  'lifecycle.changed': LifecycleChangedSchema,
  /** A serving event (start, slot version change, split change, drain, restore, rollback, promotion, canary step). */
  'serving.event': ServingEventSchema,
  /** A canary's status at every step, look, pause, promotion, rollback or abort. */
  'canary.progress': CanaryStatusSchema,
  ...replayEvents,
  ...registrationEvents,
} as const;

export type Methods = typeof methods;
export type MethodName = keyof Methods;
export type MethodInput<M extends MethodName> = z.input<Methods[M]['input']>;
export type MethodOutput<M extends MethodName> = z.infer<Methods[M]['output']>;

export type Events = typeof events;
export type EventName = keyof Events;
export type EventPayload<E extends EventName> = z.infer<Events[E]>;

export const methodNames = Object.keys(methods) as MethodName[];
export const eventNames = Object.keys(events) as EventName[];

export function isMethodName(name: string): name is MethodName {
  return Object.prototype.hasOwnProperty.call(methods, name);
}

export function isEventName(name: string): name is EventName {
  return Object.prototype.hasOwnProperty.call(events, name);
}
