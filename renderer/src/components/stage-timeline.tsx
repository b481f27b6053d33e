import { useId, useMemo, useState, type FormEvent } from 'react';
import type { HistoryEntry } from '@contract';
import { formatTimestamp } from '../format';
import { timelineOrder } from '../stores/lifecycle-logic';
import type { AtLookup } from '../stores/lifecycle-store';
import { ForcedMark, StageBadge } from './badges';
import { VerdictLink, versionHref } from './version-link';
import { ErrorAlert } from './error-alert';

const ACTION_TEXT: Record<HistoryEntry['action'], string> = {
  promote: 'promoted',
  rollback: 'rolled back',
  archive: 'archived',
  stage: 'stage set',
};

/** A production version sent back by someone else's promotion was demoted, not promoted. */
export function actionText(e: Pick<HistoryEntry, 'from' | 'to' | 'action'>): string {
  if (e.from === null) return 'registered';
  if (e.action === 'promote' && e.from === 'production' && e.to !== 'production') return 'demoted';
  return ACTION_TEXT[e.action];
}

/** How many entries show before "Show all". */
const INITIAL_ENTRIES = 40;

function TimelineItem({ entry: e }: { entry: HistoryEntry }) {
  return (
    <li className={`timeline-item action-${e.action}${e.forced ? ' is-forced' : ''} to-${e.to}`}>
      <span className="timeline-dot" aria-hidden="true" />
      <div className="timeline-line">
        <time dateTime={e.at} title={e.at} className="timeline-time">
          {formatTimestamp(e.at)}
        </time>
        <strong className="timeline-version">
          <a href={versionHref(e.policy, e.label)} title={`Details of ${e.policy}@${e.label}`}>
            {e.label}
          </a>
        </strong>
        <span className="timeline-move">
          {e.from === null ? <span className="muted">new</span> : <StageBadge stage={e.from} />}
          <span className="timeline-arrow" aria-hidden="true">
            →
          </span>
          <span className="visually-hidden">to</span>
          <StageBadge stage={e.to} />
        </span>
        <span className="timeline-action">{actionText(e)}</span>
        {e.forced && <ForcedMark reason={e.reason} />}
      </div>
      <p className="timeline-detail">
        <span>by {e.actor}</span>
        {e.reason !== '' && <span className="timeline-reason">“{e.reason}”</span>}
        {e.verdictId !== null ? (
          <span>
            <VerdictLink policy={e.policy} id={e.verdictId} />
          </span>
        ) : e.action === 'promote' ? <span className="muted">no verdict</span> : null}
      </p>
    </li>
  );
}

interface Props {
  entries: readonly HistoryEntry[];
  policy: string;
  at: AtLookup;
  onLookup: (query: string) => void;
}

/** Every stage change, newest first, and "what was production at time T". */
export function StageTimeline({ entries, policy, at, onLookup }: Props) {
  const ordered = useMemo(() => timelineOrder(entries), [entries]);
  const [all, setAll] = useState(false);
  const [query, setQuery] = useState(at.query);
  const inputId = useId();
  const shown = all ? ordered : ordered.slice(0, INITIAL_ENTRIES);

  const submit = (e: FormEvent): void => {
    e.preventDefault();
    onLookup(query);
  };

  return (
    <section className="card timeline-card" aria-labelledby="timeline-heading">
      <header className="card-header timeline-header">
        <h2 id="timeline-heading">
          Stage history <span className="count-pill">{entries.length}</span>
        </h2>
        <form className="at-lookup" onSubmit={submit}>
          <label htmlFor={inputId} className="at-label">
            What was production at
          </label>
          <input
            id={inputId}
            className="input"
            type="text"
            value={query}
            placeholder="2026-11-21 14:00, -2h or now"
            autoComplete="off"
            spellCheck={false}
            onChange={(e) => setQuery(e.currentTarget.value)}
          />
          <button type="submit" className="button" disabled={query.trim() === '' || at.status === 'loading'}>
            {at.status === 'loading' ? 'Looking up…' : 'Look up'}
          </button>
        </form>
      </header>
      <AtResult at={at} policy={policy} />
      {ordered.length === 0 ? (
        <p className="muted card-empty">No stage changes recorded for {policy}.</p>
      ) : (
        <ol className="timeline" aria-label="Stage history">
          {shown.map((e) => (
            <TimelineItem key={e.id} entry={e} />
          ))}
        </ol>
      )}
      {ordered.length > INITIAL_ENTRIES && (
        <button type="button" className="link-button small" onClick={() => setAll((v) => !v)} aria-expanded={all}>
          {all ? 'Show the newest only' : `Show all ${ordered.length} changes`}
        </button>
      )}
    </section>
  );
}

function AtResult({ at, policy }: { at: AtLookup; policy: string }) {
  if (at.status === 'error' && at.error) {
    return <ErrorAlert title="Could not look up that time" error={at.error} hint="Write an ISO time such as 2026-11-21T10:00:00Z, a local time such as 2026-11-21 14:00, or a relative time such as -2h." />;
  }
  if (at.status !== 'done' || at.result === null) return null;
  const r = at.result;
  return (
    <div className="at-result" role="status" aria-label="Production at that time">
      {r.production === null ? (
        <p>{r.message}</p>
      ) : (
        <p>
          At <time dateTime={r.at}>{formatTimestamp(r.at)}</time> the production version of {policy} was <strong>{r.production.label}</strong>{' '}
          <code className="mono muted">{r.production.modelVersion}</code>: production from {formatTimestamp(r.since)}{' '}
          {r.until === null ? 'and still is' : `until ${formatTimestamp(r.until)}`}.
        </p>
      )}
    </div>
  );
}
