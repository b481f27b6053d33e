import { Option, type Command } from 'commander';
import { SwitchyardError } from '../../contract/index.js';
import { startConsoleSession } from '../../console-session.js';
import { DEFAULT_ROBOTS, MAX_ROBOTS } from '../../demo/demo-traffic.js';
import { createEngine, type Engine } from '../../engine.js';
import { checkTwoPolicyVram, resolveGpuMemoryBytes } from '../../runtime/gpu.js';
import { WatchFolder } from '../../registration/watch-folder.js';
import { applyCpuAffinity } from '../../platform/cpu-affinity.js';
import { DEFAULT_ANSWER_SPIN_US } from '../../runtime/answer-spin.js';
import { createLogger, flushLogger, LOG_FORMATS, type LogFormat } from '../../platform/logger.js';
import { logDeviceChoice, resolveDevice } from '../../runtime/gpu.js';
import { ACT_TOKEN_ENV, actTokenFileWarning, resolveActToken } from '../../serve/act-auth.js';
import { HealthTracker } from '../../serve/health.js';
import { liveWorkerThreads } from '../../platform/worker.js';
import { checkTokenLabel, resolveControlToken } from '../../serve/auth.js';
import { createHttpServer, isLoopbackHost } from '../../serve/http-server.js';
import { removeRuntimeFile, writeRuntimeFile } from '../../serve/runtime-file.js';
import { intIn, reportFailure } from '../common.js';
import { defaultDataDir, defaultStorePath, workbenchDir } from '../../platform/paths.js';

interface ServeFlags {
  store: string;
  policyA?: string;
  policyB?: string;
  split: number;
  shadowPolicy?: string;
  rtc: boolean;
  maxConsecutiveCrashes: number;
  host: string;
  port: number;
  token?: string;
  tokenFile?: string;
  tokenLabel: string;
  dataRoot: string[];
  actTokenFile?: string;
  device: 'auto' | 'cpu' | 'cuda';
  record?: string;
  recordImages: 'hash_only' | 'full' | 'none';
  recordGzip?: boolean;
  watch?: string;
  gpuMemoryBytes?: string;
  demo?: boolean;
  open?: boolean;
  json?: boolean;
  logLevel: string;
  logFormat: LogFormat;
  trace?: string;
  demoTraffic?: boolean | string;
  actTimeoutMs: number;
  shutdownGraceMs: number;
  maxBodyBytes: number;
  maxAbandonedWorkers: number;
  cpuAffinity?: string;
  answerSpinUs: number;
}

