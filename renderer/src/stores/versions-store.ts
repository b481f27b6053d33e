import { createStore, type StoreApi } from 'zustand/vanilla';
import type { ContractClient, HistoryEntry, PolicySummary, SwitchyardErrorShape, VersionSummary } from '@contract';

export interface VersionRef {
  policy: string;
  label: string;
}

export interface VersionsState {
  status: 'idle' | 'loading' | 'ready' | 'error';
  policies: PolicySummary[];
  error: SwitchyardErrorShape | null;
  selected: VersionRef | null;
  /** Every policy's stage history (for the FORCED mark and the detail pane); empty where it could not be read. */
  history: Record<string, HistoryEntry[]>;
  /** The newest verdict's id per version (`policy@label`), for the Last verdict link; among each policy's newest 200 verdicts. */
  lastVerdictId: Record<string, number>;
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
    history: {},
    lastVerdictId: {},

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
      const [histories, verdictLists] = await Promise.all([
        Promise.all(policies.map((p) => client.invoke('lifecycle.history', { policy: p.name }))),
        Promise.all(policies.map((p) => client.invoke('verdicts.list', { policy: p.name, limit: 200 }))),
      ]);
      if (seq !== loadSeq) return;
      const lastVerdictId: Record<string, number> = {};
      for (const r of verdictLists) {
        // Newest first: the first verdict seen for a candidate is its last one.
        if (r?.ok) for (const v of r.value.verdicts) if (!(v.candidate in lastVerdictId)) lastVerdictId[v.candidate] = v.id;
      }
      const history: Record<string, HistoryEntry[]> = {};
      policies.forEach((p, i) => {
        const h = histories[i];
        history[p.name] = h?.ok ? h.value.entries : [];
      });
      const selected = get().selected;
      // Keep the selection only if that version still exists.
      const stillThere = selected !== null && findVersion(policies, selected) !== null;
      set({ status: 'ready', error: null, policies, history, lastVerdictId, selected: stillThere ? selected : null });
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

/** A version's stage changes, newest first. */
export function versionHistory(history: Record<string, HistoryEntry[]>, v: VersionRef): HistoryEntry[] {
  return (history[v.policy] ?? []).filter((e) => e.label === v.label).sort((a, b) => (a.at === b.at ? b.id - a.id : a.at < b.at ? 1 : -1));
}

/**
 * The change that put the version in the stage it is in now, when that change was forced (an
 * override): what the FORCED mark on Versions shows. Null when it was not forced.
 */
export function forcedEntry(history: Record<string, HistoryEntry[]>, v: VersionRef & { stage: string }): HistoryEntry | null {
  const into = versionHistory(history, v).find((e) => e.to === v.stage);
  return into?.forced ? into : null;
}
