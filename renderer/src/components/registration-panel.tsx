import { useEffect, useId, useState } from 'react';
import { useStore } from 'zustand';
import { errorHint } from '../error-hints';
import { useStores } from '../stores/context';
import { createRegistrationStore, type RegistrationStore } from '../stores/registration-store';
import { ErrorAlert } from './error-alert';
import { baseName, RegistrationJobCard, RegistrationStateBadge } from './registration-job';
import { VerdictBadge } from './badges';

const FOLDER_KIND: Record<string, string> = {
  store: 'store folder',
  record: 'trace folder',
  'data-root': '--data-root',
  watch: 'watched',
  chosen: 'picked in the dialog',
};

/** One registration store per Versions page; the versions table reloads when a version or verdict lands. */
function useRegistrationStore(): RegistrationStore {
  const { client, versions, offline } = useStores();
  const [store] = useState(() => createRegistrationStore(client, () => void versions.getState().load()));
  useEffect(() => {
    const stop = store.getState().listen();
    const stopReconnect = offline.onReconnect(() => void store.getState().load());
    return () => {
      stop();
      stopReconnect();
    };
  }, [store, offline]);
  return store;
}

/**
 * The Versions page's `Register export` action and the registrations of this server (the page's
 * and the watched folders'), live.
 */
export function RegistrationPanel() {
  const store = useRegistrationStore();
  const [open, setOpen] = useState(false);
  const jobs = useStore(store, (s) => s.jobs);
  const mine = useStore(store, (s) => s.mine);
  const watching = useStore(store, (s) => s.watching);
  const mineJob = jobs.find((j) => j.jobId === mine) ?? null;
  const others = jobs.filter((j) => j.jobId !== mine);
  return (
    <div className="registration-area">
      <div className="registration-bar">
        <button type="button" className="button button-primary" aria-expanded={open} onClick={() => setOpen((o) => !o)}>
          Register export
        </button>
        {watching.length > 0 && (
          <span className="muted" aria-label="Watched folders">
            Watching {watching.map((w) => (
              <code key={w} className="mono path">
                {w}
              </code>
            ))}{' '}
            for new exports
          </span>
        )}
      </div>
      {open && <RegisterForm store={store} onClose={() => setOpen(false)} />}
      {mineJob && <RegistrationJobCard job={mineJob} onCancel={() => void store.getState().cancel(mineJob.jobId)} />}
      {others.length > 0 && <RegistrationsTable store={store} />}
    </div>
  );
}

function RegisterForm({ store, onClose }: { store: RegistrationStore; onClose: () => void }) {
  const id = useId();
  const [path, setPath] = useState('');
  const folders = useStore(store, (s) => s.folders);
  const folderDialog = useStore(store, (s) => s.folderDialog);
  const busy = useStore(store, (s) => s.busy);
  const error = useStore(store, (s) => s.actionError);
  const actions = store.getState();
  return (
    <form
      className="card register-form"
      aria-label="Register an export"
      onSubmit={(e) => {
        e.preventDefault();
        void actions.register(path);
      }}
    >
      <header className="card-header">
        <h2>Register an export</h2>
        <span className="muted">doctor checks it first; a broken export writes nothing</span>
        <button type="button" className="button button-quiet" onClick={onClose} aria-label="Close Register an export">
          ✕
        </button>
      </header>
      <div className="register-row">
        <label className="field field-path" htmlFor={`${id}-path`}>
          <span className="field-label">Export folder</span>
          <input
            id={`${id}-path`}
            className="input mono"
            value={path}
            placeholder="/path/to/cartpole-balance-1.3.0"
            spellCheck={false}
            aria-describedby={`${id}-folders`}
            aria-invalid={error?.where === 'path'}
            onChange={(e) => setPath(e.currentTarget.value)}
          />
        </label>
        {folderDialog && (
          <button
            type="button"
            className="button"
            disabled={busy !== null}
            onClick={() =>
              void actions.choose().then((p) => {
                if (p !== null) setPath(p);
              })
            }
          >
            {busy === 'choose' ? 'Choosing…' : 'Choose folder…'}
          </button>
        )}
        <button type="submit" className="button button-primary" disabled={busy !== null}>
          {busy === 'register' ? 'Starting…' : 'Register'}
        </button>
      </div>
      <div id={`${id}-folders`} className="field-help">
        The directory holding <code>policy.onnx</code> and <code>switchyard.json</code>, under a folder this server reads files from
        {folderDialog ? ' (or one you pick with Choose folder…)' : ''}:
        <ul className="folder-list" aria-label="Folders exports may be registered from">
          {folders.map((f) => (
            <li key={f.path}>
              <button type="button" className="link-button mono" title="Start the path from this folder" onClick={() => setPath(f.path.endsWith('/') ? f.path : `${f.path}/`)}>
                {f.path}
              </button>{' '}
              <span className="muted">{FOLDER_KIND[f.kind] ?? f.kind}</span>
            </li>
          ))}
        </ul>
        Other folders: start the server with <code>--data-root DIR</code>, or <code>--watch DIR</code> to register what appears there.
      </div>
      {error && <ErrorAlert title="Could not register the export" error={error} hint={errorHint(error)} onDismiss={() => actions.dismissError()} />}
    </form>
  );
}

