import { useCallback, useContext, useEffect, useMemo, useState } from 'react';
import { formatMilliseconds, type EvalCaseRow, type EvalRunSummary, type SwitchyardErrorShape } from '@contract';
import { ErrorAlert } from '../components/error-alert';
import { PageHeader } from '../components/page-header';
import { VersionLink } from '../components/version-link';
import { DeterminismBadge } from '../components/determinism-badge';
import { formatTimestamp } from '../format';
import { errorHint } from '../error-hints';
import { compareHref, currentQuery, useHash } from '../router';
import { useStores } from '../stores/context';
import { NavigationContext } from './navigation';
import { ScrollCue } from '../components/scroll-cue';
import { EndReason, GraderChip } from '../components/case-cells';

/** One case of a stored run as `eval.results` (json) gives it: the contract's row, as core writes it. */
export type RunCase = EvalCaseRow;

/** The cases of `eval.results` text, keeping only well-formed rows (the text crosses a wire). */
export function parseRunCases(text: string): RunCase[] {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return [];
  }
  if (!Array.isArray(raw)) return [];
  const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  return raw.flatMap((r: unknown): RunCase[] => {
    if (typeof r !== 'object' || r === null) return [];
    const o = r as Record<string, unknown>;
    if (typeof o['id'] !== 'string' || typeof o['pass'] !== 'boolean') return [];
    const graders = Array.isArray(o['graders'])
      ? (o['graders'] as unknown[]).flatMap((g) => {
          if (typeof g !== 'object' || g === null || typeof (g as { name?: unknown }).name !== 'string') return [];
          const x = g as { name: string; pass?: unknown; value?: unknown };
          return [{ name: x.name, pass: typeof x.pass === 'boolean' ? x.pass : null, value: num(x.value) ?? (x.value === 'Infinity' ? Infinity : null) }];
        })
      : [];
    return [
      {
        id: o['id'],
        slices: Array.isArray(o['slices']) ? (o['slices'] as unknown[]).filter((s): s is string => typeof s === 'string') : [],
        pass: o['pass'],
        graders,
        score: num(o['score']),
        latencyMs: num(o['latencyMs']),
        partial: o['partial'] === true,
        steps: num(o['steps']),
        failure: typeof o['failure'] === 'string' ? o['failure'] : null,
      },
    ];
  });
}

type Loaded =
  | { status: 'loading' }
  | { status: 'error'; error: SwitchyardErrorShape }
  | { status: 'ready'; version: string; runStatus: string; summary: EvalRunSummary | null; cases: RunCase[] };

/** Which run the URL names (`#/run?id=N`). */
export function runFromQuery(q: URLSearchParams): number | null {
  const id = Number(q.get('id'));
  return Number.isInteger(id) && id > 0 ? id : null;
}

/**
 * One evaluation run, as a link opens it: what was evaluated on which suite, every case with its
 * graders (in their units) and why its episode ended, and Compare with that run.
 */
