import { useEffect, useRef, useState } from 'react';
import { useServing, useStores } from '../stores/context';

/** How long the undo stays offered after an operator's split change lands. */
export const UNDO_MS = 8_000;

/**
 * After the operator's split change reaches the router, offers to put the split back as it was
 * before the drag began, for a few seconds: a slip of the slider is one click to repair.
 */
export function SplitUndo() {
  const { serving } = useStores();
  const draft = useServing((s) => s.draftSplit);
  const pending = useServing((s) => s.splitPending);
  const split = useServing((s) => s.state?.split ?? null);
  const before = useRef<number | null>(null);
  const [offer, setOffer] = useState<{ from: number; to: number } | null>(null);
  // While the pointer or the keyboard focus is on the offer it stays: it never vanishes under the hand about to click it.
  const [held, setHeld] = useState(false);

  // The split before the operator's change began: the router's value when the first draft appeared.
  if (draft !== null && before.current === null) before.current = split;

  useEffect(() => {
    if (draft !== null || pending || before.current === null || split === null) return;
    const from = before.current;
    before.current = null;
    if (from === split) return;
    setOffer({ from, to: split });
  }, [draft, pending, split]);

  useEffect(() => {
    if (offer === null || held) return;
    const t = setTimeout(() => setOffer(null), UNDO_MS);
    return () => clearTimeout(t);
  }, [offer, held]);

  if (offer === null) return null;
  return (
    <p
      className="split-undo"
      role="status"
      aria-label="Undo split"
      onPointerEnter={() => setHeld(true)}
      onPointerLeave={() => setHeld(false)}
      onFocus={() => setHeld(true)}
      onBlur={() => setHeld(false)}
    >
      Split changed from {offer.from}% to {offer.to}% to A.{' '}
      <button
        type="button"
        className="button small"
        onClick={() => {
          setOffer(null);
          setHeld(false);
          serving.getState().setSplit(offer.from);
        }}
      >
        Undo (back to {offer.from}%)
      </button>
    </p>
  );
}
