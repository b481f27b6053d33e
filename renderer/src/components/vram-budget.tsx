import type { ServingState } from '@contract';
import { formatBytes, formatGb } from '../format';

type Vram = NonNullable<ServingState['vram']>;

/** `1.2 GB`, with the exact size beside it when it rounds to nothing (`0.0 GB (763 B)`). */
function gb(bytes: number): string {
  return bytes < 5e7 ? `${formatGb(bytes)} (${formatBytes(bytes)})` : formatGb(bytes);
}

export function vramText(v: Vram): string {
  const pct = Math.round(v.fraction * 100);
  return `${gb(v.requiredBytes)} required of ${formatGb(v.availableBytes)} available (${pct}% of ${formatGb(v.totalGpuBytes)})`;
}

/**
 * The two-policy GPU memory budget checked at start (spec §5): what both models need against 70%
 * of the GPU. On the CPU, or with one policy, there is no budget to show.
 */
export function VramBudget({ vram, mode }: { vram: ServingState['vram']; mode: ServingState['mode'] }) {
  if (vram === null || vram === undefined) {
    return (
      <p className="note vram-none">
        {mode === 'ab'
          ? 'Running on CPU: no VRAM budget. On a GPU, two-policy mode checks that both models fit in 70% of its memory.'
          : 'Single policy: no VRAM budget. On a GPU, two-policy mode checks that both models fit in 70% of its memory.'}
      </p>
    );
  }
  const total = vram.totalGpuBytes > 0 ? vram.totalGpuBytes : Math.max(vram.availableBytes, vram.requiredBytes, 1);
  const fill = Math.min(1, vram.requiredBytes / total);
  const budgetAt = Math.min(1, vram.availableBytes / total);
  const toGb = (b: number): number => Math.round((b / 1e9) * 100) / 100;
  const text = vramText(vram);
  return (
    <section className={`card vram-card ${vram.ok ? 'vram-ok' : 'vram-over'}`} aria-labelledby="vram-heading">
      <header className="card-header">
        <h2 id="vram-heading">VRAM budget</h2>
        <span className={`badge ${vram.ok ? 'state-ready' : 'state-drained'}`}>{vram.ok ? 'within budget' : 'over budget'}</span>
      </header>
      <div
        className="vram-meter"
        role="meter"
        aria-label="VRAM budget"
        aria-valuemin={0}
        aria-valuemax={toGb(total)}
        aria-valuenow={toGb(Math.min(vram.requiredBytes, total))}
        aria-valuetext={text}
      >
        <span className="vram-fill" style={{ width: `${Math.max(fill * 100, vram.requiredBytes > 0 ? 0.6 : 0)}%` }} />
        <span className="vram-reserve" style={{ left: `${budgetAt * 100}%` }} aria-hidden="true" />
        <span className="vram-mark" style={{ left: `${budgetAt * 100}%` }} aria-hidden="true" />
      </div>
      <div className="vram-scale" aria-hidden="true">
        <span>0</span>
        <span className="vram-scale-mark" style={{ left: `${budgetAt * 100}%` }}>
          budget {formatGb(vram.availableBytes)}
        </span>
        <span>{formatGb(vram.totalGpuBytes)}</span>
      </div>
      <p className="vram-text">
        Both policies need <strong>{gb(vram.requiredBytes)}</strong> of the <strong>{formatGb(vram.availableBytes)}</strong> budget ({Math.round(vram.fraction * 100)}% of{' '}
        {formatGb(vram.totalGpuBytes)} of GPU memory).
        {!vram.ok && ' Over budget: pick smaller models, run on a larger GPU, or drop to single-policy mode.'}
      </p>
    </section>
  );
}
