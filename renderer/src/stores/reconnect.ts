import type { Stores } from './context';
import { isConnectionError } from './offline-store';

/**
 * After an outage: every store reads the server again (it may have restarted, rolled back, or
 * drained a slot meanwhile), the charts backfill what they missed from the server's history, and
 * the alerts that said "cannot reach the server" go away, since that is no longer true.
 */
export function reloadAfterReconnect(stores: Stores): void {
  const serving = stores.serving.getState();
  if (isConnectionError(serving.actionError)) serving.dismissActionError();
  void serving.load();
  void stores.versions.getState().load();
  void stores.stats.getState().backfill();
  void stores.canary.getState().load();

  const lifecycle = stores.lifecycle;
  if (isConnectionError(lifecycle.getState().problem?.error)) lifecycle.setState({ problem: null });
  void lifecycle.getState().load();

  const compare = stores.compare;
  if (isConnectionError(compare.getState().problem?.error)) compare.getState().dismissProblem();
  if (compare.getState().optionsStatus !== 'idle') void compare.getState().load();
}
