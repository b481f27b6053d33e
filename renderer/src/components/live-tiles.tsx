import { memo } from 'react';
import type { Slot, SlotState } from '@contract';
import { formatMs, formatPercent, formatRate } from '../format';
import { CURRENT_SPAN_MS, type SlotNow } from '../stores/live-series';
import { SLOT_NAMES } from './slot-style';

interface Metric {
  key: string;
  label: string;
  value: string;
  unit?: string;
  note?: string;
  title?: string;
}

function metricsOf(now: SlotNow): Metric[] {
  const spanS = CURRENT_SPAN_MS / 1000;
  return [
    { key: 'p50', label: 'p50', value: formatMs(now.p50Ms), unit: now.p50Ms === null ? undefined : 'ms', title: `Median latency over the last ${spanS} s` },
    { key: 'p99', label: 'p99', value: formatMs(now.p99Ms), unit: now.p99Ms === null ? undefined : 'ms', title: `Worst p99 latency over the last ${spanS} s` },
    { key: 'rps', label: 'req/s', value: formatRate(now.rps), title: `Requests per second over the last ${spanS} s` },
    {
      key: 'hit',
      label: 'cache hit',
      value: formatPercent(now.hitRate),
      note: now.hitRate === null ? 'no lookups' : undefined,
      title: `Share of episode-cache lookups that hit over the last ${spanS} s`,
    },
    { key: 'inflight', label: 'in flight', value: String(now.inFlight), title: 'Requests in flight now' },
    {
      key: 'errors',
      label: 'errors',
      value: now.errorsTotal.toLocaleString('en-US'),
      note: now.errorsPerS === null ? undefined : `${formatRate(now.errorsPerS)}/s`,
      title: `Errors since serving started, and per second over the last ${spanS} s`,
    },
  ];
}

/** Current values of one slot: the last few seconds, from the newest samples. */
export const SlotTile = memo(function SlotTile({ now, state }: { now: SlotNow; state: SlotState | undefined }) {
  const name = SLOT_NAMES[now.slot];
  const id = `live-${now.slot}`;
  return (
    <section className={`card live-tile slot-${now.slot}`} aria-label={`Slot ${name} now`}>
      <header className="live-tile-header">
        <h2>
          <SlotChip slot={now.slot} />
          Slot {name}
        </h2>
        {state && (
          <span className="live-tile-version" title={state.modelVersion}>
            {state.versionRef}
            {state.kind === 'iterative' && <span className="muted"> · iterative</span>}
          </span>
        )}
      </header>
      <div className="live-metrics">
        {metricsOf(now).map((m) => (
          <div key={m.key} className="live-metric" role="group" aria-labelledby={`${id}-${m.key}`} title={m.title}>
            <span className="live-label" id={`${id}-${m.key}`}>
              {m.label}
            </span>
            <span className="live-reading">
              <span className="live-value">{m.value}</span>
              {m.unit && <span className="live-unit"> {m.unit}</span>}
            </span>
            {m.note && <span className="live-note">{m.note}</span>}
          </div>
        ))}
      </div>
    </section>
  );
});

export function SlotChip({ slot }: { slot: Slot }) {
  return (
    <span className={`slot-chip chip-${slot}`} aria-hidden="true">
      {slot === 'prod' ? 'P' : slot === 'shadow' ? 'S' : slot.toUpperCase()}
    </span>
  );
}
