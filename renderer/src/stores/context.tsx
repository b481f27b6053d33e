import { createContext, useCallback, useContext, useSyncExternalStore, type ReactNode } from 'react';
import { useStore } from 'zustand';
import type { ContractClient } from '@contract';
import type { ConnectionSource } from '../api/connection';
import { createCanaryStore, type CanaryStore, type CanaryStoreState } from './canary-store';
import { keepLastComparison } from './compare-persist';
import { createCompareStore, type CompareState, type CompareStore } from './compare-store';
import { createLifecycleStore, type LifecycleState, type LifecycleStore } from './lifecycle-store';
import { createOfflineStore, type OfflineState } from './offline-store';
import { reloadAfterReconnect } from './reconnect';
import { createReplayStore, type ReplayState, type ReplayStore, type TraceUploader } from './replay-store';
import { createServingStore, type ServingStore, type ServingStoreState } from './serving-store';
import { createStatsStore, type StatsState, type StatsStore } from './stats-store';
import { throttle } from './throttle';
import { createVersionsStore, type VersionsState, type VersionsStore } from './versions-store';

export interface Stores {
  client: ContractClient;
  connection: ConnectionSource;
  serverLabel: string;
  versions: VersionsStore;
  serving: ServingStore;
  stats: StatsStore;
  compare: CompareStore;
  lifecycle: LifecycleStore;
  /** Whether the server is reachable now; every page greys out and disables actions while it is not. */
  offline: ReturnType<typeof createOfflineStore>;
  canary: CanaryStore;
  replay: ReplayStore;
}

/** Creates every feature store for one client. No singletons: the app (or a test) owns them. */
const noUploads: TraceUploader = async () => ({ ok: false, error: { code: 'SWY_ERR_INTERNAL', message: 'Uploading is not available here; copy the trace into the record folder.' } });

export function createStores(client: ContractClient, connection: ConnectionSource, serverLabel: string, uploader: TraceUploader = noUploads, opts: { nativeOpen?: boolean } = {}): Stores {
  return {
    client,
    connection,
    serverLabel,
    versions: createVersionsStore(client),
    serving: createServingStore(client),
    stats: createStatsStore(client),
    compare: createCompareStore(client),
    lifecycle: createLifecycleStore(client),
    offline: createOfflineStore(connection),
    canary: createCanaryStore(client),
    replay: createReplayStore(client, uploader, opts),
  };
}

/** Starts live subscriptions and first loads; returns a function that stops them. */
export function startStores(stores: Stores): () => void {
  const stops = [
    stores.serving.getState().start(),
    stores.stats.getState().start(),
    stores.compare.getState().start(),
    stores.lifecycle.getState().start(),
    stores.canary.getState().listen(),
    stores.replay.getState().start(),
  ];
  void stores.versions.getState().load();
  stops.push(keepLastComparison(stores.compare, browserStorage()));
  // A promotion, rollback or archive changes stages: the Versions page's badges follow it.
  stops.push(stores.client.subscribe('lifecycle.changed', () => void stores.versions.getState().load()));
  // A gate stores a verdict: the Versions page's "last verdict" column should show it.
  stops.push(
    stores.compare.subscribe((state, previous) => {
      if (state.result?.gate && state.result.gate !== previous.result?.gate) void stores.versions.getState().load();
    }),
  );
  // After the server comes back, every store re-reads what it may have missed and drops the alerts the outage caused.
  const stopConnection = stores.offline.onReconnect(() => reloadAfterReconnect(stores));
  return () => {
    stopConnection();
    for (const stop of stops) stop();
  };
}

function browserStorage(): Storage | null {
  try {
    return typeof window !== 'undefined' ? window.localStorage : null;
  } catch {
    return null;
  }
}

const StoresContext = createContext<Stores | null>(null);

export function StoresProvider({ stores, children }: { stores: Stores; children: ReactNode }) {
  return <StoresContext.Provider value={stores}>{children}</StoresContext.Provider>;
}

export function useStores(): Stores {
  const stores = useContext(StoresContext);
  if (stores === null) throw new Error('useStores() needs a <StoresProvider> above it');
  return stores;
}

export function useVersions<T>(selector: (state: VersionsState) => T): T {
  return useStore(useStores().versions, selector);
}

export function useServing<T>(selector: (state: ServingStoreState) => T): T {
  return useStore(useStores().serving, selector);
}

export function useCompare<T>(selector: (state: CompareState) => T): T {
  return useStore(useStores().compare, selector);
}

export function useLifecycle<T>(selector: (state: LifecycleState) => T): T {
  return useStore(useStores().lifecycle, selector);
}

export function useOffline<T>(selector: (state: OfflineState) => T): T {
  return useStore(useStores().offline, selector);
}

export function useCanary<T>(selector: (state: CanaryStoreState) => T): T {
  return useStore(useStores().canary, selector);
}

export function useReplay<T>(selector: (state: ReplayState) => T): T {
  return useStore(useStores().replay, selector);
}

export function useStats<T>(selector: (state: StatsState) => T): T {
  return useStore(useStores().stats, selector);
}

/**
 * Like `useStats`, but the component hears of changes at most once per `intervalMs` (the newest
 * state always arrives, at the end of the interval). For charts: however fast samples come, they
 * re-render at most 1000 / intervalMs times a second. The selector must return a value that stays
 * the same (by reference) while the state does not change, e.g. a field of the state.
 */
export function useStatsThrottled<T>(selector: (state: StatsState) => T, intervalMs: number): T {
  const store = useStores().stats;
  const subscribe = useCallback(
    (onChange: () => void) => {
      const notify = throttle(onChange, intervalMs);
      const unsubscribe = store.subscribe(notify);
      return () => {
        notify.cancel();
        unsubscribe();
      };
    },
    [store, intervalMs],
  );
  return useSyncExternalStore(subscribe, () => selector(store.getState()));
}
