import type { Slot } from '@contract';

/** Slot colours, the same on every page (they match the `--slot-*` variables of styles.css). */
export const SLOT_COLORS: Record<Slot, string> = { a: '#2563eb', b: '#ea580c', prod: '#16a34a', shadow: '#7c3aed' };

export const SLOT_NAMES: Record<Slot, string> = { a: 'A', b: 'B', prod: 'Prod', shadow: 'Shadow' };

/** The shadow slot is drawn dashed: it answers off the critical path. */
export function slotDash(slot: Slot): string | undefined {
  return slot === 'shadow' ? '4 3' : undefined;
}
