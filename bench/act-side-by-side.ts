/**
 * `/act` side by side with a bare server (issue 15), one command:
 *
 *   npx tsx bench/act-side-by-side.ts [--rounds 3] [--seconds 5] [--paced-seconds 10] [--warmup 1]
 *        [--scenarios c8,c1,r8] [--configs plain,gzip,images] [--from dist|src] [--build]
 *        [--trace-gc] [--profile DIR] [--json out.json] [--base-cli PATH/bin/switchyard.js] [--base-config plain|gzip|images] [--no-console] [--pin CPUS]
 *
 * Servers (child processes, all started once and kept for every round):
 *   minimal    bench/lib/minimal-server.ts: fastify + the same ONNX model in-process, nothing else
 *   plain      switchyard serve --policy-a 1.0.0 --policy-b 1.1.0 --no-rtc --split 50 --record DIR
 *              (two policies, routing, metrics, plain trace)
 *   gzip       the same with --record-gzip
 *   images     the same with --record-images full; its bodies (and minimal's, in that pairing)
 *              carry a 224×224 JPEG-sized image in base64
 *   base       with --base-cli: the plain configuration (or --base-config gzip|images) run by another build (e.g. the commit
 *              before an optimisation), so before and after are measured in the same rounds
 * Scenarios:
 *   c8   8 keep-alive connections, closed loop, a new episode every --closed-episode-steps (1)
 *   c1   1 connection, closed loop (one robot as fast as it goes)
 *   r8   8 robots at --hz 50, 50-step episodes (a bench's real load), with a workbench open on
 *        each Switchyard server (bench/lib/console-subscriber.ts: the Live page's event socket
 *        and reads) unless --no-console
 * --pin CPUS runs every server on CPUS (Switchyard with its own `--cpu-affinity CPUS`, the minimal
 * server re-pinned the same way once it listens) and this process, the load, on the other CPUs:
 * the servers' threads then wake each other on one CPU, and the load does not take their core.
 * Every (scenario, config) pair runs minimal and Switchyard back to back in the same round
 * (order alternating per round); the table shows medians over rounds of the paired ratio and
 * differences, the server CPU per request (all threads of the server process), requests over
 * 5 ms, and the machine's load (`uptime`) at the start and end: the machine is shared.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEMO_POLICY, writeDemoExports } from '../core/src/demo/cartpole-policies.js';
import { openConsole, type ConsoleSubscriber } from './lib/console-subscriber.js';
import { startChild, stopChild, waitReady, type Child, type GcTally } from './lib/children.js';
import { formatSummary, summarizeProfile } from './lib/cpuprofile.js';
import { runLoad, type LoadResult } from './lib/load.js';
import { machineCpu, mainThreadCpuMs, processCpuMs, selfCpuMs } from './lib/procstat.js';
import { flags } from './lib/args.js';
import { applyCpuAffinity, formatCpuList, parseCpuAffinity, realAffinityHost } from '../core/src/platform/cpu-affinity.js';
import { fmt, markdownTable, median, signed } from './lib/stats.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CLI_DIST = join(ROOT, 'dist', 'core', 'src', 'cli', 'main.js');

/** `switchyard_trace_records_dropped_total` from a server's /metrics, as text. */
async function traceDropped(base: string): Promise<string> {
  try {
    const res = await fetch(`${base}/metrics`);
    const m = /^switchyard_trace_records_dropped_total(?:\{[^}]*\})? (\S+)$/m.exec(await res.text());
    return m ? m[1]! : `not in /metrics (HTTP ${res.status})`;
  } catch (e) {
    return `unreadable (${String((e as { cause?: unknown }).cause ?? e)})`;
  }
}

type Scenario = 'c8' | 'c1' | 'r8';
type Config = 'plain' | 'gzip' | 'images' | 'base';

