/**
 * `/act` benchmark (spec §10, issue 4 "Benchmarks"):
 *
 *   npx tsx bench/act-bench.ts [--seconds 5] [--warmup 2] [--concurrency 1,8] [--rounds 3]
 *                              [--json out.json] [--from dist|src] [--record auto|on|off]
 *                              [--servers minimal,single,ab,ab-record] [--profile DIR] [--build]
 *                              [--quiet-wait S]
 *
 * In one run, side by side, on the demo policy cartpole-balance 1.0.0:
 *   bare       ONNX Runtime in this process: `await session.run()` in a loop (no HTTP at all)
 *   minimal    a minimal fastify server (child process) calling the same model in-process
 *   single     `switchyard serve EXPORT` (child process): one slot, metrics on
 *   ab         `switchyard serve --policy-a 1.0.0 --policy-b 1.1.0 --no-rtc`: routing + metrics
 *   ab-record  the same with `--record DIR` (trace on) when `switchyard serve` has that flag
 *
 * The load generator runs in this process (never in a server's): closed loop, one request at a
 * time per keep-alive connection. Concurrency 1 is "robot" mode, more is "concurrent" mode.
 * Rounds interleave the servers (order reversed on odd rounds) and the table shows medians.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ort from 'onnxruntime-node';
import { DEMO_POLICY, writeDemoExports } from '../core/src/demo/cartpole-policies.js';
import { readExport } from '../core/src/runtime/export.js';
import { PolicyRunner } from '../core/src/runtime/policy-runner.js';
import { formatSummary, summarizeProfile } from './lib/cpuprofile.js';
import { machineCpu, processCpuMs, selfCpuMs } from './lib/procstat.js';
import { startChild, stopChild, waitReady, type Child } from './lib/children.js';
import { runLoad, type LoadResult } from './lib/load.js';
import { flags } from './lib/args.js';
import { Samples, fmt, markdownTable, median, quantile, signed } from './lib/stats.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CLI_DIST = join(ROOT, 'dist', 'core', 'src', 'cli', 'main.js');

// ---------------------------------------------------------------- arguments

interface Args {
  seconds: number;
  warmup: number;
  concurrency: number[];
  rounds: number;
  json: string | null;
  from: 'dist' | 'src';
  record: 'auto' | 'on' | 'off';
  servers: string[] | null;
  profile: string | null;
  build: boolean;
  /** Before each run, wait up to this many seconds for other programs to use < 0.3 cores. */
  quietWait: number;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { seconds: 5, warmup: 2, concurrency: [1, 8], rounds: 3, json: null, from: 'dist', record: 'auto', servers: null, profile: null, build: false, quietWait: 0 };
  for (const { k, v, num } of flags(argv)) {
    if (k === '--seconds') a.seconds = num(0.5, 600);
    else if (k === '--warmup') a.warmup = num(0, 60);
    else if (k === '--rounds') a.rounds = Math.round(num(1, 20));
    else if (k === '--concurrency') {
      a.concurrency = v().split(',').map((s) => Number(s.trim()));
      if (a.concurrency.some((c) => !Number.isInteger(c) || c < 1 || c > 256)) throw new Error('--concurrency takes whole numbers 1..256, e.g. 1,8');
    } else if (k === '--json') a.json = v();
    else if (k === '--from') {
      const f = v();
      if (f !== 'dist' && f !== 'src') throw new Error('--from is dist or src');
      a.from = f;
    } else if (k === '--record') {
      const r = v();
      if (r !== 'auto' && r !== 'on' && r !== 'off') throw new Error('--record is auto, on or off');
      a.record = r;
    } else if (k === '--servers') a.servers = v().split(',').map((s) => s.trim());
    else if (k === '--profile') a.profile = v();
    else if (k === '--build') a.build = true;
    else if (k === '--quiet-wait') a.quietWait = num(0, 120);
    else if (k === '-h' || k === '--help') {
      process.stdout.write(
        'usage: npx tsx bench/act-bench.ts [--seconds 5] [--warmup 2] [--concurrency 1,8] [--rounds 3] [--json out.json]\n' +
          '       [--from dist|src] [--record auto|on|off] [--servers minimal,single,ab,ab-record] [--profile DIR] [--build] [--quiet-wait S]\n',
      );
      process.exit(0);
    } else throw new Error(`unknown argument ${k}`);
  }
  return a;
}

