import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import type { Registry as MetricsRegistry } from 'prom-client';
import { ApiDispatcher } from './api/dispatcher.js';
import { appHandlers } from './api/handlers/app.js';
import { demoHandlers } from './api/handlers/demo.js';
import { evalHandlers } from './api/handlers/eval.js';
import { lifecycleHandlers } from './api/handlers/lifecycle.js';
import { registrationHandlers } from './api/handlers/registration.js';
import { replayHandlers } from './api/handlers/replay.js';
import { servingHandlers } from './api/handlers/serving.js';
import { shadowHandlers } from './api/handlers/shadow.js';
import { checkPathFields, issuesOf, PathRoots, withoutFileContent } from './api/path-guard.js';
import { ErrorCodes, SwitchyardError, toErrorShape, type DemoTrafficStatus, type EventName, type EventPayload, type Slot } from './contract/index.js';
import { buildDemoWorkspace, type DemoOptions, type DemoResult } from './demo/demo-workspace.js';
import { EvalService } from './eval/eval-service.js';
import { failInterruptedRuns } from './eval/interrupted-runs.js';
import { runGate, type GateResult } from './eval/gate.js';
import { exportRun } from './eval/case-export.js';
import { listRulesFiles, readRulesFile } from './eval/rules-files.js';
import { LiveLifecycle } from './lifecycle/live-lifecycle.js';
import { ReplayService } from './replay/replay-service.js';
import { DemoTraffic } from './demo/demo-traffic.js';
import { systemClock, type Clock } from './platform/clock.js';
import { EventBus } from './platform/event-bus.js';
import { createLogger, type Logger } from './platform/logger.js';
import { systemTimers, type Timers } from './platform/timers.js';
import { PolicyRunner } from './runtime/policy-runner.js';
import { AbandonedWorkers } from './runtime/abandoned-workers.js';
import { AnswerSpin, DEFAULT_ANSWER_SPIN_US } from './runtime/answer-spin.js';
import { readExport } from './runtime/export.js';
import type { PolicyExport, RunnerOptions } from './runtime/types.js';
import type { SlotLoadEvent } from './serve/health.js';
import { createMetricsRegistry, ServingMetrics } from './serve/metrics.js';
import { ServingController, type SlotRunner } from './serve/serving-controller.js';
import { ServingJournal } from './serve/serving-journal.js';
import { openDatabase, type Db } from './store/database.js';
import { EvalStore } from './store/eval-store.js';
import { Registry } from './store/registry.js';
import { traceRecorder } from './trace/trace-recorder.js';
import { TraceWriter, type Redaction } from './trace/trace-writer.js';
import { SWITCHYARD_VERSION } from './version.js';
import { RegistrationService } from './registration/registration-service.js';

export interface EngineConfig {
  /** SQLite file; created when missing. */
  storePath: string;
  /** Where generated demo exports are written; defaults to `<store folder>/exports`. */
  dataDir?: string;
  clock?: Clock;
  /** Timers for the canary's looks (tests pass virtual ones). */
  timers?: Timers;
  logger?: Logger;
  metricsRegistry?: MetricsRegistry;
  device?: RunnerOptions['device'];
  maxConsecutiveCrashes?: number;
  rtc?: boolean;
  /** How often `serving.stats` is pushed; 0 turns the timer off (tests call `pushStats`). */
  statsIntervalMs?: number;
  /** Loads a policy; the default starts a `PolicyRunner` worker. */
  startRunner?: (opts: RunnerOptions) => Promise<SlotRunner>;
  /** Told as each slot's policy loads, warms up and becomes ready (or fails); `/health` follows it. */
  onSlotLoad?: (e: SlotLoadEvent) => void;
  /** A folder of promotion rules files listed by `rules.list` (besides `<dataDir>/rules/` and the demo's). */
  rulesDir?: string;
  /** Where the console records traces (default `<store folder>/traces`); the Replay page lists it. */
  recordDir?: string;
  /** `--act-timeout-ms`: deadline of one `/act` inference (default 10,000; 0 = none). */
  actTimeoutMs?: number;
  /** Abandoned (stuck) workers alive at once before `onAbandonedLimit` (default 4). */
  maxAbandonedWorkers?: number;
  /**
   * How long the serving thread may busy-wait for a fast policy's answer when nothing else is
   * outstanding (runtime/answer-spin.ts), µs. Default 150; 0: always wait on the event loop.
   */
  answerSpinUs?: number;
  /** Called when more abandoned workers are alive than allowed; the serve command exits. */
  onAbandonedLimit?: (alive: number, max: number) => void;
  /** `--data-root`: more folders API callers may name files in (besides the store's folder and the record directory). */
  dataRoots?: readonly string[];
}

