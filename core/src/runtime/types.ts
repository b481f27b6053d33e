import type { Slot } from '../contract/index.js';
import type { Manifest, PolicyExport } from '../domain/policy-export.js';

// Defined in the domain (the store records exports too); re-exported for the runtime's readers.
export type { Manifest, PolicyExport };

export interface ActInput {
  /** Routing/caching key; null for a degraded request (no episode id). */
  episodeId: string | null;
  state: number[];
}

export interface ActOutput {
  /** `[num_actions][action_dim]` */
  actions: number[][];
  numActions: number;
  actionDim: number;
  cache: 'hit' | 'miss' | 'none';
  denoiseSteps: number;
  /** Time spent inside the worker's ONNX run(s), milliseconds. */
  inferMs: number;
}

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
