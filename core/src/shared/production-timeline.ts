/**
 * The stage-move table and the production timeline as pure functions, shared by core's lifecycle
 * (domain/lifecycle.ts, rows keyed by version id) and the workbench (renderer, rows keyed by
 * label), so the Promote / Rollback page shows what the server will do from the same code rather
 * than from a copy of it. The server still decides; the page only previews.
 *
 * This folder is the one place in core besides the contract that the renderer may import
 * (`@shared`): plain TypeScript, no Node module, no package, and from core only contract types.
 */
import type { Stage, TransitionName } from '../contract/schemas.js';

/** The fields of a stage-history row the timeline reads. */
export interface TimelineRow {
  id: number;
  /** ISO-8601 UTC. */
  at: string;
  from: Stage | null;
  to: Stage;
  /** `rollback` pops the production stack; anything else to production pushes. */
  action: string;
}

/**
 * The rules transition whose GO verdict a move from `from` to `to` needs: candidate or archived
 * to staging (un-archiving needs the same evidence), staging to production. Null: no gated move
 * goes there (archiving is not gated; nothing goes back to candidate).
 */
export function gatedTransition(from: Stage, to: Stage): TransitionName | null {
  if (to === 'staging') return from === 'candidate' || from === 'archived' ? 'candidate->staging' : null;
  if (to === 'production') return from === 'staging' ? 'staging->production' : null;
  return null;
}

function byId<R extends TimelineRow>(rows: readonly R[]): R[] {
  return [...rows].sort((a, b) => a.id - b.id);
}

/**
 * The production stack after replaying the rows in id order: a promotion (any row to production
 * that is not a rollback) pushes its version, a rollback pops the stack down to its version.
 */
export function productionStackOf<R extends TimelineRow, K>(rows: readonly R[], keyOf: (r: R) => K): K[] {
  const stack: K[] = [];
  for (const r of byId(rows)) {
    if (r.to !== 'production') continue;
    const key = keyOf(r);
    if (r.action === 'rollback') {
      const i = stack.lastIndexOf(key);
      if (i < 0) stack.splice(0, stack.length, key);
      else stack.splice(i + 1);
    } else if (stack[stack.length - 1] !== key) {
      stack.push(key);
    }
  }
  return stack;
}

export interface TimelineSpan<K> {
  key: K;
  /** When it became production. */
  from: string;
  /** When it stopped being production; null = still is. */
  until: string | null;
}

/** Every span of time a version was production, oldest first. */
export function productionSpansOf<R extends TimelineRow, K>(rows: readonly R[], keyOf: (r: R) => K): TimelineSpan<K>[] {
  const spans: TimelineSpan<K>[] = [];
  let open: TimelineSpan<K> | null = null;
  for (const r of byId(rows)) {
    const key = keyOf(r);
    if (r.from === 'production' && open !== null && open.key === key) {
      open.until = r.at;
      open = null;
    }
    if (r.to === 'production') {
      if (open !== null) open.until = r.at;
      open = { key, from: r.at, until: null };
      spans.push(open);
    }
  }
  return spans;
}

/**
 * Where a rollback goes: the version below the current production on the production stack,
 * skipping archived versions (and the current one, should it appear again). Null: nowhere.
 */
export function rollbackPlanOf<R extends TimelineRow, K>(
  rows: readonly R[],
  keyOf: (r: R) => K,
  currentProduction: K,
  isArchived: (key: K) => boolean,
): { target: K; skipped: K[] } | null {
  const stack = productionStackOf(rows, keyOf);
  if (stack[stack.length - 1] !== currentProduction) stack.push(currentProduction);
  const skipped: K[] = [];
  for (let i = stack.length - 2; i >= 0; i--) {
    const k = stack[i] as K;
    if (k === currentProduction) continue;
    if (isArchived(k)) {
      if (!skipped.includes(k)) skipped.push(k);
      continue;
    }
    return { target: k, skipped };
  }
  return null;
}
