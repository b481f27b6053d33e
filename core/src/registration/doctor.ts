/**
 * `switchyard doctor PATH` (spec §8): is this export fit to serve?
 *
 * Checks, in order (a failed check stops the ones after it, which are reported as skipped):
 * 1. `manifest`       switchyard.json parses and every field is valid (§4.1);
 * 2. `files`          policy.onnx is there and not empty; model hash, size and files;
 * 3. `load`           ONNX Runtime creates a session on the requested device (in a worker thread,
 *                     exactly as serving loads it), with the CUDA fallback reason if there was one;
 * 4. `io-shapes`      the graph's inputs and outputs match the manifest (names, float32, shapes);
 * 5. `warmup`         the model runs on random observations and every action is finite;
 * 6. `finite-outputs` N more `act()` calls on seeded random observations (a fresh episode each,
 *                     so an iterative policy runs all its steps): every action finite; their
 *                     round-trip latency (main thread → worker → main thread) gives p50/p99.
 *
 * `registerChecked` runs the doctor and registers only an export that passed, with its report,
 * in one transaction: a broken export is never half-registered.
 */
import { mulberry32 } from '../platform/rng.js';
import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ErrorCodes, SwitchyardError, toErrorShape, type ErrorCode } from '../contract/errors.js';
import { nearestRankOfSorted } from '../domain/stats.js';
import type { Stage } from '../contract/index.js';
import { iso, systemClock, type Clock } from '../platform/clock.js';
import type { RegisterResult, Registry } from '../store/registry.js';
import { MANIFEST_FILE, MODEL_FILE, readExport } from '../runtime/export.js';
import { loadPhaseOf, PolicyLoadError, type LoadPhase } from '../runtime/load-error.js';
import { PolicyRunner, type RunnerLogger } from '../runtime/policy-runner.js';
import type { Manifest, PolicyExport } from '../runtime/types.js';

export const DOCTOR_CHECKS = ['manifest', 'files', 'load', 'io-shapes', 'warmup', 'finite-outputs'] as const;
export type DoctorCheckName = (typeof DOCTOR_CHECKS)[number];

export interface DoctorCheck {
  name: DoctorCheckName;
  ok: boolean;
  /** What was found, in words; for a failure, the reason and what to do. */
  detail: string;
  /** True when the check did not run because an earlier one failed (`ok` is then false). */
  skipped?: boolean;
}

export interface DoctorLatency {
  /** Round trip of one `act()` (main thread → worker → main thread), milliseconds. */
  p50Ms: number;
  p99Ms: number;
  /** Time inside ONNX Runtime for the same calls (measured in the worker). */
  inferP50Ms: number;
  inferP99Ms: number;
  runs: number;
}

export interface DoctorReport {
  ok: boolean;
  /** Absolute path of the export directory. */
  dir: string;
  checkedAt: string;
  device: 'auto' | 'cpu' | 'cuda';
  checks: DoctorCheck[];
  manifest: Manifest | null;
  modelHash: string | null;
  /** `<model_id>@<model_hash>` */
  modelVersion: string | null;
  sizeBytes: number | null;
  files: { name: string; bytes: number }[] | null;
  /** The execution provider the model ran on (`cpu`, `cuda`). */
  provider: string | null;
  /** Why `--device auto` used the CPU, when it did. */
  fallbackReason?: string;
  /** ONNX Runtime session creation, in the worker. */
  loadMs: number | null;
  /** The warm-up runs on random input. */
  warmupMs: number | null;
  latency: DoctorLatency | null;
  /** The first failure: its code, message, where, and the check that failed. */
  error?: { code: ErrorCode; message: string; where?: string; check: DoctorCheckName };
}

export interface DoctorOptions {
  device?: 'auto' | 'cpu' | 'cuda';
  /** Timed `act()` calls after warm-up (default 200; 0 skips timing). */
  runs?: number;
  /** Seed of the random observations (default 1). */
  seed?: number;
  clock?: Clock;
  logger?: RunnerLogger;
  /** Give up on a load that takes longer (default 60 s). */
  startTimeoutMs?: number;
  /** Steps done of the total: the five checks before timing, then each timed run. */
  onProgress?: (p: { done: number; total: number; step: string }) => void;
}

