/**
 * The evaluator (spec §4.4): runs every case of a frozen suite against one policy version.
 *
 * Batched across cases: up to `batchSize` episodes are live at once and step together; at each
 * time step the episodes that need new actions (all of them for a chunk-1 policy, those whose
 * chunk is used up for a chunked one) go to the policy worker in ONE `runBatch` call. A chunked
 * policy's actions are applied over the next steps before it is asked again. When an episode
 * ends, the next case takes its place, so the schedule (and hence every batch) depends only on
 * the suite and `batchSize`, never on timing.
 *
 * Deterministic: environments are float64 with seeded noise, the schedule is fixed, and per-case
 * results carry no wall-clock value except the latency (left out of determinism comparisons).
 *
 * Outcomes: `completed`; `cancelled` (the AbortSignal fired: finished cases are kept); `failed`
 * (the model or its worker failed: finished cases are kept, labelled `partial`, and none counts
 * as a pass).
 */
import { ErrorCodes, SwitchyardError, toErrorShape, type SwitchyardErrorShape } from '../contract/errors.js';
import type { Manifest } from '../runtime/types.js';
import type { Environment } from './environment.js';
import { findEnvironment } from './environments.js';
import { deterministicView, EpisodeGrader, type CaseResult } from './graders.js';
import { mulberry32 } from './rng.js';
import { caseParams, type Suite } from './suite.js';

/** What the evaluator needs from a policy: `PolicyRunner` fits. */
export interface BatchPolicy {
  readonly export: { manifest: Pick<Manifest, 'policy' | 'version' | 'observation' | 'action'>; modelVersion: string };
  /** `obs` is `[n, obs_dim]` row-major; resolves to `[n, chunk, action_dim]` row-major. */
  runBatch(obs: Float32Array, n: number): Promise<Float32Array>;
  close(): Promise<void>;
}

export interface EvalProgress {
  /** Cases finished. */
  done: number;
  total: number;
  /** Share of the work done, 0..1 (environment steps; an episode that ends early counts in full). */
  fraction: number;
  passed: number;
  running: number;
  policyCalls: number;
  elapsedMs: number;
}

export type EvalStatus = 'completed' | 'failed' | 'cancelled';

export interface EvaluateOptions {
  /** A started policy; left open. */
  runner?: BatchPolicy;
  /** Starts a policy for this evaluation; it is closed at the end. */
  runnerFactory?: () => Promise<BatchPolicy>;
  suite: Suite;
  onProgress?: (p: EvalProgress) => void;
  /** Finished cases, in finishing order, one call per time step that finished some (e.g. to store them). */
  onResults?: (results: CaseResult[]) => void | Promise<void>;
  signal?: AbortSignal;
  /** Most episodes live at once (default: every case, at most 4096). 1 = one case at a time. */
  batchSize?: number;
  /** Monotonic milliseconds for latency (default `performance.now`). */
  now?: () => number;
}

export interface EvalRunResult {
  status: EvalStatus;
  suite: { name: string; fingerprint: string; envVersion: string };
  /** `policy@label` and `<model_id>@<model_hash>` of what ran (null when it never started). */
  version: string | null;
  modelVersion: string | null;
  /** Finished cases, in suite order. */
  results: CaseResult[];
  casesTotal: number;
  casesDone: number;
  passed: number;
  error: SwitchyardErrorShape | null;
  batchSize: number;
  policyCalls: number;
  wallMs: number;
  casesPerSecond: number;
}

const ABORTED = Symbol('aborted');
const MAX_BATCH = 4096;

