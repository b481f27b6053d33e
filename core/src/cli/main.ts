import { Command, InvalidArgumentError, Option } from 'commander';
import { SwitchyardError, toErrorShape } from '../contract/index.js';
import { startConsoleSession } from '../console-session.js';
import { createEngine, type Engine, type EngineConfig } from '../engine.js';
import { createLogger } from '../platform/logger.js';
import { readExport } from '../runtime/export.js';
import { createHttpServer, isLoopbackHost } from '../serve/http-server.js';
import { SWITCHYARD_VERSION } from '../version.js';
import { defaultStorePath, workbenchDir } from './paths.js';
import { formatBytes, printTable } from './table.js';

function intIn(name: string, min: number, max: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be a whole number from ${min} to ${max}, got "${v}".`);
    return n;
  };
}

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
  device: 'auto' | 'cpu' | 'cuda';
  demo?: boolean;
  open?: boolean;
  json?: boolean;
  logLevel: string;
}

function fail(e: unknown, json: boolean | undefined): never {
  const shape = toErrorShape(e);
  if (json) process.stdout.write(JSON.stringify({ ok: false, error: shape }) + '\n');
  else process.stderr.write(`switchyard: ${shape.message}${shape.where ? ` [${shape.where}]` : ''} (${shape.code})\n`);
  process.exit(1);
}

async function withEngine<T>(config: EngineConfig, fn: (engine: Engine) => Promise<T>): Promise<T> {
  const engine = await createEngine({ statsIntervalMs: 0, logger: createLogger({ level: 'warn' }), ...config });
  try {
    return await fn(engine);
  } finally {
    await engine.close();
  }
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
    .option('--token <token>', 'token required on the control API (needed for a non-loopback --host)')
    .addOption(new Option('--device <device>', 'inference device').choices(['auto', 'cpu', 'cuda']).default('auto'))
    .option('--log-level <level>', 'pino log level', 'info')
    .option('--json', 'print machine-readable lines');
}

async function runServer(path: string | undefined, flags: ServeFlags, mode: 'serve' | 'console'): Promise<void> {
  const logger = createLogger({ level: flags.logLevel });
  if (flags.shadowPolicy) {
    throw new SwitchyardError('SWY_ERR_CONFIG', '--shadow-policy is not available in this build yet.', '--shadow-policy');
  }
  if ((flags.policyA || flags.policyB) && path) {
    throw new SwitchyardError('SWY_ERR_CONFIG', 'Give either PATH (single-policy mode) or --policy-a and --policy-b, not both.', 'PATH');
  }
  if (Boolean(flags.policyA) !== Boolean(flags.policyB)) {
    throw new SwitchyardError('SWY_ERR_CONFIG', `--policy-${flags.policyA ? 'b' : 'a'} is missing: two-policy mode needs both --policy-a and --policy-b.`, flags.policyA ? '--policy-b' : '--policy-a');
  }
  if (!flags.token && !isLoopbackHost(flags.host)) {
    throw new SwitchyardError('SWY_ERR_CONFIG', `Refusing --host ${flags.host} without --token: add --token, or keep the default 127.0.0.1.`, '--host');
  }
  const a = flags.policyA;
  const b = flags.policyB;
  const twoPolicy = Boolean(a && b) || (mode === 'console' && !path);
  // The console runs the demo pair in two-policy mode, where RTC is always off.
  const rtc = mode === 'console' && !path ? false : flags.rtc;
  if (twoPolicy && rtc && (a || b)) {
    throw new SwitchyardError('SWY_ERR_CONFIG', 'Two-policy mode needs --no-rtc: real-time chunking would blend one policy\'s actions into the other\'s chunks. Add --no-rtc, or serve one policy.', '--no-rtc');
  }
  const engine = await createEngine({ storePath: flags.store, logger, device: flags.device, rtc, maxConsecutiveCrashes: flags.maxConsecutiveCrashes });
  try {
    if (mode === 'console') {
      const session = await startConsoleSession(engine, { demo: Boolean(flags.demo), ...(path ? { single: path } : {}), ...(a && b ? { a, b } : {}), split: flags.split });
      if (session.builtDemo) process.stdout.write('Built the demo workspace in the store.\n');
    } else if (path) await engine.startServing({ single: path });
    else if (a && b) await engine.startServing({ a, b, split: flags.split });
    const app = await createHttpServer(engine, { host: flags.host, port: flags.port, ...(flags.token ? { token: flags.token } : {}), ...(mode === 'console' ? { workbenchDir: requireWorkbench() } : { workbenchDir: workbenchDir() }) });
    await app.listen({ host: flags.host, port: flags.port });
    const addr = app.server.address();
    const port = addr && typeof addr === 'object' ? addr.port : flags.port;
    const base = `http://${flags.host.includes(':') ? `[${flags.host}]` : flags.host}:${port}/`;
    const url = flags.token ? `${base}?token=${encodeURIComponent(flags.token)}` : base;
    const state = engine.serving.state();
    if (flags.json) process.stdout.write(JSON.stringify({ event: 'listening', url, act: `${base}act`, state }) + '\n');
    else {
      if (mode === 'console') process.stdout.write(`Switchyard console: ${url}\n`);
      process.stdout.write(`Serving ${state.mode === 'off' ? 'nothing (no policy loaded)' : state.slots.map((s) => `${s.slot}=${s.versionRef} (${s.modelVersion})`).join(', ')}${state.mode === 'ab' ? ` split ${state.split}% to a` : ''}; POST ${base}act\n`);
    }
    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, 'stopping: draining in-flight requests');
      await app.close();
      await engine.close();
      process.exit(0);
    };
    process.on('SIGTERM', () => void stop('SIGTERM'));
    process.on('SIGINT', () => void stop('SIGINT'));
  } catch (e) {
    await engine.close();
    throw e;
  }
}

