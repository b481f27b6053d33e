import type { Slot } from '../contract/index.js';
import { loadPhaseOf, type LoadPhase } from '../runtime/load-error.js';
import type { ServingController } from './serving-controller.js';

/**
 * The states of the reference VLA server's `/health`, so orchestrators and robot clients written
 * for it read Switchyard the same way.
 */
export type HealthState = 'initializing' | 'loading' | 'warming' | 'ready' | 'warmup_failed' | 'degraded';

export const HEALTH_STATES: readonly HealthState[] = ['initializing', 'loading', 'warming', 'ready', 'warmup_failed', 'degraded'];

/** What the engine reports while it brings a slot's policy up (see `EngineConfig.onSlotLoad`). */
export interface SlotLoadEvent {
  slot: Slot;
  ref: string;
  /**
   * `loading`: resolving and checking the export on disk; `warming`: the worker is creating the
   * ONNX session and running the warm-up inputs; `ready`: the runner answered ready;
   * `failed`: it never became ready (`error` says why).
   */
  phase: 'loading' | 'warming' | 'ready' | 'failed';
  error?: unknown;
}

export interface HealthSlot {
  slot: Slot;
  model_version: string;
  /** `policy@label` when the slot serves a registered version; absent for a bare directory (no paths on an open endpoint). */
  version_ref?: string;
  kind: string;
  ready: boolean;
  drained: boolean;
  consecutive_crashes: number;
  crashes: number;
}

export interface HealthBody {
  status: 'ok' | 'not_ready';
  state: HealthState;
  model_loaded: boolean;
  inference_mode: string;
  consecutive_crashes: number;
  max_consecutive_crashes: number;
  mode: 'off' | 'single' | 'ab';
  drain: string;
  split: number | null;
  slots: HealthSlot[];
  /** Why the last start failed (state `warmup_failed`); the message, which names files, stays in the log. */
  error?: { code: string; phase: LoadPhase };
}

interface PendingLoad {
  phase: SlotLoadEvent['phase'];
  error?: unknown;
}

/**
 * Follows a server from its start to serving. Before any slot serves, the state comes from the
 * engine's load events; once serving, it is derived from the controller at each call (a drained
 * pair is `degraded`, a worker warming up again after a restart is `warming`), so it never lags.
 */
export class HealthTracker {
  private readonly pending = new Map<Slot, PendingLoad>();

  /** Bound, so it can be handed to `createEngine({ onSlotLoad })` as is. */
  readonly onSlotLoad = (e: SlotLoadEvent): void => {
    this.pending.set(e.slot, e.error === undefined ? { phase: e.phase } : { phase: e.phase, error: e.error });
  };

  state(serving: ServingController): HealthState {
    if (serving.isServing) {
      if (serving.drainState() === 'degraded') return 'degraded';
      return serving.ready ? 'ready' : 'warming';
    }
    const phases = [...this.pending.values()].map((p) => p.phase);
    if (phases.includes('failed')) return 'warmup_failed';
    if (phases.includes('loading')) return 'loading';
    // A slot that is up waits for its partner before serving starts: still warming as a whole.
    if (phases.includes('warming') || phases.includes('ready')) return 'warming';
    return 'initializing';
  }

  body(serving: ServingController): HealthBody {
    const state = this.state(serving);
    const st = serving.state();
    const primary = st.slots.filter((s) => s.slot !== 'shadow');
    const kinds = [...new Set(primary.map((s) => s.kind))];
    const body: HealthBody = {
      status: state === 'ready' ? 'ok' : 'not_ready',
      state,
      model_loaded: serving.isServing,
      inference_mode: kinds.join('+'),
      consecutive_crashes: primary.reduce((m, s) => Math.max(m, s.consecutiveFailures), 0),
      max_consecutive_crashes: st.maxConsecutiveCrashes,
      mode: st.mode,
      drain: st.drain,
      split: st.mode === 'ab' ? st.split : null,
      slots: st.slots.map((s) => ({
        slot: s.slot,
        model_version: s.modelVersion,
        ...(isRegisteredRef(s.versionRef) ? { version_ref: s.versionRef } : {}),
        kind: s.kind,
        ready: s.ready,
        drained: s.drained,
        consecutive_crashes: s.consecutiveFailures,
        crashes: s.crashes,
      })),
    };
    if (state === 'warmup_failed') {
      const failed = [...this.pending.values()].find((p) => p.phase === 'failed');
      const code = (failed?.error as { code?: unknown } | undefined)?.code;
      body.error = { code: typeof code === 'string' ? code : 'SWY_ERR_MODEL_LOAD', phase: loadPhaseOf(failed?.error) };
    }
    return body;
  }
}

/** `cartpole@1.2.0` or `cartpole@production`, as opposed to a folder on this machine. */
function isRegisteredRef(ref: string): boolean {
  return ref.includes('@') && !ref.includes('/') && !ref.includes('\\');
}