export function RunPage() {
  const { client } = useStores();
  const { entered } = useContext(NavigationContext);
  useHash();
  const runId = runFromQuery(currentQuery());
  const [state, setState] = useState<Loaded>({ status: 'loading' });
  const [onlyFailing, setOnlyFailing] = useState(false);

  const load = useCallback(async () => {
    if (runId === null) return;
    setState({ status: 'loading' });
    const r = await client.invoke('eval.results', { runId, format: 'json' });
    if (!r.ok) return setState({ status: 'error', error: r.error });
    const runs = await client.invoke('eval.runs', { version: r.value.version, limit: 1000 });
    const summary = runs.ok ? (runs.value.runs.find((x) => x.id === runId) ?? null) : null;
    setState({ status: 'ready', version: r.value.version, runStatus: r.value.status, summary, cases: parseRunCases(r.value.text) });
  }, [client, runId]);

  useEffect(() => {
    void load();
  }, [load]);

  const cases = state.status === 'ready' ? state.cases : [];
  const failing = useMemo(() => cases.filter((c) => !c.pass).length, [cases]);
  const shown = onlyFailing ? cases.filter((c) => !c.pass) : cases;

  return (
    <div className="page detail-page">
      <PageHeader title={runId === null ? 'Run' : `Run #${runId}`} focusOnMount={entered}>
        <button type="button" className="button" onClick={() => void load()} disabled={runId === null || state.status === 'loading'}>
          {state.status === 'loading' ? 'Loading…' : 'Refresh'}
        </button>
      </PageHeader>
      {runId === null && <p className="note">This link names no run. Run links look like #/run?id=N.</p>}
      {runId !== null && state.status === 'error' && <ErrorAlert title={`Could not load run #${runId}`} error={state.error} hint={errorHint(state.error)} onRetry={() => void load()} />}
      {state.status === 'ready' && (
        <>
          <section className="card" aria-label="Run facts">
            <dl className="run-facts">
              <dt>Version</dt>
              <dd>
                <VersionLink reference={state.version} />
              </dd>
              <dt>Suite</dt>
              <dd>
                {state.summary?.suite ?? <span className="muted">unknown</span>}
                {state.summary && (
                  <code className="mono muted" title={state.summary.suiteFingerprint}>
                    {state.summary.suiteFingerprint.slice(0, 12)}
                  </code>
                )}
              </dd>
              <dt>Status</dt>
              <dd>
                {state.runStatus}
                {state.summary?.kind === 'imported' ? ' (imported)' : ''}
              </dd>
              <dt>Passed</dt>
              <dd>
                {cases.length - failing} of {cases.length} cases
              </dd>
              {state.summary && (
                <>
                  <dt>Evaluated</dt>
                  <dd>
                    <time dateTime={state.summary.startedAt}>{formatTimestamp(state.summary.startedAt)}</time>
                    {state.summary.endedAt && (
                      <>
                        {' '}
                        to <time dateTime={state.summary.endedAt}>{formatTimestamp(state.summary.endedAt)}</time>
                      </>
                    )}
                  </dd>
                  <dt>Determinism</dt>
                  <dd>
                    <DeterminismBadge badge={state.summary.determinism} />
                  </dd>
                </>
              )}
            </dl>
            <p className="detail-actions">
              <a className="button" href={compareHref({ candidate: state.version, suite: state.summary?.suiteFingerprint ?? null })}>
                Compare with this run
              </a>
              <span className="muted">Compare uses each version&apos;s newest completed run on the suite.</span>
            </p>
          </section>
          <section className="card card-flush" aria-labelledby="run-cases-heading">
            <header className="card-header card-header-pad">
              <h2 id="run-cases-heading">
                Cases <span className="count-pill">{cases.length}</span>
              </h2>
              <label className="check">
                <input type="checkbox" checked={onlyFailing} onChange={(e) => setOnlyFailing(e.target.checked)} />
                only failing ({failing})
              </label>
            </header>
            <ScrollCue label="Cases of the run" bodyClassName="table-scroll table-scroll-tall">
              <table className="data-table failing-table run-cases-table" aria-label="Cases of the run">
                <thead>
                  <tr>
                    <th scope="col">Case</th>
                    <th scope="col">Result</th>
                    <th scope="col">Graders</th>
                    <th scope="col">Ended because</th>
                    <th scope="col" className="num">
                      Latency
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {shown.map((c) => (
                    <tr key={c.id}>
                      <th scope="row">
                        <code className="case-id">{c.id}</code>
                        {c.slices.length > 0 && <span className="run-case-slices muted">{c.slices.join(', ')}</span>}
                      </th>
                      <td>
                        <span className={`badge ${c.pass ? 'result-pass' : 'result-fail'}`}>{c.pass ? 'PASS' : 'FAIL'}</span>
                        {c.partial && <span className="muted"> partial</span>}
                      </td>
                      <td>
                        <span className="graders">
                          {c.graders.map((g) => (
                            <GraderChip key={g.name} g={g} />
                          ))}
                        </span>
                      </td>
                      <td className="failure-text">
                        {c.failure === null ? (
                          <span className="muted">{c.pass ? 'ran its full length' : '—'}</span>
                        ) : (
                          <EndReason reason={c.failure} />
                        )}
                      </td>
                      <td className="num">{c.latencyMs === null ? '—' : formatMilliseconds(c.latencyMs)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </ScrollCue>
          </section>
        </>
      )}
    </div>
  );
}
