import { memo, useDeferredValue, useMemo } from 'react';
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { ServingEvent, ServingStats, Slot } from '@contract';
import { formatClockZone, groupMarkers, markersIn } from '../serving-view';
import { formatClock, timeTicks } from '../format';
import { eventMarkerLines } from './event-markers';
import { SLOT_COLORS as COLORS, SLOT_NAMES as NAMES, slotDash } from './slot-style';

type Row = { t: number } & Partial<Record<Slot, number | null>>;

/** Samples further apart than this are not joined by a line: the server was away in between. */
const GAP_MS = 2_000;

/** Requests per second per slot over the stats window. */
const NO_EVENTS: readonly ServingEvent[] = [];

/** Memoized: the Traffic page re-renders on every split change; the chart only when its data change. */
export const RpsChart = memo(function RpsChart({ samples, events = NO_EVENTS }: { samples: ServingStats[]; events?: readonly ServingEvent[] }) {
  // Charts render after input: a burst of samples never delays the slider.
  const deferred = useDeferredValue(samples);
  const { rows, slots, ticks } = useMemo(() => {
    const seen = new Set<Slot>();
    const rows: Row[] = [];
    let previousT: number | null = null;
    for (const sample of deferred) {
      const row: Row = { t: Date.parse(sample.at) };
      // A row without values between two distant samples breaks the line (connectNulls is off).
      if (previousT !== null && row.t - previousT > GAP_MS) rows.push({ t: (previousT + row.t) / 2, prod: null, a: null, b: null, shadow: null });
      for (const s of sample.slots) {
        row[s.slot] = s.rps;
        seen.add(s.slot);
      }
      rows.push(row);
      previousT = row.t;
    }
    const order: Slot[] = ['prod', 'a', 'b', 'shadow'];
    const first = rows[0]?.t ?? 0;
    const last = rows[rows.length - 1]?.t ?? 0;
    return { rows, slots: order.filter((s) => seen.has(s)), ticks: timeTicks(first, last) };
  }, [deferred]);
  const first = rows[0]?.t ?? 0;
  const last = rows[rows.length - 1]?.t ?? 0;
  const deferredEvents = useDeferredValue(events);
  const markers = useMemo(() => groupMarkers(markersIn(deferredEvents, first, last), (last - first) / 30), [deferredEvents, first, last]);

  return (
    <section className="card chart-card" aria-labelledby="rps-heading">
      <header className="card-header">
        <h2 id="rps-heading">Requests per second</h2>
        <span className="muted">last {deferred.length} samples</span>
      </header>
      {rows.length === 0 ? (
        <p className="chart-empty muted">Waiting for serving statistics…</p>
      ) : (
        <div className="chart-box" role="img" aria-label={`Requests per second per slot, ${rows.length} samples`}>
          <ResponsiveContainer width="100%" height={220}>
            <LineChart data={rows} margin={{ top: 8, right: 16, bottom: 0, left: -8 }}>
              <CartesianGrid stroke="#e5e7eb" vertical={false} />
              <XAxis
                dataKey="t"
                type="number"
                scale="time"
                domain={['dataMin', 'dataMax']}
                ticks={ticks}
                tickFormatter={(t: number) => formatClock(new Date(t).toISOString())}
                tick={{ fontSize: 11, fill: '#6b7280' }}
                tickLine={false}
              />
              <YAxis tick={{ fontSize: 11, fill: '#6b7280' }} allowDecimals={false} tickLine={false} axisLine={false} width={48} />
              <Tooltip
                isAnimationActive={false}
                contentStyle={{ fontSize: 12 }}
                labelFormatter={(t) => formatClockZone(new Date(Number(t)).toISOString())}
                formatter={(v) => `${Number(v).toFixed(1)} req/s`}
              />
              <Legend wrapperStyle={{ fontSize: 12 }} />
              {eventMarkerLines(markers)}
              {slots.map((slot) => (
                <Line
                  key={slot}
                  type="linear"
                  dataKey={slot}
                  connectNulls={false}
                  name={NAMES[slot]}
                  stroke={COLORS[slot]}
                  strokeWidth={2}
                  strokeDasharray={slotDash(slot)}
                  dot={false}
                  isAnimationActive={false}
                />
              ))}
            </LineChart>
          </ResponsiveContainer>
        </div>
      )}
    </section>
  );
});
