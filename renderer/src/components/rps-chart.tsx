import { useDeferredValue, useMemo } from 'react';
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { ServingStats, Slot } from '@contract';
import { formatClock, timeTicks } from '../format';
import { SLOT_COLORS as COLORS, SLOT_NAMES as NAMES, slotDash } from './slot-style';

type Row = { t: number } & Partial<Record<Slot, number>>;

/** Requests per second per slot over the stats window. */
export function RpsChart({ samples }: { samples: ServingStats[] }) {
  // Charts render after input: a burst of samples never delays the slider.
  const deferred = useDeferredValue(samples);
  const { rows, slots, ticks } = useMemo(() => {
    const seen = new Set<Slot>();
    const rows: Row[] = deferred.map((sample) => {
      const row: Row = { t: Date.parse(sample.at) };
      for (const s of sample.slots) {
        row[s.slot] = s.rps;
        seen.add(s.slot);
      }
      return row;
    });
    const order: Slot[] = ['prod', 'a', 'b', 'shadow'];
    const first = rows[0]?.t ?? 0;
    const last = rows[rows.length - 1]?.t ?? 0;
    return { rows, slots: order.filter((s) => seen.has(s)), ticks: timeTicks(first, last) };
  }, [deferred]);

  return (
    <section className="card chart-card" aria-labelledby="rps-heading">
      <header className="card-header">
        <h2 id="rps-heading">Requests per second</h2>
        <span className="muted">last {rows.length} samples</span>
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
                labelFormatter={(t) => formatClock(new Date(Number(t)).toISOString())}
                formatter={(v) => `${Number(v).toFixed(1)} req/s`}
              />
              <Legend wrapperStyle={{ fontSize: 12 }} />
              {slots.map((slot) => (
                <Line
                  key={slot}
                  type="monotone"
                  dataKey={slot}
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
}
