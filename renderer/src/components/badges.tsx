import type { Stage, VersionSummary } from '@contract';

export function StageBadge({ stage }: { stage: Stage }) {
  return <span className={`badge stage-${stage}`}>{stage}</span>;
}

export function DoctorStatus({ status }: { status: VersionSummary['doctorStatus'] }) {
  const text = status === 'ok' ? 'ok' : status === 'failed' ? 'failed' : 'not run';
  return <span className={`status-dot doctor-${status}`}>{text}</span>;
}

export function VerdictBadge({ verdict }: { verdict: VersionSummary['lastVerdict'] }) {
  if (verdict === null) return <span className="muted">—</span>;
  const cls = verdict === 'GO' ? 'go' : verdict === 'NO-GO' ? 'nogo' : 'inconclusive';
  return <span className={`badge verdict-${cls}`}>{verdict}</span>;
}

/**
 * The FORCED mark: a stage change made without a GO verdict that held (an override). Its reason is
 * the accessible name and the tooltip; the text is upper-cased by the style.
 */
export function ForcedMark({ reason }: { reason: string }) {
  const text = reason.trim() === '' ? 'no reason recorded' : reason;
  return (
    <span className="badge badge-forced" role="img" title={`Forced (override without a GO verdict that held): ${text}`} aria-label={`Forced promotion: ${text}`}>
      forced
    </span>
  );
}
