import type { ReactNode } from 'react';
import type { SlotState } from '@contract';
import { formatSplit } from '../format';

interface Props {
  split: number;
  routerSplit: number;
  pending: boolean;
  slotA: SlotState | undefined;
  slotB: SlotState | undefined;
  onChange: (split: number) => void;
  /** What the split means now and why it is what it is (effective share, cause of the last change). */
  children?: ReactNode;
}

/** The A/B split slider. Every change goes to the router at once (the store throttles). */
export function SplitControl({ split, routerSplit, pending, slotA, slotB, onChange, children }: Props) {
  const text = formatSplit(split);
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
        onChange={(e) => onChange(Number(e.currentTarget.value))}
      />
      <p className="split-status" role="status">
        {pending
          ? 'Applying to the router…'
          : `The router sends ${routerSplit}% of new episodes to A.`}
      </p>
      {children}
    </section>
  );
}
