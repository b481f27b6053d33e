import { useContext, useMemo } from 'react';
import type { DrainState, ServingState } from '@contract';
import { CanaryPanel } from '../components/canary-panel';
import { EmptyState } from '../components/empty-state';
import { ErrorAlert } from '../components/error-alert';
import { DemoTrafficToggle } from '../components/demo-traffic-toggle';
import { PageHeader } from '../components/page-header';
import { RpsChart } from '../components/rps-chart';
import { ServingStatePending } from '../components/serving-state-pending';
import { ShadowCard } from '../components/shadow-card';
import { SlotCard } from '../components/slot-card';
import { SplitControl } from '../components/split-control';
import { SplitCause } from '../components/split-cause';
import { SplitUndo } from '../components/split-undo';
import { EventList } from '../components/event-markers';
import { VramBudget } from '../components/vram-budget';
import { useServing, useStats, useStores } from '../stores/context';
import { selectShownSplit } from '../stores/serving-store';
import { effectiveShare } from '../serving-view';
import { errorHint } from '../error-hints';
import { NavigationContext } from './navigation';

const SERVE_COMMAND = 'switchyard serve --policy-a cartpole-balance@production --policy-b cartpole-balance@LABEL --no-rtc';

/** One minute at two samples a second. */
const TRAFFIC_CHART_SAMPLES = 120;

const DRAIN_TEXT: Record<Exclude<DrainState, 'none'>, string> = {
  'drain-a': 'Slot A is drained after repeated failures: all traffic goes to slot B.',
  'drain-b': 'Slot B is drained after repeated failures: all traffic goes to slot A.',
  degraded: 'Both slots are drained: /act answers 503 with Retry-After until a slot is restored.',
};

export function TrafficPage() {
  const { serving } = useStores();
  const { entered } = useContext(NavigationContext);
  const status = useServing((s) => s.status);
  const state = useServing((s) => s.state);
  const error = useServing((s) => s.error);
  const actionError = useServing((s) => s.actionError);
  const shownSplit = useServing(selectShownSplit);
  const pending = useServing((s) => s.splitPending);
  const restoring = useServing((s) => s.restoring);
  const allSamples = useStats((s) => s.samples);
  const events = useStats((s) => s.events);
  // The store keeps 15 minutes for the Live page; this chart shows the last minute.
  const samples = useMemo(() => allSamples.slice(-TRAFFIC_CHART_SAMPLES), [allSamples]);
  const { load, previewSplit, commitSplit, restoreSlot, dismissActionError } = serving.getState();

  const header = (
    <PageHeader title="Traffic" focusOnMount={entered}>
      {state && state.mode !== 'off' && (
        <span className="muted">
          {state.mode === 'ab' ? 'Two-policy mode' : 'Single-policy mode'} · RTC {state.rtc ? 'on' : 'off'}
          {state.actUrl && (
            <>
              {' '}
              · <code className="mono">{state.actUrl}</code>
            </>
          )}
        </span>
      )}
    </PageHeader>
  );

  if (state === null) {
    return <ServingStatePending header={header} error={error} loading={status === 'loading'} onRetry={() => void load()} />;
  }

  if (state.mode === 'off') {
    return (
      <div className="page">
        {header}
        <EmptyState title="Nothing is being served">
          <p>Start serving two versions side by side to split live traffic between them:</p>
          <pre className="command">
            <code>switchyard serve --policy-a ... --policy-b ... --no-rtc</code>
          </pre>
          <p>For example, the production version against a candidate:</p>
          <pre className="command">
            <code>{SERVE_COMMAND}</code>
          </pre>
          <p className="muted">
            Two-policy mode needs <code>--no-rtc</code>: real-time chunking would blend actions across policies. A single version is
            served with <code>switchyard serve cartpole-balance@production</code>.
          </p>
        </EmptyState>
      </div>
    );
  }

  const slotA = state.slots.find((s) => s.slot === 'a');
  const slotB = state.slots.find((s) => s.slot === 'b');
  const primary = state.slots.filter((s) => s.slot !== 'shadow');
  const shadow = state.slots.find((s) => s.slot === 'shadow');

  return (
    <div className="page">
      {header}
      {error && <ErrorAlert title="Could not refresh the serving state" error={error} hint={errorHint(error)} onRetry={() => void load()} />}
      {actionError && (
        <ErrorAlert title="The router did not accept the change" error={actionError} hint={errorHint(actionError, 'split')} onDismiss={dismissActionError} />
      )}
      {state.drain !== 'none' && (
        <div className="banner banner-warning" role="status">
          {DRAIN_TEXT[state.drain]}
        </div>
      )}

      <div className="slot-grid">
        {primary.map((slot) => (
          <SlotCard
            key={slot.slot}
            slot={slot}
            drain={state.drain}
            maxConsecutiveCrashes={state.maxConsecutiveCrashes}
            share={state.mode === 'ab' && slot.slot !== 'prod' ? shareOf(state, slot.slot) : null}
            restoring={restoring === slot.slot}
            onRestore={() => void restoreSlot(slot.slot)}
          />
        ))}
        {shadow && (
          <SlotCard
            slot={shadow}
            drain={state.drain}
            maxConsecutiveCrashes={state.maxConsecutiveCrashes}
            restoring={restoring === 'shadow'}
            onRestore={() => void restoreSlot('shadow')}
          />
        )}
      </div>
      {state.standby && (
        <p className="standby-line" role="status" aria-label="Warm standby">
          <span className={`status-dot ${state.standby.ready ? 'doctor-ok' : 'doctor-unknown'}`} aria-hidden="true" />
          Warm standby: <strong>{state.standby.versionRef}</strong>{' '}
          <code className="mono muted" title={state.standby.modelVersion}>
            {state.standby.modelVersion}
          </code>{' '}
          {state.standby.ready ? 'ready' : 'warming up'}
          <span className="muted"> · loaded but not routed, so a rollback moves traffic to it at once</span>
        </p>
      )}

      {state.mode === 'ab' ? (
        <SplitControl
          split={shownSplit ?? state.split}
          routerSplit={state.split}
          pending={pending}
          slotA={slotA}
          slotB={slotB}
          onPreview={previewSplit}
          onCommit={commitSplit}
        >
          <SplitUndo />
          <SplitCause state={state} />
        </SplitControl>
      ) : (
        <p className="note">
          Single-policy mode: every request goes to slot Prod. To split traffic, serve two versions with{' '}
          <code>switchyard serve --policy-a ... --policy-b ... --no-rtc</code>.
        </p>
      )}

      {shadow && <ShadowCard />}

      <VramBudget vram={state.vram} mode={state.mode} />

      <RpsChart samples={samples} events={events} />
      <EventList events={events} />

      <CanaryPanel serving={state} />
      <DemoTrafficToggle />
    </div>
  );
}

function shareOf(state: ServingState, slot: 'a' | 'b' | 'shadow'): { configured: number; effective: number } | null {
  if (slot === 'shadow') return null;
  const eff = effectiveShare(state);
  return { configured: slot === 'a' ? state.split : 100 - state.split, effective: eff[slot] };
}
