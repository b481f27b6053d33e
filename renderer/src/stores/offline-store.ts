import { createStore, type StoreApi } from 'zustand/vanilla';
import { ErrorCodes, type SwitchyardErrorShape } from '@contract';
import type { ConnectionSource, ConnectionStatus } from '../api/connection';

export interface OfflineState {
  /** True while the live channel to the server is down and being re-established. */
  offline: boolean;
  /** Epoch ms when the server stopped answering; null while online. */
  since: number | null;
  /** Epoch ms of the last reconnect (after an outage); null before any. */
  reconnectedAt: number | null;
  /** How many times the workbench came back after an outage. */
  reconnects: number;
}

export type OfflineStore = StoreApi<OfflineState>;

/** Is this status an outage? `connecting` is the first try, not yet an outage; `idle` means no subscriptions. */
export function isOfflineStatus(status: ConnectionStatus): boolean {
  return status === 'reconnecting';
}

/** An error that a reconnect resolves: the server could not be reached. */
export function isConnectionError(error: SwitchyardErrorShape | null | undefined): boolean {
  return error?.code === ErrorCodes.SWY_ERR_UNAVAILABLE;
}

/**
 * Follows the connection: offline while it is being re-established, with the time it went down;
 * `onReconnect` runs each time it comes back after an outage (every store reloads there).
 */
export function createOfflineStore(connection: ConnectionSource, now: () => number = Date.now): OfflineStore & { onReconnect(fn: () => void): () => void; stop(): void } {
  const store = createStore<OfflineState>()(() => ({ offline: isOfflineStatus(connection.getStatus()), since: isOfflineStatus(connection.getStatus()) ? now() : null, reconnectedAt: null, reconnects: 0 }));
  const listeners = new Set<() => void>();
  let wasDown = store.getState().offline;
  const stop = connection.onStatus((status) => {
    if (isOfflineStatus(status)) {
      if (!store.getState().offline) store.setState({ offline: true, since: now() });
      wasDown = true;
      return;
    }
    if (status === 'open') {
      const cameBack = wasDown;
      wasDown = false;
      if (store.getState().offline || cameBack) {
        store.setState((s) => ({ offline: false, since: null, reconnectedAt: now(), reconnects: s.reconnects + 1 }));
        for (const fn of [...listeners]) fn();
      }
    }
  });
  return Object.assign(store, {
    onReconnect(fn: () => void) {
      listeners.add(fn);
      return () => void listeners.delete(fn);
    },
    stop,
  });
}
