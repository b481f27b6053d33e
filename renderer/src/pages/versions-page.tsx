import { useContext, useEffect, useRef } from 'react';
import type { VersionSummary } from '@contract';
import { DoctorStatus, StageBadge, VerdictBadge } from '../components/badges';
import { EmptyState } from '../components/empty-state';
import { ErrorAlert } from '../components/error-alert';
import { PageHeader } from '../components/page-header';
import { formatBytes, formatDateTime } from '../format';
import { useStores, useVersions } from '../stores/context';
import { selectSelectedVersion, type VersionRef, type VersionsStore } from '../stores/versions-store';
import { currentQuery, replaceQuery } from '../router';
import { errorHint } from '../error-hints';
import { NavigationContext } from './navigation';
import { RegistrationPanel } from '../components/registration-panel';
import { DoctorReportSection } from '../components/doctor-report';

export function VersionsPage() {
  const { versions } = useStores();
  const { entered } = useContext(NavigationContext);
  const status = useVersions((s) => s.status);
  const policies = useVersions((s) => s.policies);
  const error = useVersions((s) => s.error);
  const selected = useVersions((s) => s.selected);
  const detail = useVersions(selectSelectedVersion);
  const { load, select } = versions.getState();
  useVersionInUrl(versions);

  const count = policies.reduce((n, p) => n + p.versions.length, 0);
  const isSelected = (v: VersionSummary): boolean => selected?.policy === v.policy && selected.label === v.label;
  const toggle = (ref: VersionRef): void => select(selected?.policy === ref.policy && selected.label === ref.label ? null : ref);

  return (
    <div className="page">
      <PageHeader title="Versions" focusOnMount={entered}>
        {status === 'ready' && (
          <span className="muted">
            {policies.length} {policies.length === 1 ? 'policy' : 'policies'}, {count} {count === 1 ? 'version' : 'versions'}
          </span>
        )}
        <button type="button" className="button" onClick={() => void load()} disabled={status === 'loading'}>
          {status === 'loading' ? 'Loading…' : 'Refresh'}
        </button>
      </PageHeader>

      {error && <ErrorAlert title="Could not load the versions" error={error} hint={errorHint(error)} onRetry={() => void load()} />}

      <RegistrationPanel />

      {status === 'ready' && count === 0 && (
        <EmptyState title="No policies registered yet">
          <p>
            Run <code>switchyard demo</code> to build the demo workspace (a cart-pole policy with several versions, a frozen
            suite and promotion rules), or register an export with <code>switchyard register PATH</code>.
          </p>
        </EmptyState>
      )}

      {count > 0 && (
        <div className={detail ? 'split-layout with-detail' : 'split-layout'}>
          <div className="table-wrap">
            <table className="data-table" aria-label="Versions">
              <thead>
                <tr>
                  <th scope="col">Label</th>
                  <th scope="col">Stage</th>
                  <th scope="col">Model version</th>
                  <th scope="col">Kind</th>
                  <th scope="col" className="num">
                    Size
                  </th>
                  <th scope="col">Production since</th>
                  <th scope="col">Doctor</th>
                  <th scope="col">Last verdict</th>
                </tr>
              </thead>
              {policies.map((policy) => (
                <tbody key={policy.name}>
                  <tr className="group-row">
                    <th scope="colgroup" colSpan={8}>
                      {policy.name}
                      <span className="group-meta">
                        {policy.productionLabel === null ? 'no production version' : `production ${policy.productionLabel}`} ·{' '}
                        {policy.versions.length} {policy.versions.length === 1 ? 'version' : 'versions'}
                      </span>
                    </th>
                  </tr>
                  {policy.versions.map((v) => (
                    <tr
                      key={`${v.policy}@${v.label}`}
                      className={isSelected(v) ? 'row selected' : 'row'}
                      aria-current={isSelected(v) ? 'true' : undefined}
                      onClick={() => toggle({ policy: v.policy, label: v.label })}
                    >
                      <td>
                        <button
                          type="button"
                          className="link-button"
                          aria-expanded={isSelected(v)}
                          aria-label={`${v.policy} ${v.label}`}
                          onClick={(e) => {
                            e.stopPropagation();
                            toggle({ policy: v.policy, label: v.label });
                          }}
                        >
                          {v.label}
                        </button>
                      </td>
                      <td>
                        <StageBadge stage={v.stage} />
                      </td>
                      <td>
                        <code className="mono" title={v.modelVersion}>
                          {v.modelVersion}
                        </code>
                      </td>
                      <td>{v.kind}</td>
                      <td className="num">{v.kind === 'external' ? '—' : formatBytes(v.sizeBytes)}</td>
                      <td title={v.productionSince ?? undefined}>{formatDateTime(v.productionSince)}</td>
                      <td>
                        <DoctorStatus status={v.doctorStatus} />
                      </td>
                      <td>
                        <VerdictBadge verdict={v.lastVerdict} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              ))}
            </table>
          </div>
          {detail && <VersionDetail version={detail} onClose={() => select(null)} />}
        </div>
      )}
    </div>
  );
}

/** `#/versions?version=policy@label` opens that version's details: a link to a version is a link to its detail. */
function useVersionInUrl(store: VersionsStore): void {
  useEffect(() => {
    const ref = currentQuery().get('version');
    const at = ref ? ref.lastIndexOf('@') : -1;
    if (ref && at > 0) store.getState().select({ policy: ref.slice(0, at), label: ref.slice(at + 1) });
    const write = (sel: VersionRef | null) => replaceQuery({ version: sel ? `${sel.policy}@${sel.label}` : null });
    write(store.getState().selected);
    return store.subscribe((st, prev) => {
      if (st.selected !== prev.selected) write(st.selected);
    });
  }, [store]);
}

function VersionDetail({ version: v, onClose }: { version: VersionSummary; onClose: () => void }) {
  const ref = useRef<HTMLElement>(null);
  const key = `${v.policy}@${v.label}`;
  useEffect(() => {
    const onKey = (e: KeyboardEvent): void => {
      if (e.key === 'Escape' && !e.defaultPrevented) onClose();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [onClose]);
  useEffect(() => {
    // Where the pane sits below the table, bring it into view when another version is picked.
    ref.current?.scrollIntoView?.({ block: 'nearest' });
  }, [key]);
  return (
    <section ref={ref} className="detail-pane" role="region" aria-label="Version details">
      <header className="detail-header">
        <div>
          <h2>
            {v.policy} <span className="muted">@</span> {v.label}
          </h2>
          <StageBadge stage={v.stage} />
        </div>
        <button type="button" className="button button-quiet" onClick={onClose} aria-label="Close version details">
          ✕
        </button>
      </header>
      <div className="detail-columns">
        <dl className="facts">
          <dt>Model version</dt>
          <dd>
            <code className="mono">{v.modelVersion}</code>
          </dd>
          <dt>Model id</dt>
          <dd>{v.modelId}</dd>
          <dt>Model hash</dt>
          <dd>
            <code className="mono">{v.modelHash}</code>
          </dd>
          <dt>Kind</dt>
          <dd>{v.kind}</dd>
          <dt>Size</dt>
          <dd>{v.kind === 'external' ? '—' : `${formatBytes(v.sizeBytes)} (${v.sizeBytes.toLocaleString('en-US')} bytes)`}</dd>
          <dt>Registered</dt>
          <dd title={v.registeredAt}>{formatDateTime(v.registeredAt)}</dd>
          <dt>Production since</dt>
          <dd>{formatDateTime(v.productionSince)}</dd>
          <dt>Doctor</dt>
          <dd>
            <DoctorStatus status={v.doctorStatus} />
            <DoctorReportSection policy={v.policy} label={v.label} />
          </dd>
          <dt>Last verdict</dt>
          <dd>
            <VerdictBadge verdict={v.lastVerdict} />
          </dd>
          <dt>Export path</dt>
          <dd>
            {v.exportPath === null ? (
              <span className="muted">none (external version: no model to serve)</span>
            ) : (
              <code className="mono path">{v.exportPath}</code>
            )}
          </dd>
        </dl>
        <div className="detail-notes">
          <h3>Notes</h3>
          {v.notes === null || v.notes.trim() === '' ? <p className="muted">No notes in the manifest.</p> : <p className="notes">{v.notes}</p>}
        </div>
      </div>
    </section>
  );
}