function serveOptions(cmd: Command): Command {
  return cmd
    .option('--store <path>', 'SQLite store', defaultStorePath())
    .option('--policy-a <ref>', 'slot a: export directory or policy@label')
    .option('--policy-b <ref>', 'slot b: export directory or policy@label')
    .option('--split <percent>', 'percent of new episodes routed to slot a', intIn('--split', 0, 100), 50)
    .option('--shadow-policy <ref>', 'a shadow slot that answers every request off the critical path')
    .option('--no-rtc', 'turn real-time chunking carry-over off (required for two-policy mode)')
    .option('--max-consecutive-crashes <n>', 'failures in a row before a slot is drained', intIn('--max-consecutive-crashes', 1, 1_000_000), 5)
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--port <port>', 'port to bind (0 picks a free one)', intIn('--port', 0, 65535), 8000)
    .option('--record <dir>', 'record every /act request and response to a JSONL trace in DIR')
    .addOption(new Option('--record-images <mode>', 'what a trace keeps of images').choices(['hash_only', 'full', 'none']).default('hash_only'))
    .option('--record-gzip', 'gzip the trace (.jsonl.gz)')
    .option('--watch <dir>', 'register, doctor and record every export that appears in DIR')
    .option('--gpu-memory-bytes <bytes>', 'total GPU memory for the two-policy VRAM check (instead of asking nvidia-smi)')
    .option('--token-file <file>', 'read the control API token from FILE (default: $SWITCHYARD_TOKEN, else a random one)')
    .option('--token <token>', 'the control API token on the command line (visible in ps: prefer --token-file)')
    .option('--token-label <label>', 'callers with the token are recorded as token:LABEL in the audit log', 'default')
    .option('--data-root <dir>', 'a folder API callers may name files in (repeatable; the store folder and --record are always allowed)', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .option('--act-token-file <file>', `robot token required on POST /act (Authorization: Bearer or X-Tether-Key); also ${ACT_TOKEN_ENV}`)
    .addOption(new Option('--device <device>', 'inference device').choices(['auto', 'cpu', 'cuda']).default('auto'))
    .option('--act-timeout-ms <ms>', 'deadline of one /act inference (the whole refinement for iterative policies); past it: 504, the worker is replaced; 0 = none', intIn('--act-timeout-ms', 0, 3_600_000), 10_000)
    .option('--shutdown-grace-ms <ms>', 'on SIGTERM/SIGINT, how long in-flight requests may finish before they are answered 503', intIn('--shutdown-grace-ms', 0, 3_600_000), 10_000)
    .option('--max-body-bytes <bytes>', 'largest /act body; larger ones get 413 before parsing (1 MiB fits a 4-camera JPEG request)', intIn('--max-body-bytes', 1024, 1024 * 1024 * 1024), 1024 * 1024)
    .option('--max-abandoned-workers <n>', 'stuck (timed-out) workers alive at once before the server exits for its supervisor to restart it', intIn('--max-abandoned-workers', 1, 1000), 4)
    .option('--answer-spin-us <us>', 'how long the HTTP thread may busy-wait for a fast policy\'s answer when nothing else is outstanding (saves a thread wake-up); 0 = never', intIn('--answer-spin-us', 0, 10_000), DEFAULT_ANSWER_SPIN_US)
    .option('--cpu-affinity <cpus>', 'pin the server (every thread: HTTP, policy workers, trace) to these CPUs, e.g. 1 or 2-3 (Linux, uses taskset)')
    .option('--log-level <level>', 'pino log level', 'info')
    .addOption(new Option('--log-format <format>', 'log lines as sentences (pretty) or pino JSON; auto picks pretty on a terminal').choices([...LOG_FORMATS]).default('auto'))
    .option('--json', 'print machine-readable lines');
}

/** Refuses contradictory flags before anything is loaded, naming the flag to change. */
export function checkServeFlags(path: string | undefined, flags: ServeFlags, mode: 'serve' | 'console'): void {
  const config = (message: string, where: string) => new SwitchyardError('SWY_ERR_CONFIG', message, where);
  if ((flags.policyA || flags.policyB) && path) throw config('Give either PATH (single-policy mode) or --policy-a and --policy-b, not both.', 'PATH');
  if (Boolean(flags.policyA) !== Boolean(flags.policyB)) {
    throw config(`--policy-${flags.policyA ? 'b' : 'a'} is missing: two-policy mode needs both --policy-a and --policy-b.`, flags.policyA ? '--policy-b' : '--policy-a');
  }
  if (flags.shadowPolicy && flags.policyA) {
    throw config(
      '--shadow-policy works beside one primary policy (PATH), not with --policy-a/--policy-b: its divergence is measured against the one primary answer, and with an A/B split the answers come from two versions, so the numbers (and the shadow evidence the promotion rules read) would mix two baselines. Run the A/B, or serve PATH with --shadow-policy.',
      '--shadow-policy',
    );
  }
  if (flags.shadowPolicy && !path) throw config(`--shadow-policy needs a primary policy: give PATH too${mode === 'console' ? ' (the console then serves PATH instead of the demo pair)' : ''}.`, '--shadow-policy');
  if (flags.policyA && flags.rtc) {
    throw config("Two-policy mode needs --no-rtc: real-time chunking would blend one policy's actions into the other's chunks. Add --no-rtc, or serve one policy.", '--no-rtc');
  }
  if (!flags.token && !flags.tokenFile && !process.env.SWITCHYARD_TOKEN && !isLoopbackHost(flags.host)) {
    throw config(`Refusing --host ${flags.host} without --token-file FILE (or SWITCHYARD_TOKEN): a network needs a token you chose and handed out. Add one, or keep the default 127.0.0.1.`, '--host');
  }
  if (flags.recordImages !== 'hash_only' && !flags.record) throw config('--record-images only applies with --record DIR.', '--record-images');
}

async function runServer(path: string | undefined, flags: ServeFlags, mode: 'serve' | 'console'): Promise<void> {
  checkServeFlags(path, flags, mode);
  const actToken = resolveActToken({ file: flags.actTokenFile, env: process.env[ACT_TOKEN_ENV] });
  const logger = createLogger({ level: flags.logLevel, format: flags.logFormat });
  // Before any policy worker exists: workers inherit the main thread's mask when they start.
  if (flags.cpuAffinity !== undefined) {
    const pinned = applyCpuAffinity(flags.cpuAffinity);
    logger.info({ cpus: pinned.cpus, threads: pinned.threads }, `pinned to CPU ${pinned.cpus} (--cpu-affinity; ${pinned.threads} threads now, workers started later inherit it)`);
  }
  // The console's default demo pair runs in two-policy mode, where RTC is always off.
  const rtc = mode === 'console' && !path ? false : flags.rtc;
  const demoRobots = demoTrafficRobots(flags.demoTraffic);
  const { token } = resolveControlToken(flags, process.env, (m) => process.stderr.write(`switchyard: warning: ${m}\n`));
  const tokenLabel = checkTokenLabel(flags.tokenLabel);
  const health = new HealthTracker();
  const choice = await resolveDevice(flags.device);
  const engine = await createEngine({
    storePath: flags.store,
    logger,
    device: choice.device,
    rtc,
    maxConsecutiveCrashes: flags.maxConsecutiveCrashes,
    dataRoots: flags.dataRoot,
    onSlotLoad: health.onSlotLoad,
    actTimeoutMs: flags.actTimeoutMs,
    maxAbandonedWorkers: flags.maxAbandonedWorkers,
    answerSpinUs: flags.answerSpinUs,
    // The engine has logged why; a supervisor restarts a process, not a stuck thread.
    onAbandonedLimit: (alive, max) => {
      // process.exit() would wait on the stuck threads forever: the process ends itself instead.
      process.stderr.write(`switchyard: exiting (SIGKILL): ${alive} policy workers are stuck past --act-timeout-ms, more than --max-abandoned-workers ${max}; a supervisor should restart the server.\n`);
      setImmediate(() => process.kill(process.pid, 'SIGKILL'));
    },
  });
  if (mode === 'serve' && !path && !flags.policyA && !flags.watch) {
    try {
      path = chooseDefaultPolicy(engine);
    } catch (e) {
      await engine.close();
      throw e;
    }
    process.stdout.write(`No policy given: serving ${path}, the only policy with a production version.\n`);
  }
  logDeviceChoice(logger, choice);
  let app: Awaited<ReturnType<typeof createHttpServer>> | null = null;
  let runtimeFile: string | null = null;
  try {
    const workbench = mode === 'console' ? requireWorkbench() : workbenchDir();
    app = await createHttpServer(engine, { host: flags.host, port: flags.port, token, tokenLabel, maxBodyBytes: flags.maxBodyBytes, ...(workbench ? { workbenchDir: workbench } : {}), health, ...(actToken ? { actToken } : {}) });
    const fileWarning = flags.actTokenFile ? actTokenFileWarning(flags.actTokenFile) : null;
    if (fileWarning) logger.warn({ file: flags.actTokenFile }, fileWarning);
    if (!actToken && !isLoopbackHost(flags.host)) {
      logger.warn({ host: flags.host }, `POST /act is open to anyone who can reach ${flags.host}; give robots a token with --act-token-file or ${ACT_TOKEN_ENV}`);
    }
    // Listen first: /healthz answers and /readyz says 503 while the policies load and warm up.
    await app.listen({ host: flags.host, port: flags.port });
    const addr = app.server.address();
    const port = addr && typeof addr === 'object' ? addr.port : flags.port;
    const base = `http://${flags.host.includes(':') ? `[${flags.host}]` : flags.host}:${port}/`;
    // `--trace FILE` opens the workbench on the Replay page with FILE loaded; the operator named
    // this one file, so API callers may open it (only it) wherever it is.
    if (flags.trace) {
      engine.replay.setInitialTrace(flags.trace);
      engine.pathRoots.add(flags.trace);
    }
    const url = `${base}?token=${encodeURIComponent(token)}` + (flags.trace ? '#/replay' : '');
    runtimeFile = writeRuntimeFile(defaultDataDir(), { url: base, pid: process.pid, token, port });
    const dropRuntimeFile = () => runtimeFile && removeRuntimeFile(runtimeFile);
    process.on('exit', dropRuntimeFile);

    const a = flags.policyA;
    const b = flags.policyB;
    let consoleBudget: Awaited<ReturnType<typeof checkVram>> = null;
    if (mode === 'console') {
      const session = await startConsoleSession(engine, {
        demo: Boolean(flags.demo),
        ...(path ? { single: path } : {}),
        ...(path && flags.shadowPolicy ? { shadow: flags.shadowPolicy } : {}),
        ...(a && b ? { a, b } : {}),
        split: flags.split,
        // The same VRAM check as `serve` (spec §5), on the pair the console is about to load.
        beforeTwoPolicy: async (pa, pb) => {
          consoleBudget = await checkVram(engine, pa, pb, flags);
        },
      });
      if (consoleBudget) engine.serving.setVramBudget(budgetOf(consoleBudget));
      if (session.builtDemo) process.stdout.write('Built the demo workspace in the store.\n');
    } else if (path) await engine.startServing({ single: path, ...(flags.shadowPolicy ? { shadow: flags.shadowPolicy } : {}) });
    else if (a && b) {
      const budget = await checkVram(engine, a, b, flags);
      await engine.startServing({ a, b, split: flags.split });
      if (budget) engine.serving.setVramBudget({ requiredBytes: budget.requiredBytes, availableBytes: budget.availableBytes, totalGpuBytes: budget.totalGpuBytes, fraction: budget.fraction, ok: budget.ok });
    }
    const watcher = flags.watch ? await startWatch(engine, flags.watch, flags.device) : null;
    const writer = flags.record ? await engine.startRecording({ dir: flags.record, redaction: flags.recordImages, gzip: Boolean(flags.recordGzip) }) : null;
    const robots = demoRobots !== null && engine.serving.state().mode !== 'off' ? await engine.setDemoTraffic(true, demoRobots) : null;

    const state = engine.serving.state();
    // Start-up log lines first, so the URL below is the last line a person sees.
    await flushLogger(logger);
    if (flags.json) process.stdout.write(JSON.stringify({ event: 'listening', url, act: `${base}act`, runtimeFile, actAuth: actToken !== null, trace: writer?.path ?? null, state }) + '\n');
    else {
      if (mode !== 'console') process.stdout.write(`Control API: ${base}api/ (token in ${runtimeFile}; CLI commands of this account read it from there)\n`);
      const slots = state.slots.map((s) => `${s.slot}=${s.versionRef} (${s.modelVersion})`).join(', ');
      const serving = state.mode === 'off' ? (flags.watch ? `nothing yet (watching ${flags.watch} for exports)` : 'nothing (no policy loaded)') : slots;
      process.stdout.write(`Serving ${serving}${state.mode === 'ab' ? `, split ${state.split}% to a` : ''}; POST ${base}act\n`);
      if (actToken) process.stdout.write('POST /act needs the robot token (Authorization: Bearer or X-Tether-Key).\n');
      if (writer) process.stdout.write(`Recording to ${writer.path}\n`);
      if (robots) process.stdout.write(`Demo traffic: ${robots.robots} cart-pole robots at ${robots.hz} Hz, recording to ${robots.trace}\n`);
      // Last, so it is the line a person sees once start-up logging has settled.
      if (mode === 'console') process.stdout.write(`Switchyard console: ${url}\n`);
    }
    installShutdown({ app, engine, logger, graceMs: flags.shutdownGraceMs, writer, stopWatch: async () => watcher?.stop() });
  } catch (e) {
    if (runtimeFile) removeRuntimeFile(runtimeFile);
    await app?.close();
    await engine.close();
    throw e;
  }
}

/**
 * `switchyard serve` without PATH, --policy-a or --watch would listen and answer nothing useful:
 * serve the production version when exactly one policy has one (the caller says so), otherwise
 * refuse with what to pass instead.
 */
export function chooseDefaultPolicy(engine: Pick<Engine, 'registry'>): string {
  const policies = engine.registry.listPolicies();
  const inProduction = policies.filter((p) => p.productionLabel);
  if (inProduction.length === 1) return `${inProduction[0]!.name}@production`;
  const hint =
    inProduction.length > 1
      ? `${inProduction.length} policies have a production version (${inProduction.map((p) => p.name).join(', ')}): name one, e.g. \`switchyard serve ${inProduction[0]!.name}@production\`.`
      : policies.length > 0
        ? `No policy has a production version: name a version, e.g. \`switchyard serve ${policies[0]!.name}@${policies[0]!.versions[0]?.label ?? 'LABEL'}\`, or promote one first.`
        : 'The store has no policies: give an export directory (`switchyard serve path/to/export`), or run `switchyard demo` first.';
  throw new SwitchyardError(
    'SWY_ERR_CONFIG',
    `Nothing to serve: give PATH (an export directory or POLICY@LABEL) or --policy-a and --policy-b. ${hint} \`switchyard policies\` lists what is registered.`,
    'PATH',
  );
}

/**
 * Exit with `code`, unless a worker thread is still stuck in native code: `process.exit()` joins
 * worker threads and would wait on it forever, so the process ends by `signal` at its default
 * action instead (shell status 128 + signal: 143 for SIGTERM, 130 for SIGINT).
 */
function exitNow(code: number, signal: 'SIGTERM' | 'SIGINT'): void {
  if (liveWorkerThreads() === 0) process.exit(code);
  process.stderr.write(`switchyard: ${liveWorkerThreads()} worker thread(s) stuck in native code cannot be joined; ending the process by ${signal}.\n`);
  process.removeAllListeners(signal);
  process.kill(process.pid, signal);
}

/**
 * Bounded shutdown. The first SIGTERM/SIGINT stops accepting, lets in-flight requests finish for
 * up to `graceMs`, answers whatever is still stuck with 503 (its runner is closed), writes the
 * trace footer (fsync'ed) and exits 0. A second signal exits at once, 143 (SIGTERM) or 130
 * (SIGINT), after an fsync of what the trace already has.
 */
function installShutdown(o: {
  app: Awaited<ReturnType<typeof createHttpServer>>;
  engine: Engine;
  logger: ReturnType<typeof createLogger>;
  graceMs: number;
  writer: { sync(timeoutMs?: number): Promise<void> } | null;
  stopWatch: () => Promise<void>;
}): void {
  let stopping = false;
  const stop = async (signal: 'SIGTERM' | 'SIGINT') => {
    const code = signal === 'SIGINT' ? 130 : 143;
    if (stopping) {
      process.stderr.write(`switchyard: second ${signal}: exiting now (code ${code}) without waiting for in-flight requests; the trace has no footer.\n`);
      await o.writer?.sync(1000);
      exitNow(code, signal);
      return;
    }
    stopping = true;
    o.logger.warn({ signal, graceMs: o.graceMs }, `stopping: no new connections; in-flight requests have ${o.graceMs} ms to finish`);
    void o.writer?.sync();
    const closed = o.app.close();
    let timer: NodeJS.Timeout | undefined;
    const inTime = await Promise.race([closed.then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), o.graceMs)))]);
    clearTimeout(timer);
    if (!inTime) {
      o.logger.warn({ graceMs: o.graceMs }, 'shutdown grace over: answering the requests still in flight with 503');
      // Closing the runners rejects what they hold (503, recorded in the trace); a worker stuck
      // in native code is not waited for.
      await o.engine.serving.close();
      await Promise.race([closed, new Promise((r) => setTimeout(r, 2000).unref())]);
    }
    await o.stopWatch();
    await o.engine.close();
    o.logger.info({}, 'stopped');
    exitNow(0, signal);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

