import { InvalidArgumentError, type Command } from 'commander';
import { runAsCaller } from '../platform/call-context.js';
import { apiClient, toErrorShape, type ApiClient } from '../contract/index.js';
import { createEngine, type Engine, type EngineConfig } from '../engine.js';
import { createLogger } from '../platform/logger.js';
import { defaultStorePath } from '../platform/paths.js';

/** A commander argument parser for a whole number in [min, max], with a message naming the flag. */
export function intIn(name: string, min: number, max: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be a whole number from ${min} to ${max}, got "${v}".`);
    return n;
  };
}

/** Prints an error the way every command does (one JSON line with --json) and exits 1. */
export function reportFailure(e: unknown, json: boolean | undefined, exitCode = 1): never {
  const shape = toErrorShape(e);
  if (json) process.stdout.write(JSON.stringify({ ok: false, error: shape }) + '\n');
  else process.stderr.write(`switchyard: ${shape.message}${shape.where ? ` [${shape.where}]` : ''} (${shape.code})\n`);
  process.exit(exitCode);
}

/**
 * Opens an engine for one command and closes it afterwards, whatever happens. What the command
 * writes to the audit log is recorded as the caller `cli`, with the user name it passes as the claim.
 */
export async function withEngine<T>(config: EngineConfig, fn: (engine: Engine) => Promise<T>): Promise<T> {
  const engine = await createEngine({ statsIntervalMs: 0, logger: createLogger({ level: 'warn' }), ...config });
  try {
    return await runAsCaller({ caller: 'cli' }, () => fn(engine));
  } finally {
    await engine.close();
  }
}

/**
 * The typed client of an engine in this process: calls go through its dispatcher (input checked,
 * output projected by the contract) exactly as a server's would, without a caller context, so the
 * audit log records the caller `withEngine` set.
 */
export function engineClient(engine: Pick<Engine, 'api'>): ApiClient {
  return apiClient((method, input) => engine.api.call(method, input));
}

export function storeOption(cmd: Command): Command {
  return cmd.option('--store <path>', 'SQLite store (default: $SWITCHYARD_STORE or the user data folder)', defaultStorePath());
}

export function jsonOption(cmd: Command): Command {
  return cmd.option('--json', 'print machine-readable JSON');
}
