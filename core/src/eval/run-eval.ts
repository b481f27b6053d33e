/**
 * An evaluation recorded in the store: saves the suite, opens a run, streams finished cases into
 * it in batches (one transaction each), runs the determinism gate, and closes the run with its
 * status. What `switchyard eval` and the workbench call.
 */
import { ErrorCodes } from '../contract/errors.js';
import type { EvalRunRecord, EvalStore } from '../store/eval-store.js';
import { runOwner } from './interrupted-runs.js';
import { checkDeterminism, evaluate, type DeterminismReport, type EvalRunResult, type EvaluateOptions } from './evaluator.js';
import type { CaseResult } from './graders.js';

export interface StoredEvaluationOptions extends Omit<EvaluateOptions, 'onResults'> {
  store: EvalStore;
  /** `versions.id` of the version being evaluated. */
  versionId: number;
  /** Re-runs for the determinism gate after a completed run (default 1; 0 skips it). */
  reruns?: number;
  /** Results per store transaction (default 64). */
  flushEvery?: number;
  /** Called with the run's id as soon as the run is recorded (before any case runs). */
  onRun?: (runId: number) => void;
}

export interface StoredEvaluation {
  runId: number;
  run: EvalRunResult;
  determinism: DeterminismReport | null;
  record: EvalRunRecord;
}

export async function evaluateAndStore(opts: StoredEvaluationOptions): Promise<StoredEvaluation> {
  const { store, suite } = opts;
  store.saveSuite(suite);
  // The owner (pid, host) lets another process sharing the store tell a live run from an orphan.
  const runId = store.startRun({ versionId: opts.versionId, suiteFingerprint: suite.fingerprint, casesTotal: suite.cases.length, kind: 'native', stats: runOwner() });
  opts.onRun?.(runId);
  const flushEvery = Math.max(1, opts.flushEvery ?? 64);
  let pending: CaseResult[] = [];
  const flush = (): void => {
    if (pending.length === 0) return;
    const batch = pending;
    pending = [];
    store.appendResults(runId, batch);
  };
  let run: EvalRunResult;
  try {
    run = await evaluate({
      ...opts,
      onResults: (rs) => {
        pending.push(...rs);
        if (pending.length >= flushEvery) flush();
      },
    });
    flush();
  } catch (e) {
    // evaluate reports model failures as a failed run; this is the store itself failing.
    try {
      store.finishRun(runId, { status: 'failed', error: { code: ErrorCodes.SWY_ERR_STORE_IO, message: `Recording the evaluation failed: ${(e as Error).message}` } });
    } catch {
      // the run stays `running`; failInterruptedRuns closes it at the next start
    }
    throw e;
  }

  let determinism: DeterminismReport | null = null;
  const reruns = opts.reruns ?? 1;
  if (run.status === 'completed' && reruns > 0) {
    determinism = await checkDeterminism(opts, run, reruns);
    if (determinism.error !== undefined && opts.signal?.aborted) determinism = { ...determinism, error: 'the determinism re-run was cancelled' };
  }
  const record = store.finishRun(runId, {
    status: run.status,
    error: run.error,
    ...(determinism ? { determinism } : {}),
    stats: {
      version: run.version,
      modelVersion: run.modelVersion,
      batchSize: run.batchSize,
      policyCalls: run.policyCalls,
      wallMs: Math.round(run.wallMs * 10) / 10,
      casesPerSecond: Math.round(run.casesPerSecond * 10) / 10,
    },
  });
  return { runId, run, determinism, record };
}
