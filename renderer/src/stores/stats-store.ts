import { createStore, type StoreApi } from 'zustand/vanilla';
import type { ContractClient, ServingEvent, ServingStats } from '@contract';
import { derivePoint, type LivePoint } from './live-series';
import { RingBuffer } from './ring-buffer';

export interface StatsState {
  /** The last `capacity` samples, oldest first (a new array on every push, for React). */
  samples: ServingStats[];
  /**
   * The same samples as derived points (deltas of the cumulative counters, hit rate), oldest
   * first. Each is derived once, when its sample arrives; nothing is recomputed on later pushes.
   */
  points: LivePoint[];
  capacity: number;
  /** Serving events (starts, slot version changes, split changes, drains, ...), oldest first: chart markers. */
  events: ServingEvent[];
  /** True once the server's history has been read (or found missing: an older server). */
  backfilled: boolean;
  push(sample: ServingStats): void;
  clear(): void;
  /** Reads the server's bounded history and merges it under the live samples (on load and on reconnect). */
  backfill(): Promise<void>;
  /** Subscribes to `serving.stats` and `serving.event`, then backfills; returns the unsubscribe function. */
  start(): () => void;
}

export type StatsStore = StoreApi<StatsState>;

/**
 * The server pushes two samples a second; the Live page's longest window is 15 minutes, 1,800
 * samples. A minute more (1,920) covers a server clock that pushes a little faster and the one
 * sample before the window that a delta needs.
 */
export const DEFAULT_STATS_CAPACITY = 1_920;
/** Events kept for the markers (the server keeps more). */
export const MAX_EVENTS = 500;

export function createStatsStore(client: ContractClient, options: { capacity?: number; intervalMs?: number } = {}): StatsStore {
  const capacity = options.capacity ?? DEFAULT_STATS_CAPACITY;
  const intervalMs = options.intervalMs ?? 500;
  const samples = new RingBuffer<ServingStats>(capacity);
  const points = new RingBuffer<LivePoint>(capacity);
  let previous: ServingStats | null = null;
  let backfillSeq = 0;
  return createStore<StatsState>()((set, get) => {
    const addEvents = (incoming: readonly ServingEvent[]): void => {
      if (incoming.length === 0) return;
      const byId = new Map<number, ServingEvent>();
      for (const e of get().events) byId.set(e.id, e);
      for (const e of incoming) byId.set(e.id, e);
      const merged = [...byId.values()].sort((x, y) => Date.parse(x.at) - Date.parse(y.at) || x.id - y.id);
      set({ events: merged.slice(-MAX_EVENTS) });
    };
    return {
      samples: [],
      points: [],
      capacity,
      events: [],
      backfilled: false,
      push(sample) {
        points.push(derivePoint(sample, previous));
        samples.push(sample);
        previous = sample;
        set({ samples: samples.toArray(), points: points.toArray() });
      },
      clear() {
        samples.clear();
        points.clear();
        previous = null;
        set({ samples: [], points: [] });
      },
      async backfill() {
        const seq = ++backfillSeq;
        const result = await client.invoke('serving.history', { sinceMs: capacity * intervalMs });
        if (seq !== backfillSeq) return;
        if (!result.ok) {
          // An older server has no history: the charts fill from the live samples alone.
          set({ backfilled: true });
          return;
        }
        // The live samples that arrived meanwhile win over the history's copies of the same times.
        const live = samples.toArray();
        const byAt = new Map<string, ServingStats>();
        for (const s of result.value.samples) byAt.set(s.at, s);
        for (const s of live) byAt.set(s.at, s);
        const merged = [...byAt.values()].sort((x, y) => Date.parse(x.at) - Date.parse(y.at)).slice(-capacity);
        samples.clear();
        points.clear();
        previous = null;
        for (const s of merged) {
          points.push(derivePoint(s, previous));
          samples.push(s);
          previous = s;
        }
        set({ samples: samples.toArray(), points: points.toArray(), backfilled: true });
        addEvents(result.value.events);
      },
      start() {
        const stopStats = client.subscribe('serving.stats', (sample) => get().push(sample));
        const stopEvents = client.subscribe('serving.event', (e) => addEvents([e]));
        void get().backfill();
        return () => {
          stopStats();
          stopEvents();
        };
      },
    };
  });
}