/** Nearest-rank percentile (p in 0..100) of sorted values; 0 when there are none. */
function percentile(sorted: readonly number[], p: number): number {
  return nearestRankOfSorted(sorted, p / 100) ?? 0;
}

function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}

/** Deterministic observations in [-1, 1) for a given seed. */
function randomSource(seed: number): () => number {
  const rng = mulberry32(seed);
  return () => rng.next() * 2 - 1;
}

function shape(m: Manifest): string {
  const act = `${m.action.name} [${m.action.chunk} × ${m.action.dim}]`;
  return `${m.observation.name} [${m.observation.dim}] → ${act}`;
}

function ms(n: number): string {
  return n < 1 ? `${(n * 1000).toFixed(0)} µs` : `${n.toFixed(n < 10 ? 2 : 1)} ms`;
}

const PHASE_CHECK: Record<LoadPhase, DoctorCheckName> = { load: 'load', 'io-shapes': 'io-shapes', warmup: 'warmup' };

/** The reason a report failed, in one sentence (empty when it passed). */
export function doctorReason(report: DoctorReport): string {
  if (report.ok || report.error === undefined) return '';
  return `${report.error.check} check failed: ${report.error.message}`;
}

/**
 * Run every check on the export in `dir`. Never throws for a broken export: the report says
 * what failed (`ok: false`, `error`). Loads the model in its own worker and closes it after.
 */
export async function runDoctor(dir: string, opts: DoctorOptions = {}): Promise<DoctorReport> {
  return (await doctorExport(dir, opts)).report;
}

