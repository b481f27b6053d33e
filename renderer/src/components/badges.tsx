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
