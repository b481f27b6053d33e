import type { DrainState, SlotState } from '@contract';
import { formatBytes } from '../format';
import { formatClockZone } from '../serving-view';
import { VersionLink } from './version-link';

export function slotName(slot: SlotState['slot']): string {
  return slot === 'prod' ? 'Prod' : slot === 'shadow' ? 'Shadow' : slot.toUpperCase();
}

interface Props {
  slot: SlotState;
  drain: DrainState;
  maxConsecutiveCrashes: number;
  restoring: boolean;
  onRestore: () => void;
  /** Two-policy mode: the configured share of new episodes and the share the slot really gets. */
  share?: { configured: number; effective: number } | null;
}

export function SlotCard({ slot, drain, maxConsecutiveCrashes, restoring, onRestore, share = null }: Props) {
  const name = slotName(slot.slot);
  const headingId = `slot-${slot.slot}-heading`;
  const other = slot.slot === 'a' ? 'B' : slot.slot === 'b' ? 'A' : null;
  const failureRatio = Math.min(1, slot.consecutiveFailures / maxConsecutiveCrashes);
  return (
    <section className={`card slot-card slot-${slot.slot}${slot.drained ? ' is-drained' : ''}`} aria-labelledby={headingId}>
      <header className="slot-header">
        <h2 id={headingId}>
          <span className={`slot-chip chip-${slot.slot}`} aria-hidden="true">
            {slot.slot === 'prod' ? 'P' : slot.slot === 'shadow' ? 'S' : slot.slot.toUpperCase()}
          </span>
          Slot {name}
        </h2>
        {slot.drained ? (
          <span className="badge state-drained">drained</span>
        ) : slot.ready ? (
          <span className="badge state-ready">ready</span>
        ) : (
          <span className="badge state-warming">warming up</span>
        )}
      </header>
      <p className="slot-version">
        <VersionLink reference={slot.versionRef} />
      </p>
      <p>
        <code className="mono" title={slot.modelVersion}>
          {slot.modelVersion}
        </code>
      </p>
      {slot.slot === 'shadow' && <p className="slot-note">Answers every request after the primary response is sent: off the critical path, never routed.</p>}
      <dl className="facts compact">
        <dt>Kind</dt>
        <dd>{slot.kind}</dd>
        <dt>Size</dt>
        <dd>{formatBytes(slot.sizeBytes)}</dd>
        <dt>Consecutive failures</dt>
        <dd>
          <span className="meter" aria-hidden="true">
            <span className="meter-fill" style={{ width: `${failureRatio * 100}%` }} />
          </span>
          {slot.consecutiveFailures} / {maxConsecutiveCrashes}
        </dd>
        {share && (
          <>
            <dt>Share of new episodes</dt>
            <dd>
              {share.configured}% configured · <strong className={share.effective !== share.configured ? 'effective-differs' : undefined}>{share.effective}% effective</strong>
            </dd>
          </>
        )}
        {slot.workerCrashes !== undefined && slot.requestFailures !== undefined ? (
          <>
            <dt>Worker crashes</dt>
            <dd>{slot.workerCrashes}</dd>
            <dt>Request failures</dt>
            <dd>{slot.requestFailures}</dd>
          </>
        ) : (
          <>
            <dt>Failures</dt>
            <dd>{slot.crashes}</dd>
          </>
        )}
        <dt>Drain</dt>
        <dd>{slot.drained ? (drain === 'degraded' ? 'drained (both slots: degraded)' : 'drained') : 'serving'}</dd>
      </dl>
      {slot.lastError && (
        <p className="slot-last-error" aria-label={`Last error of slot ${name}`}>
          Last error at <time dateTime={slot.lastError.at}>{formatClockZone(slot.lastError.at)}</time> ({slot.lastError.crash ? 'worker crash' : 'request failure'}):{' '}
          <code>{slot.lastError.code}</code> {slot.lastError.message}
        </p>
      )}
      {slot.drained && (
        <div className="slot-drained">
          <p>
            {other ? `All traffic goes to slot ${other} until an operator restores this slot.` : 'This slot gets no traffic until an operator restores it.'}
          </p>
          <button type="button" className="button button-primary" onClick={onRestore} disabled={restoring} aria-label={`Restore slot ${name}`}>
            {restoring ? 'Restoring…' : 'Restore'}
          </button>
        </div>
      )}
    </section>
  );
}