/**
 * Before two policies are loaded on a GPU: refuse when both would not fit in 70% of its memory
 * (spec §5). On a machine without a GPU (or with --device cpu) there is nothing to check.
 */
async function checkVram(engine: Engine, a: string, b: string, flags: ServeFlags): Promise<ReturnType<typeof checkTwoPolicyVram> | null> {
  if (flags.device === 'cpu') return null;
  const totalGpuBytes = await resolveGpuMemoryBytes(flags.gpuMemoryBytes !== undefined ? { override: flags.gpuMemoryBytes } : {});
  if (totalGpuBytes === null) return null;
  const [ea, eb] = await Promise.all([engine.resolveExport(a), engine.resolveExport(b)]);
  return checkTwoPolicyVram({ modelBytes: [ea.exp.sizeBytes, eb.exp.sizeBytes], totalGpuBytes });
}

async function startWatch(engine: Engine, dir: string, device: ServeFlags['device']): Promise<WatchFolder> {
  // Through the engine, so the workbench sees each export live and it is evaluated against production's suite (spec §6).
  return engine.registration.watch(dir, { device });
}

function budgetOf(b: NonNullable<Awaited<ReturnType<typeof checkVram>>>) {
  return { requiredBytes: b.requiredBytes, availableBytes: b.availableBytes, totalGpuBytes: b.totalGpuBytes, fraction: b.fraction, ok: b.ok };
}

