/** The Versions page with this version's detail pane open (`#/versions?version=policy@label`). */
export function versionHref(policy: string, label: string): string {
  return `#/versions?version=${encodeURIComponent(`${policy}@${label}`)}`;
}

/** A registered version (`policy@label`) as a link to its detail; an export path stays plain text. */
export function VersionLink({ reference }: { reference: string }) {
  const at = reference.lastIndexOf('@');
  if (at <= 0 || reference.includes('/')) return <>{reference}</>;
  return (
    <a className="version-link" href={versionHref(reference.slice(0, at), reference.slice(at + 1))}>
      {reference}
    </a>
  );
}
