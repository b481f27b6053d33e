/**
 * Registration as the workbench sees it (issue 13 item 3; spec §6 watch folder, §7 long work).
 *
 * - `register(path)`: an export directory under a folder the server reads files from (the path
 *   guard checked it before this runs) is checked by doctor in the background; every check is
 *   pushed as it starts and ends (`registry.registerProgress`), then a good export is registered
 *   as a candidate with its report in one transaction (`commitRegistration`) and a broken one is
 *   refused with the failing check, writing nothing at all (no version, no audit row).
 * - Watched folders (`--watch DIR`): the `WatchFolder` does the noticing, settling and the
 *   judging; its events become jobs of the same shape (source `watch`), so the Versions page shows
 *   them live. A newly registered export is then evaluated against production's suite: through
 *   the gate of the candidate->staging rules on that suite when there are such rules (a stored
 *   verdict), else an evaluation alone (a pass rate, no verdict).
 * - Jobs live in memory (the newest `maxJobs`): what is kept for good is the version and its
 *   doctor report, and the verdict.
 */
import { randomUUID } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { ExportFolder, RegistrationCheck, RegistrationEvaluation, RegistrationJob, Registrations } from '../contract/registration-schemas.js';
import { ErrorCodes, SwitchyardError, toErrorShape, type ErrorCode } from '../contract/errors.js';
import type { EvalProgressPayload, RulesFile } from '../contract/schemas.js';
import { iso, type Clock } from '../platform/clock.js';
import type { Logger } from '../platform/logger.js';
import { checkForRegistration, commitRegistration, DOCTOR_CHECKS, DoctorFailedError, type DoctorCheckName, type DoctorReport } from './doctor.js';
import { WatchFolder, type WatchEvent } from './watch-folder.js';
import type { EvalService } from '../eval/eval-service.js';
import type { EvalStore } from '../store/eval-store.js';
import type { Registry } from '../store/registry.js';

export interface RegistrationGateResult {
  verdictId: number;
  verdict: 'GO' | 'NO-GO' | 'INCONCLUSIVE';
  summary: string;
  candidate: { runId: number };
}

export interface RegistrationServiceOptions {
  registry: Registry;
  evalStore: EvalStore;
  evals: EvalService;
  clock: Clock;
  logger: Logger;
  /** Pushes a job's state (the engine's `registry.registerProgress`). */
  emit: (job: RegistrationJob) => void;
  /** The folders an API caller may name, as the page lists them. */
  folders: () => ExportFolder[];
  /** Adds a folder API callers may name files in (a watched folder, a folder the desktop dialog returned). */
  allowFolder: (dir: string) => void;
  /** The rules files the engine knows. */
  listRules: () => Promise<RulesFile[]>;
  /** Runs a promotion gate (evaluating what is missing) and stores its verdict. */
  gate: (req: { rulesPath: string; candidate: string }) => Promise<RegistrationGateResult>;
  /** Subscribes to every evaluation's progress; returns the unsubscribe. */
  onEvalProgress: (h: (p: EvalProgressPayload) => void) => () => void;
  /** Passed rate of a stored run (0..1), null when it has no cases. */
  passRateOf: (runId: number) => number | null;
  /** Doctor's device (default `cpu`: the same as evaluation). */
  device?: 'auto' | 'cpu' | 'cuda';
  /** Doctor's timed runs for a page registration (default 50, as the watch folder). */
  runs?: number;
  /** Jobs kept (default 50). */
  maxJobs?: number;
  /** Page registrations checked at once (default 2); more are refused until one finishes. */
  maxConcurrent?: number;
  /** Milliseconds between progress pushes of timed runs (default 100). */
  progressIntervalMs?: number;
}

/** The desktop's folder dialog: resolves with the folder picked, or null when dismissed. */
export type FolderChooser = () => Promise<string | null>;

class Cancelled extends Error {}

interface LiveJob {
  job: RegistrationJob;
  cancel: boolean;
  lastPush: number;
}

export class RegistrationService {
  private readonly jobs = new Map<string, LiveJob>();
  private readonly watchers = new Map<string, WatchFolder>();
  /** A watched directory's current job. */
  private readonly watchJobs = new Map<string, string>();
  private readonly pending = new Set<Promise<unknown>>();
  private chooser: FolderChooser | null = null;
  private readonly chosen = new Set<string>();
  private closed = false;

  constructor(private readonly o: RegistrationServiceOptions) {}

  /** Installs the desktop's folder dialog (the headless server has none). */
  setFolderChooser(chooser: FolderChooser | null): void {
    this.chooser = chooser;
  }

