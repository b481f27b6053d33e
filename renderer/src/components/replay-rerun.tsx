import { useId, useMemo, useState } from 'react';
import type { ReplaySummary } from '@contract';
import { useReplay, useStores, useVersions } from '../stores/context';
import { formatMs } from '../stores/replay-logic';
import { SeriesChart } from './replay-charts';

const int = (n: number) => n.toLocaleString('en-US');
const num = (v: number | null, digits = 3) => (v === null ? '—' : v.toPrecision(digits));

/** Re-run the trace's requests against a registered version: progress, Cancel, divergence and latency, old against new. */
export function ReplayRerunPanel({ summary }: { summary: ReplaySummary }) {
  const { replay } = useStores();
  const policies = useVersions((s) => s.policies);
  const job = useReplay((s) => s.rerunJob);
  const result = useReplay((s) => s.rerun);
  const headingId = useId();
  const selectId = useId();
  const limitId = useId();
  const refs = useMemo(() => policies.flatMap((p) => p.versions.filter((v) => v.kind !== 'external' && v.stage !== 'archived').map((v) => ({ ref: `${v.policy}@${v.label}`, modelId: v.modelId, stage: v.stage }))), [policies]);
  const traceModels = new Set(summary.slots.map((s) => s.modelId).filter((m): m is string => m !== null));
  const suggested = refs.find((r) => !traceModels.has(r.modelId))?.ref ?? refs[0]?.ref ?? '';
  const [version, setVersion] = useState('');
  const [limit, setLimit] = useState('');
  const chosen = version || suggested;
  const running = job?.status === 'running';
  const lim = limit.trim() === '' ? undefined : Number(limit);
  const limitOk = lim === undefined || (Number.isInteger(lim) && lim > 0);
  const xLabels = (r: NonNullable<typeof result>): [string, string] => {
    const f = r.series.firstSeq.find((x) => x !== null);
    const l = [...r.series.firstSeq].reverse().find((x) => x !== null);
    return [`seq ${f ?? '—'}`, `seq ${l ?? '—'}`];
  };
  return (
    <section className="card replay-section" aria-labelledby={headingId}>
      <div className="card-header">
        <h2 id={headingId}>Re-run against another version</h2>
      </div>
      <div className="replay-rerun-form">
        <label htmlFor={selectId}>Version</label>
        <select id={selectId} value={chosen} onChange={(e) => setVersion(e.currentTarget.value)} disabled={running}>
          {refs.length === 0 && <option value="">No registered versions</option>}
          {refs.map((r) => (
            <option key={r.ref} value={r.ref}>
              {r.ref} ({r.stage})
            </option>
          ))}
        </select>
        <label htmlFor={limitId}>First N requests</label>
        <input id={limitId} type="number" min={1} inputMode="numeric" placeholder="all" value={limit} onChange={(e) => setLimit(e.currentTarget.value)} disabled={running} aria-invalid={!limitOk} className="replay-limit" />
        <button type="button" className="button button-primary" disabled={running || !chosen || !limitOk} onClick={() => void replay.getState().startRerun(chosen, lim)}>
          Re-run
        </button>
        {running && (
          <button type="button" className="button" onClick={() => void replay.getState().cancelRerun()}>
            Cancel
          </button>
        )}
      </div>
      {!limitOk && <p className="note">First N requests must be a whole number above 0, or empty for all.</p>}
      {job && (running || job.status === 'cancelled') && (
        <div className="replay-progress">
          <span>
            {running ? 'Re-running' : 'Cancelled after'} {int(job.records)} requests{job.compared !== null ? `, ${int(job.compared)} compared` : ''}
            {job.maxDivergence !== null ? `, largest divergence so far ${num(job.maxDivergence)}` : ''}
          </span>
          {running && <progress aria-label="Re-run progress" max={1} value={job.fraction} />}
        </div>
      )}
      {result && (
        <div className="replay-rerun-result" aria-label="Re-run result" role="region">
          <dl className="facts replay-facts">
            <div>
              <dt>Against</dt>
              <dd>
                {result.version}
                {result.modelVersion ? <span className="muted"> · {result.modelVersion}</span> : null}
                {result.cancelled ? ' (cancelled: partial)' : ''}
              </dd>
            </div>
            <div>
              <dt>Requests re-run</dt>
              <dd>
                {int(result.requests)}
                {result.errors ? `, ${int(result.errors)} failed` : ''}
              </dd>
            </div>
            <div>
              <dt>Max abs divergence</dt>
              <dd data-testid="rerun-max-abs">{num(result.maxAbs)}</dd>
            </div>
            <div>
              <dt>Mean abs divergence</dt>
              <dd>{num(result.meanAbs)}</dd>
            </div>
            <div>
              <dt>Min cosine</dt>
              <dd>{num(result.minCosine)}</dd>
            </div>
            <div>
              <dt>p99 latency, recorded → re-run</dt>
              <dd>
                {formatMs(result.latency.recordedP99)} → {formatMs(result.latency.rerunP99)}
              </dd>
            </div>
          </dl>
          <SeriesChart
            label={`Action divergence per request${result.series.requestsPerPoint > 1 ? ` (worst of each ${result.series.requestsPerPoint})` : ''}`}
            series={[{ label: 'max abs', color: '#dc2626', values: result.series.maxAbs }]}
            xLabels={xLabels(result)}
          />
          <SeriesChart label="Cosine similarity per request" series={[{ label: 'cosine (min)', color: '#7c3aed', values: result.series.minCosine }]} yMin={-1} yMax={1} xLabels={xLabels(result)} height={110} />
          <SeriesChart
            label="Latency, recorded against re-run"
            series={[
              { label: 'recorded (ms)', color: '#6b7280', values: result.series.recordedMs },
              { label: 're-run (ms)', color: '#2563eb', values: result.series.rerunMs },
            ]}
            xLabels={xLabels(result)}
            height={120}
          />
          <div className="table-wrap">
            <table className="data-table" aria-label="Most divergent episodes">
              <thead>
                <tr>
                  <th scope="col">Episode</th>
                  <th scope="col">Requests</th>
                  <th scope="col">Max abs</th>
                  <th scope="col">Mean abs</th>
                  <th scope="col">Min cosine</th>
                </tr>
              </thead>
              <tbody>
                {result.topEpisodes.length === 0 ? (
                  <tr>
                    <td colSpan={5} className="muted">
                      No episode diverged.
                    </td>
                  </tr>
                ) : (
                  result.topEpisodes.map((e) => (
                    <tr key={e.episodeId}>
                      <th scope="row">
                        <button type="button" className="link-button mono" onClick={() => void replay.getState().selectEpisode(e.episodeId)}>
                          {e.episodeId}
                        </button>
                      </th>
                      <td>{int(e.requests)}</td>
                      <td>{num(e.maxAbs)}</td>
                      <td>{num(e.meanAbs)}</td>
                      <td>{num(e.minCosine)}</td>
                    </tr>
                  ))
                )}
              </tbody>
            </table>
          </div>
          {result.warnings.length > 0 && (
            <ul className="replay-warnings" aria-label="Re-run warnings">
              {result.warnings.map((w) => (
                <li key={w}>{w}</li>
              ))}
            </ul>
          )}
        </div>
      )}
    </section>
  );
}
