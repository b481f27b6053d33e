import { useEffect, useId, useState } from 'react';
import type { CanaryLook, CanaryStatus, ServingState } from '@contract';
import { formatTimestamp } from '../format';
import { canaryHint, DEFAULT_CANARY_FORM, isCanaryActive, parseCanaryForm, type CanaryForm } from '../stores/canary-store';
import { useCanary, useStores } from '../stores/context';
import { ConfirmDialog } from './confirm-dialog';
import { ErrorAlert } from './error-alert';

const STATE_TEXT: Record<CanaryStatus['state'], string> = {
  ramping: 'Ramping',
  paused: 'Paused',
  monitoring: 'Promoted · monitoring',
  completed: 'Completed',
  rolled_back: 'Rolled back',
  aborted: 'Aborted',
};

const CHECK_TEXT: Record<string, string> = { data: 'data', error_rate: 'error rate', p99_latency: 'p99 latency' };

/**
 * The canary ramp of slot B against production in slot A (spec §6), on the Traffic page: a form
 * to start one, then each look as `canary.progress` reports it, pause / resume / abort, and the
 * outcome. The stage changes it makes land in the Promote page's timeline like any other.
 */
export function CanaryPanel({ serving }: { serving: ServingState }) {
  const { canary: store } = useStores();
  const canary = useCanary((s) => s.canary);
  const loadError = useCanary((s) => s.loadError);
  const actionError = useCanary((s) => s.actionError);
  const busy = useCanary((s) => s.busy);
  const [aborting, setAborting] = useState(false);
  // Kept here, not in the form: the form is hidden while a canary runs and the next one starts from the same settings.
  const [form, setForm] = useState<CanaryForm>(DEFAULT_CANARY_FORM);
  const actions = store.getState();
  const active = isCanaryActive(canary);
  const slotA = serving.slots.find((s) => s.slot === 'a') ?? null;
  const slotB = serving.slots.find((s) => s.slot === 'b') ?? null;

  return (
    <section className="card canary-card" aria-labelledby="canary-heading">
      <header className="card-header">
        <h2 id="canary-heading">Canary</h2>
        <span className="muted">ramp slot B to production, look at each step, roll back on a failed look</span>
      </header>
      {loadError && <ErrorAlert title="Could not read the canary" error={loadError} hint="The server may be restarting; Retry reads it again." onRetry={() => void actions.load()} />}
      {actionError && (
        <ErrorAlert title={`The server refused to ${actionError.action} the canary`} error={actionError.error} hint={canaryHint(actionError.error)} onDismiss={actions.dismissActionError} />
      )}
      {canary !== null && <CanaryStatusView canary={canary} />}
      {active && canary !== null ? (
        <div className="canary-actions">
          {canary.state === 'paused' ? (
            <button type="button" className="button" onClick={() => void actions.resume()} disabled={busy !== null}>
              {busy === 'resume' ? 'Resuming…' : 'Resume'}
            </button>
          ) : (
            <button type="button" className="button" onClick={() => void actions.pause()} disabled={busy !== null}>
              {busy === 'pause' ? 'Pausing…' : 'Pause'}
            </button>
          )}
          <button type="button" className="button button-danger-outline" onClick={() => setAborting(true)} disabled={busy !== null}>
            Abort…
          </button>
        </div>
      ) : serving.mode !== 'ab' || slotA === null || slotB === null ? (
        <p className="note">
          A canary needs two-policy mode: production in slot A and the staging candidate in slot B, e.g.{' '}
          <code>switchyard console --policy-a POLICY@production --policy-b POLICY@LABEL --split 100</code>.
        </p>
      ) : (
        <CanaryStartForm candidate={slotB.versionRef} production={slotA.versionRef} again={canary !== null} form={form} setForm={setForm} />
      )}
      {aborting && canary !== null && (
        <AbortDialog
          canary={canary}
          busy={busy === 'abort'}
          onCancel={() => setAborting(false)}
          onConfirm={(reason) =>
            void actions.abort(reason).then((ok) => {
              if (ok) setAborting(false);
            })
          }
        />
      )}
    </section>
  );
}

function policyOf(ref: string): string {
  const at = ref.lastIndexOf('@');
  return at > 0 ? ref.slice(0, at) : ref;
}

interface StartFormProps {
  candidate: string;
  production: string;
  again: boolean;
  form: CanaryForm;
  setForm: (update: (f: CanaryForm) => CanaryForm) => void;
}

