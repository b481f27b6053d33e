import type { ActResult, Slot } from '../contract/index.js';
import type { Manifest, PolicyExport } from '../domain/policy-export.js';

// Defined in the domain (the store records exports too); re-exported for the runtime's readers.
export type { Manifest, PolicyExport };

export interface ActInput {
  /** Routing/caching key; null for a degraded request (no episode id). */
  episodeId: string | null;
  state: number[];
}

/** What a policy answered for one request: the contract's `ActResult` (one definition). */
export type ActOutput = ActResult;

export interface RunnerOptions {
  export: PolicyExport;
  slot: Slot;
  device: 'auto' | 'cpu' | 'cuda';
  /** Episodes remembered per slot for warm starts / RTC; least recently used evicted. */
  episodeCacheSize?: number;
  rtc?: boolean;
}

/** What serving needs of a loaded policy; `PolicyRunner` is the real one. */
export interface SlotRunner {
  readonly export: PolicyExport;
  readonly ready: boolean;
  /** The execution provider the model runs on (`cpu`, `cuda`). */
  readonly provider?: string;
  act(input: ActInput): Promise<ActOutput>;
  close(): Promise<void>;
}
