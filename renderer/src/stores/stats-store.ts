import { createStore, type StoreApi } from 'zustand/vanilla';
import type { ContractClient, ServingStats } from '@contract';
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
  push(sample: ServingStats): void;
  clear(): void;
  /** Subscribes to `serving.stats`; returns the unsubscribe function. */
  start(): () => void;
}

export type StatsStore = StoreApi<StatsState>;

/**
 * The server pushes two samples a second; the Live page's longest window is 15 minutes, 1,800
 * samples. A minute more (1,920) covers a server clock that pushes a little faster and the one
 * sample before the window that a delta needs.
 */
export const DEFAULT_STATS_CAPACITY = 1_920;

export function createStatsStore(client: ContractClient, options: { capacity?: number } = {}): StatsStore {
  const capacity = options.capacity ?? DEFAULT_STATS_CAPACITY;
  const samples = new RingBuffer<ServingStats>(capacity);
  const points = new RingBuffer<LivePoint>(capacity);
  let previous: ServingStats | null = null;
  return createStore<StatsState>()((set, get) => ({
    samples: [],
    points: [],
    capacity,
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
    start() {
      return client.subscribe('serving.stats', (sample) => get().push(sample));
    },
  }));
}
