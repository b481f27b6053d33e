import { Argument, type Command } from 'commander';
import { ErrorCodes, SwitchyardError, type Result } from '../../contract/index.js';
import { runTraceVerify } from '../../trace/verify-command.js';
import { intIn, reportFailure } from '../common.js';

interface RemoteFlags {
  server: string;
  token?: string;
  json?: boolean;
}

/** Calls one contract method on a running server (`POST /api/<method>`), as the workbench does. */
export async function callServer<T>(flags: RemoteFlags, method: string, input: unknown): Promise<T> {
  const base = flags.server.replace(/\/+$/, '');
  let res: Response;
  try {
    res = await fetch(`${base}/api/${method}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(flags.token ? { authorization: `Bearer ${flags.token}` } : {}) },
      body: JSON.stringify(input),
    });
  } catch (e) {
    throw new SwitchyardError(ErrorCodes.SWY_ERR_NOT_SERVING, `Cannot reach a Switchyard server at ${base} (${(e as Error).message}). Is \`switchyard serve\` running there? Use --server URL.`, '--server');
  }
  const body = (await res.json().catch(() => null)) as Result<T> | null;
  if (!body || typeof body !== 'object' || !('ok' in body)) {
    throw new SwitchyardError(ErrorCodes.SWY_ERR_INTERNAL, `${base} answered ${res.status} without a Switchyard result; is it a Switchyard server?`, '--server');
  }
  if (!body.ok) throw new SwitchyardError(body.error.code, body.error.message, body.error.where);
  return body.value;
}

function remoteOptions(cmd: Command): Command {
  return cmd
    .option('--server <url>', 'the running server', process.env.SWITCHYARD_SERVER ?? 'http://127.0.0.1:8000')
    .option('--token <token>', 'the server\'s --token', process.env.SWITCHYARD_TOKEN)
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
