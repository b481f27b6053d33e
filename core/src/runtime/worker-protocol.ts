/**
 * Messages between PolicyRunner (main thread) and policy-worker (worker thread).
 * Plain structured-clone objects; Float32Array buffers are transferred.
 */
import type { SwitchyardErrorShape } from '../contract/errors.js';
import type { LoadPhase } from './load-error.js';
import type { Manifest } from './types.js';

export interface WorkerInit {
  modelPath: string;
  manifest: Manifest;
  device: 'auto' | 'cpu' | 'cuda';
  slot: string;
  episodeCacheSize: number;
  rtc: boolean;
  /** ONNX Runtime intra-op threads; 1 suits these small models best. */
  intraOpThreads: number;
  /** Honour `debug` messages (tests only). */
  testHooks: boolean;
}

export type ToWorker =
  | { type: 'act'; id: number; episodeId: string | null; state: Float32Array }
  | { type: 'batch'; id: number; obs: Float32Array; n: number }
  /** Tests only (needs `testHooks`): make the worker misbehave. */
  | { type: 'debug'; action: 'exit' | 'throw' | 'block'; ms?: number };

export type FromWorker =
  | { type: 'ready'; provider: string; fallbackReason?: string; loadMs: number; warmupMs: number }
  /** Loading failed; `phase` says at which step (absent from older workers: `load`). */
  | { type: 'fatal'; error: SwitchyardErrorShape; phase?: LoadPhase; provider?: string }
  | {
      type: 'act-result';
      id: number;
      /** `[chunk * action_dim]`, row-major. */
      actions: Float32Array;
      cache: 'hit' | 'miss' | 'none';
      denoiseSteps: number;
      inferMs: number;
    }
  | { type: 'batch-result'; id: number; actions: Float32Array }
  | { type: 'error'; id: number; error: SwitchyardErrorShape };
