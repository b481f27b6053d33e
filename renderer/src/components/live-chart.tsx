import { memo, useMemo } from 'react';
import { CartesianGrid, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { Slot } from '@contract';
import { formatClock, niceTicks, timeTicks } from '../format';
import type { ChartRow } from '../stores/live-series';
import { formatClockZone, groupMarkers, type EventMarker } from '../serving-view';
import { eventMarkerLines } from './event-markers';
import { SLOT_COLORS, SLOT_NAMES, slotDash } from './slot-style';
import { useStaggered } from './stagger';

/** What a chart draws; a new object when (and only when) any of it changes. */
export interface LiveChartData {
  rows: ChartRow[];
  slots: readonly Slot[];
  /** The x-axis, epoch ms: the whole time window, even before it has filled up. */
  domain: readonly [number, number];
  windowLabel: string;
  /** Serving events inside the window, drawn as vertical markers. */
  markers?: readonly EventMarker[];
}

export interface LiveChartProps {
  /** Heading text, e.g. "p99 latency". */
  title: string;
  unit: string;
  data: LiveChartData;
  /** What the chart shows, for assistive technology (the window is appended). */
  description: string;
  formatValue: (value: number) => string;
  yDomain?: readonly [number, number];
  yTicks?: readonly number[];
  integer?: boolean;
}

const AXIS_TICK = { fontSize: 11, fill: '#6b7280' };
const formatTime = (t: number): string => formatClock(new Date(t).toISOString());

/**
 * One metric per slot over the time window. No animation, no dots: it is redrawn a few times a
 * second. Memoized: it renders only when its data change, and then in a task of its own (the
 * charts take turns through `chartQueue`, so input is never stuck behind all of them at once).
 */
export const LiveChart = memo(function LiveChart(props: LiveChartProps) {
  const { title, unit, description, formatValue, yDomain, yTicks, integer } = props;
  const { rows, slots, domain, windowLabel, markers: rawMarkers } = useStaggered(props.data);
  const markers = useMemo(() => groupMarkers(rawMarkers ?? [], (domain[1] - domain[0]) / 30), [rawMarkers, domain]);
  const ticks = useMemo(() => timeTicks(domain[0], domain[1]), [domain]);
  // Round y ticks from 0 to the largest value shown (recharts' own can be 0, 0.55, 1.1, ...).
  const valueTicks = useMemo(() => {
    if (yTicks) return [...yTicks];
    let max = 0;
    for (const row of rows) for (const slot of slots) max = Math.max(max, row[slot] ?? 0);
    return niceTicks(max, 4, integer);
  }, [rows, slots, yTicks, integer]);
  const valueDomain = yDomain ? [yDomain[0], yDomain[1]] : [0, valueTicks[valueTicks.length - 1] ?? 1];
  const headingId = `chart-${title.replace(/\W+/g, '-').toLowerCase()}`;
  return (
    <section className="card chart-card live-chart" aria-labelledby={headingId}>
      <header className="card-header">
        <h2 id={headingId}>{title}</h2>
        <span className="muted">{unit}</span>
      </header>
      <div className="live-chart-box" role="img" aria-label={`${description} per slot, last ${windowLabel}`}>
        <ResponsiveContainer width="100%" height="100%">
          <LineChart data={rows} margin={{ top: 6, right: 12, bottom: 0, left: 0 }}>
            {/* No x-axis line: the grid's zero line lies under the series, so a slot at 0 stays visible. */}
            <CartesianGrid stroke="#e5e7eb" vertical={false} />
            <XAxis
              dataKey="t"
              type="number"
              scale="time"
              domain={[domain[0], domain[1]]}
              allowDataOverflow
              ticks={ticks}
              tickFormatter={formatTime}
              tick={AXIS_TICK}
              tickLine={false}
              axisLine={false}
            />
            <YAxis
              tick={AXIS_TICK}
              tickFormatter={formatValue}
              allowDecimals={!integer}
              domain={valueDomain}
              ticks={valueTicks}
              tickLine={false}
              axisLine={false}
              width={44}
            />
            <Tooltip
              isAnimationActive={false}
              contentStyle={{ fontSize: 12, padding: '4px 8px' }}
              labelFormatter={(t) => formatClockZone(new Date(Number(t)).toISOString())}
              formatter={(v) => (typeof v === 'number' ? `${formatValue(v)} ${unit}` : '—')}
            />
            {eventMarkerLines(markers)}
            {slots.map((slot) => (
              <Line
                key={slot}
                type="linear"
                dataKey={slot}
                name={`Slot ${SLOT_NAMES[slot]}`}
                stroke={SLOT_COLORS[slot]}
                strokeWidth={1.75}
                strokeDasharray={slotDash(slot)}
                dot={false}
                activeDot={{ r: 3 }}
                connectNulls={false}
                isAnimationActive={false}
              />
            ))}
          </LineChart>
        </ResponsiveContainer>
      </div>
    </section>
  );
});