export interface GateRequest {
  rulesPath: string;
  candidate: string;
  baseline?: string;
  reeval?: boolean;
}

export interface ServeTargets {
  /** Single-policy mode. */
  single?: string;
  a?: string;
  b?: string;
  split?: number;
  /** A shadow slot beside a single policy. */
  shadow?: string;
}

export interface RecordingOptions {
  dir: string;
  redaction?: Redaction;
  gzip?: boolean;
}

export interface Engine {
  readonly config: Readonly<EngineConfig>;
  readonly db: Db;
  readonly registry: Registry;
  /** Suites, evaluation runs, results and verdicts. */
  readonly evalStore: EvalStore;
  /** Background evaluations (worker-based, one per version and suite, cancellable). */
  readonly evals: EvalService;
  /** Promote, roll back (moving traffic at once), archive, history, canary, shadow evidence. */
  readonly lifecycle: LiveLifecycle;
  readonly serving: ServingController;
  /** Bounded serving history (samples, events) and the console's serving configuration. */
  readonly journal: ServingJournal;
  readonly metrics: ServingMetrics;
  readonly metricsRegistry: MetricsRegistry;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly api: ApiDispatcher;
  /** The folders API callers may name files in. */
  readonly pathRoots: PathRoots;
  /** The Replay page's traces, summaries and re-runs. */
  readonly replay: ReplayService;
  /** Where traces are recorded unless `--record` says otherwise. */
  readonly recordDir: string;
  /** Registration from the workbench and watched folders (issue 13). */
  readonly registration: RegistrationService;
  /** Simulated cart-pole robots against this server's `/act` (recorded to `recordDir`). */
  setDemoTraffic(on: boolean, robots?: number): Promise<DemoTrafficStatus>;
  readonly events: { on<E extends EventName>(e: E, h: (p: EventPayload<E>) => void): () => void };
  /** Resolves `policy@label`, `policy@production` or an export directory to a checked export. */
  resolveExport(ref: string): Promise<{ ref: string; exp: PolicyExport }>;
  startServing(targets: ServeTargets): Promise<void>;
  /** Records every answered request to a JSONL trace in `dir` (spec §4.3) until close. */
  startRecording(opts: RecordingOptions): Promise<TraceWriter>;
  buildDemo(opts?: Pick<DemoOptions, 'onProgress'>): Promise<DemoResult>;
  /** Run a rules file's promotion gate, evaluating what is missing; the verdict is stored. */
  gate(req: GateRequest): Promise<GateResult>;
  pushStats(): void;
  close(): Promise<void>;
}

