import { memo, useCallback, useContext, useDeferredValue, useMemo, useState, useSyncExternalStore } from 'react';
import type { ServingEvent, Slot } from '@contract';
import { DrainBanner } from '../components/drain-banner';
import { EventList } from '../components/event-markers';
import { SplitCause } from '../components/split-cause';
import { formatClockZone, markersIn } from '../serving-view';
import { EmptyState } from '../components/empty-state';
import { ErrorAlert } from '../components/error-alert';
import { LiveChart, type LiveChartData } from '../components/live-chart';
import { ServingStatePending } from '../components/serving-state-pending';
import { ShadowDivergenceChart } from '../components/shadow-divergence-chart';
import { SlotChip, SlotTile } from '../components/live-tiles';
import { PageHeader } from '../components/page-header';
import { SLOT_NAMES } from '../components/slot-style';
import { WindowChooser } from '../components/window-chooser';
import { useServing, useStats, useStatsThrottled, useStores } from '../stores/context';
import {
  chartRows,
  createWindowSelector,
  CURRENT_SPAN_MS,
  currentValues,
  timeWindow,
  type Metric,
  type WindowId,
  type WindowSeries,
} from '../stores/live-series';
import { errorHint } from '../error-hints';
import { NavigationContext } from './navigation';

/** Charts and tiles hear of new samples at most four times a second. */
const UPDATE_INTERVAL_MS = 250;

/** Axis labels: short, no trailing zeros (`0.25`, `1.5`, `120`). */
function axisNumber(v: number): string {
  if (v === 0) return '0';
  return Math.abs(v) >= 100 ? v.toFixed(0) : String(Number(v.toPrecision(2)));
}

const percent = (v: number): string => `${Math.round(v)}%`;

interface ChartSpec {
  metric: Metric;
  title: string;
  unit: string;
  description: string;
  formatValue: (v: number) => string;
  yDomain?: readonly [number, number];
  yTicks?: readonly number[];
  integer?: boolean;
}

const CHARTS: readonly ChartSpec[] = [
  { metric: 'p50Ms', title: 'p50 latency', unit: 'ms', description: 'Median latency', formatValue: axisNumber },
  { metric: 'p99Ms', title: 'p99 latency', unit: 'ms', description: '99th percentile latency', formatValue: axisNumber },
  { metric: 'rps', title: 'Throughput', unit: 'req/s', description: 'Requests per second', formatValue: axisNumber },
  {
    metric: 'hitRate',
    title: 'Cache hit rate',
    unit: '% of lookups',
    description: 'Cache hit rate',
    formatValue: percent,
    yDomain: [0, 100],
    yTicks: [0, 25, 50, 75, 100],
  },
  { metric: 'inFlight', title: 'In flight', unit: 'requests', description: 'Requests in flight', formatValue: axisNumber, integer: true },
  { metric: 'errorsPerS', title: 'Errors', unit: 'errors/s', description: 'Errors per second', formatValue: axisNumber },
];