function CanaryStartForm({ candidate, production, again, form, setForm }: StartFormProps) {
  const { canary: store } = useStores();
  const busy = useCanary((s) => s.busy);
  const [invalid, setInvalid] = useState<{ field: keyof CanaryForm; message: string } | null>(null);
  const ids = useId();
  const set = (field: keyof CanaryForm) => (value: string | boolean) => {
    setForm((f) => ({ ...f, [field]: value }));
    if (invalid?.field === field) setInvalid(null);
  };
  const submit = (): void => {
    const parsed = parseCanaryForm(form);
    if (!parsed.ok) {
      setInvalid({ field: parsed.field, message: parsed.message });
      return;
    }
    void store.getState().start({ policy: policyOf(candidate), candidate, ...parsed.input });
  };
  const field = (name: keyof CanaryForm, label: string, help: string) => (
    <label className="field canary-field" htmlFor={`${ids}-${name}`}>
      <span className="field-label">{label}</span>
      <input
        id={`${ids}-${name}`}
        className="input"
        value={form[name] as string}
        aria-invalid={invalid?.field === name}
        aria-describedby={invalid?.field === name ? `${ids}-invalid` : undefined}
        title={help}
        onChange={(e) => set(name)(e.currentTarget.value)}
      />
    </label>
  );
  return (
    <form
      className="canary-form"
      aria-label="Start a canary"
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
    >
      <p>
        Ramp <strong>{candidate}</strong> (slot B) against production <strong>{production}</strong> (slot A).
        {again && <span className="muted"> The last canary is shown above.</span>}
      </p>
      <div className="canary-fields">
        {field('steps', 'Steps (% to canary)', 'Percent of new episodes on the canary at each step; the last must be 100.')}
        {field('intervalS', 'Interval (s)', 'How long each step runs before its look.')}
        {field('alpha', 'Alpha', 'Overall false-pass rate, split over every planned look.')}
        {field('errorMargin', 'Error margin', 'How much higher the canary error rate may be (non-inferiority margin).')}
        {field('p99MaxRatio', 'p99 ratio limit', 'The canary p99 may be at most this many times production p99.')}
        {field('minRequestsPerLook', 'Requests per look', 'New canary requests a look needs; fewer fails it.')}
        {field('monitorS', 'Monitor (s)', 'How long to keep looking after the promotion (0: not at all).')}
      </div>
      <div className="canary-force">
        <label className="checkbox-label">
          <input type="checkbox" checked={form.force} onChange={(e) => set('force')(e.currentTarget.checked)} /> Force (no GO verdict for staging → production)
        </label>
        {form.force && (
          <label className="field field-wide" htmlFor={`${ids}-reason`}>
            <span className="field-label">Reason</span>
            <input id={`${ids}-reason`} className="input" value={form.reason} aria-invalid={invalid?.field === 'reason'} onChange={(e) => set('reason')(e.currentTarget.value)} />
          </label>
        )}
      </div>
      {invalid && (
        <p id={`${ids}-invalid`} className="field-error" role="alert">
          {invalid.message}
        </p>
      )}
      <div className="canary-actions">
        <button type="submit" className="button button-primary" disabled={busy !== null}>
          {busy === 'start' ? 'Starting…' : 'Start canary'}
        </button>
      </div>
    </form>
  );
}

function useNow(enabled: boolean): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!enabled) return undefined;
    const t = setInterval(() => setNow(Date.now()), 500);
    return () => clearInterval(t);
  }, [enabled]);
  return now;
}