/** The composition root: Electron main and the headless server both start here. */
export async function createEngine(config: EngineConfig): Promise<Engine> {
  const clock = config.clock ?? systemClock;
  const logger = config.logger ?? createLogger();
  const metricsRegistry = config.metricsRegistry ?? createMetricsRegistry();
  const metrics = new ServingMetrics(metricsRegistry);
  const storePath = config.storePath === ':memory:' ? ':memory:' : resolve(config.storePath);
  const db = openDatabase(storePath);
  const registry = new Registry(db, clock);
  const evalStore = new EvalStore(db, clock);
  // Runs left `running` by a dead process are closed as failed (those of a live process sharing the store are not).
  const interrupted = failInterruptedRuns(evalStore);
  if (interrupted.length > 0) logger.warn({ runs: interrupted }, 'evaluations left running by a process that stopped were marked failed');
  const bus = new EventBus((event, e) => logger.error({ event, err: String(e) }, 'event handler failed'));
  const interval = config.statsIntervalMs ?? 500;
  const journal = new ServingJournal({ db, clock, logger, intervalMs: interval > 0 ? interval : 500 });
  const serving = new ServingController({
    onEvent: (e) => bus.emit('serving.event', journal.record(e)),
    clock,
    logger,
    metrics,
    maxConsecutiveCrashes: config.maxConsecutiveCrashes ?? 5,
    rtc: config.rtc ?? false,
    onStateChange: (s) => bus.emit('serving.state', s),
  });
  const abandoned = new AbandonedWorkers({
    ...(config.maxAbandonedWorkers !== undefined ? { max: config.maxAbandonedWorkers } : {}),
    onAbandon: (slot) => metrics.workerAbandoned.labels(slot).inc(),
    onLimit: (alive, max) => {
      logger.error({ alive, max }, `${alive} policy workers are stuck past --act-timeout-ms (more than ${max}); exiting so a supervisor can restart the server`);
      config.onAbandonedLimit?.(alive, max);
    },
  });
  const answerSpin = new AnswerSpin(config.answerSpinUs ?? DEFAULT_ANSWER_SPIN_US);
  const startRunner =
    config.startRunner ??
    ((opts: RunnerOptions) =>
      PolicyRunner.start({ ...opts, logger, abandoned, answerSpin, ...(config.actTimeoutMs !== undefined ? { actTimeoutMs: config.actTimeoutMs } : {}) }) as Promise<SlotRunner>);
  const dataDir = config.dataDir ?? (storePath === ':memory:' ? join(process.cwd(), '.switchyard') : join(dirname(storePath), 'exports'));
  const demoDir = join(dataDir, 'demo');
  const rulesDirs = [join(demoDir, 'rules'), join(dataDir, 'rules'), ...(config.rulesDir ? [config.rulesDir] : [])];
  const evals = new EvalService({
    registry,
    evalStore,
    logger,
    // The CPU unless a device is configured: re-runs must give identical per-case results, and
    // GPU kernels need not be bit-identical from run to run.
    device: config.device ?? 'cpu',
    onProgress: (p) => bus.emit('eval.progress', p),
  });

  async function gate(req: GateRequest): Promise<GateResult> {
    // Verdicts record the absolute path: `promote` reads the file again to check it did not change.
    const rulesPath = resolve(req.rulesPath);
    const rulesText = await readRulesFile(rulesPath);
    return runGate({
      registry,
      evalStore,
      rulesText,
      rulesFile: rulesPath,
      candidate: req.candidate,
      baseline: req.baseline ?? null,
      reeval: req.reeval ?? false,
      evaluateMissing: async ({ ref, suite, reruns }) => evals.evaluate({ version: ref, suite: await evals.loadStoredSuite(suite), reruns }),
      shadowEvidence: (candidateId, baselineId) => {
        lifecycle.flushShadowEvidence();
        const e = lifecycle.shadowEvidence.evidence(candidateId, baselineId);
        return e === null ? null : { requests: e.requests, maxDivergence: e.maxDivergence };
      },
    });
  }

  async function resolveExport(ref: string): Promise<{ ref: string; exp: PolicyExport }> {
    const asPath = resolve(ref);
    // A path is a path when it says so (a separator), or when it exists and is no version
    // reference: a folder named `policy@label` in the working directory never shadows the
    // registered version.
    if (!parsesAsVersionRef(ref)) {
      if (existsSync(asPath) && statSync(asPath).isDirectory()) return { ref: asPath, exp: await readExport(asPath) };
      throw new SwitchyardError(ErrorCodes.SWY_ERR_NOT_FOUND, `"${ref}" is neither an export directory nor a version reference like cartpole-balance@production.`, ref);
    }
    const v = registry.resolve(ref);
    if (v.kind === 'external' || !v.exportPath) {
      throw new SwitchyardError(ErrorCodes.SWY_ERR_CONFIG, `${v.policy}@${v.label} is an external version with no model to serve.`, ref);
    }
    const exp = await readExport(v.exportPath);
    // Serve exactly the registered bytes: files changed after registration are refused.
    if (exp.modelHash !== v.modelHash) {
      throw new SwitchyardError(
        ErrorCodes.SWY_ERR_MODEL_MISMATCH,
        `${v.policy}@${v.label} was registered with model_hash ${v.modelHash}, but the files in ${v.exportPath} now hash to ${exp.modelHash}. Restore the registered files, or register the changed export as a new version.`,
        ref,
      );
    }
    return { ref: `${v.policy}@${v.label}`, exp };
  }

  async function load(ref: string, slot: Slot) {
    const notify = config.onSlotLoad;
    notify?.({ slot, ref, phase: 'loading' });
    try {
      const { ref: resolved, exp } = await resolveExport(ref);
      notify?.({ slot, ref: resolved, phase: 'warming' });
      const runner = await startRunner({ export: exp, slot, device: config.device ?? 'auto', rtc: config.rtc ?? false });
      notify?.({ slot, ref: resolved, phase: 'ready' });
      return { ref: resolved, runner };
    } catch (e) {
      notify?.({ slot, ref, phase: 'failed', error: e });
      throw e;
    }
  }

  let lastCanaryKey = '';
  const lifecycle = new LiveLifecycle({
    db,
    registry,
    evalStore,
    serving,
    clock,
    timers: config.timers ?? systemTimers,
    logger,
    load,
    gate: (req) => gate(req),
    onChange: (c) => {
      if (c.action === 'rollback' || (c.action === 'promote' && c.to === 'production')) {
        const msg = c.action === 'rollback' ? `rollback: ${c.version} is production again (replacing ${c.replaced ?? 'none'})` : `${c.version} promoted to production${c.forced ? ' (FORCED)' : ''}`;
        bus.emit('serving.event', journal.record({ kind: c.action, slot: null, message: msg }));
      }
      bus.emit('lifecycle.changed', {
        policy: c.policy,
        action: c.action,
        version: c.version,
        from: c.from,
        to: c.to,
        at: c.at,
        actor: c.actor,
        reason: c.reason,
        verdictId: c.verdictId,
        forced: c.forced,
        replaced: c.replaced,
      });
    },
    onCanary: (st) => {
      const key = `${st.state}:${st.stepIndex}`;
      if (key !== lastCanaryKey) {
        lastCanaryKey = key;
        bus.emit('serving.event', journal.record({ kind: 'canary', slot: 'b', message: `canary ${st.candidate}: ${st.state}, ${st.percent}% of new episodes` }));
      }
      bus.emit('canary.progress', st);
    },
  });

  // ---- replay (spec §7.6) ----
  const recordDir = resolve(config.recordDir ?? (storePath === ':memory:' ? join(dataDir, 'traces') : join(dirname(storePath), 'traces')));
  const recordDirs = new Set<string>([recordDir]);
  const replay = new ReplayService({
    roots: () => [...recordDirs, dataDir, ...pathRoots.list()],
    checkPath: (p) => pathRoots.check(p, 'path'),
    uploadDir: join(recordDir, 'uploads'),
    resolveExport,
    emit: (p) => bus.emit('replay.progress', p),
    logger,
    device: config.device === 'cuda' ? 'cuda' : 'cpu',
  });

  // ---- demo traffic: robots against our own /act, recorded so the Replay page has something ----
  const demoTraffic = new DemoTraffic({ actUrl: () => serving.actUrl, logger, timers: config.timers ?? systemTimers, now: () => clock.now() });
  const demoTrafficStatus = (): DemoTrafficStatus => ({ ...demoTraffic.status(), trace: recording?.path ?? null });
  async function setDemoTraffic(on: boolean, robots?: number): Promise<DemoTrafficStatus> {
    if (!on) {
      await demoTraffic.stop();
      return demoTrafficStatus();
    }
    if (serving.state().mode === 'off') throw new SwitchyardError(ErrorCodes.SWY_ERR_NOT_SERVING, 'Demo traffic needs a policy being served: start serving first.');
    if (!serving.actUrl) throw new SwitchyardError(ErrorCodes.SWY_ERR_NOT_SERVING, 'Demo traffic needs the HTTP server (/act); this engine has none.');
    if (!recording) await engine.startRecording({ dir: recordDir });
    await demoTraffic.start(robots);
    return demoTrafficStatus();
  }

  const pathRoots = new PathRoots([
    ...(storePath === ':memory:' ? [] : [dirname(storePath)]),
    dataDir,
    ...(config.rulesDir ? [config.rulesDir] : []),
    ...(config.dataRoots ?? []),
  ]);
  const dataRootSet = new Set((config.dataRoots ?? []).map((d) => resolve(d)));
  const registration = new RegistrationService({
    registry,
    evalStore,
    evals,
    clock,
    logger,
    device: config.device === 'cuda' ? 'cuda' : 'cpu',
    emit: (job) => bus.emit('registry.registerProgress', job),
    folders: () =>
      pathRoots
        .list()
        .filter((p) => existsSync(p) && statSync(p).isDirectory())
        .map((p) => ({ path: p, kind: dataRootSet.has(p) ? ('data-root' as const) : recordDirs.has(p) ? ('record' as const) : ('store' as const) })),
    allowFolder: (dir) => pathRoots.add(dir),
    listRules: () => listRulesFiles(rulesDirs),
    gate: (req) => gate(req),
    onEvalProgress: (h) => bus.on('eval.progress', h),
    passRateOf: (runId) => {
      const rows = exportRun(evalStore, runId).rows;
      return rows.length === 0 ? null : rows.filter((r) => r.pass).length / rows.length;
    },
  });

  const api = new ApiDispatcher({
    ...appHandlers({ db, registry, storePath }),
    ...servingHandlers(serving, journal),
    ...evalHandlers({ db, registry, evalStore, evals, rulesDirs, gate }),
    ...lifecycleHandlers(lifecycle, clock),
    ...replayHandlers(replay),
    ...demoHandlers({ status: demoTrafficStatus, set: setDemoTraffic }),
    ...registrationHandlers(registration),
    ...shadowHandlers({ registry, lifecycle, serving }),
  });
  api.setGuard({
    before: (method, input) => {
      const checked = checkPathFields(pathRoots, method, input, (_field, v) => evalStore.findSuite(v) !== null);
      // The handler opens exactly the file that was checked (symlinks already followed).
      const next = { ...input };
      for (const c of checked) next[c.field] = c.path;
      return { input: next, files: checked.map((c) => c.path) };
    },
    error: (_method, e, files) => withoutFileContent(toErrorShape(e), files, issuesOf(e)),
  });

  const pushStats = () => {
    if (serving.isServing) {
      const sample = serving.snapshot();
      journal.addSample(sample);
      bus.emit('serving.stats', sample);
    }
    lifecycle.flushShadowEvidence();
  };
  const timer = interval > 0 ? setInterval(pushStats, interval) : null;
  timer?.unref();

  let recording: TraceWriter | null = null;
  let closed = false;
  const engine: Engine = {
    config,
    db,
    registry,
    evalStore,
    evals,
    lifecycle,
    serving,
    journal,
    metrics,
    metricsRegistry,
    logger,
    clock,
    api,
    pathRoots,
    replay,
    recordDir,
    setDemoTraffic,
    registration,
    events: { on: (e, h) => bus.on(e, h) },
    resolveExport,
    async startServing(t) {
      if (t.single && (t.a || t.b)) throw new SwitchyardError(ErrorCodes.SWY_ERR_CONFIG, 'Give either one policy or --policy-a and --policy-b, not both.');
      if (t.shadow && !t.single) {
        throw new SwitchyardError(ErrorCodes.SWY_ERR_CONFIG, '--shadow-policy works beside one primary policy (PATH), not with --policy-a/--policy-b.', '--shadow-policy');
      }
      if (t.single) {
        const [prod, shadow] = await Promise.all([load(t.single, 'prod'), t.shadow ? load(t.shadow, 'shadow') : null]);
        serving.startSingle(prod);
        if (shadow) serving.startShadow(shadow);
        lifecycle.servingStarted({ single: t.single, ...(shadow ? { shadow: shadow.ref } : {}) });
        return;
      }
      if (!t.a || !t.b) {
        throw new SwitchyardError(ErrorCodes.SWY_ERR_CONFIG, `--policy-${t.a ? 'b' : 'a'} is missing: two-policy mode needs both --policy-a and --policy-b.`, t.a ? '--policy-b' : '--policy-a');
      }
      const [a, b] = await Promise.all([load(t.a, 'a'), load(t.b, 'b')]);
      try {
        serving.startAb(a, b, t.split ?? 50);
      } catch (e) {
        await Promise.allSettled([a.runner.close(), b.runner.close()]);
        throw e;
      }
    },
    async startRecording(opts) {
      if (recording) throw new SwitchyardError(ErrorCodes.SWY_ERR_CONFLICT, 'A trace is already being recorded.');
      const st = serving.state();
      if (st.mode === 'off') throw new SwitchyardError(ErrorCodes.SWY_ERR_NOT_SERVING, 'Start serving before recording a trace.');
      const primary = serving.slotExports();
      const first = primary[0]!;
      const writer = new TraceWriter({
        dir: opts.dir,
        modelHash: first.exp.modelHash,
        redaction: opts.redaction ?? 'hash_only',
        gzip: opts.gzip ?? false,
        providers: [...new Set(primary.map((p) => p.provider))],
        ...(st.mode === 'ab' ? { policies: primary.map((p) => ({ slot: p.slot, model_id: p.exp.manifest.model_id, model_hash: p.exp.modelHash })) } : {}),
        split: st.mode === 'ab' ? st.split : null,
        switchyardVersion: SWITCHYARD_VERSION,
        clock,
        logger,
        droppedCounter: metrics.traceDropped,
        // Serialization and SHA-256 of every record on a thread of its own, off the /act path.
        sealThread: true,
      });
      if (!(await writer.opened)) {
        throw new SwitchyardError(ErrorCodes.SWY_ERR_STORE_IO, `Cannot record traces in ${opts.dir}: ${writer.stats.stopReason ?? 'the folder is not writable'}. Pick another --record folder.`, '--record');
      }
      recording = writer;
      recordDirs.add(resolve(opts.dir));
      pathRoots.add(opts.dir);
      serving.setRecorder(traceRecorder(writer));
      return writer;
    },
    buildDemo: (opts) => buildDemoWorkspace({ registry, evalStore, dir: demoDir, ...(opts?.onProgress ? { onProgress: opts.onProgress } : {}) }),
    gate,
    pushStats,
    async close() {
      if (closed) return;
      closed = true;
      if (timer) clearInterval(timer);
      replay.close();
      await registration.close();
      await demoTraffic.stop();
      // The footer goes last, after every answered request has been handed to the writer.
      serving.setRecorder(null);
      await recording?.close();
      await lifecycle.close();
      await serving.close();
      await evals.close();
      db.close();
    },
  };
  return engine;
}

/** `policy@label` with both parts non-empty and no path separator: what `registry.resolve` takes. */
function parsesAsVersionRef(ref: string): boolean {
  const at = ref.lastIndexOf('@');
  return at > 0 && at < ref.length - 1 && !ref.includes('/') && !ref.includes(sep);
}
