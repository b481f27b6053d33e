import { useCompare, useStores } from '../stores/context';
import { aggregateProgress, selectBusy, type EvalTrack } from '../stores/compare-store';

const PHASE_TEXT: Record<EvalTrack['phase'], string> = {
  starting: 'starting',
  evaluating: 'evaluating',
  determinism: 're-running to check determinism',
  finished: 'finished',
};

function trackText(t: EvalTrack): string {
  if (t.status === 'starting') return 'starting…';
  if (t.status === 'completed') return `done · ${t.passed} of ${t.total} passed`;
  if (t.status === 'failed') return 'failed';
  if (t.status === 'cancelled') return 'cancelled';
  return PHASE_TEXT[t.phase];
}

function ProgressRow({ track: t }: { track: EvalTrack }) {
  const pct = Math.round((t.status === 'completed' ? 1 : t.fraction) * 100);
  const label = `Evaluating ${t.version}`;
  const valueText = `${t.done} of ${t.total} cases, ${trackText(t)}`;
  return (
    <li className={`eval-row eval-${t.status}${t.phase === 'determinism' ? ' eval-rerun' : ''}`}>
      <span className="eval-role">{t.role === 'baseline' ? 'Baseline' : 'Candidate'}</span>
      <span className="eval-version" title={t.runId === null ? undefined : `run ${t.runId}${t.joined ? ' (already running: joined)' : ''}`}>
        {t.version}
      </span>
      <div
        className="progress"
        role="progressbar"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={pct}
        aria-valuetext={valueText}
      >
        <span className="progress-fill" style={{ width: `${pct}%` }} />
      </div>
      <span className="eval-count">
        {t.done}/{t.total}
      </span>
      <span className="eval-phase">{trackText(t)}</span>
    </li>
  );
}

/** What a comparison in progress is doing, with a progress bar per evaluation and Cancel. */
export function EvalProgress() {
  const { compare } = useStores();
  const phase = useCompare((s) => s.phase);
  const tracks = useCompare((s) => s.tracks);
  const busy = useCompare(selectBusy);
  if (!busy) return null;
  const total = aggregateProgress(tracks);
  const headline =
    phase === 'checking'
      ? 'Checking which versions need an evaluation…'
      : phase === 'evaluating'
        ? `Evaluating ${tracks.length === 1 ? '1 version' : `${tracks.length} versions`} · ${total.done} of ${total.total} cases (${Math.round(total.fraction * 100)}%)`
        : tracks.some((t) => t.status === 'running')
          ? 'The gate is evaluating what its rules need…'
          : 'Comparing the runs and applying the rules…';
  return (
    <section className="card eval-progress" aria-labelledby="eval-progress-heading">
      <header className="card-header">
        <h2 id="eval-progress-heading">
          <span className="spinner" aria-hidden="true" />
          <span aria-live="polite">{headline}</span>
        </h2>
        <button type="button" className="button" onClick={() => void compare.getState().cancel()}>
          Cancel
        </button>
      </header>
      {tracks.length > 0 && (
        <ul className="eval-list">
          {tracks.map((t) => (
            <ProgressRow key={`${t.version}:${t.runId ?? 'new'}`} track={t} />
          ))}
        </ul>
      )}
    </section>
  );
}
