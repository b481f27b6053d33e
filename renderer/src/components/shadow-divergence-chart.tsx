import { useMemo } from 'react';
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { formatClock } from '../format';
import { formatClockZone } from '../serving-view';
import { useStatsThrottled } from '../stores/context';

/** Five minutes at two samples a second. */
const SHADOW_CHART_SAMPLES = 600;

interface Row {
  t: number;
  maxAbsP99: number | null;
  cosineP99: number | null;
  overRate: number | null;
}

/**
 * The shadow slot's divergence over the last five minutes (Live page): p99 of max abs difference
 * and of cosine distance, and the share of answers over the threshold, one point per stats push.
 * Nothing is drawn when no shadow slot is loaded.
 */
export function ShadowDivergenceChart() {
  const samples = useStatsThrottled((s) => s.samples, 250);
  const { rows, threshold } = useMemo(() => {
    const out: Row[] = [];
    let th: number | null = null;
    for (const s of samples.slice(-SHADOW_CHART_SAMPLES)) {
      if (!s.shadow) continue;
      th = s.shadow.threshold;
      const w = s.shadow.window;
      out.push({ t: Date.parse(s.at), maxAbsP99: w.maxAbsP99, cosineP99: w.cosineDistanceP99, overRate: w.overRate === null ? null : w.overRate * 100 });
    }
    return { rows: out, threshold: th };
  }, [samples]);
  if (rows.length === 0) return null;
  return (
    <section className="card live-chart shadow-chart" aria-labelledby="shadow-chart-heading">
      <header className="live-section-header">
        <h2 id="shadow-chart-heading">Shadow divergence</h2>
        <span className="muted">p99 per push · over threshold = max abs &gt; {threshold} · last 5 min</span>
      </header>
      <div className="live-chart-box" role="img" aria-label="Shadow divergence: p99 of max abs difference and cosine distance, and percent over the threshold, over the last five minutes">
        <ResponsiveContainer width="100%" height={200}>
          <LineChart data={rows} margin={{ top: 8, right: 16, bottom: 0, left: 0 }}>
            <CartesianGrid stroke="#eef0f3" vertical={false} />
            <XAxis dataKey="t" type="number" domain={['dataMin', 'dataMax']} tickFormatter={(t: number) => formatClock(new Date(t).toISOString())} tick={{ fontSize: 11 }} />
            <YAxis yAxisId="d" tick={{ fontSize: 11 }} width={48} />
            <YAxis yAxisId="p" orientation="right" domain={[0, 100]} tick={{ fontSize: 11 }} width={40} unit="%" />
            <Tooltip labelFormatter={(t) => formatClockZone(new Date(Number(t)).toISOString())} />
            <Legend />
            <Line yAxisId="d" dataKey="maxAbsP99" name="max abs p99" stroke="#7c3aed" dot={false} isAnimationActive={false} connectNulls />
            <Line yAxisId="d" dataKey="cosineP99" name="cosine distance p99" stroke="#0891b2" dot={false} isAnimationActive={false} connectNulls />
            <Line yAxisId="p" dataKey="overRate" name="% over threshold" stroke="#b45309" dot={false} isAnimationActive={false} connectNulls />
          </LineChart>
        </ResponsiveContainer>
      </div>
    </section>
  );
}
