import type { RegistrationCheck, RegistrationJob } from '@contract';
import { VerdictBadge } from './badges';

const CHECK_TEXT: Record<RegistrationCheck['name'], string> = {
  manifest: 'Manifest',
  files: 'Files and hash',
  load: 'Model loads',
  'io-shapes': 'Inputs and outputs match',
  warmup: 'Warm-up on random input',
  'finite-outputs': 'Finite outputs, timed runs',
};

const STATUS_TEXT: Record<RegistrationCheck['status'], string> = {
  pending: 'waiting',
  running: 'running',
  passed: 'passed',
  failed: 'failed',
  skipped: 'skipped',
};

const STATE_TEXT: Record<RegistrationJob['state'], string> = {
  settling: 'waiting for its files to settle',
  checking: 'doctor is checking',
  registered: 'registered',
  rejected: 'not registered',
  failed: 'failed',
  cancelled: 'cancelled',
};

export function baseName(path: string): string {
  const parts = path.split(/[\\/]/).filter(Boolean);
  return parts.at(-1) ?? path;
}

export function RegistrationStateBadge({ job }: { job: RegistrationJob }) {
  const cls = job.state === 'registered' ? 'go' : job.state === 'rejected' || job.state === 'failed' ? 'nogo' : 'inconclusive';
  return <span className={`badge verdict-${cls}`}>{STATE_TEXT[job.state]}</span>;
}

/** One registration: doctor's six checks as they run, the outcome, and a watched export's evaluation. */
export function RegistrationJobCard({ job, onCancel }: { job: RegistrationJob; onCancel?: () => void }) {
  const name = baseName(job.dir);
  const pct = Math.round(job.fraction * 100);
  const running = job.state === 'checking' || job.state === 'settling';
  const failedCheck = job.error?.check ?? null;
  return (
    <section className={`card registration-card registration-${job.state}`} aria-label={`Registration of ${name}`}>
      <header className="card-header">
        <h3>
          {running && <span className="spinner" aria-hidden="true" />} {job.source === 'watch' ? 'Watched folder' : 'Register export'}:{' '}
          <code className="mono">{name}</code>
        </h3>
        <RegistrationStateBadge job={job} />
        {running && job.source === 'page' && onCancel && (
          <button type="button" className="button button-quiet" onClick={onCancel}>
            Cancel registration
          </button>
        )}
      </header>
      <p className="muted registration-dir">
        <code className="mono path">{job.dir}</code>
      </p>
      <div
        className="progress"
        role="progressbar"
        aria-label={`Doctor checks of ${name}`}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={pct}
        aria-valuetext={`${job.checks.filter((c) => c.status === 'passed').length} of ${job.checks.length} checks passed${job.runs.total > 0 ? `, ${job.runs.done} of ${job.runs.total} timed runs` : ''}`}
      >
        <span className="progress-fill" style={{ width: `${pct}%` }} />
      </div>
      <ol className="doctor-checks" aria-label={`Doctor checks of ${name}`}>
        {job.checks.map((c) => (
          <li key={c.name} className={`doctor-check check-${c.status}`} aria-label={`${CHECK_TEXT[c.name]}: ${STATUS_TEXT[c.status]}`}>
            <span className="check-icon" aria-hidden="true">
              {c.status === 'passed' ? '✓' : c.status === 'failed' ? '✕' : c.status === 'running' ? '…' : c.status === 'skipped' ? '–' : '·'}
            </span>
            <span className="check-name">{CHECK_TEXT[c.name]}</span>
            <span className="check-status">
              {STATUS_TEXT[c.status]}
              {c.status === 'running' && c.name === 'finite-outputs' && job.runs.total > 0 ? ` ${job.runs.done}/${job.runs.total}` : ''}
            </span>
            {c.detail && <span className="check-detail">{c.detail}</span>}
          </li>
        ))}
      </ol>
      {job.state === 'registered' && job.version && (
        <p className="registration-outcome" role="status">
          {job.version.created ? 'Registered ' : 'Already registered with these files: '}
          <a href={`#/versions?version=${encodeURIComponent(job.version.ref)}`}>{job.version.ref}</a>
          {job.version.created ? ' as a candidate' : ''} · <code className="mono">{job.version.modelVersion}</code>
          {job.report?.latency ? ` · p50 ${job.report.latency.p50Ms} ms, p99 ${job.report.latency.p99Ms} ms` : ''}. The doctor report is kept with the version.
        </p>
      )}
      {job.state === 'cancelled' && (
        <p className="registration-cancelled-note" role="status">
          Cancelled before it was registered: nothing was written to the store.
        </p>
      )}
      {(job.state === 'rejected' || job.state === 'failed') && job.error && (
        <div className="registration-refusal" role="alert">
          <p className="alert-title">
            {failedCheck
              ? `Not registered: the ${CHECK_TEXT[failedCheck].toLowerCase()} check (${failedCheck}) failed`
              : job.state === 'failed'
                ? 'Not registered: the server could not finish'
                : 'Not registered'}
          </p>
          <p className="alert-message">{job.error.message}</p>
          <p className="alert-meta">
            <code>{job.error.code}</code>
            {job.error.where !== undefined && (
              <span>
                {' '}
                at <code>{job.error.where}</code>
              </span>
            )}
          </p>
          <p className="alert-hint">
            Nothing was written to the store. {job.state === 'rejected' ? 'Fix the export and register it again; `switchyard doctor PATH` shows the same checks.' : ''}
          </p>
        </div>
      )}
      {job.evaluation && <EvaluationLine job={job} />}
    </section>
  );
}

function EvaluationLine({ job }: { job: RegistrationJob }) {
  const ev = job.evaluation!;
  const name = baseName(job.dir);
  return (
    <div className="registration-evaluation" role="group" aria-label={`Evaluation of ${name}`}>
      <span className="field-label">Against production</span>
      {ev.state === 'evaluating' || ev.state === 'waiting' ? (
        <>
          <div
            className="progress"
            role="progressbar"
            aria-label={`Evaluating ${job.version?.ref ?? name}`}
            aria-valuemin={0}
            aria-valuemax={100}
            aria-valuenow={Math.round((ev.fraction ?? 0) * 100)}
          >
            <span className="progress-fill" style={{ width: `${Math.round((ev.fraction ?? 0) * 100)}%` }} />
          </div>
          <span className="muted">{ev.note}</span>
        </>
      ) : (
        <p className="registration-verdict">
          {ev.verdict !== null && (
            <>
              Verdict <VerdictBadge verdict={ev.verdict} />{' '}
            </>
          )}
          {ev.passRate !== null && <span>pass rate {(ev.passRate * 100).toFixed(1)}% on {ev.suite} · </span>}
          <span className={ev.state === 'failed' ? 'check-fail' : 'muted'}>{ev.note}</span>
          {ev.verdict !== null && job.version && (
            <>
              {' '}
              <a href={`#/compare?candidate=${encodeURIComponent(job.version.ref)}${ev.suite ? `&suite=${encodeURIComponent(ev.suite)}` : ''}${ev.rulesFile ? `&rules=${encodeURIComponent(ev.rulesFile)}` : ''}`}>Open in Compare</a>
            </>
          )}
        </p>
      )}
    </div>
  );
}