function RegistrationsTable({ store }: { store: RegistrationStore }) {
  const jobs = useStore(store, (s) => s.jobs);
  const mine = useStore(store, (s) => s.mine);
  const [open, setOpen] = useState<string | null>(null);
  const rows = jobs.filter((j) => j.jobId !== mine);
  const opened = rows.find((j) => j.jobId === open) ?? null;
  return (
    <section className="card registrations" aria-labelledby="registrations-heading">
      <header className="card-header">
        <h2 id="registrations-heading">Registrations</h2>
        <span className="muted">this server’s, newest first: the page’s and the watched folders’</span>
      </header>
      <div className="table-scroll">
        <table className="data-table" aria-label="Registrations">
          <thead>
            <tr>
              <th scope="col">Export</th>
              <th scope="col">From</th>
              <th scope="col">State</th>
              <th scope="col">Doctor</th>
              <th scope="col">Version</th>
              <th scope="col">Evaluation</th>
              <th scope="col">Verdict</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((j) => {
              const failed = j.checks.find((c) => c.status === 'failed');
              const passed = j.checks.filter((c) => c.status === 'passed').length;
              return (
                <tr key={j.jobId} className={open === j.jobId ? 'row selected' : 'row'}>
                  <td>
                    <button type="button" className="link-button mono" aria-expanded={open === j.jobId} onClick={() => setOpen(open === j.jobId ? null : j.jobId)} title={j.dir}>
                      {baseName(j.dir)}
                    </button>
                  </td>
                  <td>{j.source === 'watch' ? 'watched folder' : 'page'}</td>
                  <td>
                    <RegistrationStateBadge job={j} />
                  </td>
                  <td>{failed ? <span className="check-fail">{failed.name} failed</span> : j.state === 'registered' ? <span className="status-dot doctor-ok">ok</span> : `${passed}/6`}</td>
                  <td>{j.version ? <a href={`#/versions?version=${encodeURIComponent(j.version.ref)}`}>{j.version.ref}</a> : <span className="muted">—</span>}</td>
                  <td>
                    {j.evaluation === null ? (
                      <span className="muted">—</span>
                    ) : j.evaluation.state === 'evaluating' || j.evaluation.state === 'waiting' ? (
                      `evaluating ${Math.round((j.evaluation.fraction ?? 0) * 100)}%`
                    ) : (
                      <span title={j.evaluation.note}>{j.evaluation.state === 'done' ? `${j.evaluation.suite}${j.evaluation.passRate !== null ? ` · ${(j.evaluation.passRate * 100).toFixed(1)}%` : ''}` : j.evaluation.state}</span>
                    )}
                  </td>
                  <td>{j.evaluation?.verdict ? <VerdictBadge verdict={j.evaluation.verdict} /> : <span className="muted">—</span>}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      {opened && <RegistrationJobCard job={opened} />}
    </section>
  );
}
