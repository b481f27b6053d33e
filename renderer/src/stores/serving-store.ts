import { createStore, type StoreApi } from 'zustand/vanilla';
import { ErrorCodes, type ContractClient, type ServingState, type Slot, type SwitchyardErrorShape } from '@contract';

export interface ServingStoreState {
  status: 'idle' | 'loading' | 'ready' | 'error';
  /** The router's state as last reported by the server. */
  state: ServingState | null;
  /** Failure to read the serving state. */
  error: SwitchyardErrorShape | null;
  /** Failure of an operator action (split, restore). */
  actionError: SwitchyardErrorShape | null;
  /** The split the operator is setting and the router has not confirmed yet; null when in sync. */
  draftSplit: number | null;
  /** A `serving.setSplit` call is in flight or queued. */
  splitPending: boolean;
  /** The slot whose restore is in flight. */
  restoring: Slot | null;
  load(): Promise<void>;
  /** Sends the split at once; at most one call in flight, and the latest value always wins. */
  setSplit(split: number): void;
  /** Shows a split the operator is dragging to, without sending it (the drag sends on release). */
  previewSplit(split: number): void;
  /** Sends where a drag or key presses came to rest; nothing when that is the router's split already. */
  commitSplit(split: number): void;
  restoreSlot(slot: Slot): Promise<void>;
  dismissActionError(): void;
  /** Subscribes to `serving.state` and loads the current state; returns the unsubscribe function. */
  start(): () => void;
}

export type ServingStore = StoreApi<ServingStoreState>;

export function createServingStore(client: ContractClient): ServingStore {
  let stateSeq = 0; // bumped by every state we accept from the server
  let inFlight = false;
  let queued: number | null = null;
  // A preview the operator has not let go of yet: an answer to an earlier send must not wipe it.
  let previewing = false;

  return createStore<ServingStoreState>()((set, get) => {
    const acceptState = (state: ServingState): void => {
      stateSeq += 1;
      set({ state, status: 'ready', error: null });
    };

    const send = async (split: number): Promise<void> => {
      inFlight = true;
      set({ splitPending: true });
      const result = await client.invoke('serving.setSplit', { split });
      inFlight = false;
      if (result.ok) {
        acceptState(result.value);
        set({ actionError: null });
      } else {
        set({ actionError: result.error });
      }
      const next = queued;
      queued = null;
      if (next !== null && (next !== split || !result.ok)) {
        void send(next);
        return;
      }
      set(previewing ? { splitPending: false } : { splitPending: false, draftSplit: null });
    };

    return {
      status: 'idle',
      state: null,
      error: null,
      actionError: null,
      draftSplit: null,
      splitPending: false,
      restoring: null,

      async load() {
        const seqAtStart = stateSeq;
        if (get().state === null) set({ status: 'loading' });
        const result = await client.invoke('serving.getState', {});
        if (!result.ok) {
          if (result.error.code === ErrorCodes.SWY_ERR_NOT_SERVING) {
            acceptState(offState());
            return;
          }
          set({ status: 'error', error: result.error });
          return;
        }
        // A pushed state that arrived while we waited is newer than this answer.
        if (stateSeq !== seqAtStart) return;
        acceptState(result.value);
      },

      setSplit(split) {
        previewing = false;
        const value = Math.max(0, Math.min(100, Math.round(split)));
        set({ draftSplit: value, actionError: null });
        if (inFlight) {
          queued = value;
          return;
        }
        void send(value);
      },

      previewSplit(split) {
        previewing = true;
        set({ draftSplit: Math.max(0, Math.min(100, Math.round(split))), actionError: null });
      },

      commitSplit(split) {
        const value = Math.max(0, Math.min(100, Math.round(split)));
        previewing = false;
        if (!inFlight && queued === null && value === get().state?.split) {
          set({ draftSplit: null });
          return;
        }
        get().setSplit(value);
      },

      async restoreSlot(slot) {
        set({ restoring: slot, actionError: null });
        const result = await client.invoke('serving.restoreSlot', { slot });
        if (result.ok) {
          acceptState(result.value);
          set({ restoring: null });
        } else {
          set({ restoring: null, actionError: result.error });
        }
      },

      dismissActionError() {
        set({ actionError: null });
      },

      start() {
        const unsubscribe = client.subscribe('serving.state', acceptState);
        void get().load();
        return unsubscribe;
      },
    };
  });
}

function offState(): ServingState {
  return { mode: 'off', split: 50, drain: 'none', slots: [], actUrl: null, rtc: false, maxConsecutiveCrashes: 5 };
}

/** Selector: the split to show (the operator's draft while it is on its way, else the router's). */
export function selectShownSplit(s: ServingStoreState): number | null {
  return s.draftSplit ?? s.state?.split ?? null;
}