function CanaryStatusView({ canary }: { canary: CanaryStatus }) {
  const active = isCanaryActive(canary);
  const now = useNow(active && canary.nextLookAt !== null);
  const next = canary.nextLookAt === null ? null : Math.max(0, Math.ceil((Date.parse(canary.nextLookAt) - now) / 1000));
  const steps = canary.config.steps;
  const tone = canary.state === 'completed' ? 'go' : canary.state === 'rolled_back' || canary.state === 'aborted' ? 'nogo' : 'running';
  return (
    <div className="canary-status" aria-label="Canary status">
      <p className={`canary-headline canary-${tone}`} role="status">
        <strong className="canary-state">{STATE_TEXT[canary.state]}</strong> {canary.candidate} vs {canary.baseline} · {canary.percent}% on the canary · step{' '}
        {Math.min(canary.stepIndex + 1, steps.length)} of {steps.length} ({steps.join(' → ')}%) · look {canary.looks.length} of {canary.plannedLooks}
        {canary.forced && <span className="badge verdict-nogo">forced</span>}
        {active && next !== null && canary.state !== 'paused' && <span className="muted"> · next look in {next} s</span>}
        {canary.state === 'paused' && canary.pausedFrom && <span className="muted"> · paused while {canary.pausedFrom}</span>}
      </p>
      <ol className="canary-steps" aria-label="Ramp steps">
        {steps.map((s, i) => {
          const done = canary.looks.some((l) => l.phase === 'ramp' && l.percent === s && l.pass);
          const failed = canary.looks.some((l) => l.phase === 'ramp' && l.percent === s && !l.pass);
          const current = active && i === canary.stepIndex && canary.state !== 'monitoring';
          return (
            <li key={s} className={`canary-step${done ? ' step-pass' : ''}${failed ? ' step-fail' : ''}${current ? ' step-current' : ''}`}>
              {s}%
            </li>
          );
        })}
        {canary.config.monitorWindowMs > 0 && <li className={`canary-step${canary.state === 'monitoring' ? ' step-current' : ''}`}>monitor</li>}
      </ol>
      {canary.outcome !== null && (
        <div className={`banner ${tone === 'go' ? 'banner-success' : 'banner-warning'} canary-outcome`} role="status" aria-label="Canary outcome">
          <p>
            <strong>{STATE_TEXT[canary.state]}:</strong> {canary.outcome}
            {canary.state === 'rolled_back' && <span> · every request is back on {canary.baseline}</span>}
          </p>
        </div>
      )}
      {canary.looks.length > 0 && <LooksTable looks={canary.looks} planned={canary.plannedLooks} />}
    </div>
  );
}

function slotText(n: CanaryLook['canary']): string {
  if (n === null) return '—';
  const rate = n.errorRate === null ? '—' : `${(n.errorRate * 100).toFixed(1)}%`;
  return `${n.requests} req · ${n.errors} err (${rate}) · p99 ${n.p99Ms === null ? '—' : `${n.p99Ms.toFixed(1)} ms`}`;
}

function LooksTable({ looks, planned }: { looks: CanaryLook[]; planned: number }) {
  return (
    <div className="table-scroll">
      <table className="data-table canary-looks" aria-label="Canary looks">
        <thead>
          <tr>
            <th scope="col">Look</th>
            <th scope="col">At</th>
            <th scope="col">Canary %</th>
            <th scope="col">Result</th>
            <th scope="col">Checks (α per look)</th>
            <th scope="col">Canary</th>
            <th scope="col">Production</th>
          </tr>
        </thead>
        <tbody>
          {looks.map((l) => (
            <tr key={l.index} className={l.pass ? 'look-pass' : 'look-fail'}>
              <td>
                {l.index}/{planned} <span className="muted">{l.phase}</span>
              </td>
              <td className="muted">{formatTimestamp(l.at)}</td>
              <td>{l.percent}%</td>
              <td>
                <span className={`badge ${l.pass ? 'verdict-go' : 'verdict-nogo'}`}>{l.pass ? 'pass' : 'fail'}</span>
              </td>
              <td>
                <ul className="canary-checks">
                  {l.checks.map((c) => (
                    <li key={c.id} className={c.pass ? 'check-pass' : 'check-fail'} title={c.note}>
                      {c.pass ? '✓' : '✗'} {CHECK_TEXT[c.id] ?? c.id}: {c.note}
                    </li>
                  ))}
                </ul>
                <span className="muted">α {l.alpha.toPrecision(2)}</span>
              </td>
              <td className="mono">{slotText(l.canary)}</td>
              <td className="mono">{slotText(l.production)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function AbortDialog({ canary, busy, onCancel, onConfirm }: { canary: CanaryStatus; busy: boolean; onCancel: () => void; onConfirm: (reason: string) => void }) {
  const [reason, setReason] = useState('');
  const id = useId();
  return (
    <ConfirmDialog
      title="Abort the canary"
      subtitle={
        <>
          Every request goes back to <strong>{canary.baseline}</strong> at once
          {canary.promotedAt !== null ? ` and ${canary.candidate}'s promotion is rolled back` : ''}.
        </>
      }
      confirmLabel="Abort canary"
      confirmDisabled={reason.trim() === ''}
      busy={busy}
      busyLabel="Aborting…"
      tone="danger"
      onConfirm={() => onConfirm(reason.trim())}
      onCancel={onCancel}
    >
      <div className="reason-field">
        <label htmlFor={id} className="field-label">
          Reason
        </label>
        <textarea id={id} className="input textarea" rows={3} value={reason} required autoFocus onChange={(e) => setReason(e.currentTarget.value)} />
        <p className="field-help">Recorded in the audit log and the canary's outcome.</p>
      </div>
    </ConfirmDialog>
  );
}