// ---------------------------------------------------------------- build

function newestMtime(dir: string, filter: (p: string) => boolean, depth = 0): number {
  let newest = 0;
  if (depth > 12) return 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) newest = Math.max(newest, newestMtime(p, filter, depth + 1));
    else if (filter(p)) newest = Math.max(newest, st.mtimeMs);
  }
  return newest;
}

/** Builds dist/ when it is missing (or when asked); warns when the sources are newer. */
function ensureBuild(force: boolean): void {
  if (force || !existsSync(CLI_DIST)) {
    process.stderr.write(`${force ? 'building' : 'dist/ is missing: building'} (npm run build:core) ...\n`);
    const r = spawnSync('npm', ['run', '--silent', 'build:core'], { cwd: ROOT, stdio: 'inherit', timeout: 300_000 });
    if (!existsSync(CLI_DIST)) throw new Error(`npm run build:core did not produce ${relative(ROOT, CLI_DIST)} (exit ${r.status})`);
    return;
  }
  const src = newestMtime(join(ROOT, 'core', 'src'), (p) => p.endsWith('.ts') && !p.endsWith('.test.ts'));
  const built = newestMtime(join(ROOT, 'dist', 'core', 'src'), (p) => p.endsWith('.js'));
  if (src > built) {
    process.stderr.write(
      `warning: core/src is newer than dist/ (by ${((src - built) / 1000).toFixed(0)} s); the Switchyard numbers are for the last build. ` +
        'Pass --build (or --from src) to measure the current sources.\n',
    );
  }
}

// ---------------------------------------------------------------- children

/** A server child (bench/lib/children.ts, the side-by-side bench's too) plus what this bench reports of it. */
interface Server extends Child {
  describe: string;
  profileDir: string | null;
  recordDir: string | null;
}

async function startServer(name: string, describe: string, args: string[], profileDir: string | null, recordDir: string | null): Promise<Server> {
  const nodeArgs = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  const c = await startChild(name, nodeArgs, args, ROOT);
  return Object.assign(c, { describe, profileDir, recordDir });
}

async function getText(url: string): Promise<{ status: number; text: string }> {
  const r = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  return { status: r.status, text: await r.text() };
}


async function postAct(url: string, body: object): Promise<{ status: number; json: { actions?: number[][]; slot?: string } }> {
  const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(5_000) });
  return { status: r.status, json: (await r.json()) as { actions?: number[][]; slot?: string } };
}

/** CPU (in cores) that programs other than `pids` and this process use, over `ms`. */
async function otherLoad(pids: number[], ms: number): Promise<number> {
  const m0 = machineCpu();
  const c0 = selfCpuMs();
  const p0 = pids.map(processCpuMs);
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, ms));
  const el = performance.now() - t0;
  const ours = selfCpuMs() - c0 + pids.reduce((a, p, i) => a + (processCpuMs(p) - p0[i]! || 0), 0);
  return Math.max(0, (machineCpu().busyMs - m0.busyMs - ours) / el);
}

/** Waits (bounded) until other programs leave the machine mostly idle. Returns the last load seen. */
async function waitQuiet(pids: number[], maxS: number): Promise<number> {
  const deadline = performance.now() + maxS * 1000;
  let load = await otherLoad(pids, 300);
  while (load > 0.3 && performance.now() < deadline) load = await otherLoad(pids, 1000);
  return load;
}

// ---------------------------------------------------------------- bare ORT

interface BareResult {
  callsPerS: number;
  p50Us: number;
  p99Us: number;
  calls: number;
}

async function benchBare(session: ort.InferenceSession, obsName: string, actName: string, statesF32: Float32Array[], warmupMs: number, measureMs: number): Promise<BareResult> {
  const fetches = [actName];
  const dims = [1, statesF32[0]!.length];
  const lat = new Samples(5_000_000);
  const t = performance.now();
  const measureStart = t + warmupMs;
  const measureEnd = measureStart + measureMs;
  let done = 0;
  for (let k = 0; k < 50_000_000; k++) {
    const t0 = performance.now();
    if (t0 >= measureEnd) break;
    const obs = new Float32Array(statesF32[k % statesF32.length]!);
    const out = await session.run({ [obsName]: new ort.Tensor('float32', obs, dims) }, fetches);
    const t1 = performance.now();
    if (!out[actName]) throw new Error('bare ORT: no output');
    if (t0 >= measureStart) {
      lat.push((t1 - t0) * 1000);
      done++;
    }
  }
  const s = lat.sorted();
  return { callsPerS: (done * 1000) / measureMs, p50Us: quantile(s, 0.5), p99Us: quantile(s, 0.99), calls: done };
}