  /** Opens the desktop's folder dialog; the folder picked becomes one an API caller may name. */
  async chooseFolder(): Promise<{ path: string | null }> {
    if (this.chooser === null) {
      throw new SwitchyardError(
        ErrorCodes.SWY_ERR_CONFIG,
        `This server has no folder dialog (it is not the desktop app). Type the export's path; it must be under ${this.o.folders().map((f) => f.path).join(', ') || 'a --data-root folder'}.`,
        'path',
      );
    }
    const picked = await this.chooser();
    if (picked === null) return { path: null };
    const abs = resolve(picked);
    // The person picked it in a dialog of their own desktop: that folder, and only it, may now be named.
    this.chosen.add(abs);
    this.o.allowFolder(abs);
    return { path: abs };
  }

  list(): Registrations {
    const jobs = [...this.jobs.values()].map((j) => j.job).sort((a, b) => (a.startedAt < b.startedAt ? 1 : a.startedAt > b.startedAt ? -1 : 0));
    const watching = [...this.watchers.keys()];
    const folders: ExportFolder[] = [...this.o.folders()];
    const have = new Set(folders.map((f) => f.path));
    for (const w of watching) if (!have.has(w)) folders.push({ path: w, kind: 'watch' });
    for (const c of this.chosen) if (!have.has(c)) folders.push({ path: c, kind: 'chosen' });
    return { jobs, folders: folders.map((f) => (watching.includes(f.path) ? { ...f, kind: 'watch' } : f)), watching, folderDialog: this.chooser !== null };
  }

  get(jobId: string): RegistrationJob {
    const j = this.jobs.get(jobId);
    if (!j) throw new SwitchyardError(ErrorCodes.SWY_ERR_NOT_FOUND, `No registration ${jobId}. \`registry.registrations\` lists them.`, 'jobId');
    return j.job;
  }

  doctorReport(policy: string, label: string): { policy: string; label: string; report: DoctorReport | null } {
    return { policy, label, report: this.o.registry.getDoctorReport(policy, label) as DoctorReport | null };
  }

  /**
   * Starts registering the export in `dir` (already checked against the allowed folders) and
   * answers at once with the job; doctor's progress and the outcome follow as events.
   */
  async register(dir: string, actor: string): Promise<RegistrationJob> {
    if (this.closed) throw new SwitchyardError(ErrorCodes.SWY_ERR_CONFLICT, 'The server is stopping; register the export after it restarts.');
    const abs = resolve(dir);
    const st = await stat(abs).catch(() => null);
    if (st === null) throw new SwitchyardError(ErrorCodes.SWY_ERR_NOT_FOUND, `path: ${abs} does not exist. Give the export's directory (it holds policy.onnx and switchyard.json).`, 'path');
    if (!st.isDirectory()) {
      throw new SwitchyardError(ErrorCodes.SWY_ERR_BAD_EXPORT, `path: ${abs} is a file; an export is a directory holding policy.onnx and switchyard.json. Give the directory.`, 'path');
    }
    const busy = [...this.jobs.values()].find((j) => j.job.dir === abs && (j.job.state === 'checking' || j.job.state === 'settling'));
    if (busy) return busy.job;
    // Each doctor is a worker thread loading a model: a few at once, not one per click.
    const running = [...this.jobs.values()].filter((j) => j.job.source === 'page' && j.job.state === 'checking');
    const max = this.o.maxConcurrent ?? 2;
    if (running.length >= max) {
      throw new SwitchyardError(
        ErrorCodes.SWY_ERR_CONFLICT,
        `${running.length} registrations are being checked (${running.map((j) => j.job.dir).join(', ')}); register ${abs} once one of them has finished, or cancel one.`,
        'path',
      );
    }
    const live = this.newJob('page', abs, 'checking');
    this.track(this.runPageJob(live, actor));
    return live.job;
  }

  cancel(jobId: string): RegistrationJob {
    const j = this.jobs.get(jobId);
    if (!j) throw new SwitchyardError(ErrorCodes.SWY_ERR_NOT_FOUND, `No registration ${jobId}. \`registry.registrations\` lists them.`, 'jobId');
    if (j.job.source === 'watch') {
      throw new SwitchyardError(ErrorCodes.SWY_ERR_CONFLICT, `Registration ${jobId} comes from the watched folder; move the export out of ${j.job.dir}'s folder to stop it being registered.`, 'jobId');
    }
    if (j.job.state === 'checking') j.cancel = true;
    return j.job;
  }