/** `runDoctor`, also returning the export it read (for registering exactly what was checked). */
export async function doctorExport(dirIn: string, opts: DoctorOptions = {}): Promise<{ report: DoctorReport; exp: PolicyExport | null }> {
  const clock = opts.clock ?? systemClock;
  const device = opts.device ?? 'auto';
  const runs = opts.runs ?? 200;
  if (!Number.isInteger(runs) || runs < 0) {
    throw new SwitchyardError(ErrorCodes.SWY_ERR_INVALID_INPUT, `runs must be a whole number of 0 or more, got ${runs}.`, 'runs');
  }
  const dir = resolve(dirIn);
  const report: DoctorReport = {
    ok: false,
    dir,
    checkedAt: iso(clock.now()),
    device,
    checks: [],
    manifest: null,
    modelHash: null,
    modelVersion: null,
    sizeBytes: null,
    files: null,
    provider: null,
    loadMs: null,
    warmupMs: null,
    latency: null,
  };
  const total = DOCTOR_CHECKS.length - 1 + Math.max(1, runs);
  let done = 0;
  const step = (name: string) => opts.onProgress?.({ done: ++done, total, step: name });
  const pass = (name: DoctorCheckName, detail: string) => {
    report.checks.push({ name, ok: true, detail });
    if (name !== 'finite-outputs') step(name);
  };
  const failAt = (name: DoctorCheckName, e: unknown): { report: DoctorReport; exp: PolicyExport | null } => {
    const shape = toErrorShape(e);
    report.checks.push({ name, ok: false, detail: shape.message });
    for (const later of DOCTOR_CHECKS.slice(DOCTOR_CHECKS.indexOf(name) + 1)) {
      report.checks.push({ name: later, ok: false, skipped: true, detail: `not run: the ${name} check failed` });
    }
    report.error = { ...shape, check: name };
    return { report, exp: null };
  };

  // 1-2. manifest and files
  let exp: PolicyExport;
  try {
    exp = await readExport(dir);
  } catch (e) {
    const where = e instanceof SwitchyardError ? (e.where ?? '') : '';
    // readExport checks the manifest first; errors about the model file come after it passed.
    if (where.startsWith(MODEL_FILE)) {
      pass('manifest', `${MANIFEST_FILE} is valid`);
      return failAt('files', e);
    }
    return failAt('manifest', e);
  }
  const m = exp.manifest;
  report.manifest = m;
  report.modelHash = exp.modelHash;
  report.modelVersion = exp.modelVersion;
  report.sizeBytes = exp.sizeBytes;
  report.files = exp.files;
  const kind = m.kind === 'iterative' ? `iterative (${m.iterative!.steps} steps, ${m.iterative!.warm_steps} warm)` : 'direct';
  pass('manifest', `${m.policy}@${m.version}, ${kind}, ${shape(m)}`);
  pass('files', `${exp.modelVersion}, ${exp.sizeBytes} bytes in ${exp.files.map((f) => f.name).join(', ')}`);

  // 3-5. load, io-shapes, warm-up: the worker does all three before it reports ready
  let runner: PolicyRunner;
  try {
    runner = await PolicyRunner.start({
      export: exp,
      slot: 'prod',
      device,
      ...(opts.logger ? { logger: opts.logger } : {}),
      ...(opts.startTimeoutMs !== undefined ? { startTimeoutMs: opts.startTimeoutMs } : {}),
      // Random observations under one id would warm-start each other; none is kept anyway.
      episodeCacheSize: 1,
    });
  } catch (e) {
    const check = PHASE_CHECK[loadPhaseOf(e)];
    if (e instanceof PolicyLoadError && e.provider !== undefined) report.provider = e.provider;
    if (check !== 'load') pass('load', `ONNX Runtime created a session${report.provider ? ` on ${report.provider}` : ''}`);
    if (check === 'warmup') pass('io-shapes', `the graph's inputs and outputs match ${MANIFEST_FILE}`);
    return failAt(check, e);
  }
  try {
    report.provider = runner.provider;
    report.loadMs = round3(runner.loadMs);
    report.warmupMs = round3(runner.warmupMs);
    if (runner.fallbackReason !== undefined) report.fallbackReason = runner.fallbackReason;
    const fallback = runner.fallbackReason !== undefined ? ` (--device ${device} fell back: ${runner.fallbackReason})` : '';
    pass('load', `ONNX Runtime session on ${runner.provider} in ${ms(runner.loadMs)}${fallback}`);
    const inputs = m.kind === 'iterative' ? `${m.observation.name}, x, t` : m.observation.name;
    pass('io-shapes', `inputs (${inputs}) and output ${m.action.name} match ${MANIFEST_FILE}`);
    pass('warmup', `finite actions on random observations in ${ms(runner.warmupMs)}`);

    // 6. timed runs
    if (runs === 0) {
      pass('finite-outputs', 'not timed (--runs 0)');
      step('finite-outputs');
    } else {
      const rnd = randomSource(opts.seed ?? 1);
      const rtt: number[] = [];
      const infer: number[] = [];
      const dim = m.observation.dim;
      for (let i = 0; i < runs; i++) {
        const state = Array.from({ length: dim }, rnd);
        const t0 = performance.now();
        let out;
        try {
          // A fresh episode id per call: no warm start, the full cost every time.
          out = await runner.act({ episodeId: `doctor-${i}`, state });
        } catch (e) {
          const shapeE = toErrorShape(e);
          return failAt(
            'finite-outputs',
            new SwitchyardError(shapeE.code, `run ${i + 1} of ${runs} on a random observation failed: ${shapeE.message}`, shapeE.where ?? MODEL_FILE),
          );
        }
        rtt.push(performance.now() - t0);
        infer.push(out.inferMs);
        step(`run ${i + 1}`);
        for (const row of out.actions) {
          for (const v of row) {
            if (!Number.isFinite(v)) {
              return failAt(
                'finite-outputs',
                new SwitchyardError(ErrorCodes.SWY_ERR_INFERENCE, `run ${i + 1} of ${runs} returned a non-finite action (${v}).`, MODEL_FILE),
              );
            }
          }
        }
      }
      rtt.sort((a, b) => a - b);
      infer.sort((a, b) => a - b);
      report.latency = {
        p50Ms: round3(percentile(rtt, 50)),
        p99Ms: round3(percentile(rtt, 99)),
        inferP50Ms: round3(percentile(infer, 50)),
        inferP99Ms: round3(percentile(infer, 99)),
        runs,
      };
      pass('finite-outputs', `${runs} runs on random observations, all finite; p50 ${ms(report.latency.p50Ms)}, p99 ${ms(report.latency.p99Ms)}`);
    }
  } finally {
    await runner.close();
  }
  report.ok = true;
  return { report, exp };
}

