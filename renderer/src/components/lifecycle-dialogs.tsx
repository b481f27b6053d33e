import { useId, useState } from 'react';
import type { SwitchyardErrorShape, VersionSummary } from '@contract';
import { formatTimestamp } from '../format';
import { canConfirm, overrideWhy, type RollbackTarget, type TargetStage } from '../stores/lifecycle-logic';
import type { LifecycleProblem, PromotionView } from '../stores/lifecycle-store';
import { StageBadge } from './badges';
import { ConfirmDialog } from './confirm-dialog';
import { ErrorAlert } from './error-alert';
import { LifecycleVerdict } from './lifecycle-verdict';
import { TrafficEffectNote } from './traffic-effect-note';

function ReasonField({ required, value, onChange, help }: { required: boolean; value: string; onChange: (v: string) => void; help: string }) {
  const id = useId();
  const helpId = useId();
  return (
    <div className="reason-field">
      <label htmlFor={id} className="field-label">
        Reason
      </label>
      <textarea
        id={id}
        className="input textarea"
        rows={3}
        value={value}
        required={required}
        aria-required={required}
        aria-describedby={helpId}
        autoFocus={required}
        onChange={(e) => onChange(e.currentTarget.value)}
      />
      <p id={helpId} className="field-help">
        {help}
      </p>
    </div>
  );
}

function Problem({ problem }: { problem: LifecycleProblem | null }) {
  if (problem === null) return null;
  return <ErrorAlert title={problem.title} error={problem.error} hint={problem.hint} />;
}

interface PromoteProps {
  view: PromotionView;
  target: TargetStage;
  refusal: SwitchyardErrorShape | null;
  problem: LifecycleProblem | null;
  busy: boolean;
  onConfirm: (reason: string) => void;
  onCancel: () => void;
}

/** Shows the verdict the promotion rests on; asks for a reason when it is not a GO that holds. */
export function PromoteDialog({ view, target, refusal, problem, busy, onConfirm, onCancel }: PromoteProps) {
  const [reason, setReason] = useState('');
  const v = view.version as VersionSummary;
  const required = view.reasonRequired;
  const why = overrideWhy(view.verdict, view.stale, refusal);
  const production = view.policy?.productionLabel ?? null;
  const transition = (view.transition ?? '').replace('->', ' → ');
  return (
    <ConfirmDialog
      title="Confirm promotion"
      subtitle={
        <>
          Promote <strong>{v.label}</strong> <code className="mono muted">{v.modelVersion}</code> from <StageBadge stage={v.stage} /> to <StageBadge stage={target} />
        </>
      }
      confirmLabel={required ? `Override and promote ${v.label} to ${target}` : `Promote ${v.label} to ${target}`}
      confirmDisabled={!canConfirm(required, reason)}
      busy={busy}
      busyLabel="Promoting…"
      tone={required ? 'danger' : 'primary'}
      onConfirm={() => onConfirm(reason)}
      onCancel={onCancel}
    >
      {target === 'production' && (
        <p className="dialog-note">
          {production === null ? 'The policy has no production version now.' : `${production} leaves production (back to staging) and becomes the rollback target.`}
        </p>
      )}
      <TrafficEffectNote change={{ policy: v.policy, to: target, version: `${v.policy}@${v.label}`, replaced: production === null ? null : `${v.policy}@${production}` }} />
      {view.verdict ? (
        <LifecycleVerdict verdict={view.verdict} stale={view.stale} label="Verdict for this promotion" />
      ) : (
        <p className="lc-missing" role="note">
          No {transition} verdict for {v.label}: the gate has not run for this transition.
        </p>
      )}
      {refusal && <ErrorAlert title="The server refused the promotion without an override" error={refusal} hint="Give a reason to override, or cancel and run the gate again." />}
      <Problem problem={problem} />
      {required ? (
        <>
          {why !== null && <p className="dialog-warning">{why}</p>}
          <ReasonField
            required
            value={reason}
            onChange={setReason}
            help="Required to override: recorded in the stage history with a forced marker, and in the audit log with what it overrode."
          />
        </>
      ) : (
        <p className="dialog-ok">The GO verdict #{view.verdict?.id} holds: no reason is needed. It is recorded with the promotion.</p>
      )}
    </ConfirmDialog>
  );
}

interface RollbackProps {
  policy: string;
  target: RollbackTarget;
  problem: LifecycleProblem | null;
  busy: boolean;
  onConfirm: (reason: string) => void;
  onCancel: () => void;
}

/** Names the version a rollback restores (the production version before the current one). */
export function RollbackDialog({ policy, target, problem, busy, onConfirm, onCancel }: RollbackProps) {
  const [reason, setReason] = useState('');
  const span = target.lastProduction;
  return (
    <ConfirmDialog
      title="Confirm rollback"
      subtitle={
        <>
          Roll <strong>{policy}</strong> back from <strong>{target.current}</strong> to <strong>{target.label}</strong>
        </>
      }
      confirmLabel={`Roll back to ${target.label}`}
      confirmDisabled={false}
      busy={busy}
      busyLabel="Rolling back…"
      tone="danger"
      onConfirm={() => onConfirm(reason)}
      onCancel={onCancel}
    >
      <dl className="facts dialog-facts">
        <dt>Restores</dt>
        <dd>
          <strong>{target.label}</strong>
          {span && (
            <span className="muted">
              {' '}
              (production from {formatTimestamp(span.from)}
              {span.until ? ` until ${formatTimestamp(span.until)}` : ''})
            </span>
          )}
        </dd>
        <dt>Replaces</dt>
        <dd>
          <strong>{target.current}</strong> <span className="muted">(goes back to staging)</span>
        </dd>
        {target.skipped.length > 0 && (
          <>
            <dt>Skips</dt>
            <dd>{target.skipped.join(', ')} (archived)</dd>
          </>
        )}
      </dl>
      <p className="dialog-note">No verdict is needed: a rollback returns to a version that was production.</p>
      <TrafficEffectNote change={{ policy, to: 'production', version: `${policy}@${target.label}`, replaced: `${policy}@${target.current}` }} />
      <Problem problem={problem} />
      <ReasonField required={false} value={reason} onChange={setReason} help="Optional: recorded in the stage history (default: “rollback from the current version”)." />
    </ConfirmDialog>
  );
}

interface ArchiveProps {
  version: VersionSummary;
  problem: LifecycleProblem | null;
  busy: boolean;
  onConfirm: (reason: string) => void;
  onCancel: () => void;
}

export function ArchiveDialog({ version: v, problem, busy, onConfirm, onCancel }: ArchiveProps) {
  const [reason, setReason] = useState('');
  return (
    <ConfirmDialog
      title="Confirm archive"
      subtitle={
        <>
          Archive <strong>{v.label}</strong>, now <StageBadge stage={v.stage} />
        </>
      }
      confirmLabel={`Archive ${v.label}`}
      confirmDisabled={false}
      busy={busy}
      busyLabel="Archiving…"
      tone="danger"
      onConfirm={() => onConfirm(reason)}
      onCancel={onCancel}
    >
      <p className="dialog-note">
        An archived version leaves the line-up and rollbacks pass over it; promoting it to staging again needs a GO verdict. The production version and the last 3
        versions that were production cannot be archived.
      </p>
      <Problem problem={problem} />
      <ReasonField required={false} value={reason} onChange={setReason} help="Optional: recorded in the stage history." />
    </ConfirmDialog>
  );
}