/** `--demo-traffic` alone is the default robot count; `--demo-traffic N` that many; absent, none. */
export function demoTrafficRobots(v: boolean | string | undefined): number | null {
  if (v === undefined || v === false) return null;
  if (v === true) return DEFAULT_ROBOTS;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > MAX_ROBOTS) throw new SwitchyardError('SWY_ERR_CONFIG', `--demo-traffic takes a whole number of robots from 1 to ${MAX_ROBOTS}, got "${v}".`, '--demo-traffic');
  return n;
}

function requireWorkbench(): string {
  const dir = workbenchDir();
  if (!dir) throw new SwitchyardError('SWY_ERR_CONFIG', 'The workbench is not built (dist/renderer is missing). Run `npm run build` first.', 'dist/renderer');
  return dir;
}

export function registerServeCommands(program: Command): void {
  serveOptions(program.command('serve').argument('[PATH]', 'export directory or policy@label for single-policy mode').description('serve POST /act, /metrics and the control API'))
    .action(async (path: string | undefined, flags: ServeFlags) => runServer(path, flags, 'serve').catch((e) => reportFailure(e, flags.json)));

  serveOptions(program.command('console').argument('[PATH]', 'serve this one policy instead of the demo pair').description('serve the workbench to a browser on loopback and print its URL'))
    .option('--demo', 'build the demo workspace into the store first (done anyway when the store is empty)')
    .option('--no-open', 'accepted for symmetry with the desktop app; the URL is printed either way')
    .option('--trace <file>', 'open the workbench on the Replay page with this trace loaded')
    .option('--demo-traffic [robots]', `run simulated cart-pole robots against /act at 50 Hz, recorded for the Replay page (default ${DEFAULT_ROBOTS})`)
    .action(async (path: string | undefined, flags: ServeFlags) => runServer(path, { ...flags, port: flags.port ?? 0 }, 'console').catch((e) => reportFailure(e, flags.json)));
}
