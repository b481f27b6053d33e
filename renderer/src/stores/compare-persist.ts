import type { CompareResult, CompareSelection, CompareStore } from './compare-store';

/** Where the last comparison is kept in the browser (one per workbench origin). */
export const LAST_COMPARISON_KEY = 'switchyard.compare.last';

interface Saved {
  savedAt: string;
  selection: CompareSelection;
  result: CompareResult;
}

/**
 * Keeps the last comparison across reloads: restores it into the store now (marked by
 * `restoredAt`, so the page can say it is from an earlier visit), and saves every new result.
 */
export function keepLastComparison(store: CompareStore, storage: Pick<Storage, 'getItem' | 'setItem'> | null, now: () => Date = () => new Date()): () => void {
  if (storage === null) return () => undefined;
  try {
    const raw = storage.getItem(LAST_COMPARISON_KEY);
    if (raw !== null) {
      const saved = JSON.parse(raw) as Saved;
      if (saved?.result?.comparison && saved.selection) {
        store.setState({ result: saved.result, selection: saved.selection, phase: 'done', restoredAt: saved.savedAt });
      }
    }
  } catch {
    // A damaged entry is ignored: the page starts empty as before.
  }
  // Subscribed after the restore: every result seen here is a new comparison.
  return store.subscribe((state, previous) => {
    if (state.result === null || state.result === previous.result) return;
    if (state.restoredAt !== null) store.setState({ restoredAt: null });
    try {
      const saved: Saved = { savedAt: now().toISOString(), selection: state.result.for, result: state.result };
      storage.setItem(LAST_COMPARISON_KEY, JSON.stringify(saved));
    } catch {
      // Storage full or off: the comparison still shows, it is just not kept.
    }
  });
}
