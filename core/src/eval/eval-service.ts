/**
 * Evaluations in the background (spec §2, §7): the engine's service behind `eval.start`,
 * `eval.cancel`, `switchyard eval` and the gate's missing evaluations.
 *
 * - The policy runs in a worker (`PolicyRunner`), never on the thread that answers people; the
 *   determinism re-runs start a fresh worker each.
 * - One evaluation at a time per version and suite: asking again while one runs joins it.
 * - Progress is pushed (`eval.progress`), throttled to about ten updates a second, plus one for
 *   every change of phase or status.
 * - Cancellable through an AbortController: the run ends `cancelled` and keeps what finished.
 */
import { existsSync, statSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { ErrorCodes, SwitchyardError, type SwitchyardErrorShape } from '../contract/errors.js';
import type { Logger } from '../platform/logger.js';
import { readExport } from '../runtime/export.js';
import { PolicyRunner } from '../runtime/policy-runner.js';
import type { PolicyExport, RunnerOptions } from '../runtime/types.js';
import type { EvalStore, SuiteRecord } from '../store/eval-store.js';
import type { Registry, VersionRecord } from '../store/registry.js';
import type { BatchPolicy, EvalProgress, EvalStatus } from './evaluator.js';
import { EXTERNAL_ENV } from './import-results.js';
import { evaluateAndStore, type StoredEvaluation } from './run-eval.js';
import { loadSuite, type Suite } from './suite.js';

export type EvalJobStatus = 'running' | EvalStatus;
export type EvalPhase = 'starting' | 'evaluating' | 'determinism' | 'finished';

/** The `eval.progress` event. */
export interface EvalProgressEvent {
  runId: number;
  /** `policy@label` */
  version: string;
  /** The suite's name. */
  suite: string;
  suiteFingerprint: string;
  done: number;
  total: number;
  passed: number;
  /** Share of the work done, 0..1. */
  fraction: number;
  status: EvalJobStatus;
  phase: EvalPhase;
  error: SwitchyardErrorShape | null;
}

export interface EvalJob {
  runId: number;
  version: string;
  versionId: number;
  suite: { name: string; fingerprint: string };
  /** True when `start` joined an evaluation that was already running. */
  alreadyRunning: boolean;
  /** Settles when the evaluation (and its re-runs) are over; never rejects for a model failure. */
  done: Promise<StoredEvaluation>;
  /** The latest progress. */
  progress(): EvalProgressEvent;
}

export interface EvalStartRequest {
  /** `policy@label` or `policy@<stage>`. */
  version: string;
  /** A suite file, a stored suite's name or fingerprint, or a loaded suite. */
  suite: string | Suite;
  /** Determinism re-runs after a completed run (default 1). */
  reruns?: number;
  /** Progress of this evaluation only (besides the service-wide `onProgress`). */
  onProgress?: (p: EvalProgressEvent) => void;
}

export interface EvalServiceOptions {
  registry: Registry;
  evalStore: EvalStore;
  logger?: Logger;
  device?: RunnerOptions['device'];
  /** Starts the policy for one evaluation (default: a `PolicyRunner` worker). */
  startRunner?: (exp: PolicyExport) => Promise<BatchPolicy>;
  /** Every evaluation's progress (the engine pushes it as `eval.progress`). */
  onProgress?: (p: EvalProgressEvent) => void;
  /** Cases live at once (default: every case). */
  batchSize?: number;
  /** Milliseconds between progress events of one run (default 100). */
  progressIntervalMs?: number;
}

interface ActiveJob {
  key: string;
  job: Omit<EvalJob, 'alreadyRunning'>;
  controller: AbortController;
  listeners: Set<(p: EvalProgressEvent) => void>;
}

export class EvalService {
  private readonly byKey = new Map<string, ActiveJob>();
  private readonly byRun = new Map<number, ActiveJob>();
  /** Keys whose job is being set up (suite loaded, worker not yet asked for), to join early callers. */
  private readonly starting = new Map<string, Promise<ActiveJob>>();
  private closed = false;

  constructor(private readonly opts: EvalServiceOptions) {}

  /** Runs in progress. */
  active(): EvalJob[] {
    return [...this.byRun.values()].map((a) => ({ ...a.job, alreadyRunning: true }));
  }

  isRunning(runId: number): boolean {
    return this.byRun.has(runId);
  }

  /**
   * Start an evaluation in the background; resolves once its run is recorded (with the run's
   * id). Joins the running evaluation of the same version and suite instead of starting another.
   */
  async start(req: EvalStartRequest): Promise<EvalJob> {
    if (this.closed) throw new SwitchyardError(ErrorCodes.SWY_ERR_CONFLICT, 'The engine is closing; no new evaluation can start.');
    const version = this.runnableVersion(req.version);
    const suite = typeof req.suite === 'string' ? await this.resolveSuite(req.suite) : req.suite;
    const key = `${version.id}:${suite.fingerprint}`;
    const join = (a: ActiveJob): EvalJob => {
      if (req.onProgress) a.listeners.add(req.onProgress);
      return { ...a.job, alreadyRunning: true };
    };
    const running = this.byKey.get(key);
    if (running) return join(running);
    const setting = this.starting.get(key);
    if (setting) return join(await setting);
    // No await between the checks above and this line: a concurrent start sees `starting`.
    const pending = this.launch(version, suite, key, req);
    this.starting.set(key, pending);
    try {
      const a = await pending;
      return { ...a.job, alreadyRunning: false };
    } finally {
      this.starting.delete(key);
    }
  }

  /** Cancel a running evaluation; false when it is not running (finished, or unknown). */
  cancel(runId: number): boolean {
    const a = this.byRun.get(runId);
    if (!a) return false;
    a.controller.abort();
    return true;
  }

  /** Evaluate and wait: what the gate calls for a version without a usable run. Resolves with the run id. */
  async evaluate(req: EvalStartRequest): Promise<number> {
    const job = await this.start(req);
    await job.done;
    return job.runId;
  }

  /** Cancel everything and wait for the runs to be closed in the store. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.starting.values()]);
    const jobs = [...this.byRun.values()];
    for (const a of jobs) a.controller.abort();
    await Promise.allSettled(jobs.map((a) => a.job.done));
  }

  /**
   * A suite from a reference: a suite file (JSON or JSONL), or the name or fingerprint of a suite
   * in the store, loaded again from the file it was recorded from. A file that no longer matches
   * the stored fingerprint is refused (the suite is frozen: edits make a new suite).
   */
  async resolveSuite(ref: string): Promise<Suite> {
    const asPath = resolvePath(ref);
    if (existsSync(asPath) && statSync(asPath).isFile()) return loadSuite(asPath);
    const rec = this.opts.evalStore.findSuite(ref);
    if (!rec) {
      throw new SwitchyardError(
        ErrorCodes.SWY_ERR_NOT_FOUND,
        `"${ref}" is neither a suite file nor a suite in the store. Give the path of a suite file (.json or .jsonl); \`suites.list\` shows the recorded suites.`,
        'suite',
      );
    }
    return this.loadStoredSuite(rec);
  }

  /** Load a stored suite from its file, checking that the file still has the stored fingerprint. */
  async loadStoredSuite(rec: SuiteRecord): Promise<Suite> {
    if (rec.environment === EXTERNAL_ENV) {
      throw new SwitchyardError(
        ErrorCodes.SWY_ERR_CONFIG,
        `Suite ${rec.name} holds imported results only: it has no cases Switchyard can run. Import each version's results with \`switchyard import-results FILE\`.`,
        rec.name,
      );
    }
    if (!rec.path || !existsSync(rec.path)) {
      throw new SwitchyardError(
        ErrorCodes.SWY_ERR_NOT_FOUND,
        `The file of suite ${rec.name} (${rec.path ?? 'not recorded'}) is gone, so it cannot be evaluated again. Evaluate with the suite's file: \`switchyard eval VERSION --suite FILE\`.`,
        rec.path ?? rec.name,
      );
    }
    const suite = await loadSuite(rec.path);
    if (suite.fingerprint !== rec.fingerprint) {
      throw new SwitchyardError(
        ErrorCodes.SWY_ERR_CONFLICT,
        `The suite file ${rec.path} changed since suite ${rec.name} was recorded (fingerprint ${rec.fingerprint.slice(0, 12)} in the store, ${suite.fingerprint.slice(0, 12)} on disk): the stored runs are of the old cases. A frozen suite is never edited: restore the file, or record the new content as a new suite with \`switchyard eval VERSION --suite ${rec.path}\` and gate on it.`,
        rec.path,
      );
    }
    return suite;
  }

  private runnableVersion(ref: string): VersionRecord {
    const v = this.opts.registry.resolve(ref);
    if (v.kind === 'external' || !v.exportPath) {
      throw new SwitchyardError(
        ErrorCodes.SWY_ERR_CONFIG,
        `${v.policy}@${v.label} is an external version: it has no model for Switchyard to run. Import its results with \`switchyard import-results FILE\`.`,
        ref,
      );
    }
    return v;
  }

  private async launch(version: VersionRecord, suite: Suite, key: string, req: EvalStartRequest): Promise<ActiveJob> {
    const ref = `${version.policy}@${version.label}`;
    const exp = await readExport(version.exportPath!);
    if (exp.modelHash !== version.modelHash) {
      throw new SwitchyardError(
        ErrorCodes.SWY_ERR_CONFLICT,
        `The export of ${ref} at ${exp.dir} has model hash ${exp.modelHash}, but ${ref} was registered as ${version.modelHash}: its files changed. Versions are immutable; register the new files under a new label.`,
        exp.dir,
      );
    }
    const startRunner =
      this.opts.startRunner ??
      ((e: PolicyExport) => PolicyRunner.start({ export: e, slot: 'a', device: this.opts.device ?? 'auto', ...(this.opts.logger ? { logger: this.opts.logger } : {}) }));
    const controller = new AbortController();
    const listeners = new Set<(p: EvalProgressEvent) => void>();
    if (req.onProgress) listeners.add(req.onProgress);
    const reruns = req.reruns ?? 1;
    const interval = this.opts.progressIntervalMs ?? 100;
    let last: EvalProgressEvent = {
      runId: 0,
      version: ref,
      suite: suite.name,
      suiteFingerprint: suite.fingerprint,
      done: 0,
      total: suite.cases.length,
      passed: 0,
      fraction: 0,
      status: 'running',
      phase: 'starting',
      error: null,
    };
    let lastEmit = -Infinity;
    const emit = (p: EvalProgressEvent, force: boolean) => {
      last = p;
      const now = performance.now();
      if (!force && now - lastEmit < interval) return;
      lastEmit = now;
      for (const l of [...listeners]) {
        try {
          l(p);
        } catch (e) {
          this.opts.logger?.warn({ err: String(e) }, 'eval progress listener failed');
        }
      }
      this.opts.onProgress?.(p);
    };

    let resolveRun!: (id: number) => void;
    let rejectRun!: (e: unknown) => void;
    const runIdKnown = new Promise<number>((res, rej) => {
      resolveRun = res;
      rejectRun = rej;
    });
    const done = evaluateAndStore({
      store: this.opts.evalStore,
      versionId: version.id,
      suite,
      reruns,
      runnerFactory: () => startRunner(exp),
      signal: controller.signal,
      ...(this.opts.batchSize !== undefined ? { batchSize: this.opts.batchSize } : {}),
      onRun: (id) => {
        last = { ...last, runId: id };
        resolveRun(id);
      },
      onProgress: (p: EvalProgress) => {
        const finished = p.done >= p.total;
        const phase: EvalPhase = finished && reruns > 0 ? 'determinism' : 'evaluating';
        emit({ ...last, done: p.done, total: p.total, passed: p.passed, fraction: p.fraction, phase }, finished || last.phase !== phase);
      },
    });
    done.then(
      () => undefined,
      (e: unknown) => rejectRun(e),
    );
    const runId = await runIdKnown;
    const active: ActiveJob = {
      key,
      controller,
      listeners,
      job: { runId, version: ref, versionId: version.id, suite: { name: suite.name, fingerprint: suite.fingerprint }, done, progress: () => last },
    };
    this.byKey.set(key, active);
    this.byRun.set(runId, active);
    emit({ ...last, runId }, true);
    const finish = (status: EvalJobStatus, error: SwitchyardErrorShape | null, doneCount: number, passed: number) => {
      this.byKey.delete(key);
      this.byRun.delete(runId);
      emit({ ...last, status, phase: 'finished', error, done: doneCount, passed, fraction: status === 'completed' ? 1 : last.fraction }, true);
    };
    done.then(
      (r) => {
        finish(r.run.status, r.run.error, r.run.casesDone, r.run.passed);
        this.opts.logger?.info({ runId, version: ref, suite: suite.name, status: r.run.status, passed: r.run.passed, total: r.run.casesTotal }, 'evaluation finished');
      },
      (e: unknown) => {
        const message = e instanceof Error ? e.message : String(e);
        finish('failed', { code: ErrorCodes.SWY_ERR_STORE_IO, message }, last.done, 0);
        this.opts.logger?.error({ runId, version: ref, err: message }, 'evaluation failed');
      },
    );
    return active;
  }
}
