import { createStore, type StoreApi } from 'zustand/vanilla';
import type { ContractClient, PolicySummary, SwitchyardErrorShape, VersionSummary } from '@contract';

export interface VersionRef {
  policy: string;
  label: string;
}

export interface VersionsState {
  status: 'idle' | 'loading' | 'ready' | 'error';
  policies: PolicySummary[];
  error: SwitchyardErrorShape | null;
  selected: VersionRef | null;
  load(): Promise<void>;
  select(ref: VersionRef | null): void;
}

export type VersionsStore = StoreApi<VersionsState>;

export function createVersionsStore(client: ContractClient): VersionsStore {
  let loadSeq = 0;
  return createStore<VersionsState>()((set, get) => ({
    status: 'idle',
    policies: [],
    error: null,
    selected: null,

    async load() {
      const seq = ++loadSeq;
      set({ status: 'loading' });
      const result = await client.invoke('policies.list', {});
      if (seq !== loadSeq) return; // a newer load() superseded this one
      if (!result.ok) {
        set({ status: 'error', error: result.error });
        return;
      }
      const policies = result.value.policies;
      const selected = get().selected;
      // Keep the selection only if that version still exists.
      const stillThere = selected !== null && findVersion(policies, selected) !== null;
      set({ status: 'ready', error: null, policies, selected: stillThere ? selected : null });
    },

    select(ref) {
      set({ selected: ref });
    },
  }));
}

export function findVersion(policies: readonly PolicySummary[], ref: VersionRef): VersionSummary | null {
  const policy = policies.find((p) => p.name === ref.policy);
  return policy?.versions.find((v) => v.label === ref.label) ?? null;
}

/** Selector: the selected version's summary (a stable reference from the state), or null. */
export function selectSelectedVersion(state: VersionsState): VersionSummary | null {
  return state.selected === null ? null : findVersion(state.policies, state.selected);
}