function requireWorkbench(): string {
  const dir = workbenchDir();
  if (!dir) throw new SwitchyardError('SWY_ERR_CONFIG', 'The workbench is not built (dist/renderer is missing). Run `npm run build` first.', 'dist/renderer');
  return dir;
}

export function buildProgram(): Command {
  const program = new Command('switchyard').version(SWITCHYARD_VERSION).description('Run, compare, gate, promote and roll back versioned robot and RL policies.');
  program.showHelpAfterError();

  serveOptions(program.command('serve').argument('[PATH]', 'export directory or policy@label for single-policy mode').description('serve POST /act, /metrics and the control API'))
    .action(async (path: string | undefined, flags: ServeFlags) => runServer(path, flags, 'serve').catch((e) => fail(e, flags.json)));

  serveOptions(program.command('console').argument('[PATH]', 'serve this one policy instead of the demo pair').description('serve the workbench to a browser on loopback and print its URL'))
    .option('--demo', 'build the demo workspace into the store first (done anyway when the store is empty)')
    .option('--no-open', 'accepted for symmetry with the desktop app; the URL is printed either way')
    .action(async (path: string | undefined, flags: ServeFlags) => runServer(path, { ...flags, port: flags.port ?? 0 }, 'console').catch((e) => fail(e, flags.json)));

  program
    .command('demo')
    .description('build the demo workspace: cart-pole ONNX policies registered in the store, one in production')
    .option('--store <path>', 'SQLite store', defaultStorePath())
    .option('--json', 'machine-readable output')
    .action(async (flags: { store: string; json?: boolean }) => {
      try {
        const t0 = performance.now();
        const demo = await withEngine({ storePath: flags.store }, (e) => e.buildDemo());
        const ms = performance.now() - t0;
        if (flags.json) process.stdout.write(JSON.stringify({ ok: true, ...demo, ms }) + '\n');
        else {
          printTable(['version', 'model version', 'new'], demo.registered.map((r) => [r.ref, r.modelVersion, r.created ? 'yes' : 'already there']));
          process.stdout.write(`Production: ${demo.production}. Exports in ${demo.dir}. Store ${flags.store}. ${ms.toFixed(0)} ms.\n`);
        }
      } catch (e) {
        fail(e, flags.json);
      }
    });

  program
    .command('register')
    .argument('<PATH>', 'export directory')
    .description('register an export as a new candidate version')
    .option('--store <path>', 'SQLite store', defaultStorePath())
    .option('--json', 'machine-readable output')
    .action(async (path: string, flags: { store: string; json?: boolean }) => {
      try {
        const exp = await readExport(path);
        const r = await withEngine({ storePath: flags.store }, async (e) => e.registry.register(exp, { actor: process.env.USER ?? 'cli' }));
        if (flags.json) process.stdout.write(JSON.stringify({ ok: true, ...r }) + '\n');
        else process.stdout.write(`${r.created ? 'Registered' : 'Already registered'} ${r.version.policy}@${r.version.label} as ${r.version.modelVersion} (${r.version.stage}).\n`);
      } catch (e) {
        fail(e, flags.json);
      }
    });

  program
    .command('policies')
    .description('list policies and their versions')
    .option('--store <path>', 'SQLite store', defaultStorePath())
    .option('--json', 'machine-readable output')
    .action(async (flags: { store: string; json?: boolean }) => {
      try {
        const policies = await withEngine({ storePath: flags.store }, async (e) => e.registry.listPolicies());
        if (flags.json) return void process.stdout.write(JSON.stringify({ ok: true, policies }) + '\n');
        if (!policies.length) return void process.stdout.write('No policies registered. Run `switchyard demo` or `switchyard register PATH`.\n');
        printTable(
          ['policy', 'version', 'stage', 'model version', 'kind', 'size', 'registered'],
          policies.flatMap((p) => p.versions.map((v) => [p.name, v.label, v.stage, v.modelVersion, v.kind, formatBytes(v.sizeBytes), v.registeredAt])),
        );
      } catch (e) {
        fail(e, flags.json);
      }
    });
  return program;
}

export async function main(argv: string[] = process.argv): Promise<void> {
  await buildProgram().parseAsync(argv);
}
