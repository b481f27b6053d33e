/**
 * `replay.openDialog` in the desktop app: the native open dialog for a trace, then the same open
 * as `replay.open`. The operator picked the file in a dialog of this machine, so it may lie
 * outside the known folders: exactly that file is added to the readable paths first (as
 * `console --trace FILE` does), never its folder.
 *
 * Electron is referenced only structurally (DialogLike), so this is tested with a fake dialog.
 */
import { ErrorCodes, fail, toErrorShape } from '../../core/src/contract/index.js';
import type { MethodOutput, Result } from '../../core/src/contract/index.js';
import { pickedPath, type OpenDialogAnswer } from './picked-path.js';

/** The slice of Electron's `dialog` used here. */
export interface DialogLike {
  showOpenDialog(options: OpenDialogOptionsLike): Promise<OpenDialogAnswer>;
}

export interface OpenDialogOptionsLike {
  title: string;
  buttonLabel: string;
  properties: 'openFile'[];
  filters: { name: string; extensions: string[] }[];
}

/** The slice of the engine used here. */
export interface TraceOpenerEngine {
  api: { call(method: string, input: unknown, ctx?: { caller: string }): Promise<Result<unknown>> };
  /** Lets API callers read exactly this file (see PathRoots). */
  pathRoots: { add(path: string): void };
}

export const TRACE_DIALOG_OPTIONS: OpenDialogOptionsLike = {
  title: 'Open a trace',
  buttonLabel: 'Open trace',
  properties: ['openFile'],
  // `.jsonl.gz` ends in `gz`: Electron matches the last extension only.
  filters: [
    { name: 'Traces (.jsonl, .jsonl.gz)', extensions: ['jsonl', 'gz'] },
    { name: 'All files', extensions: ['*'] },
  ],
};

type Answer = MethodOutput<'replay.openDialog'>;

export function createOpenTraceDialog(deps: { dialog: DialogLike; engine: TraceOpenerEngine }): () => Promise<Result<Answer>> {
  return async () => {
    let chosen: OpenDialogAnswer;
    try {
      chosen = await deps.dialog.showOpenDialog(TRACE_DIALOG_OPTIONS);
    } catch (e) {
      return fail(ErrorCodes.SWY_ERR_INTERNAL, `The open dialog failed: ${e instanceof Error ? e.message : String(e)}. Pick the trace from the Traces list instead.`);
    }
    const path = pickedPath(chosen);
    if (path === null) return { ok: true, value: { path: null, job: null } };
    try {
      deps.engine.pathRoots.add(path);
    } catch (e) {
      return { ok: false, error: toErrorShape(e) };
    }
    const opened = await deps.engine.api.call('replay.open', { path }, { caller: 'desktop' });
    if (!opened.ok) return opened;
    return { ok: true, value: { path, job: opened.value as Answer['job'] } };
  };
}
