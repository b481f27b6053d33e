import { Argument, type Command } from 'commander';
import type { Slot } from '../../contract/index.js';
import { runTraceVerify } from '../../trace/verify-command.js';
import { intIn, reportFailure } from '../common.js';
import { serverClient, type RemoteFlags } from '../server-client.js';

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
      printState(await serverClient(flags).call('serving.restoreSlot', { slot: slot as Slot }), flags.json);
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
      printState(await serverClient(flags).call('serving.setSplit', { split }), flags.json);
    } catch (e) {
      reportFailure(e, flags.json);
    }
  });
}
