/**
 * Messages between PolicyRunner (main thread) and policy-worker (worker thread).
 * Plain structured-clone objects.
 *
 * `/act` requests travel coalesced: every act the runner receives within one event-loop turn
 * goes out as one `acts` message, and the worker answers every act it ran together with one
 * `acts-result`. A message costs the same fixed price (serialize, wake the other thread, emit)
 * whatever it carries, and at these sizes that fixed price is most of the hop. Number arrays of
 * up to `SMALL_ARRAY` values travel as plain arrays (cheaper to clone than a transferred
 * buffer); larger ones as Float32Array (evaluation batches are transferred).
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
  /** Raised by the main thread to stop this worker (see worker-stop.ts); one per worker. */
  stopFlag?: SharedArrayBuffer;
  /** The shared small-acts lane (act-channel.ts); absent: every act travels as a message. */
  actChannel?: SharedArrayBuffer;
}

/** Up to this many values a number array is sent as a plain array, above it as a Float32Array. */
export const SMALL_ARRAY = 256;

/** `acts-result` `info` codes for the cache status. */
export const CACHE_CODES = ['none', 'hit', 'miss'] as const;

export type ToWorker =
  | {
      type: 'acts';
      /** One id per act, in arrival order. */
      ids: number[];
      /** Per act: its episode id, or null for a degraded request. */
      episodes: (string | null)[];
      /** `[ids.length * obs_dim]`, row-major, already checked finite in float32. */
      states: number[] | Float32Array;
    }
  | { type: 'batch'; id: number; obs: Float32Array; n: number }
  /** Leave as soon as no native call is running (see worker-stop.ts). */
  | { type: 'stop' }
  /** Tests only (needs `testHooks`): make the worker misbehave. */
  | { type: 'debug'; action: 'exit' | 'throw' | 'block'; ms?: number };

export type FromWorker =
  | { type: 'ready'; provider: string; fallbackReason?: string; loadMs: number; warmupMs: number }
  /** Loading failed; `phase` says at which step (absent from older workers: `load`). */
  | { type: 'fatal'; error: SwitchyardErrorShape; phase?: LoadPhase; provider?: string }
  | {
      type: 'acts-result';
      /** The ids answered, in the order they were run. */
      ids: number[];
      /** `[ids.length * chunk * action_dim]`, row-major; a failed act's row is zeros. */
      actions: number[] | Float32Array;
      /** Per act, 3 values: cache code (index into CACHE_CODES), denoise steps, inference ms. */
      info: number[];
      /** Per act: why it failed, or null; left out when none failed. */
      errors?: (SwitchyardErrorShape | null)[];
    }
  | { type: 'batch-result'; id: number; actions: Float32Array }
  | { type: 'error'; id: number; error: SwitchyardErrorShape };
