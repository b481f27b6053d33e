import { useEffect, useState } from 'react';
import type { DoctorReportView, SwitchyardErrorShape } from '@contract';
import { formatDateTime } from '../format';
import { useStores } from '../stores/context';
import { ErrorAlert } from './error-alert';

/** The doctor report kept with a version (issue 13): every check, latency, where it ran. */
export function DoctorReportSection({ policy, label }: { policy: string; label: string }) {
  const { client } = useStores();
  const [open, setOpen] = useState(false);
  const [state, setState] = useState<{ report: DoctorReportView | null; error: SwitchyardErrorShape | null; loading: boolean }>({ report: null, error: null, loading: false });
  const key = `${policy}@${label}`;
  useEffect(() => {
    setOpen(false);
    setState({ report: null, error: null, loading: false });
  }, [key]);
  useEffect(() => {
    if (!open) return;
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    void client.invoke('registry.doctorReport', { policy, label }).then((r) => {
      if (!live) return;
      setState(r.ok ? { report: r.value.report, error: null, loading: false } : { report: null, error: r.error, loading: false });
    });
    return () => {
      live = false;
    };
  }, [open, client, policy, label]);
  const r = state.report;
  return (
    <div className="doctor-report">
      <button type="button" className="button" aria-expanded={open} onClick={() => setOpen((o) => !o)}>
        {open ? 'Hide doctor report' : 'Doctor report'}
      </button>
      {open && state.error && <ErrorAlert title="Could not load the doctor report" error={state.error} />}
      {open && !state.error && !state.loading && r === null && <p className="muted">Registered without a doctor report (an imported or external version).</p>}
      {open && r && (
        <section className="doctor-report-body" aria-label={`Doctor report of ${key}`}>
          <p>
            <strong className={r.ok ? 'status-dot doctor-ok' : 'status-dot doctor-failed'}>{r.ok ? 'passed' : 'failed'}</strong>
            {r.checkedAt && <span className="muted"> · checked {formatDateTime(r.checkedAt)}</span>}
            {r.provider && <span className="muted"> · on {r.provider}</span>}
            {r.latency && (
              <span className="muted">
                {' '}
                · {r.latency.runs} timed runs: p50 {r.latency.p50Ms} ms, p99 {r.latency.p99Ms} ms (inference p50 {r.latency.inferP50Ms} ms)
              </span>
            )}
          </p>
          <table className="data-table" aria-label={`Doctor checks of ${key}`}>
            <thead>
              <tr>
                <th scope="col">Check</th>
                <th scope="col">Result</th>
                <th scope="col">Detail</th>
              </tr>
            </thead>
            <tbody>
              {r.checks.map((c) => (
                <tr key={c.name}>
                  <td className="mono">{c.name}</td>
                  <td className={c.ok ? '' : 'check-fail'}>{c.ok ? 'passed' : c.skipped ? 'skipped' : 'failed'}</td>
                  <td>{c.detail}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      )}
    </div>
  );
}