interface Args {
  rounds: number;
  seconds: number;
  pacedSeconds: number;
  warmup: number;
  scenarios: Scenario[];
  configs: Config[];
  from: 'dist' | 'src';
  build: boolean;
  traceGc: boolean;
  profile: string | null;
  json: string | null;
  hz: number;
  closedEpisodeSteps: number;
  baseCli: string | null;
  baseConfig: 'plain' | 'gzip' | 'images';
  console: boolean;
  pin: string | null;
}

function parseArgs(argv: string[]): Args {
  const a: Args = {
    rounds: 3, seconds: 5, pacedSeconds: 10, warmup: 1, scenarios: ['c8', 'c1', 'r8'], configs: ['plain', 'gzip', 'images'],
    from: 'dist', build: false, traceGc: false, profile: null, json: null, hz: 50, closedEpisodeSteps: 1, baseCli: null, baseConfig: 'plain', console: true, pin: null,
  };
  for (const { k, v, num } of flags(argv)) {
    if (k === '--rounds') a.rounds = Math.round(num(1, 20));
    else if (k === '--seconds') a.seconds = num(0.5, 600);
    else if (k === '--paced-seconds') a.pacedSeconds = num(0.5, 600);
    else if (k === '--warmup') a.warmup = num(0, 60);
    else if (k === '--hz') a.hz = num(1, 1000);
    else if (k === '--closed-episode-steps') a.closedEpisodeSteps = Math.round(num(1, 1e6));
    else if (k === '--scenarios') {
      a.scenarios = v().split(',') as Scenario[];
      if (a.scenarios.some((s) => !['c8', 'c1', 'r8'].includes(s))) throw new Error('--scenarios takes c8, c1, r8');
    } else if (k === '--configs') {
      a.configs = v().split(',') as Config[];
      if (a.configs.some((s) => !['plain', 'gzip', 'images'].includes(s))) throw new Error('--configs takes plain, gzip, images');
    } else if (k === '--from') {
      const f = v();
      if (f !== 'dist' && f !== 'src') throw new Error('--from is dist or src');
      a.from = f;
    } else if (k === '--build') a.build = true;
    else if (k === '--trace-gc') a.traceGc = true;
    else if (k === '--profile') a.profile = v();
    else if (k === '--json') a.json = v();
    else if (k === '--base-cli') a.baseCli = v();
    else if (k === '--base-config') {
      const c = v();
      if (c !== 'plain' && c !== 'gzip' && c !== 'images') throw new Error('--base-config is plain, gzip or images');
      a.baseConfig = c;
    }
    else if (k === '--no-console') a.console = false;
    else if (k === '--pin') a.pin = v();
    else if (k === '-h' || k === '--help') {
      process.stdout.write(
        'usage: npx tsx bench/act-side-by-side.ts [--rounds 3] [--seconds 5] [--paced-seconds 10] [--warmup 1] [--scenarios c8,c1,r8]\n' +
          '       [--configs plain,gzip,images] [--from dist|src] [--build] [--trace-gc] [--profile DIR] [--json out.json] [--base-cli PATH] [--base-config plain|gzip|images] [--hz 50] [--closed-episode-steps 1] [--no-console] [--pin CPUS]\n',
      );
      process.exit(0);
    } else throw new Error(`unknown argument ${k}`);
  }
  return a;
}

function uptime(): string {
  const r = spawnSync('uptime', [], { encoding: 'utf8' });
  return (r.stdout ?? '').trim() || `load average ${loadavg().map((x) => x.toFixed(2)).join(', ')}`;
}

/** Cart-pole-like observations, deterministic. */
function makeStates(n: number): string[] {
  let seed = 12345;
  const rnd = (): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff - 0.5;
  };
  return Array.from({ length: n }, () => JSON.stringify([rnd() * 1.0, rnd() * 0.6, rnd() * 0.2, rnd() * 0.6].map((x) => Math.round(x * 1e6) / 1e6)));
}

/**
 * A 224×224 JPEG-sized image: JPEG start/end markers around 16 KiB of random bytes (incompressible,
 * like JPEG data), in base64. Nothing on the server decodes images; it hashes or stores the text.
 */
