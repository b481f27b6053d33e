import { useState } from 'react';
import type { SwitchyardErrorShape } from '@contract';
import { useStores } from '../stores/context';
import { ErrorAlert } from './error-alert';
import { RunLink, VersionLink } from './version-link';

interface Side {
  version: string;
  runId: number;
}

type Format = 'csv' | 'jsonl';

/** Hands text to the browser (or the desktop window) as a file to save. */
function saveText(fileName: string, text: string, format: Format): void {
  const blob = new Blob([text], { type: format === 'csv' ? 'text/csv' : 'application/x-ndjson' });
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  document.body.append(a);
  a.click();
  a.remove();
  // Revoked later: the download may still be reading the blob when click() returns.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/**
 * Every case of the two compared runs as a file (the same rows as `switchyard results RUN_ID`), so
 * the comparison can be checked outside the workbench.
 */
export function RunDownloads({ candidate, baseline }: { candidate: Side; baseline: Side }) {
  const { client } = useStores();
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<SwitchyardErrorShape | null>(null);
  const download = async (side: Side, format: Format): Promise<void> => {
    const key = `${side.runId}-${format}`;
    setBusy(key);
    setError(null);
    const r = await client.invoke('eval.results', { runId: side.runId, format });
    setBusy(null);
    if (!r.ok) {
      setError(r.error);
      return;
    }
    saveText(r.value.fileName, r.value.text, format);
  };
  const row = (role: string, side: Side) => (
    <div className="run-download" key={role}>
      <span>
        {role}{' '}
        <strong>
          <VersionLink reference={side.version} />
        </strong>{' '}
        <span className="muted">
          <RunLink id={side.runId} />
        </span>
      </span>
      {(['csv', 'jsonl'] as const).map((f) => (
        <button
          key={f}
          type="button"
          className="button button-quiet small"
          aria-label={`Download ${role.toLowerCase()} cases as ${f.toUpperCase()}`}
          disabled={busy !== null}
          onClick={() => void download(side, f)}
        >
          {busy === `${side.runId}-${f}` ? 'Preparing…' : f.toUpperCase()}
        </button>
      ))}
    </div>
  );
  return (
    <section className="card run-downloads" aria-label="Per-case results">
      <header className="card-header">
        <h2>Per-case results</h2>
        <span className="muted">
          every case with its slices, pass, grader results, score and latency · same as <code>switchyard results RUN_ID</code>
        </span>
      </header>
      {error && <ErrorAlert title="Could not export the run" error={error} hint="The run may have been removed from the store; run the comparison again." onDismiss={() => setError(null)} />}
      {row('Candidate', candidate)}
      {row('Baseline', baseline)}
    </section>
  );
}
