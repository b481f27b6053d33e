import { createStore, type StoreApi } from 'zustand/vanilla';
import type { ContractClient, ServingStats } from '@contract';
import { RingBuffer } from './ring-buffer';

export interface StatsState {
  /** The last `capacity` samples, oldest first (a new array on every push, for React). */
  samples: ServingStats[];
  capacity: number;
  push(sample: ServingStats): void;
  clear(): void;
  /** Subscribes to `serving.stats`; returns the unsubscribe function. */
  start(): () => void;
}

export type StatsStore = StoreApi<StatsState>;

/** At two samples a second, 120 samples is the last minute. */
export const DEFAULT_STATS_CAPACITY = 120;

export function createStatsStore(client: ContractClient, options: { capacity?: number } = {}): StatsStore {
  const buffer = new RingBuffer<ServingStats>(options.capacity ?? DEFAULT_STATS_CAPACITY);
  return createStore<StatsState>()((set, get) => ({
    samples: [],
    capacity: buffer.capacity,
    push(sample) {
      buffer.push(sample);
      set({ samples: buffer.toArray() });
    },
    clear() {
      buffer.clear();
      set({ samples: [] });
    },
    start() {
      return client.subscribe('serving.stats', (sample) => get().push(sample));
    },
  }));
}
