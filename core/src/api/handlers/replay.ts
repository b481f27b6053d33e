/** `replay.*`: the Replay page's traces, summaries, windows, episodes and re-runs (spec §7.6). */
import { ErrorCodes, SwitchyardError } from '../../contract/index.js';
import type { ReplayService } from '../../replay/replay-service.js';
import type { Handlers } from '../dispatcher.js';

export type ReplayHandlers = Pick<Handlers, Extract<keyof Handlers, `replay.${string}`>>;

export function replayHandlers(replay: ReplayService): ReplayHandlers {
  return {
    'replay.list': () => replay.list(),
    'replay.open': ({ path }) => replay.open(path),
    // The desktop's main process answers this itself (electron/main/open-trace-dialog.ts).
    'replay.openDialog': () => {
      throw new SwitchyardError(ErrorCodes.SWY_ERR_UNAVAILABLE, 'The native open dialog is part of the desktop app. In a browser, use Upload a trace… or pick the trace from the Traces list.');
    },
    'replay.cancel': ({ jobId }) => replay.cancel(jobId),
    'replay.job': ({ jobId }) => replay.job(jobId),
    'replay.summary': ({ traceId }) => replay.summary(traceId),
    'replay.timeline': ({ traceId, fromMs, toMs, bins }) => replay.timeline(traceId, { bins, ...(fromMs !== undefined ? { fromMs } : {}), ...(toMs !== undefined ? { toMs } : {}) }),
    'replay.episodes': ({ traceId, ...q }) => replay.episodes(traceId, withoutUndefined(q)),
    'replay.episode': ({ traceId, episodeId }) => replay.episode(traceId, episodeId),
    'replay.at': ({ traceId, tMs, slot }) => replay.at(traceId, tMs, slot),
    'replay.rerun': ({ traceId, version, limit }) => replay.rerun(traceId, version, limit),
    'replay.rerunResult': ({ jobId }) => replay.rerunResult(jobId),
  };
}

/** Optional fields the caller left out stay out (the service's options are exact optional). */
function withoutUndefined<T extends Record<string, unknown>>(o: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as { [K in keyof T]: Exclude<T[K], undefined> };
}
