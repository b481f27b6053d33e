import { Command } from 'commander';
import { SWITCHYARD_VERSION } from '../version.js';
import { registerEvalCommands } from './commands/eval.js';
import { registerLifecycleCommands } from './commands/lifecycle.js';
import { registerOpsCommands } from './commands/ops.js';
import { registerRegistryCommands } from './commands/registry.js';
import { registerReplayCommand } from './commands/replay.js';
import { registerRuntimeCommands } from './commands/runtime.js';
import { registerServeCommands } from './commands/serve.js';

/** Every subcommand lives in commands/<area>.ts and registers itself here. */
export function buildProgram(): Command {
  const program = new Command('switchyard').version(SWITCHYARD_VERSION).description('Run, compare, gate, promote and roll back versioned robot and RL policies.');
  program.showHelpAfterError();
  registerServeCommands(program);
  registerRegistryCommands(program);
  registerOpsCommands(program);
  registerRuntimeCommands(program);
  registerEvalCommands(program);
  registerLifecycleCommands(program);
  registerReplayCommand(program);
  return program;
}

export async function main(argv: string[] = process.argv): Promise<void> {
  await buildProgram().parseAsync(argv);
}