export function LivePage() {
  const { serving, connection } = useStores();
  const { entered } = useContext(NavigationContext);
  const status = useServing((s) => s.status);
  const state = useServing((s) => s.state);
  const error = useServing((s) => s.error);
  const subscribeConnection = useCallback((onChange: () => void) => connection.onStatus(onChange), [connection]);
  const connectionStatus = useSyncExternalStore(subscribeConnection, () => connection.getStatus());

  // At most four updates a second, however fast samples arrive.
  const points = useStatsThrottled((s) => s.points, UPDATE_INTERVAL_MS);
  const events = useStats((s) => s.events);
  const [windowId, setWindowId] = useState<WindowId>('1m');

  // Tiles: cheap, urgent. Charts: the deferred value, so React draws them after any input and
  // drops a stale draw when a newer sample (or window) arrives.
  const now = useMemo(() => currentValues(points), [points]);
  const chartPoints = useDeferredValue(points);
  const chartWindowId = useDeferredValue(windowId);
  const [selectWindow] = useState(createWindowSelector);
  const series = selectWindow(chartPoints, timeWindow(chartWindowId));
  const switching = chartWindowId !== windowId;

  const header = (
    <PageHeader title="Live" focusOnMount={entered}>
      {state && state.mode !== 'off' && <WindowChooser value={windowId} onChange={setWindowId} />}
    </PageHeader>
  );

  if (state === null) {
    return <ServingStatePending header={header} error={error} loading={status === 'loading'} onRetry={() => void serving.getState().load()} />;
  }

  if (state.mode === 'off') {
    return (
      <div className="page">
        {header}
        <EmptyState title="Nothing is being served">
          <p>Live shows latency, throughput, cache hits, requests in flight and errors per slot while versions are served. Start serving one version:</p>
          <pre className="command">
            <code>switchyard serve cartpole-balance@production</code>
          </pre>
          <p>or two side by side, to compare them under the same traffic:</p>
          <pre className="command">
            <code>switchyard serve --policy-a cartpole-balance@production --policy-b cartpole-balance@LABEL --no-rtc</code>
          </pre>
          <p className="muted">
            Then send requests to <code>POST /act</code>; the charts update as they are answered.
          </p>
        </EmptyState>
      </div>
    );
  }

  const last = points[points.length - 1];
  const slotState = (slot: Slot) => state.slots.find((s) => s.slot === slot);

  return (
    <div className="page">
      {header}
      {error && <ErrorAlert title="Could not refresh the serving state" error={error} hint={errorHint(error)} onRetry={() => void serving.getState().load()} />}
      {connectionStatus !== 'open' && (
        <div className="banner banner-warning" role="status">
          Live updates are paused while the connection to the server is {connectionStatus === 'idle' ? 'off' : 're-established'}; the
          charts resume when it is back.
        </div>
      )}
      <DrainBanner state={state} />
      {state.mode === 'ab' && (
        <section className="card live-split" aria-label="Split">
          <SplitCause state={state} />
        </section>
      )}

      {last === undefined ? (
        <p className="note" role="status">
          Waiting for the first statistics: the server sends them twice a second while it serves.
        </p>
      ) : (
        <>
          <section className="live-now" aria-labelledby="live-now-heading">
            <header className="live-section-header">
              <h2 id="live-now-heading">Now</h2>
              <span className="muted">
                last {CURRENT_SPAN_MS / 1000} s · updated {formatClockZone(new Date(last.t).toISOString())}
              </span>
            </header>
            <div className="live-tiles">
              {now.map((slotNow) => (
                <SlotTile key={slotNow.slot} now={slotNow} state={slotState(slotNow.slot)} />
              ))}
            </div>
          </section>
          <LiveCharts series={series} switching={switching} events={events} />
          <ShadowDivergenceChart />
        </>
      )}
    </div>
  );
}

/** The six charts of one window; renders only when the series (points or window) changes. */
const LiveCharts = memo(function LiveCharts({ series, switching, events }: { series: WindowSeries; switching: boolean; events: readonly ServingEvent[] }) {
  const { window, slots, domain } = series;
  // An event newer than the newest sample (a promotion a moment ago) still belongs to this window.
  const markers = useMemo(() => markersIn(events, domain[0], Number.POSITIVE_INFINITY), [events, domain]);
  const data = useMemo(
    () => CHARTS.map((c): LiveChartData => ({ rows: chartRows(series, c.metric), slots, domain, windowLabel: window.label, markers })),
    [series, slots, domain, window.label, markers],
  );
  const windowEvents = useMemo(() => events.filter((e) => markers.some((m) => m.id === e.id)), [events, markers]);
  const bucketNote = window.bucketMs > 0 ? ` · ${window.bucketMs / 1000} s buckets` : '';
  return (
    <section className={switching ? 'live-charts is-switching' : 'live-charts'} aria-labelledby="live-charts-heading" aria-busy={switching}>
      <header className="live-section-header">
        <h2 id="live-charts-heading">Last {window.label}</h2>
        <span className="muted">
          {series.pointCount} samples{bucketNote}
        </span>
        <ul className="live-legend" aria-label="Slots">
          {slots.map((slot) => (
            <li key={slot}>
              <SlotChip slot={slot} />
              Slot {SLOT_NAMES[slot]}
            </li>
          ))}
        </ul>
      </header>
      <div className="live-chart-grid">
        {CHARTS.map((c, i) => (
          <LiveChart
            key={c.metric}
            title={c.title}
            unit={c.unit}
            data={data[i] as LiveChartData}
            description={c.description}
            formatValue={c.formatValue}
            yDomain={c.yDomain}
            yTicks={c.yTicks}
            integer={c.integer}
          />
        ))}
      </div>
      <EventList events={windowEvents} label={`Serving events in the last ${window.label}`} />
    </section>
  );
});
