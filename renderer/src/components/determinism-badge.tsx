import type { DeterminismBadge as Badge } from '@contract';

const CLASS: Record<Badge['status'], string> = {
  deterministic: 'det-ok',
  'not frozen': 'det-bad',
  'not checked': 'det-unknown',
};

/** Whether re-running the candidate on the suite gave identical per-case results (spec §4.4). */
export function DeterminismBadge({ badge }: { badge: Badge }) {
  const cases = badge.differing;
  return (
    <span className="determinism" title={badge.note}>
      <span className={`badge ${CLASS[badge.status]}`}>{badge.status}
      </span>
      {badge.status === 'not frozen' && cases.length > 0 && (
        <span className="det-cases">
          {cases.slice(0, 6).join(', ')}
          {cases.length > 6 ? ` +${cases.length - 6} more` : ''}
        </span>
      )}
      <span className="det-note">{badge.note}</span>
    </span>
  );
}
