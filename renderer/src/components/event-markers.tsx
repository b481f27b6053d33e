import type { ReactElement } from 'react';
import { ReferenceLine } from 'recharts';
import type { ServingEvent } from '@contract';
import { EVENT_STYLE, formatClockZone, type EventMarker } from '../serving-view';

/**
 * The serving events inside a chart's time window, as a list an operator (and a screen reader)
 * can read; the charts draw the same events as vertical markers.
 */
export function EventList({ events, label = 'Serving events' }: { events: readonly ServingEvent[]; label?: string }) {
  if (events.length === 0) return null;
  const shown = events.slice(-8).reverse();
  return (
    <section className="event-list" aria-label={label}>
      <h3 className="event-list-title">
        {label} <span className="muted">(newest first{events.length > shown.length ? `, ${shown.length} of ${events.length}` : ''})</span>
      </h3>
      <ul>
        {shown.map((e) => (
          <li key={e.id}>
            <span className="event-dot" style={{ background: EVENT_STYLE[e.kind].color }} aria-hidden="true" />
            <time dateTime={e.at}>{formatClockZone(e.at)}</time> <strong>{EVENT_STYLE[e.kind].short}</strong> {e.message}
          </li>
        ))}
      </ul>
    </section>
  );
}

/**
 * Serving events as dashed vertical lines of a chart (Live and Traffic), coloured and labelled by
 * kind. A function, not a component: recharts reads a chart's direct children by their type.
 */
export function eventMarkerLines(markers: readonly EventMarker[]): ReactElement[] {
  return markers.map((m) => (
    <ReferenceLine key={m.id} x={m.t} stroke={EVENT_STYLE[m.kind].color} strokeDasharray="3 3" ifOverflow="hidden" label={{ value: m.label ?? EVENT_STYLE[m.kind].short, position: 'insideTopLeft', fontSize: 10, fill: EVENT_STYLE[m.kind].color }} />
  ));
}
