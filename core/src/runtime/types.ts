import type { Slot } from '../contract/index.js';

/** The manifest of a policy export (`switchyard.json`), spec §4.1. */
export interface Manifest {
  policy: string;
  version: string;
  model_id: string;
  kind: 'direct' | 'iterative';
  observation: { name: string; dim: number };
  action: { name: string; dim: number; chunk: number };
  iterative?: { steps: number; warm_steps: number };
  notes?: string;
  created_at?: string;
  metadata?: Record<string, unknown>;
}

/** An export directory read from disk and checked. */
export interface PolicyExport {
  dir: string;
  manifest: Manifest;
  /** First 16 hex of SHA-256 over `*.onnx`/`*.bin`, name then bytes, sorted by name. */
  modelHash: string;
  /** `<model_id>@<model_hash>` */
  modelVersion: string;
  sizeBytes: number;
  files: { name: string; bytes: number }[];
  /** Absolute path of the `.onnx` file the runtime loads. */
  modelPath: string;
}

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