/**
 * Switchyard's PolicyRunner in this process: `runner.act()` in a loop, i.e. the worker-thread
 * hop (postMessage there and back, the worker's checks) without HTTP. Uses the TypeScript sources.
 */
async function benchRunner(runner: PolicyRunner, states: number[][], warmupMs: number, measureMs: number): Promise<BareResult> {
  const lat = new Samples(5_000_000);
  const t = performance.now();
  const measureStart = t + warmupMs;
  const measureEnd = measureStart + measureMs;
  let done = 0;
  for (let k = 0; k < 50_000_000; k++) {
    const t0 = performance.now();
    if (t0 >= measureEnd) break;
    const out = await runner.act({ episodeId: `runner-${k >> 7}`, state: states[k % states.length]! });
    const t1 = performance.now();
    if (out.actions.length === 0) throw new Error('runner: no actions');
    if (t0 >= measureStart) {
      lat.push((t1 - t0) * 1000);
      done++;
    }
  }
  const s = lat.sorted();
  return { callsPerS: (done * 1000) / measureMs, p50Us: quantile(s, 0.5), p99Us: quantile(s, 0.99), calls: done };
}

// ---------------------------------------------------------------- main

/** Cart-pole-like observations (x, x_dot, theta, theta_dot), deterministic. */
function makeStates(n: number): number[][] {
  let seed = 12345;
  const rnd = (): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff - 0.5;
  };
  return Array.from({ length: n }, () => [rnd() * 1.0, rnd() * 0.6, rnd() * 0.2, rnd() * 0.6].map((x) => Math.round(x * 1e6) / 1e6));
}

