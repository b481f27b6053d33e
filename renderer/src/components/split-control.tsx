import { useEffect, useRef, type ReactNode } from 'react';
import type { SlotState } from '@contract';
import { formatSplit } from '../format';

/** Key presses that come this close together are one change: a held arrow key sends once. */
export const KEY_SETTLE_MS = 400;

interface Props {
  split: number;
  routerSplit: number;
  pending: boolean;
  slotA: SlotState | undefined;
  slotB: SlotState | undefined;
  /** The value under the operator's hand, shown at once and not sent. */
  onPreview: (split: number) => void;
  /** Where the drag (on release) or the key presses (once they settle) came to rest: sent to the router. */
  onCommit: (split: number) => void;
  /** What the split means now and why it is what it is (effective share, cause of the last change). */
  children?: ReactNode;
}

/**
 * The A/B split slider. A drag sends one value, on release; key presses send once they settle
 * (KEY_SETTLE_MS), so the router and the serving history see the operator's decision, not every
 * value the thumb passed.
 */
export function SplitControl({ split, routerSplit, pending, slotA, slotB, onPreview, onCommit, children }: Props) {
  const text = formatSplit(split);
  const dragging = useRef(false);
  const latest = useRef<number | null>(null);
  const keyTimer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const commitRef = useRef(onCommit);
  commitRef.current = onCommit;

  const flush = (): void => {
    if (keyTimer.current !== null) clearTimeout(keyTimer.current);
    keyTimer.current = null;
    const v = latest.current;
    latest.current = null;
    if (v !== null) commitRef.current(v);
  };

  useEffect(
    () => () => {
      // Leaving the page mid-change still sends where it rested.
      if (keyTimer.current !== null) clearTimeout(keyTimer.current);
      const v = latest.current;
      latest.current = null;
      if (v !== null) commitRef.current(v);
    },
    [],
  );

  const startDrag = (): void => {
    dragging.current = true;
    const end = (): void => {
      window.removeEventListener('pointerup', end);
      window.removeEventListener('pointercancel', end);
      dragging.current = false;
      flush();
    };
    // On the window: the pointer may be released anywhere, off the slider.
    window.addEventListener('pointerup', end);
    window.addEventListener('pointercancel', end);
  };

  const change = (value: number): void => {
    latest.current = value;
    onPreview(value);
    if (dragging.current) return;
    if (keyTimer.current !== null) clearTimeout(keyTimer.current);
    keyTimer.current = setTimeout(flush, KEY_SETTLE_MS);
  };

  return (
    <section className="card split-card" aria-labelledby="split-heading">
      <header className="card-header">
        <h2 id="split-heading">Traffic split</h2>
        <span className="split-text" aria-hidden="true">
          {text}
        </span>
      </header>
      <div className="split-ends">
        <span>
          <span className="slot-chip chip-a" aria-hidden="true">
            A
          </span>
          {slotA?.versionRef ?? '—'}
        </span>
        <span>
          {slotB?.versionRef ?? '—'}
          <span className="slot-chip chip-b" aria-hidden="true">
            B
          </span>
        </span>
      </div>
      <input
        className="split-slider"
        type="range"
        min={0}
        max={100}
        step={1}
        value={split}
        aria-label="Split"
        aria-valuetext={text}
        style={{ ['--split' as string]: `${split}%` }}
        onPointerDown={startDrag}
        onBlur={() => {
          if (!dragging.current) flush();
        }}
        onChange={(e) => change(Number(e.currentTarget.value))}
      />
      <p className="split-status" role="status">
        {pending ? 'Applying to the router…' : split !== routerSplit ? `Not applied yet (sent when you let go): the router still sends ${routerSplit}% of new episodes to A.` : `The router sends ${routerSplit}% of new episodes to A.`}
      </p>
      {children}
    </section>
  );
}
