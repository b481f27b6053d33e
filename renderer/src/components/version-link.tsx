import { compareHref, runHref, verdictHref, versionHref } from '../router';

export { versionHref };

/** A registered version (`policy@label`) as a link to its detail; an export path stays plain text. */
export function VersionLink({ reference, children }: { reference: string; children?: string }) {
  const at = reference.lastIndexOf('@');
  if (at <= 0 || reference.includes('/')) return <>{reference}</>;
  return (
    <a className="version-link" href={versionHref(reference.slice(0, at), reference.slice(at + 1))} title={`Details of ${reference}`}>
      {children ?? reference}
    </a>
  );
}

/** `verdict #N` as a link to that verdict's detail (its rules, evidence and the stage changes that rest on it). */
export function VerdictLink({ policy, id, prefix = 'verdict' }: { policy: string; id: number; prefix?: string }) {
  return (
    <a className="verdict-link" href={verdictHref(policy, id)} title={`Open verdict #${id}: every rule with its evidence`}>
      {prefix} #{id}
    </a>
  );
}

/** `run #N` as a link to that run's detail: every case with its graders, and Compare with that run. */
export function RunLink({ id }: { id: number }) {
  return (
    <a className="run-link" href={runHref(id)} title={`Open run #${id}: every case of the run`}>
      run #{id}
    </a>
  );
}

export { compareHref };