interface RunRow extends LoadResult {
  server: string;
  round: number;
  /** Server process CPU (all threads) per answered request, µs. */
  serverCpuUsPerReq: number;
  /** Load generator CPU per answered request, µs. */
  clientCpuUsPerReq: number;
  /** CPU used by everything else on the machine during the run, in cores (0..cores). */
  otherCores: number;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args.from === 'dist') ensureBuild(args.build);
  const tmp = mkdtempSync(join(tmpdir(), 'swy-act-bench-'));
  const servers: Server[] = [];
  const cleanup = async (): Promise<void> => {
    await Promise.allSettled(servers.map(stopChild));
  };
  const onSignal = (): void => {
    void cleanup().finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const dirs = await writeDemoExports(join(tmp, 'exports'));
    const dirOf = (v: string): string => {
      const d = dirs.find((x) => x.endsWith(`${DEMO_POLICY}-${v}`));
      if (!d) throw new Error(`demo export ${v} missing`);
      return d;
    };
    const primary = dirOf('1.0.0');
    const other = dirOf('1.1.0');
    const manifest = JSON.parse(readFileSync(join(primary, 'switchyard.json'), 'utf8')) as { observation: { name: string; dim: number }; action: { name: string } };
    const states = makeStates(256);
    const stateJson = states.map((s) => JSON.stringify(s));
    const statesF32 = states.map((s) => Float32Array.from(s));

    const cliArgs = args.from === 'dist' ? [join(ROOT, 'bin', 'switchyard.js')] : ['--import', 'tsx', join(ROOT, 'bench', 'lib', 'switchyard-src.ts')];
    const help = spawnSync(process.execPath, [...cliArgs, 'serve', '--help'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    const hasRecord = /--record\b/.test(help.stdout ?? '');
    if (args.record === 'on' && !hasRecord) throw new Error('--record on, but `switchyard serve --help` lists no --record flag in this build');
    const withRecord = args.record === 'on' || (args.record === 'auto' && hasRecord);

    const env = {
      node: process.version,
      cpu: cpus()[0]?.model ?? '?',
      cores: cpus().length,
      loadavg: loadavg().map((x) => x.toFixed(2)).join(' '),
      ort: ort.env.versions?.common ?? '?',
    };
    process.stdout.write(`# /act benchmark\n\nnode ${env.node}, ${env.cores} × ${env.cpu}, load average ${env.loadavg}\n`);
    process.stdout.write(
      `model ${DEMO_POLICY} 1.0.0 (direct, obs 4, action 1×1); Switchyard from ${args.from}; ` +
        `${args.seconds} s measured after ${args.warmup} s warm-up per run; concurrency ${args.concurrency.join(', ')}; ${args.rounds} round(s), interleaved; ` +
        `trace recorder: ${withRecord ? (args.servers === null || args.servers.includes('ab-record') ? 'on in ab-record' : 'available, ab-record not selected') : hasRecord ? 'off (--record off)' : 'not in this build (`serve --help` has no --record)'}\n\n`,
    );

    // ---- start the servers
    const want = (n: string): boolean => args.servers === null || args.servers.includes(n);
    const profDir = (n: string): string | null => {
      if (!args.profile) return null;
      const d = join(args.profile, n);
      mkdirSync(d, { recursive: true });
      return d;
    };
    const syArgs = (store: string): string[] => [...cliArgs, 'serve', '--port', '0', '--json', '--store', join(tmp, store), '--device', 'cpu'];
    if (want('minimal')) {
      servers.push(await startServer('minimal', 'minimal fastify + ORT in-process', ['--import', 'tsx', join(ROOT, 'bench', 'lib', 'minimal-server.ts'), primary], profDir('minimal'), null));
    }
    if (want('single')) {
      servers.push(await startServer('single', 'switchyard serve EXPORT (metrics)', [...syArgs('single.db'), primary], profDir('single'), null));
    }
    if (want('ab')) {
      servers.push(
        await startServer('ab', 'switchyard --policy-a/-b --no-rtc (routing+metrics)', [...syArgs('ab.db'), '--policy-a', primary, '--policy-b', other, '--no-rtc', '--split', '50'], profDir('ab'), null),
      );
    }
    if (want('ab-record') && withRecord) {
      const rec = join(tmp, 'traces');
      mkdirSync(rec, { recursive: true });
      servers.push(
        await startServer(
          'ab-record',
          'switchyard --policy-a/-b --no-rtc --record (routing+metrics+trace)',
          [...syArgs('abrec.db'), '--policy-a', primary, '--policy-b', other, '--no-rtc', '--split', '50', '--record', rec],
          profDir('ab-record'),
          rec,
        ),
      );
    }
    for (const s of servers) if (s.name !== 'minimal') await waitReady(s);

    // ---- the answers must agree (same model, same state)
    const probe = { episode_id: 'bench-probe', state: states[0]! };
    const answers: string[] = [];
    for (const s of servers) {
      const r = await postAct(s.act, probe);
      if (r.status !== 200 || !Array.isArray(r.json.actions)) throw new Error(`${s.name}: probe /act answered ${r.status} ${JSON.stringify(r.json).slice(0, 300)}`);
      if (s.name === 'minimal' || s.name === 'single' || r.json.slot === 'a') answers.push(`${s.name}=${JSON.stringify(r.json.actions)}`);
    }
    const distinct = new Set(answers.map((x) => x.split('=')[1]));
    process.stdout.write(`probe: ${answers.join(', ')}${distinct.size <= 1 ? ' (agree)' : ' (DISAGREE)'}\n\n`);

    // ---- prime: JIT-warm every server once (fresh processes run their first thousands of requests slower)
    for (const s of servers) {
      const r = await runLoad({ url: s.act, concurrency: 4, warmupMs: 0, measureMs: 3000, tag: `${s.name}-prime`, states: stateJson });
      if (r.errors) throw new Error(`${s.name}: ${r.errors} errors while priming: ${r.firstError}`);
    }

    // ---- rounds
    const bareRuns: BareResult[] = [];
    const runs: RunRow[] = [];
    const session = await ort.InferenceSession.create(join(primary, 'policy.onnx'), {
      executionProviders: ['cpu'],
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      logSeverityLevel: 3,
    });
    const wMs = args.warmup * 1000;
    const mMs = args.seconds * 1000;
    const runner = await PolicyRunner.start({ export: await readExport(primary), slot: 'prod', device: 'cpu' });
    const runnerRuns: BareResult[] = [];
    for (let round = 0; round < args.rounds; round++) {
      const inMs = Math.min(mMs, 3000);
      const b = await benchBare(session, manifest.observation.name, manifest.action.name, statesF32, Math.min(wMs, 1000), inMs);
      bareRuns.push(b);
      process.stderr.write(`round ${round + 1}: bare ORT p50 ${fmt(b.p50Us, 1)} µs, ${fmt(b.callsPerS)} calls/s\n`);
      const rr = await benchRunner(runner, states, Math.min(wMs, 1000), inMs);
      runnerRuns.push(rr);
      process.stderr.write(`round ${round + 1}: PolicyRunner.act p50 ${fmt(rr.p50Us, 1)} µs, ${fmt(rr.callsPerS)} calls/s\n`);
      const order = round % 2 === 0 ? servers : [...servers].reverse();
      for (const c of args.concurrency) {
        for (const s of order) {
          if (s.child.exitCode !== null) throw new Error(`${s.name} died (exit ${s.child.exitCode}):\n${s.stderrTail.join('')}`);
          const pids = servers.map((x) => x.child.pid ?? -1);
          if (args.quietWait > 0) await waitQuiet(pids, args.quietWait);
          const m0 = machineCpu();
          const c0 = selfCpuMs();
          const srv0 = pids.map(processCpuMs);
          const t0 = performance.now();
          const r = await runLoad({ url: s.act, concurrency: c, warmupMs: wMs, measureMs: mMs, tag: `${s.name}-${round}-${c}`, states: stateJson });
          const elapsed = performance.now() - t0;
          const m1 = machineCpu();
          const clientMs = selfCpuMs() - c0;
          const srvMs = pids.map((p, i) => processCpuMs(p) - srv0[i]!);
          const mine = srvMs[servers.indexOf(s)]!;
          const ours = clientMs + srvMs.reduce((a, x) => a + (Number.isNaN(x) ? 0 : x), 0);
          const otherCores = Math.max(0, (m1.busyMs - m0.busyMs - ours) / elapsed);
          const n = Math.max(1, r.totalAnswered);
          runs.push({ ...r, server: s.name, round, serverCpuUsPerReq: (mine * 1000) / n, clientCpuUsPerReq: (clientMs * 1000) / n, otherCores });
          process.stderr.write(
            `round ${round + 1}: ${s.name.padEnd(9)} c=${String(c).padEnd(3)} ${fmt(r.rps).padStart(7)} req/s  p50 ${fmt(r.p50Us).padStart(5)} µs  p99 ${fmt(r.p99Us).padStart(6)} µs` +
              `${Number.isNaN(r.serverP50Us) ? '' : `  server p50 ${fmt(r.serverP50Us)} µs`}  server cpu ${fmt((mine * 1000) / n)} µs/req  other load ${otherCores.toFixed(2)} cores` +
              `  conns ${r.connections}${r.errors ? `  ERRORS ${r.errors}: ${r.firstError}` : ''}\n`,
          );
          await new Promise((res) => setTimeout(res, 300));
        }
      }
    }
    await session.release();
    await runner.close();

    // ---- side checks: metrics were counted, traces were written
    const checks: string[] = [];
    for (const s of servers) {
      if (s.name === 'minimal') continue;
      try {
        const m = await getText(`${s.base}/metrics`);
        const counts = [...m.text.matchAll(/^switchyard_act_latency_seconds_count\{[^}]*policy_slot="(\w+)"[^}]*\} (\d+)/gm)].map((x) => `${x[1]}=${x[2]}`);
        checks.push(`${s.name}: /metrics ${m.status}, latency histogram counts ${counts.join(' ') || 'none'}`);
      } catch (e) {
        checks.push(`${s.name}: /metrics failed: ${(e as Error).message}`);
      }
    }

    await cleanup();
    for (const s of servers) {
      if (!s.recordDir) continue;
      const files = readdirSync(s.recordDir);
      const bytes = files.reduce((n, f) => n + statSync(join(s.recordDir!, f)).size, 0);
      checks.push(`${s.name}: trace dir holds ${files.length} file(s), ${fmt(bytes / 1024 / 1024, 1)} MiB`);
    }

    // ---- summary
    const bareP50 = median(bareRuns.map((b) => b.p50Us));
    const bareP99 = median(bareRuns.map((b) => b.p99Us));
    const bareRate = median(bareRuns.map((b) => b.callsPerS));
    interface Agg {
      server: string;
      c: number;
      rps: number;
      rpsMin: number;
      rpsMax: number;
      p50: number;
      p99: number;
      srvP50: number;
      cpuPerReq: number;
      otherCores: number;
      errors: number;
      /** Paired per round (same round, same concurrency), then the median over rounds. */
      dMinimal: number;
      dBare: number;
      ratio: number;
      /** (client + server CPU per request of minimal) ÷ (the same for this server): throughput on a CPU-bound machine. */
      cpuRatio: number;
    }
    const agg: Agg[] = [];
    for (const c of args.concurrency) {
      for (const s of servers) {
        const rs = runs.filter((r) => r.server === s.name && r.concurrency === c);
        const paired = (f: (r: RunRow, m: RunRow) => number): number =>
          median(
            rs.map((r) => {
              const m = runs.find((x) => x.server === 'minimal' && x.concurrency === c && x.round === r.round);
              return m && s.name !== 'minimal' ? f(r, m) : Number.NaN;
            }),
          );
        agg.push({
          server: s.name,
          c,
          rps: median(rs.map((r) => r.rps)),
          rpsMin: Math.min(...rs.map((r) => r.rps)),
          rpsMax: Math.max(...rs.map((r) => r.rps)),
          p50: median(rs.map((r) => r.p50Us)),
          p99: median(rs.map((r) => r.p99Us)),
          srvP50: median(rs.map((r) => r.serverP50Us)),
          cpuPerReq: median(rs.map((r) => r.serverCpuUsPerReq)),
          otherCores: median(rs.map((r) => r.otherCores)),
          errors: rs.reduce((n, r) => n + r.errors, 0),
          dMinimal: paired((r, m) => r.p50Us - m.p50Us),
          dBare: median(rs.map((r) => r.p50Us - bareRuns[r.round]!.p50Us)),
          ratio: paired((r, m) => r.rps / m.rps),
          cpuRatio: paired((r, m) => (m.serverCpuUsPerReq + m.clientCpuUsPerReq) / (r.serverCpuUsPerReq + r.clientCpuUsPerReq)),
        });
      }
    }
    const find = (server: string, c: number): Agg | undefined => agg.find((x) => x.server === server && x.c === c);

    process.stdout.write(
      '\n## Results (medians over rounds; latency is what the client observes, µs; Δ and ÷ are paired per round, then the median)\n\n',
    );
    const runP50 = median(runnerRuns.map((b) => b.p50Us));
    const rows: string[][] = [
      ['in-process', 'bare ORT session.run', fmt(bareRate), '-', fmt(bareP50, 1), fmt(bareP99, 1), '-', '-', '-', '-', '-', '-', '-', '-'],
      [
        'in-process',
        'PolicyRunner.act (worker hop)',
        fmt(median(runnerRuns.map((b) => b.callsPerS))),
        '-',
        fmt(runP50, 1),
        fmt(median(runnerRuns.map((b) => b.p99Us)), 1),
        '-',
        '-',
        '-',
        signed(runP50 - bareP50, 1),
        '-',
        '-',
        '-',
        '-',
      ],
    ];
    for (const a of agg) {
      const min = find('minimal', a.c);
      const mode = a.c === 1 ? 'robot c=1' : `concurrent c=${a.c}`;
      const isMin = a.server === 'minimal';
      rows.push([
        mode,
        a.server,
        fmt(a.rps),
        args.rounds > 1 ? `${fmt(a.rpsMin)}–${fmt(a.rpsMax)}` : '-',
        fmt(a.p50),
        fmt(a.p99),
        Number.isNaN(a.srvP50) ? '-' : fmt(a.srvP50),
        fmt(a.cpuPerReq),
        isMin || !min ? '-' : signed(a.dMinimal),
        signed(a.dBare),
        isMin || !min ? '-' : a.ratio.toFixed(2),
        isMin || !min ? '-' : a.cpuRatio.toFixed(2),
        a.otherCores.toFixed(2),
        String(a.errors),
      ]);
    }
    process.stdout.write(
      markdownTable(
        ['mode', 'server', 'req/s', 'req/s range', 'p50', 'p99', 'server-side p50', 'server CPU/req', 'Δp50 vs minimal', 'Δp50 vs bare ORT', 'req/s ÷ minimal', '÷ minimal by CPU/req', 'other load (cores)', 'errors'],
        rows,
        ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
      ),
    );

    process.stdout.write('\n## Spec §10 targets\n\n');
    const verdict = (ok: boolean | null): string => (ok === null ? '-' : ok ? 'PASS' : 'MISS');
    const busy = (a: Agg, min: Agg | undefined): string => {
      const load = Math.max(a.otherCores, min?.otherCores ?? 0);
      return load > 0.3 ? `${load.toFixed(1)} cores busy` : 'quiet';
    };
    const trows: string[][] = [];
    const syServers = servers.map((s) => s.name).filter((n) => n !== 'minimal');
    const robot = args.concurrency.includes(1) ? 1 : args.concurrency[0]!;
    for (const n of syServers) {
      const a = find(n, robot);
      const min = find('minimal', robot);
      if (!a) continue;
      if (min) {
        const d = a.dMinimal;
        trows.push([`p50 overhead over the minimal server (c=${robot})`, n, '≤ 150 µs', `${signed(d)} µs`, verdict(d <= 150), busy(a, min)]);
      }
      const db = a.dBare;
      trows.push([`p50 overhead over a bare ORT call (c=${robot}; includes loopback HTTP + JSON)`, n, '≤ 150 µs', `${signed(db)} µs`, verdict(db <= 150), busy(a, min)]);
    }
    for (const c of args.concurrency) {
      const min = find('minimal', c);
      if (!min) continue;
      for (const n of syServers) {
        const a = find(n, c);
        if (!a) continue;
        trows.push([`throughput ÷ minimal fastify, req/s (c=${c})`, n, '≥ 0.80', a.ratio.toFixed(2), verdict(a.ratio >= 0.8), busy(a, min)]);
        trows.push([`throughput ÷ minimal fastify, by CPU per request (c=${c})`, n, '≥ 0.80', a.cpuRatio.toFixed(2), verdict(a.cpuRatio >= 0.8), busy(a, min)]);
      }
    }
    process.stdout.write(markdownTable(['target', 'server', 'spec', 'measured', 'verdict', 'machine'], trows, ['l', 'l', 'r', 'r', 'l', 'l']));
    process.stdout.write(`\nchecks:\n${checks.map((c) => `- ${c}`).join('\n')}\n`);
    process.stdout.write(
      '\nΔp50 vs minimal isolates what Switchyard adds (worker-thread hop, validation, routing, metrics, trace); ' +
        'Δp50 vs bare ORT also counts the loopback HTTP round trip and JSON that any server pays. ' +
        'server-side p50 is Switchyard\'s own latency_ms (route → answer ready, worker hop included). ' +
        'server CPU/req is the server process\'s CPU (all threads) per answered request, µs. ' +
        'other load is CPU taken by other programs on the machine during the run (a noisy run shows here). ' +
        '÷ minimal by CPU/req = (client + server CPU per request, minimal) ÷ (the same, this server): the req/s ratio the two would reach ' +
        'on this CPU-bound 2-core machine with nothing else running; it is steadier than the req/s ratio when other programs compete ' +
        '(a server with more threads then also gets a bigger share of the machine).\n',
    );

    // ---- profiles
    if (args.profile) {
      process.stdout.write(`\n## CPU profiles (--cpu-prof; numbers above are perturbed by profiling)\n\n`);
      for (const s of servers) {
        if (!s.profileDir) continue;
        const files = readdirSync(s.profileDir).filter((f) => f.endsWith('.cpuprofile')).sort();
        for (const f of files) {
          process.stdout.write(`### ${s.name}: ${f}\n\n\`\`\`\n${formatSummary(summarizeProfile(join(s.profileDir, f), 15), 15)}\`\`\`\n\n`);
        }
      }
    }

    if (args.json) {
      writeFileSync(args.json, JSON.stringify({ env, args, servers: servers.map((s) => ({ name: s.name, describe: s.describe })), bare: bareRuns, runner: runnerRuns, runs, summary: agg, checks }, null, 2) + '\n');
      process.stdout.write(`\nwrote ${args.json}\n`);
    }
  } finally {
    await cleanup();
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
});
