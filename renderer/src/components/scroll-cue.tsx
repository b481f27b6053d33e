import { useEffect, useRef, useState, type ReactNode } from 'react';

interface Cue {
  /** Columns (header cells) cut off on the right, and on the left after a scroll. */
  right: number;
  left: number;
}

/** How many header cells of `el`'s table lie wholly or partly outside its visible width, each side. */
export function hiddenColumns(viewLeft: number, viewRight: number, cells: readonly { left: number; right: number }[]): Cue {
  let right = 0;
  let left = 0;
  for (const c of cells) {
    if (c.right > viewRight + 1) right += 1;
    else if (c.left < viewLeft - 1) left += 1;
  }
  return { right, left };
}

/**
 * A horizontally scrolling table that says so: an edge shadow on the side with more columns and a
 * line naming how many are out of view ("2 more columns: scroll →"), so a narrow window never hides
 * columns silently. The first column stays put (sticky) while the rest scroll.
 */
export function ScrollCue({ label, bodyClassName = 'table-wrap', children }: { label: string; bodyClassName?: string; children: ReactNode }) {
  const ref = useRef<HTMLDivElement>(null);
  const [cue, setCue] = useState<Cue>({ right: 0, left: 0 });

  useEffect(() => {
    const el = ref.current;
    if (el === null) return;
    const measure = (): void => {
      const box = el.getBoundingClientRect();
      const cells = [...el.querySelectorAll('thead th')].map((th) => th.getBoundingClientRect());
      const next = hiddenColumns(box.left, box.right, cells);
      setCue((c) => (c.left === next.left && c.right === next.right ? c : next));
    };
    measure();
    el.addEventListener('scroll', measure, { passive: true });
    const ro = typeof ResizeObserver === 'undefined' ? null : new ResizeObserver(measure);
    ro?.observe(el);
    const table = el.querySelector('table');
    if (table) ro?.observe(table);
    return () => {
      el.removeEventListener('scroll', measure);
      ro?.disconnect();
    };
  }, []);

  const cls = ['scroll-cue', cue.right > 0 ? 'more-right' : '', cue.left > 0 ? 'more-left' : ''].filter(Boolean).join(' ');
  return (
    <div className={cls}>
      {(cue.right > 0 || cue.left > 0) && (
        <p className="scroll-cue-hint" role="note" aria-label={`${label}: columns out of view`}>
          {cue.left > 0 && <span>← {cue.left} {cue.left === 1 ? 'column' : 'columns'} to the left</span>}
          {cue.right > 0 && (
            <span>
              {cue.right} more {cue.right === 1 ? 'column' : 'columns'}: scroll →
            </span>
          )}
        </p>
      )}
      <div ref={ref} className={`${bodyClassName} scroll-cue-body`} tabIndex={cue.left + cue.right > 0 ? 0 : undefined} aria-label={`${label} (scrolls sideways)`} role="group">
        {children}
      </div>
    </div>
  );
}
