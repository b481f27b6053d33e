import { useContext, useEffect, useRef } from 'react';
import type { HistoryEntry, VersionSummary } from '@contract';
import { DoctorStatus, ForcedMark, StageBadge, VerdictBadge } from '../components/badges';
import { actionText } from '../components/stage-timeline';
import { VerdictLink } from '../components/version-link';
import { EmptyState } from '../components/empty-state';
import { ScrollCue } from '../components/scroll-cue';
import { ErrorAlert } from '../components/error-alert';
import { PageHeader } from '../components/page-header';
import { formatBytes, formatDateTime, formatTimestamp, zoneName } from '../format';
import { useStores, useVersions } from '../stores/context';
import { forcedEntry, selectSelectedVersion, versionHistory, type VersionRef, type VersionsStore } from '../stores/versions-store';
import { currentQuery, replaceQuery, verdictHref } from '../router';
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

  const history = useVersions((s) => s.history);
  const lastVerdictId = useVersions((s) => s.lastVerdictId);
  const forcedOf = (v: VersionSummary) => forcedEntry(history, v);
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
          <ScrollCue label="Versions">
            <table className="data-table sticky-first" aria-label="Versions">
              <thead>
                <tr>
                  <th scope="col">Label</th>
                  <th scope="col">Stage</th>
                  <th scope="col">Model version</th>
                  <th scope="col">Kind</th>
                  <th scope="col" className="num">
                    Size
                  </th>
                  <th scope="col">
                    Production since <span className="muted zone">({zoneName()})</span>
                  </th>
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
                        <span className="stage-cell">
                          <StageBadge stage={v.stage} />
                          {forcedOf(v) && <ForcedMark reason={forcedOf(v)?.reason ?? ''} />}
                        </span>
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
                        <LastVerdict version={v} id={lastVerdictId[`${v.policy}@${v.label}`]} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              ))}
            </table>
          </ScrollCue>
          {detail && (
            <VersionDetail version={detail} history={versionHistory(history, detail)} lastVerdictId={lastVerdictId[`${detail.policy}@${detail.label}`]} onClose={() => select(null)} />
          )}
        </div>
      )}
    </div>
  );
}

/** `#/versions?version=policy@label` opens that version's details: a link to a version is a link to its detail. */
function useVersionInUrl(store: VersionsStore): void {
  useEffect(() => {
    const fromUrl = (): void => {
      const ref = currentQuery().get('version');
      const at = ref ? ref.lastIndexOf('@') : -1;
      if (ref && at > 0) store.getState().select({ policy: ref.slice(0, at), label: ref.slice(at + 1) });
    };
    fromUrl();
    const write = (sel: VersionRef | null) => replaceQuery({ version: sel ? `${sel.policy}@${sel.label}` : null });
    write(store.getState().selected);
    const stop = store.subscribe((st, prev) => {
      if (st.selected !== prev.selected) write(st.selected);
    });
    // A version link followed while this page is open changes only the query: open that version.
    window.addEventListener('hashchange', fromUrl);
    return () => {
      stop();
      window.removeEventListener('hashchange', fromUrl);
    };
  }, [store]);
}

/** The last verdict's word, a link to that verdict when its id is known. */
function LastVerdict({ version: v, id }: { version: VersionSummary; id: number | undefined }) {
  if (v.lastVerdict === null || id === undefined) return <VerdictBadge verdict={v.lastVerdict} />;
  return (
    <a className="verdict-badge-link" href={verdictHref(v.policy, id)} aria-label={`${v.lastVerdict}, verdict #${id}`} title={`Open verdict #${id}`} onClick={(e) => e.stopPropagation()}>
      <VerdictBadge verdict={v.lastVerdict} />
    </a>
  );
}

function VersionDetail({
  version: v,
  history,
  lastVerdictId,
  onClose,
}: {
  version: VersionSummary;
  history: HistoryEntry[];
  lastVerdictId: number | undefined;
  onClose: () => void;
}) {
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
          {history.find((e) => e.to === v.stage)?.forced === true && <ForcedMark reason={history.find((e) => e.to === v.stage)?.reason ?? ''} />}
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
          <dd title={v.registeredAt}>{formatTimestamp(v.registeredAt)}</dd>
          <dt>Production since</dt>
          <dd>{formatTimestamp(v.productionSince)}</dd>
          <dt>Doctor</dt>
          <dd>
            <DoctorStatus status={v.doctorStatus} />
            <DoctorReportSection policy={v.policy} label={v.label} />
          </dd>
          <dt>Last verdict</dt>
          <dd>
            <LastVerdict version={v} id={lastVerdictId} />
            {lastVerdictId !== undefined && v.lastVerdict !== null && (
              <>
                {' '}
                <VerdictLink policy={v.policy} id={lastVerdictId} />
              </>
            )}
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
          <h3>Stage history</h3>
          {history.length === 0 ? (
            <p className="muted">No stage change recorded.</p>
          ) : (
            <ol className="version-history" aria-label={`Stage history of ${v.label}`}>
              {history.map((e) => (
                <li key={e.id}>
                  <time dateTime={e.at} title={e.at}>
                    {formatTimestamp(e.at)}
                  </time>{' '}
                  {e.from === null ? <span className="muted">new</span> : <StageBadge stage={e.from} />} → <StageBadge stage={e.to} /> {actionText(e)}
                  {e.forced && <ForcedMark reason={e.reason} />}
                  <span className="version-history-detail">
                    by {e.actor}
                    {e.reason !== '' && <> · “{e.reason}”</>}
                    {e.verdictId !== null && (
                      <>
                        {' '}
                        · <VerdictLink policy={e.policy} id={e.verdictId} />
                      </>
                    )}
                  </span>
                </li>
              ))}
            </ol>
          )}
        </div>
      </div>
    </section>
  );
}
