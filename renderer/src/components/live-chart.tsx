import { memo, useMemo } from 'react';
import { CartesianGrid, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { Slot } from '@contract';
import { formatClock, timeTicks } from '../format';
import type { ChartRow } from '../stores/live-series';
import { SLOT_COLORS, SLOT_NAMES, slotDash } from './slot-style';

export interface LiveChartProps {
  /** Heading text, e.g. "p99 latency". */
  title: string;
  unit: string;
  rows: ChartRow[];
  slots: readonly Slot[];
  /** The x-axis, epoch ms: the whole time window, even before it has filled up. */
  domain: readonly [number, number];
  /** What the chart shows, for assistive technology (the window is appended). */
  description: string;
  windowLabel: string;
  formatValue: (value: number) => string;
  yDomain?: readonly [number, number];
  yTicks?: readonly number[];
  integer?: boolean;
}

const AXIS_TICK = { fontSize: 11, fill: '#6b7280' };
const formatTime = (t: number): string => formatClock(new Date(t).toISOString());

/**
 * One metric per slot over the time window. No animation, no dots: it is redrawn a few times a
 * second. Memoized: it renders only when its rows (or the window) change.
 */
export const LiveChart = memo(function LiveChart(props: LiveChartProps) {
  const { title, unit, rows, slots, domain, description, windowLabel, formatValue, yDomain, yTicks, integer } = props;
  const ticks = useMemo(() => timeTicks(domain[0], domain[1]), [domain]);
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
              domain={yDomain ? [yDomain[0], yDomain[1]] : [0, 'auto']}
              ticks={yTicks ? [...yTicks] : undefined}
              tickLine={false}
              axisLine={false}
              width={44}
            />
            <Tooltip
              isAnimationActive={false}
              contentStyle={{ fontSize: 12, padding: '4px 8px' }}
              labelFormatter={(t) => formatTime(Number(t))}
              formatter={(v) => (typeof v === 'number' ? `${formatValue(v)} ${unit}` : '—')}
            />
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