function abortPromise(signal: AbortSignal | undefined): { promise: Promise<typeof ABORTED>; dispose: () => void } {
  if (!signal) return { promise: new Promise<typeof ABORTED>(() => {}), dispose: () => {} };
  let onAbort: () => void = () => {};
  const promise = new Promise<typeof ABORTED>((resolve) => {
    onAbort = () => resolve(ABORTED);
    if (signal.aborted) resolve(ABORTED);
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  return { promise, dispose: () => signal.removeEventListener('abort', onAbort) };
}

interface Live {
  idx: number;
  env: Environment;
  obs: number[];
  actions: Float32Array | null;
  /** Actions of the current chunk already applied. */
  pos: number;
  /** Environment steps taken. */
  steps: number;
  /** The case's episode length. */
  maxSteps: number;
  grader: EpisodeGrader;
}

/** Run every case of `opts.suite`; never throws for a model failure (the run comes back `failed`). */
export async function evaluate(opts: EvaluateOptions): Promise<EvalRunResult> {
  const { suite, signal } = opts;
  const now = opts.now ?? (() => performance.now());
  const total = suite.cases.length;
  const batchSize = Math.max(1, Math.min(opts.batchSize ?? total, MAX_BATCH));
  const started = now();
  const results: (CaseResult | undefined)[] = new Array(total);
  let done = 0;
  let passed = 0;
  let policyCalls = 0;
  let runner: BatchPolicy | undefined = opts.runner;
  const owned = runner === undefined;
  let status: EvalStatus = 'completed';
  let error: SwitchyardErrorShape | null = null;
  const abort = abortPromise(signal);

  const envFactory = findEnvironment(suite.environment);
  try {
    if (!envFactory) throw new SwitchyardError(ErrorCodes.SWY_ERR_CONFIG, `The suite ${suite.name} names environment "${suite.environment}", which this Switchyard does not have.`, 'environment');
    if (envFactory.version !== suite.envVersion) {
      throw new SwitchyardError(
        ErrorCodes.SWY_ERR_CONFIG,
        `The suite ${suite.name} was loaded for ${suite.envVersion} but the environment is now ${envFactory.version}; reload the suite (its fingerprint changes).`,
        'environment',
      );
    }
    if (signal?.aborted) {
      status = 'cancelled';
    } else {
      if (runner === undefined) {
        if (!opts.runnerFactory) throw new SwitchyardError(ErrorCodes.SWY_ERR_CONFIG, 'evaluate needs a runner or a runnerFactory.');
        const starting = opts.runnerFactory();
        const r = await Promise.race([starting, abort.promise]);
        if (r === ABORTED) {
          status = 'cancelled';
          // The policy may still come up after the cancellation: close it then.
          starting.then((late) => late.close()).catch(() => {});
        } else runner = r;
      }
      if (runner !== undefined && status === 'completed') {
        const out = await runEpisodes(runner, envFactory.create, opts, batchSize, now, abort.promise, (r, idx) => {
          results[idx] = r;
          done++;
          if (r.pass) passed++;
        });
        policyCalls = out.policyCalls;
        status = out.status;
        error = out.error;
      }
    }
  } catch (e) {
    status = 'failed';
    error = toErrorShape(e);
  } finally {
    abort.dispose();
    if (owned && runner !== undefined) await runner.close().catch(() => {});
  }

  let kept = results.filter((r): r is CaseResult => r !== undefined);
  if (status === 'failed') {
    kept = kept.map((r) => ({ ...r, pass: false, partial: true }));
    passed = 0;
  }
  const wallMs = now() - started;
  const manifest = runner?.export.manifest;
  return {
    status,
    suite: { name: suite.name, fingerprint: suite.fingerprint, envVersion: suite.envVersion },
    version: manifest ? `${manifest.policy}@${manifest.version}` : null,
    modelVersion: runner?.export.modelVersion ?? null,
    results: kept,
    casesTotal: total,
    casesDone: done,
    passed,
    error,
    batchSize,
    policyCalls,
    wallMs,
    casesPerSecond: wallMs > 0 ? (done * 1000) / wallMs : 0,
  };
}

async function runEpisodes(
  runner: BatchPolicy,
  createEnv: () => Environment,
  opts: EvaluateOptions,
  batchSize: number,
  now: () => number,
  aborted: Promise<typeof ABORTED>,
  record: (r: CaseResult, idx: number) => void,
): Promise<{ status: EvalStatus; error: SwitchyardErrorShape | null; policyCalls: number }> {
  const { suite } = opts;
  const m = runner.export.manifest;
  const probe = createEnv();
  const obsDim = m.observation.dim;
  const actionDim = m.action.dim;
  const chunk = m.action.chunk;
  if (obsDim !== probe.observationDim || actionDim !== probe.actionDim) {
    throw new SwitchyardError(
      ErrorCodes.SWY_ERR_CONFIG,
      `${m.policy}@${m.version} takes observations of ${obsDim} and returns actions of ${actionDim}, but ${probe.name} has observations of ${probe.observationDim} and actions of ${probe.actionDim}. Evaluate it on a suite for its own environment.`,
      `${m.policy}@${m.version}`,
    );
  }
  const chunkLen = chunk * actionDim;
  const total = suite.cases.length;
  const started = now();
  let next = 0;
  let done = 0;
  let passed = 0;
  let policyCalls = 0;
  let live: Live[] = [];
  const stepsOf = (idx: number): number => caseParams(suite, suite.cases[idx]!)['max_steps'] ?? 1;
  let totalWork = 0;
  for (let i = 0; i < total; i++) totalWork += stepsOf(i);
  let finishedWork = 0;
  let tick = 0;
  const progress = (): void => {
    if (!opts.onProgress) return;
    let work = finishedWork;
    for (const e of live) work += e.steps;
    const fraction = done === total ? 1 : totalWork > 0 ? Math.min(1, work / totalWork) : 0;
    opts.onProgress({ done, total, fraction, passed, running: live.length, policyCalls, elapsedMs: now() - started });
  };
  progress();

  const start = (idx: number): Live => {
    const c = suite.cases[idx]!;
    const env = createEnv();
    const params = caseParams(suite, c);
    const obs = env.reset(params, c.initial_state, mulberry32(c.seed));
    const maxSteps = params['max_steps'] ?? 0;
    return { idx, env, obs, actions: null, pos: 0, steps: 0, maxSteps, grader: new EpisodeGrader(env, maxSteps, c.initial_state) };
  };

  while (true) {
    if (opts.signal?.aborted) return { status: 'cancelled', error: null, policyCalls };
    while (live.length < batchSize && next < total) live.push(start(next++));
    if (live.length === 0) break;

    // 1. One policy call for every episode whose chunk is used up.
    const need = live.filter((e) => e.actions === null || e.pos >= chunk);
    if (need.length > 0) {
      const n = need.length;
      const obs = new Float32Array(n * obsDim);
      for (let k = 0; k < n; k++) obs.set(need[k]!.obs, k * obsDim);
      const t0 = now();
      const call = runner.runBatch(obs, n);
      call.catch(() => {}); // a rejection after a cancellation must not go unhandled
      const out = await Promise.race([call, aborted]);
      if (out === ABORTED) return { status: 'cancelled', error: null, policyCalls };
      const perStep = (now() - t0) / n;
      policyCalls++;
      if (!(out instanceof Float32Array) || out.length !== n * chunkLen) {
        throw new SwitchyardError(
          ErrorCodes.SWY_ERR_INFERENCE,
          `${m.policy}@${m.version} returned ${out instanceof Float32Array ? out.length : typeof out} values for a batch of ${n}; expected n × chunk × action_dim = ${n * chunkLen}.`,
          `${m.policy}@${m.version}`,
        );
      }
      for (let k = 0; k < n; k++) {
        const e = need[k]!;
        e.actions = out.subarray(k * chunkLen, (k + 1) * chunkLen);
        e.pos = 0;
        e.grader.policyOutput(out, k * chunkLen, chunkLen);
        e.grader.latency(perStep);
      }
    }

    // 2. Every live episode applies its next action.
    const finished: Live[] = [];
    for (const e of live) {
      const a = e.actions!.subarray(e.pos * actionDim, (e.pos + 1) * actionDim);
      e.pos++;
      let finite = true;
      for (let d = 0; d < actionDim; d++) if (!Number.isFinite(a[d]!)) finite = false;
      if (!finite) {
        e.grader.abort('non_finite_action');
        finished.push(e);
        continue;
      }
      const r = e.env.step(a);
      e.steps++;
      e.grader.step(r.reward, r.info);
      e.obs = r.obs;
      if (r.done) finished.push(e);
    }

    // 3. Record what finished, in case order within the step.
    if (finished.length > 0) {
      const batch: CaseResult[] = [];
      for (const e of finished) {
        const c = suite.cases[e.idx]!;
        const r = e.grader.result(c.id, c.slices.slice());
        record(r, e.idx);
        batch.push(r);
        done++;
        finishedWork += e.maxSteps;
        if (r.pass) passed++;
      }
      const gone = new Set(finished);
      live = live.filter((e) => !gone.has(e));
      if (opts.onResults) await opts.onResults(batch);
      progress();
    } else if (++tick % 25 === 0) {
      progress(); // lockstep episodes finish together: report the steps in between
    }
  }
  return { status: 'completed', error: null, policyCalls };
}

/** Case ids whose results differ between two runs of the same suite (latency excluded). */
export interface DeterminismReport {
  reruns: number;
  identical: boolean;
  compared: number;
  /** Case ids whose per-case results differ (or that only one run finished). */
  differing: string[];
  /** Set when a re-run did not complete, so nothing could be compared. */
  error?: string;
}

export function compareRuns(a: readonly CaseResult[], b: readonly CaseResult[]): { identical: boolean; compared: number; differing: string[] } {
  const mb = new Map(b.map((r) => [r.caseId, deterministicView(r)]));
  const differing: string[] = [];
  let compared = 0;
  for (const r of a) {
    const other = mb.get(r.caseId);
    mb.delete(r.caseId);
    if (other === undefined) {
      differing.push(r.caseId);
      continue;
    }
    compared++;
    if (other !== deterministicView(r)) differing.push(r.caseId);
  }
  for (const id of mb.keys()) differing.push(id);
  return { identical: differing.length === 0, compared, differing };
}

/**
 * The determinism gate: re-run the suite `reruns` times with the same options (a runner from
 * `runnerFactory` is started afresh each time) and list the cases whose results differ from
 * `first`.
 */
export async function checkDeterminism(opts: EvaluateOptions, first: EvalRunResult, reruns = 1): Promise<DeterminismReport> {
  const differing = new Set<string>();
  let compared = 0;
  for (let i = 0; i < reruns; i++) {
    const again = await evaluate({ ...opts, onProgress: undefined, onResults: undefined });
    if (again.status !== 'completed') {
      return {
        reruns,
        identical: false,
        compared,
        differing: [...differing],
        error: again.status === 'cancelled' ? 'the re-run was cancelled' : `the re-run failed: ${again.error?.message ?? 'unknown error'}`,
      };
    }
    const c = compareRuns(first.results, again.results);
    compared = c.compared;
    for (const id of c.differing) differing.add(id);
  }
  const order = new Map(first.results.map((r, i) => [r.caseId, i]));
  const list = [...differing].sort((x, y) => (order.get(x) ?? Infinity) - (order.get(y) ?? Infinity));
  return { reruns, identical: list.length === 0, compared, differing: list };
}

/** Pass rate of every slice (and `all`) in a run: `{ slice: { n, passed, rate } }`. */
export function sliceSummary(results: readonly CaseResult[]): Record<string, { n: number; passed: number; rate: number }> {
  const acc: Record<string, { n: number; passed: number; rate: number }> = { all: { n: 0, passed: 0, rate: 0 } };
  const add = (k: string, pass: boolean) => {
    const s = (acc[k] ??= { n: 0, passed: 0, rate: 0 });
    s.n++;
    if (pass) s.passed++;
  };
  for (const r of results) {
    add('all', r.pass);
    for (const s of r.slices) add(s, r.pass);
  }
  for (const s of Object.values(acc)) s.rate = s.n > 0 ? s.passed / s.n : 0;
  return acc;
}