function jpegLikeBase64(): string {
  const body = randomBytes(16 * 1024);
  return Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), body, Buffer.from([0xff, 0xd9])]).toString('base64');
}

interface Run extends LoadResult {
  round: number;
  scenario: Scenario;
  config: Config;
  server: string;
  cpuUsPerReq: number;
  /** The server's main thread (HTTP, routing, trace) per answered request; the rest is its other threads. */
  mainCpuUsPerReq: number;
  /** This process (the load generator, and the console subscriber at r8) per answered request. */
  clientCpuUsPerReq: number;
  otherCores: number;
  gc: GcTally;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args.from === 'dist' && (args.build || !existsSync(CLI_DIST))) {
    process.stderr.write('building (npm run build:core) ...\n');
    spawnSync('npm', ['run', '--silent', 'build:core'], { cwd: ROOT, stdio: 'inherit', timeout: 300_000 });
    if (!existsSync(CLI_DIST)) throw new Error('npm run build:core did not produce dist/');
  }
  const tmp = mkdtempSync(join(tmpdir(), 'swy-act-sbs-'));
  // The control token every Switchyard child starts with, so the bench can open the workbench's event stream.
  const controlToken = randomBytes(24).toString('base64url');
  process.env.SWITCHYARD_TOKEN = controlToken;
  const children: Child[] = [];
  const cleanup = async (): Promise<void> => {
    await Promise.allSettled(children.map(stopChild));
  };
  process.on('SIGINT', () => void cleanup().finally(() => process.exit(130)));
  try {
    const dirs = await writeDemoExports(join(tmp, 'exports'));
    const dirOf = (v: string): string => dirs.find((x) => x.endsWith(`${DEMO_POLICY}-${v}`))!;
    const a = dirOf('1.0.0');
    const b = dirOf('1.1.0');
    const states = makeStates(256);
    const image = `,"image":"${jpegLikeBase64()}"`;
    const withImages = (config: Config): boolean => config === 'images' || (config === 'base' && args.baseConfig === 'images');
    const loadStart = uptime();
    process.stdout.write(`# /act side by side with a minimal server\n\nnode ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? '?'}; Switchyard from ${args.from}\n`);
    process.stdout.write(`start: ${loadStart}\n`);

    const cli = args.from === 'dist' ? [join(ROOT, 'bin', 'switchyard.js')] : ['--import', 'tsx', join(ROOT, 'bench', 'lib', 'switchyard-src.ts')];
    const nodeArgs = (name: string): string[] => {
      const n: string[] = [];
      if (args.traceGc) n.push('--trace-gc');
      if (args.profile) {
        const d = join(args.profile, name);
        mkdirSync(d, { recursive: true });
        n.push('--cpu-prof', `--cpu-prof-dir=${d}`);
      }
      return n;
    };
    const recordDirs: Record<string, string> = {};
    const sy = async (name: Config, extra: string[], cliArgs = cli): Promise<Child> => {
      const rec = join(tmp, `trace-${name}`);
      mkdirSync(rec, { recursive: true });
      recordDirs[name] = rec;
      const c = await startChild(
        name,
        nodeArgs(name),
        [...cliArgs, 'serve', '--port', '0', '--json', '--store', join(tmp, `${name}.db`), '--device', 'cpu', '--policy-a', a, '--policy-b', b, '--no-rtc', '--split', '50', '--record', rec, ...(args.pin !== null ? ['--cpu-affinity', args.pin] : []), ...extra],
        ROOT,
      );
      children.push(c);
      await waitReady(c);
      return c;
    };
    const minimal = await startChild('minimal', nodeArgs('minimal'), ['--import', 'tsx', join(ROOT, 'bench', 'lib', 'minimal-server.ts'), a], ROOT);
    children.push(minimal);
    // The minimal server is listening (startChild waited for its line): every thread it will have exists.
    if (args.pin !== null) applyCpuAffinity(args.pin, realAffinityHost(minimal.child.pid!));
    const servers: Partial<Record<Config, Child>> = {};
    if (args.configs.includes('plain')) servers.plain = await sy('plain', []);
    if (args.configs.includes('gzip')) servers.gzip = await sy('gzip', ['--record-gzip']);
    if (args.configs.includes('images')) servers.images = await sy('images', ['--record-images', 'full']);
    if (args.baseCli) {
      const baseExtra = { plain: [], gzip: ['--record-gzip'], images: ['--record-images', 'full'] }[args.baseConfig];
      servers.base = await sy('base', baseExtra, [args.baseCli]);
      if (!args.configs.includes('base')) args.configs.splice(1, 0, 'base');
    }

    // The load moves off the servers' CPUs only now: children inherit the mask of the process that starts them.
    if (args.pin !== null) {
      const host = realAffinityHost();
      const pinned = parseCpuAffinity(args.pin, host.allowedCpus());
      const rest = host.allowedCpus().filter((c) => !pinned.includes(c));
      if (rest.length > 0) applyCpuAffinity(formatCpuList(rest), host);
      process.stdout.write(`pinned: servers on CPU ${formatCpuList(pinned)}, the load on CPU ${rest.length > 0 ? formatCpuList(rest) : 'any (none left)'}\n`);
    }

    // JIT-warm every server (a fresh process runs its first thousands of requests slower).
    for (const c of children) {
      const r = await runLoad({ url: c.act, concurrency: 4, warmupMs: 0, measureMs: 2000, tag: `${c.name}-prime`, states, extraBody: withImages(c.name as Config) ? image : '' });
      if (r.errors) throw new Error(`${c.name}: ${r.errors} errors while priming: ${r.firstError}`);
      c.takeGc();
    }

    const runs: Run[] = [];
    const measure = async (round: number, scenario: Scenario, config: Config, c: Child): Promise<Run> => {
      if (c.child.exitCode !== null) throw new Error(`${c.name} died (exit ${c.child.exitCode}):\n${c.stderrTail.join('')}`);
      const paced = scenario === 'r8';
      const pids = children.map((x) => x.child.pid ?? -1);
      const m0 = machineCpu();
      const c0 = selfCpuMs();
      const p0 = pids.map(processCpuMs);
      const main0 = mainThreadCpuMs(c.child.pid ?? -1);
      const t0 = performance.now();
      c.takeGc();
      const watcher: ConsoleSubscriber | null = paced && args.console && c.name !== 'minimal' ? await openConsole(c.base, controlToken) : null;
      const r = await runLoad({
        url: c.act,
        concurrency: scenario === 'c1' ? 1 : 8,
        warmupMs: args.warmup * 1000,
        measureMs: (paced ? args.pacedSeconds : args.seconds) * 1000,
        tag: `${c.name}-${config}-${scenario}-${round}`,
        states,
        episodeSteps: paced ? 50 : args.closedEpisodeSteps,
        rateHz: paced ? args.hz : undefined,
        extraBody: withImages(config) ? image : '',
      });
      await watcher?.close();
      if (watcher !== null && (watcher.calls.failed > 0 || (watcher.counts['serving.stats'] ?? 0) === 0)) {
        throw new Error(`${c.name}: the workbench subscriber saw ${JSON.stringify(watcher.counts)} and ${watcher.calls.failed} failed call(s)`);
      }
      const gc = c.takeGc();
      const el = performance.now() - t0;
      const used = pids.map((p, i) => processCpuMs(p) - p0[i]!);
      const mine = used[pids.indexOf(c.child.pid ?? -1)]!;
      const ours = selfCpuMs() - c0 + used.reduce((s, x) => s + (Number.isNaN(x) ? 0 : x), 0);
      const otherCores = Math.max(0, (machineCpu().busyMs - m0.busyMs - ours) / el);
      const clientCpuUsPerReq = ((selfCpuMs() - c0) * 1000) / Math.max(1, r.totalAnswered);
      const mainCpuUsPerReq = ((mainThreadCpuMs(c.child.pid ?? -1) - main0) * 1000) / Math.max(1, r.totalAnswered);
      const run: Run = { ...r, round, scenario, config, server: c.name, cpuUsPerReq: (mine * 1000) / Math.max(1, r.totalAnswered), mainCpuUsPerReq, clientCpuUsPerReq, otherCores, gc };
      process.stderr.write(
        `round ${round + 1} ${scenario} ${config.padEnd(6)} ${c.name.padEnd(7)} ${fmt(r.rps).padStart(7)} req/s  p50 ${fmt(r.p50Us).padStart(5)}  p99 ${fmt(r.p99Us).padStart(6)}  >5ms ${r.over5ms}` +
          `  cpu ${fmt(run.cpuUsPerReq)} µs/req (main thread ${fmt(mainCpuUsPerReq)}, load ${fmt(clientCpuUsPerReq)})  other ${otherCores.toFixed(2)} cores${args.traceGc ? `  gc ${gc.scavenges}+${gc.majors} ${gc.pauseMs.toFixed(1)} ms (max ${gc.maxPauseMs.toFixed(2)})` : ''}` +
          `${watcher !== null ? `  console ${watcher.counts['serving.stats'] ?? 0} stats pushes, ${watcher.calls.made} reads` : ''}` +
          `${r.errors ? `  ERRORS ${r.errors}: ${r.firstError}` : ''}\n`,
      );
      await new Promise((res) => setTimeout(res, 200));
      return run;
    };

    for (let round = 0; round < args.rounds; round++) {
      for (const scenario of args.scenarios) {
        for (const config of args.configs) {
          const s = servers[config]!;
          const pair = round % 2 === 0 ? [minimal, s] : [s, minimal];
          for (const c of pair) runs.push(await measure(round, scenario, config, c));
        }
      }
    }
    const loadEnd = uptime();
    // A trace that stopped under load would make a server look cheap: read what each one dropped.
    const droppedBy: Record<string, string> = {};
    for (const c of children) if (c.name in recordDirs) droppedBy[c.name] = await traceDropped(c.base);
    await cleanup();

    // ---- table
    const rows: string[][] = [];
    const targets: string[][] = [];
    for (const scenario of args.scenarios) {
      for (const config of args.configs) {
        const mine = runs.filter((r) => r.scenario === scenario && r.config === config);
        const sy = mine.filter((r) => r.server !== 'minimal');
        const mi = mine.filter((r) => r.server === 'minimal');
        const paired = (f: (s: Run, m: Run) => number): number =>
          median(sy.map((s) => {
            const m = mi.find((x) => x.round === s.round);
            return m ? f(s, m) : Number.NaN;
          }));
        const med = (xs: Run[], f: (r: Run) => number): number => median(xs.map(f));
        const ratio = paired((s, m) => s.rps / m.rps);
        const dP50 = paired((s, m) => s.p50Us - m.p50Us);
        const dP99 = paired((s, m) => s.p99Us - m.p99Us);
        const over = (xs: Run[]): string => `${xs.reduce((n, r) => n + r.over5ms, 0)}/${xs.reduce((n, r) => n + r.requests, 0)}`;
        const gcCol = (xs: Run[]): string =>
          args.traceGc ? `${fmt(med(xs, (r) => (r.gc.pauseMs * 1000) / Math.max(1, r.totalAnswered)), 2)} µs/req, max ${fmt(Math.max(...xs.map((r) => r.gc.maxPauseMs)), 2)} ms` : '-';
        rows.push([
          scenario, config,
          fmt(med(mi, (r) => r.rps)), fmt(med(sy, (r) => r.rps)), ratio.toFixed(2),
          `${fmt(med(mi, (r) => r.p50Us))} / ${fmt(med(mi, (r) => r.p99Us))}`,
          `${fmt(med(sy, (r) => r.p50Us))} / ${fmt(med(sy, (r) => r.p99Us))}`,
          signed(dP50), signed(dP99),
          `${fmt(med(mi, (r) => r.cpuUsPerReq))} / ${fmt(med(sy, (r) => r.cpuUsPerReq))}`,
          `${fmt(med(mi, (r) => r.mainCpuUsPerReq))} / ${fmt(med(sy, (r) => r.mainCpuUsPerReq))}`,
          `${fmt(med(mi, (r) => r.clientCpuUsPerReq))} / ${fmt(med(sy, (r) => r.clientCpuUsPerReq))}`,
          `${over(mi)} / ${over(sy)}`,
          gcCol(sy),
          median(mine.map((r) => r.otherCores)).toFixed(2),
          String(mine.reduce((n, r) => n + r.errors, 0)),
        ]);
        const verdict = (ok: boolean): string => (ok ? 'PASS' : 'MISS');
        if (scenario === 'c8') targets.push([`throughput ÷ minimal, 8 connections (${config})`, '≥ 0.80', ratio.toFixed(2), verdict(ratio >= 0.8)]);
        if (scenario === 'c1') targets.push([`added p50, one robot (${config})`, '≤ +100 µs', `${signed(dP50)} µs`, verdict(dP50 <= 100)]);
        if (scenario === 'r8') {
          targets.push([`added p99, 8 robots at ${args.hz} Hz (${config})`, '≤ +1,000 µs', `${signed(dP99)} µs`, verdict(dP99 <= 1000)]);
          const syOver = sy.reduce((n, r) => n + r.over5ms, 0);
          const miOver = mi.reduce((n, r) => n + r.over5ms, 0);
          targets.push([`requests over 5 ms, 8 robots (${config}): Switchyard / minimal`, 'no more than minimal', `${syOver} / ${miOver}`, verdict(syOver <= miOver)]);
        }
      }
    }
    process.stdout.write(`end:   ${loadEnd}\n\n`);
    process.stdout.write(
      `${args.rounds} round(s); closed loop ${args.seconds} s, paced ${args.pacedSeconds} s, after ${args.warmup} s warm-up; medians over rounds, µs; ` +
        'ratio and Δ paired per round. CPU/req: the server process (all threads) per answered request; main thread: its HTTP thread alone; load: this process (the clients, and the console subscriber at r8).\n\n',
    );
    process.stdout.write(
      markdownTable(
        ['load', 'trace', 'minimal req/s', 'Switchyard req/s', 'ratio', 'minimal p50 / p99', 'Switchyard p50 / p99', 'added p50', 'added p99', 'CPU/req minimal / Switchyard', 'main thread CPU/req minimal / Switchyard', 'load CPU/req minimal / Switchyard', '>5 ms minimal / Switchyard', 'GC pause (Switchyard)', 'other load (cores)', 'errors'],
        rows,
        ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
      ),
    );
    process.stdout.write('\n## Targets (issue 15)\n\n');
    process.stdout.write(markdownTable(['target', 'goal', 'measured', 'verdict'], targets, ['l', 'r', 'r', 'l']));
    process.stdout.write('\nchecks:\n');
    for (const [name, dir] of Object.entries(recordDirs)) {
      const files = readdirSync(dir);
      const bytes = files.reduce((n, f) => n + statSync(join(dir, f)).size, 0);
      process.stdout.write(`- ${name}: trace dir holds ${files.length} file(s), ${fmt(bytes / 1024 / 1024, 1)} MiB; trace records dropped: ${droppedBy[name] ?? '?'}\n`);
    }
    if (args.profile) {
      process.stdout.write(`\n## CPU profiles (--cpu-prof; the numbers above are perturbed by profiling)\n\n`);
      for (const c of children) {
        const d = join(args.profile, c.name);
        if (!existsSync(d)) continue;
        for (const f of readdirSync(d).filter((x) => x.endsWith('.cpuprofile')).sort()) {
          process.stdout.write(`### ${c.name}: ${f}\n\n\`\`\`\n${formatSummary(summarizeProfile(join(d, f), 20), 20)}\`\`\`\n\n`);
        }
      }
    }
    if (args.json) writeFileSync(args.json, JSON.stringify({ args, loadStart, loadEnd, runs }, null, 2) + '\n');
  } finally {
    await cleanup();
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
});