/**
 * Names, sizes and modification times of the files directly in an export directory: cheap
 * evidence that nothing changed between two moments ('' when the directory cannot be read).
 */
export async function exportFingerprint(dir: string): Promise<string> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return '';
  }
  names.sort();
  const parts: string[] = [];
  for (const n of names) {
    try {
      const st = await stat(join(dir, n));
      parts.push(st.isFile() ? `${n}:${st.size}:${st.mtimeMs}` : `${n}/`);
    } catch {
      parts.push(`${n}:gone`);
    }
  }
  return parts.join('|');
}

/** A doctor failure, refused before anything was written; carries the report. */
export class DoctorFailedError extends SwitchyardError {
  readonly report: DoctorReport;
  constructor(report: DoctorReport, what: string) {
    const err = report.error!;
    super(err.code, `${what}: ${doctorReason(report)}`, err.where);
    this.name = 'DoctorFailedError';
    this.report = report;
  }
}

export interface RegisterCheckedOptions extends DoctorOptions {
  actor: string;
  stage?: Stage;
}

/** An export that passed doctor, with the fingerprint of its files when it was checked. */
export interface CheckedExport {
  report: DoctorReport;
  exp: PolicyExport;
  fingerprint: string;
}

function changedError(dir: string): SwitchyardError {
  return new SwitchyardError(
    ErrorCodes.SWY_ERR_BAD_EXPORT,
    `Not registered: the files in ${dir} changed while they were being checked. Register it again once the export is complete.`,
    dir,
  );
}

/**
 * The first half of `registerChecked`, touching no store: doctor, and proof that the files did
 * not change meanwhile. Throws `DoctorFailedError` (with the report) or SWY_ERR_BAD_EXPORT.
 */
export async function checkForRegistration(dir: string, opts: DoctorOptions = {}): Promise<CheckedExport> {
  const abs = resolve(dir);
  const before = await exportFingerprint(abs);
  const { report, exp } = await doctorExport(abs, opts);
  if (!report.ok || exp === null) throw new DoctorFailedError(report, `Not registered: ${abs} failed doctor`);
  const after = await exportFingerprint(abs);
  if (after !== before) throw changedError(abs);
  return { report, exp, fingerprint: after };
}

/**
 * The second half: register exactly what was checked, with its report, in one transaction
 * (after checking once more that the files are the ones doctor saw).
 */
export async function commitRegistration(registry: Registry, checked: CheckedExport, opts: { actor: string; stage?: Stage }): Promise<{ report: DoctorReport; result: RegisterResult }> {
  if ((await exportFingerprint(checked.exp.dir)) !== checked.fingerprint) throw changedError(checked.exp.dir);
  const result = registry.register(checked.exp, { actor: opts.actor, ...(opts.stage ? { stage: opts.stage } : {}), doctor: checked.report });
  return { report: checked.report, result };
}

/**
 * Doctor, then register with the report, in one transaction. A failed doctor throws
 * `DoctorFailedError` and writes nothing; so does an export whose files changed while it was
 * being checked (SWY_ERR_BAD_EXPORT), a different model under a registered label
 * (SWY_ERR_CONFLICT), or a store write that fails (SWY_ERR_STORE_IO).
 */
export async function registerChecked(
  registry: Registry,
  dir: string,
  opts: RegisterCheckedOptions,
): Promise<{ report: DoctorReport; result: RegisterResult }> {
  const { actor, stage, ...doctorOpts } = opts;
  const checked = await checkForRegistration(dir, doctorOpts);
  return commitRegistration(registry, checked, { actor, ...(stage ? { stage } : {}) });
}
