/**
 * Registration from the workbench (issue 13 item 3): `registry.*` methods and the
 * `registry.registerProgress` event. An export is registered from a path under the folders the
 * server reads files from (or one the desktop's own folder dialog returned); doctor's six checks
 * arrive as they run; the report is kept with the version. Exports dropped into a watched folder
 * arrive as the same jobs (source `watch`), with the automatic evaluation and verdict spec §6 asks for.
 * Kept in its own file so the map only gains a few entries.
 */
import { z } from 'zod';
import { ErrorShapeSchema, VerdictValueSchema } from './schemas.js';

const JobId = z.string().min(1).max(100);

export const DoctorCheckNameSchema = z.enum(['manifest', 'files', 'load', 'io-shapes', 'warmup', 'finite-outputs']);

/** One of doctor's checks as a page shows it: `pending` until it runs, `running` while it does. */
export const RegistrationCheckSchema = z.object({
  name: DoctorCheckNameSchema,
  status: z.enum(['pending', 'running', 'passed', 'failed', 'skipped']),
  /** What was found, or why it failed and what to do (null while pending or running). */
  detail: z.string().nullable(),
});
export type RegistrationCheck = z.infer<typeof RegistrationCheckSchema>;

/**
 * A stored doctor report (the version's, or a rejected export's). Lenient: reports written by
 * older servers lack some fields.
 */
export const DoctorReportSchema = z
  .object({
    ok: z.boolean(),
    dir: z.string().optional(),
    checkedAt: z.string().optional(),
    device: z.string().optional(),
    checks: z.array(z.object({ name: z.string(), ok: z.boolean(), detail: z.string(), skipped: z.boolean().optional() })),
    manifest: z.unknown().optional(),
    modelHash: z.string().nullable().optional(),
    modelVersion: z.string().nullable().optional(),
    sizeBytes: z.number().nullable().optional(),
    files: z.array(z.object({ name: z.string(), bytes: z.number() })).nullable().optional(),
    provider: z.string().nullable().optional(),
    fallbackReason: z.string().optional(),
    loadMs: z.number().nullable().optional(),
    warmupMs: z.number().nullable().optional(),
    latency: z.object({ p50Ms: z.number(), p99Ms: z.number(), inferP50Ms: z.number(), inferP99Ms: z.number(), runs: z.number() }).nullable().optional(),
    error: z.object({ code: z.string(), message: z.string(), where: z.string().optional(), check: z.string() }).optional(),
  });
export type DoctorReportView = z.infer<typeof DoctorReportSchema>;

/** The automatic evaluation of a watched export against production's suite (spec §6). */
export const RegistrationEvaluationSchema = z.object({
  state: z.enum(['waiting', 'evaluating', 'done', 'skipped', 'failed']),
  /** The suite production was evaluated on (or the one its candidate->staging rules name). */
  suite: z.string().nullable(),
  /** The rules file of the gate (candidate->staging); null when there is none for that suite. */
  rulesFile: z.string().nullable(),
  runId: z.number().int().positive().nullable(),
  /** 0..1 while evaluating. */
  fraction: z.number().min(0).max(1).nullable(),
  passRate: z.number().min(0).max(1).nullable(),
  verdict: VerdictValueSchema.nullable(),
  verdictId: z.number().int().positive().nullable(),
  /** In words: the verdict's summary, or why nothing was evaluated. */
  note: z.string(),
});
export type RegistrationEvaluation = z.infer<typeof RegistrationEvaluationSchema>;

export const RegistrationJobSchema = z.object({
  jobId: JobId,
  /** Grows with every change of this job: of two copies that crossed on the wire, the higher is newer. */
  seq: z.number().int().nonnegative(),
  /** `page`: the Register export action (or an API caller); `watch`: an export that appeared in a watched folder. */
  source: z.enum(['page', 'watch']),
  /** The export directory (absolute, symlinks followed). */
  dir: z.string(),
  startedAt: z.string(),
  finishedAt: z.string().nullable(),
  /**
   * `settling`: seen in a watched folder, waiting for its files to stop changing; `checking`:
   * doctor runs; `registered`; `rejected` (the export's fault: nothing written); `failed` (not the
   * export's fault, e.g. the store was busy: nothing written); `cancelled`.
   */
  state: z.enum(['settling', 'checking', 'registered', 'rejected', 'failed', 'cancelled']),
  checks: z.array(RegistrationCheckSchema),
  /** Timed runs of the last check. */
  runs: z.object({ done: z.number().int().nonnegative(), total: z.number().int().nonnegative() }),
  fraction: z.number().min(0).max(1),
  /** The registered version (`created: false` when identical files were registered already). */
  version: z.object({ ref: z.string(), modelVersion: z.string(), created: z.boolean() }).nullable(),
  /** Why it was refused, and the check that failed (null for refusals that are no check's, e.g. a label conflict). */
  error: ErrorShapeSchema.extend({ check: DoctorCheckNameSchema.nullable() }).nullable(),
  report: DoctorReportSchema.nullable(),
  evaluation: RegistrationEvaluationSchema.nullable(),
});
export type RegistrationJob = z.infer<typeof RegistrationJobSchema>;

export const ExportFolderSchema = z.object({
  path: z.string(),
  /** `store`: the store's or data folder; `record`: a trace folder; `data-root`: `--data-root`; `watch`: a watched folder; `chosen`: picked in the desktop's dialog. */
  kind: z.enum(['store', 'record', 'data-root', 'watch', 'chosen']),
});

export type ExportFolder = z.infer<typeof ExportFolderSchema>;

export const RegistrationsSchema = z.object({
  /** Newest first; page registrations and watched-folder exports of this server's life. */
  jobs: z.array(RegistrationJobSchema),
  /** Where an export may be registered from. */
  folders: z.array(ExportFolderSchema),
  /** Watched folders (`--watch`). */
  watching: z.array(z.string()),
  /** True when this server can show a native folder dialog (the desktop app). */
  folderDialog: z.boolean(),
});
export type Registrations = z.infer<typeof RegistrationsSchema>;

export const registrationMethods = {
  /**
   * Register the export directory at `path` (under a folder of `registry.registrations`): doctor's
   * checks run in the background and arrive as `registry.registerProgress`; a good export becomes a
   * `candidate` with its report, a broken one writes nothing.
   */
  'registry.registerExport': { input: z.object({ path: z.string().min(1).max(4096) }).strict(), output: RegistrationJobSchema },
  /** Stop a registration's doctor; nothing is written. */
  'registry.cancelRegistration': { input: z.object({ jobId: JobId }).strict(), output: RegistrationJobSchema },
  /** The registrations of this server's life (page and watched folder), the allowed folders, the watched ones. */
  'registry.registrations': { input: z.object({}).strict(), output: RegistrationsSchema },
  /** The doctor report stored with a version (null: registered without one). */
  'registry.doctorReport': {
    input: z.object({ policy: z.string().min(1).max(200), label: z.string().min(1).max(200) }).strict(),
    output: z.object({ policy: z.string(), label: z.string(), report: DoctorReportSchema.nullable() }),
  },
  /** The desktop's native folder dialog (the folder picked may then be registered); null when dismissed. Headless servers refuse. */
  'registry.chooseExportFolder': { input: z.object({}).strict(), output: z.object({ path: z.string().nullable() }) },
} as const;

export const registrationEvents = {
  /** A registration's state: each check as it starts and ends, timed runs (~10 a second at most), the outcome, the evaluation. */
  'registry.registerProgress': RegistrationJobSchema,
} as const;
