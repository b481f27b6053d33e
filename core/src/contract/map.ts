import { z } from 'zod';
import {
  AppInfoSchema,
  ComparisonSchema,
  EvalProgressSchema,
  EvalRunSummarySchema,
  GateResultSchema,
  PolicySummarySchema,
  RulesFileSchema,
  ServingStateSchema,
  ServingStatsSchema,
  SlotSchema,
  SuiteSummarySchema,
  VerdictSummarySchema,
  VersionSummarySchema,
} from './schemas.js';

const Empty = z.object({}).strict();
/** `policy@label` or `policy@<stage>` (e.g. `cartpole-balance@production`). */
const VersionRef = z.string().min(1).max(300);
/** A suite's name or fingerprint (or, for `eval.start`, the path of a suite file). */
const SuiteRef = z.string().min(1).max(4096);

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
  'verdicts.list': {
    input: z.object({ policy: z.string().min(1).max(200), candidate: VersionRef.optional(), limit: z.number().int().min(1).max(1000).optional() }).strict(),
    output: z.object({ verdicts: z.array(VerdictSummarySchema) }),
  },
} as const;

export const events = {
  /** Per-slot serving statistics, pushed about twice a second while serving. */
  'serving.stats': ServingStatsSchema,
  /** The serving state, pushed whenever it changes (split, drain, slot readiness). */
  'serving.state': ServingStateSchema,
  /** An evaluation's progress: at most ~10 a second per run, plus every phase or status change. */
  'eval.progress': EvalProgressSchema,
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