  /** Watches `dir` for exports (`--watch`); the folder becomes one an API caller may name. */
  async watch(dir: string, opts: { device?: 'auto' | 'cpu' | 'cuda'; settleMs?: number; pollMs?: number } = {}): Promise<WatchFolder> {
    const abs = resolve(dir);
    const existing = this.watchers.get(abs);
    if (existing) return existing;
    const watcher = new WatchFolder({
      dir: abs,
      registry: this.o.registry,
      clock: this.o.clock,
      logger: this.o.logger,
      device: opts.device ?? this.o.device ?? 'cpu',
      ...(opts.settleMs !== undefined ? { settleMs: opts.settleMs } : {}),
      ...(opts.pollMs !== undefined ? { pollMs: opts.pollMs } : {}),
      onEvent: (e) => this.onWatchEvent(e),
      onProgress: (d, p) => {
        const id = this.watchJobs.get(d);
        const live = id ? this.jobs.get(id) : undefined;
        if (live) this.onDoctorStep(live, p);
      },
    });
    await watcher.start();
    this.watchers.set(abs, watcher);
    this.o.allowFolder(abs);
    return watcher;
  }

  /** Resolves once every job under way (doctor, automatic evaluation) has ended. For tests and shutdown. */
  async idle(): Promise<void> {
    for (let i = 0; i < 100 && this.pending.size > 0; i++) await Promise.allSettled([...this.pending]);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const j of this.jobs.values()) j.cancel = true;
    await Promise.allSettled([...this.watchers.values()].map((w) => w.stop()));
    this.watchers.clear();
    await this.idle();
  }

  // ---- jobs ----

  private newJob(source: 'page' | 'watch', dir: string, state: RegistrationJob['state']): LiveJob {
    const job: RegistrationJob = {
      jobId: `reg-${randomUUID().slice(0, 8)}`,
      seq: 0,
      source,
      dir,
      startedAt: iso(this.o.clock.now()),
      finishedAt: null,
      state,
      checks: DOCTOR_CHECKS.map((name, i) => ({ name, status: state === 'checking' && i === 0 ? 'running' : 'pending', detail: null })),
      runs: { done: 0, total: 0 },
      fraction: 0,
      version: null,
      error: null,
      report: null,
      evaluation: null,
    };
    const live: LiveJob = { job, cancel: false, lastPush: 0 };
    this.jobs.set(job.jobId, live);
    this.prune();
    this.push(live, true);
    return live;
  }

  private prune(): void {
    const max = this.o.maxJobs ?? 50;
    if (this.jobs.size <= max) return;
    const done = [...this.jobs.values()].filter((j) => j.job.finishedAt !== null).sort((a, b) => (a.job.startedAt < b.job.startedAt ? -1 : 1));
    for (const j of done.slice(0, this.jobs.size - max)) this.jobs.delete(j.job.jobId);
  }

  private update(live: LiveJob, patch: Partial<RegistrationJob>, force = true): void {
    live.job = { ...live.job, ...patch, seq: live.job.seq + 1 };
    this.push(live, force);
  }

  private push(live: LiveJob, force: boolean): void {
    const now = this.o.clock.monotonicMs();
    if (!force && now - live.lastPush < (this.o.progressIntervalMs ?? 100)) return;
    live.lastPush = now;
    try {
      this.o.emit(live.job);
    } catch (e) {
      this.o.logger.error({ err: String(e) }, 'registration.emit_failed');
    }
  }

  private track(p: Promise<unknown>): void {
    const t = p.catch((e: unknown) => this.o.logger.error({ err: String(e) }, 'registration.job_failed')).finally(() => this.pending.delete(t));
    this.pending.add(t);
  }

  /** Doctor's steps (`manifest` … `warmup`, then `run i`) as check states. */
  private onDoctorStep(live: LiveJob, p: { done: number; total: number; step: string }): void {
    if (live.cancel) throw new Cancelled('cancelled');
    const idx = DOCTOR_CHECKS.indexOf(p.step as DoctorCheckName);
    const runsTotal = Math.max(0, p.total - (DOCTOR_CHECKS.length - 1));
    let checks = live.job.checks;
    if (idx >= 0) {
      checks = checks.map((c, i): RegistrationCheck => (i <= idx ? { ...c, status: 'passed' } : i === idx + 1 ? { ...c, status: 'running' } : c));
    }
    const runsDone = p.step.startsWith('run ') ? Number(p.step.slice(4)) || 0 : live.job.runs.done;
    // Each check is a sixth of the bar; the timed runs fill the last sixth.
    const passed = checks.filter((c) => c.status === 'passed').length;
    const fraction = Math.min(1, (passed + (passed === DOCTOR_CHECKS.length - 1 && runsTotal > 0 ? runsDone / runsTotal : 0)) / DOCTOR_CHECKS.length);
    this.update(live, { checks, runs: { done: runsDone, total: runsTotal }, fraction }, idx >= 0 || runsDone === runsTotal);
  }

  private async runPageJob(live: LiveJob, actor: string): Promise<void> {
    const dir = live.job.dir;
    try {
      const checked = await checkForRegistration(dir, { device: this.o.device ?? 'cpu', runs: this.o.runs ?? 50, clock: this.o.clock, onProgress: (p) => this.onDoctorStep(live, p) });
      if (live.cancel) throw new Cancelled('cancelled');
      const { report, result } = await commitRegistration(this.o.registry, checked, { actor });
      const v = result.version;
      this.finish(live, 'registered', { report, version: { ref: `${v.policy}@${v.label}`, modelVersion: v.modelVersion, created: result.created } });
      this.o.logger.info({ dir, ref: `${v.policy}@${v.label}`, created: result.created }, 'registration.registered');
    } catch (e) {
      this.failJob(live, e);
    }
  }

  private failJob(live: LiveJob, e: unknown): void {
    if (e instanceof Cancelled || live.cancel) {
      this.finish(live, 'cancelled', { error: { code: ErrorCodes.SWY_ERR_CONFLICT, message: 'Cancelled before it was registered: nothing was written.', check: null } });
      return;
    }
    const shape = toErrorShape(e);
    const report = e instanceof DoctorFailedError ? e.report : null;
    const exportsFault = e instanceof DoctorFailedError || (e instanceof SwitchyardError && (e.code === ErrorCodes.SWY_ERR_CONFLICT || e.code === ErrorCodes.SWY_ERR_BAD_EXPORT));
    this.finish(live, exportsFault ? 'rejected' : 'failed', { report, error: { ...shape, check: report?.error?.check ?? null } });
    this.o.logger.warn({ dir: live.job.dir, code: shape.code, check: report?.error?.check ?? null, reason: shape.message }, 'registration.refused');
  }

  private finish(live: LiveJob, state: RegistrationJob['state'], patch: Partial<RegistrationJob>): void {
    const report = patch.report ?? null;
    const checks = report ? checksOf(report) : live.job.checks.map((c): RegistrationCheck => (c.status === 'running' || c.status === 'pending' ? { ...c, status: 'skipped', detail: c.detail ?? 'not run' } : c));
    this.update(live, { ...patch, state, checks, finishedAt: iso(this.o.clock.now()), fraction: 1 });
  }

  // ---- the watched folder ----

  private onWatchEvent(e: WatchEvent): void {
    if (e.dir === null) {
      this.o.logger.warn({ message: e.type === 'error' ? e.message : '' }, 'registration.watch_error');
      return;
    }
    const id = this.watchJobs.get(e.dir);
    let live = id ? this.jobs.get(id) : undefined;
    switch (e.type) {
      case 'detected':
        if (!live || live.job.finishedAt !== null) live = this.startWatchJob(e.dir, 'settling');
        return;
      case 'checking':
        if (!live || live.job.finishedAt !== null) live = this.startWatchJob(e.dir, 'checking');
        else this.update(live, { state: 'checking', checks: live.job.checks.map((c, i) => (i === 0 ? { ...c, status: 'running' } : c)) });
        return;
      case 'registered': {
        if (!live) live = this.startWatchJob(e.dir, 'checking');
        // The evaluation is announced with the registration, so no copy of the job looks finished without it.
        const waiting: RegistrationEvaluation = { ...skipped(null, 'Looking for production\u2019s suite\u2026'), state: 'waiting' };
        this.finish(live, 'registered', { report: e.report, version: { ref: e.ref, modelVersion: e.modelVersion, created: e.created }, ...(e.created ? { evaluation: waiting } : {}) });
        const target = live;
        if (e.created) this.track(this.evaluate(target, e.ref));
        else this.update(target, { evaluation: skipped(null, `${e.ref} was registered already with these files; nothing new to evaluate.`) });
        return;
      }
      case 'rejected':
        if (!live) live = this.startWatchJob(e.dir, 'checking');
        this.finish(live, 'rejected', { report: e.report, error: { code: e.code as ErrorCode, message: e.reason, check: (e.check as DoctorCheckName | null) ?? null } });
        return;
      case 'error':
        if (live && live.job.finishedAt === null) this.finish(live, 'failed', { error: { code: ErrorCodes.SWY_ERR_INTERNAL, message: e.message, check: null } });
        return;
    }
  }

  private startWatchJob(dir: string, state: 'settling' | 'checking'): LiveJob {
    const live = this.newJob('watch', dir, state);
    this.watchJobs.set(dir, live.job.jobId);
    return live;
  }

  /**
   * Spec §6: a watched export is evaluated against the production version's suite. The suite is
   * production's newest completed evaluation's, else the one its candidate->staging rules name.
   */
  private async evaluate(live: LiveJob, ref: string): Promise<void> {
    const policy = ref.slice(0, ref.lastIndexOf('@'));
    const set = (ev: RegistrationEvaluation) => this.update(live, { evaluation: ev });
    try {
      let production;
      try {
        production = this.o.registry.resolve(`${policy}@production`);
      } catch {
        set(skipped(null, `${policy} has no production version: nothing to evaluate against.`));
        return;
      }
      const rules = (await this.o.listRules()).filter((r) => r.error === null && r.transition === 'candidate->staging' && r.suite !== null);
      const prodRun = this.o.evalStore.listRuns({ versionId: production.id }).find((r) => r.status === 'completed');
      const suite = prodRun ? this.o.evalStore.getSuite(prodRun.suiteFingerprint) : rules.map((r) => this.o.evalStore.findSuite(r.suite!)).find((s) => s !== null) ?? null;
      if (!suite) {
        set(skipped(null, `Production (${policy}@${production.label}) has no suite: no evaluation of it and no candidate->staging rules naming one.`));
        return;
      }
      const rule = rules.find((r) => r.suite === suite.name || r.suite === suite.fingerprint) ?? null;
      const base: RegistrationEvaluation = { state: 'evaluating', suite: suite.name, rulesFile: rule?.path ?? null, runId: null, fraction: 0, passRate: null, verdict: null, verdictId: null, note: '' };
      set({ ...base, note: rule ? `Gate of ${rule.name} on ${suite.name} against production` : `Evaluating on ${suite.name} (no candidate->staging rules for this suite: no verdict)` });
      const stop = this.o.onEvalProgress((p) => {
        if (p.version !== ref || p.suiteFingerprint !== suite.fingerprint || live.job.evaluation?.state !== 'evaluating') return;
        live.job = { ...live.job, seq: live.job.seq + 1, evaluation: { ...live.job.evaluation, runId: p.runId, fraction: p.fraction } };
        this.push(live, p.status !== 'running');
      });
      try {
        if (rule) {
          const g = await this.o.gate({ rulesPath: rule.path, candidate: ref });
          set({ ...base, state: 'done', runId: g.candidate.runId, fraction: 1, passRate: this.o.passRateOf(g.candidate.runId), verdict: g.verdict, verdictId: g.verdictId, note: g.summary });
        } else {
          const runId = await this.o.evals.evaluate({ version: ref, suite: await this.o.evals.loadStoredSuite(suite) });
          const run = this.o.evalStore.getRun(runId);
          const passRate = this.o.passRateOf(runId);
          set({ ...base, state: run?.status === 'completed' ? 'done' : 'failed', runId, fraction: 1, passRate, note: `Evaluated on ${suite.name}: ${run?.status ?? 'unknown'}; no candidate->staging rules for this suite, so no verdict.` });
        }
      } finally {
        stop();
      }
    } catch (e) {
      const shape = toErrorShape(e);
      set({ ...(live.job.evaluation ?? skipped(null, '')), state: 'failed', note: `The automatic evaluation failed: ${shape.message}` });
      this.o.logger.warn({ ref, code: shape.code, err: shape.message }, 'registration.evaluation_failed');
    }
  }
}

function skipped(suite: string | null, note: string): RegistrationEvaluation {
  return { state: 'skipped', suite, rulesFile: null, runId: null, fraction: null, passRate: null, verdict: null, verdictId: null, note };
}

/** A finished report's checks, in doctor's order. */
function checksOf(report: { checks: readonly { name: string; ok: boolean; detail: string; skipped?: boolean | undefined }[] }): RegistrationCheck[] {
  return DOCTOR_CHECKS.map((name) => {
    const c = report.checks.find((x) => x.name === name);
    if (!c) return { name, status: 'skipped', detail: 'not run' };
    return { name, status: c.ok ? 'passed' : c.skipped ? 'skipped' : 'failed', detail: c.detail };
  });
}
