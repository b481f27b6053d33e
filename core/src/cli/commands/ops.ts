import { Argument, type Command } from 'commander';
import { ErrorCodes, SwitchyardError, type Result } from '../../contract/index.js';
import { findRuntimeInfo, listRuntimeFiles, runtimeDir } from '../../serve/runtime-file.js';
import { runTraceVerify } from '../../trace/verify-command.js';
import { intIn, reportFailure } from '../common.js';
import { defaultDataDir } from '../../platform/paths.js';

interface RemoteFlags {
  /** Absent: $SWITCHYARD_SERVER, else the one server of this account that is running, else :8000. */
  server?: string | undefined;
  token?: string | undefined;
  json?: boolean;
}

/**
 * Where to call and with which token. The token comes from --token / $SWITCHYARD_TOKEN, else from
 * the server's runtime file, so that a user on the same account never types it.
 */
export function serverTarget(flags: RemoteFlags, dataDir: string = defaultDataDir()): { base: string; token: string | undefined } {
  let server = flags.server || process.env.SWITCHYARD_SERVER;
  if (!server) {
    const live = listRuntimeFiles(dataDir);
    server = live.length === 1 ? live[0]!.url : 'http://127.0.0.1:8000';
  }
  const base = server.replace(/\/+$/, '');
  const token = flags.token || process.env.SWITCHYARD_TOKEN || findRuntimeInfo(dataDir, base)?.token;
  return { base, token: token || undefined };
}

/** Calls one contract method on a running server (`POST /api/<method>`), as the workbench does. */
export async function callServer<T>(flags: RemoteFlags, method: string, input: unknown): Promise<T> {
  const { base, token } = serverTarget(flags);
  let res: Response;
  try {
    res = await fetch(`${base}/api/${method}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(input),
    });
  } catch (e) {
    throw new SwitchyardError(ErrorCodes.SWY_ERR_NOT_SERVING, `Cannot reach a Switchyard server at ${base} (${(e as Error).message}). Is \`switchyard serve\` running there? Use --server URL.`, '--server');
  }
  const body = (await res.json().catch(() => null)) as Result<T> | null;
  if (!body || typeof body !== 'object' || !('ok' in body)) {
    throw new SwitchyardError(ErrorCodes.SWY_ERR_INTERNAL, `${base} answered ${res.status} without a Switchyard result; is it a Switchyard server?`, '--server');
  }
  if (!body.ok && body.error.code === ErrorCodes.SWY_ERR_UNAUTHORIZED && !token) {
    throw new SwitchyardError(
      ErrorCodes.SWY_ERR_UNAUTHORIZED,
      `${base} needs its token and none was found: no runtime file for it in ${runtimeDir(defaultDataDir())} (a server of another account, or another SWITCHYARD_HOME). Set SWITCHYARD_TOKEN.`,
      '--server',
    );
  }
  if (!body.ok) throw new SwitchyardError(body.error.code, body.error.message, body.error.where);
  return body.value;
}

function remoteOptions(cmd: Command): Command {
  return cmd
    .option('--server <url>', 'the running server (default: $SWITCHYARD_SERVER, else the one this account runs, else http://127.0.0.1:8000)')
    .option('--token <token>', "the server's token (default: $SWITCHYARD_TOKEN, else read from the server's runtime file)")
    .option('--json', 'print machine-readable JSON');
}

function printState(state: { mode: string; split: number; drain: string; slots: { slot: string; versionRef: string; drained: boolean; consecutiveFailures: number }[] }, json?: boolean): void {
  if (json) return void process.stdout.write(JSON.stringify({ ok: true, state }) + '\n');
  process.stdout.write(`mode ${state.mode}, split ${state.split}% to a, drain ${state.drain}\n`);
  for (const s of state.slots) process.stdout.write(`  ${s.slot}: ${s.versionRef}${s.drained ? ' (drained)' : ''}, ${s.consecutiveFailures} consecutive failures\n`);
}

export function registerOpsCommands(program: Command): void {
  const trace = program.command('trace').description('work with recorded traces');
  trace
    .command('verify')
    .argument('<TRACE>', 'a .jsonl or .jsonl.gz trace')
    .description("check the trace's hash chain; reports the first broken record by index")
    .option('--json', 'print machine-readable JSON')
    .action(async (path: string, flags: { json?: boolean }) => {
      process.exitCode = await runTraceVerify(path, { json: Boolean(flags.json) });
    });

  remoteOptions(
    program
      .command('restore')
      .addArgument(new Argument('<SLOT>', 'the drained slot').choices(['prod', 'a', 'b', 'shadow']))
      .description('put a drained slot back into service on a running server'),
  ).action(async (slot: string, flags: RemoteFlags) => {
    try {
      printState(await callServer(flags, 'serving.restoreSlot', { slot }), flags.json);
    } catch (e) {
      reportFailure(e, flags.json);
    }
  });

  remoteOptions(
    program
      .command('split')
      .argument('<PERCENT>', 'percent of new episodes to slot a', intIn('PERCENT', 0, 100))
      .description('change the A/B split of a running server (episodes in progress keep their slot)'),
  ).action(async (split: number, flags: RemoteFlags) => {
    try {
      printState(await callServer(flags, 'serving.setSplit', { split }), flags.json);
    } catch (e) {
      reportFailure(e, flags.json);
    }
  });
}
