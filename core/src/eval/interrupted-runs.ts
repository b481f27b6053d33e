/**
 * Start-up clean-up of evaluation runs left `running` by a process that died (spec §4.2: a run is
 * never left half-open). Several Switchyard processes may share one store (the console and a
 * `switchyard gate` in a terminal), so a run whose recorded owner is a live process on this
 * machine is left alone; every other running run is marked failed, its results partial.
 */
import { hostname } from 'node:os';
import { ErrorCodes } from '../contract/errors.js';
import type { EvalStore } from '../store/eval-store.js';
import { processAlive as alive } from '../platform/process-alive.js';

/** What `evaluateAndStore` records about the process that runs an evaluation. */
export function runOwner(): { pid: number; host: string } {
  return { pid: process.pid, host: hostname() };
}

/** Mark the runs of dead processes failed; returns their ids. */
export function failInterruptedRuns(store: EvalStore, reason = 'Switchyard stopped while this evaluation was running.'): number[] {
  const host = hostname();
  const closed: number[] = [];
  for (const run of store.listRuns({ limit: 1_000_000 })) {
    if (run.status !== 'running') continue;
    const pid = run.stats?.['pid'];
    const owner = typeof pid === 'number' && run.stats?.['host'] === host && pid !== process.pid && alive(pid);
    if (owner) continue;
    try {
      store.finishRun(run.id, { status: 'failed', error: { code: ErrorCodes.SWY_ERR_INTERNAL, message: reason } });
      closed.push(run.id);
    } catch {
      // finished meanwhile by its owner
    }
  }
  return closed;
}
