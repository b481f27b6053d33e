import { useMemo, useState } from 'react';
import type { Comparison } from '@contract';
import { useCompare } from '../stores/context';
import { EndReason, GraderChip } from './case-cells';
import { ScrollCue } from './scroll-cue';

type FailingCase = Comparison['failingCases'][number];

const EMPTY: FailingCase[] = [];

/** The candidate's failing cases with their slices, grader results and the same case on the baseline. */
export function FailingCases() {
  const cases = useCompare((s) => s.result?.comparison.failingCases ?? EMPTY);
  const candidate = useCompare((s) => s.result?.comparison.candidate.version ?? '');
  const [onlyNew, setOnlyNew] = useState(false);
  const newCount = useMemo(() => cases.filter((c) => c.newFailure).length, [cases]);
  const shown = onlyNew ? cases.filter((c) => c.newFailure) : cases;

  return (
    <section className="card card-flush" aria-labelledby="failing-heading">
      <header className="card-header card-header-pad">
        <h2 id="failing-heading">
          Failing cases <span className="count-pill">{cases.length}</span>
        </h2>
        <span className="muted">cases {candidate} fails</span>
        {newCount > 0 && (
          <label className="check">
            <input type="checkbox" checked={onlyNew} onChange={(e) => setOnlyNew(e.target.checked)} />
            only new failures ({newCount})
          </label>
        )}
      </header>
      {cases.length === 0 ? (
        <p className="card-empty muted">The candidate passes every case of the suite.</p>
      ) : (
        <ScrollCue label="Failing cases" bodyClassName="table-scroll table-scroll-tall">
          <table className="data-table failing-table" aria-label="Failing cases">
            <thead>
              <tr>
                <th scope="col">Case</th>
                <th scope="col">Slices</th>
                <th scope="col">Graders</th>
                <th scope="col">Ended because</th>
                <th scope="col">On the baseline</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((c) => (
                <tr key={c.caseId}>
                  <th scope="row">
                    <code className="case-id">{c.caseId}</code>
                  </th>
                  <td>
                    <span className="slice-chips">
                      {c.slices.map((s) => (
                        <span key={s} className="slice-chip">
                          {s}
                        </span>
                      ))}
                    </span>
                  </td>
                  <td>
                    <span className="graders">
                      {c.graders.map((g) => (
                        <GraderChip key={g.name} g={g} marked />
                      ))}
                    </span>
                  </td>
                  <td className="failure-text">{c.failure === null ? <span className="muted">—</span> : <EndReason reason={c.failure} />}</td>
                  <td>
                    {c.baselinePass === null ? (
                      <span className="muted">no result</span>
                    ) : c.baselinePass ? (
                      <span className="badge result-fail" title="passed on the baseline, fails on the candidate">
                        new failure
                      </span>
                    ) : (
                      <span className="muted">failed too</span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollCue>
      )}
    </section>
  );
}
