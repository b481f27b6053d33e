import { useState } from 'react';
import type { GateResult, RuleEvidence } from '@contract';
import { formatRuleInterval, formatRuleValue, formatThreshold } from '../compare-format';
import { useCompare } from '../stores/context';
import { VerdictLink, VersionLink } from './version-link';
import { ScrollCue } from './scroll-cue';
import { ShadowEvidenceLink } from './shadow-evidence-link';

/** `policy@label` → `policy`. */
function policyOf(ref: string): string {
  const at = ref.lastIndexOf('@');
  return at > 0 ? ref.slice(0, at) : ref;
}

const VERDICT_CLASS: Record<GateResult['verdict'], string> = { GO: 'go', 'NO-GO': 'nogo', INCONCLUSIVE: 'inconclusive' };

const BASELINE_SOURCE: Record<GateResult['baselineSource'], string> = {
  production: 'the production version',
  rules: "the rules' baseline",
  override: 'chosen here (overrides the rules)',
};

/** The gate's verdict, large: GO / NO-GO / INCONCLUSIVE with the summary line. */
export function VerdictBanner() {
  const gate = useCompare((s) => s.result?.gate ?? null);
  if (gate === null) return null;
  const cls = VERDICT_CLASS[gate.verdict];
  const passed = gate.rules.filter((r) => r.pass === true).length;
  const failed = gate.rules.filter((r) => r.pass === false).length;
  const undecided = gate.rules.length - passed - failed;
  const file = gate.rulesFile.slice(gate.rulesFile.lastIndexOf('/') + 1);
  const ids = (pass: boolean | null): string =>
    gate.rules
      .filter((r) => r.pass === pass)
      .map((r) => r.id)
      .join(', ');
  // The summary line names every failure with its numbers; a NO-GO leads with which rules failed.
  const headline =
    gate.verdict === 'NO-GO'
      ? `${failed} of ${gate.rules.length} rules failed: ${ids(false)}`
      : gate.verdict === 'INCONCLUSIVE'
        ? `${undecided} of ${gate.rules.length} rules could not be decided: ${ids(null)}`
        : null;
  return (
    <div className={`verdict-banner verdict-banner-${cls}`} role="status" aria-label="Verdict">
      <span className="verdict-word">{gate.verdict}</span>
      <div className="verdict-body">
        {headline !== null && <p className="verdict-headline">{headline}</p>}
        <p className={headline === null ? 'verdict-headline' : 'verdict-summary'}>{gate.summary}</p>
        <p className="verdict-meta">
          {gate.transition.replace('->', ' → ')} · <span title={gate.rulesFile}>{file}</span> · {passed} passed
          {failed > 0 ? `, ${failed} failed` : ''}
          {undecided > 0 ? `, ${undecided} undecided` : ''} · baseline {gate.baseline ? <VersionLink reference={gate.baseline.version} /> : 'none'} (
          {BASELINE_SOURCE[gate.baselineSource]}) · <VerdictLink policy={policyOf(gate.candidate.version)} id={gate.verdictId} />
        </p>
      </div>
    </div>
  );
}

function RuleCases({ rule }: { rule: RuleEvidence }) {
  const [all, setAll] = useState(false);
  const ids = rule.failingCases;
  if (ids.length === 0) return null;
  const shown = all ? ids : ids.slice(0, 8);
  return (
    <span className="case-ids">
      {shown.map((id) => (
        <code key={id} className="case-id">
          {id}
        </code>
      ))}
      {ids.length > 8 && (
        <button type="button" className="link-button small" aria-expanded={all} onClick={() => setAll((v) => !v)}>
          {all ? 'show fewer' : `+${ids.length - 8} more`}
        </button>
      )}
    </span>
  );
}

function ResultBadge({ pass }: { pass: boolean | null }) {
  if (pass === null) {
    return (
      <span className="badge result-undecided" title="not enough data to decide">
        —
      </span>
    );
  }
  return <span className={`badge ${pass ? 'result-pass' : 'result-fail'}`}>{pass ? 'PASS' : 'FAIL'}</span>;
}

/** Every rule of the verdict with its evidence. */
export function RulesTable() {
  const gate = useCompare((s) => s.result?.gate ?? null);
  if (gate === null) return null;
  return <RuleEvidenceTable rules={gate.rules} candidate={gate.candidate.version} baseline={gate.baseline?.version ?? null} />;
}

/** Rules with their observed value, interval, threshold, result and evidence, in each rule's unit. */
export function RuleEvidenceTable({ rules, candidate, baseline }: { rules: readonly RuleEvidence[]; candidate: string; baseline: string | null }) {
  return (
    <section className="card card-flush" aria-labelledby="rules-heading">
      <header className="card-header card-header-pad">
        <h2 id="rules-heading">Rules</h2>
        <span className="muted">
          {rules.length} rules · GO needs every rule to pass; any failure is NO-GO; missing data is INCONCLUSIVE
        </span>
      </header>
      <ScrollCue label="Rules" bodyClassName="table-scroll">
        <table className="data-table rules-table" aria-label="Rules">
          <thead>
            <tr>
              <th scope="col">Rule</th>
              <th scope="col" className="num">
                Observed
              </th>
              <th scope="col" className="num">
                Interval
              </th>
              <th scope="col" className="num">
                Threshold
              </th>
              <th scope="col">Result</th>
              <th scope="col">Evidence</th>
            </tr>
          </thead>
          <tbody>
            {rules.map((r) => (
              <tr key={r.id} className={r.pass === false ? 'rule-failed' : undefined}>
                <th scope="row" className="rule-id">
                  <code>{r.id}</code>
                  <span className="rule-desc">{r.description}</span>
                </th>
                <td className="num">{formatRuleValue(r.id, r.observed)}</td>
                <td className="num ci">{formatRuleInterval(r.id, r.interval)}</td>
                <td className="num">{formatThreshold(r.id, r.threshold)}</td>
                <td>
                  <ResultBadge pass={r.pass} />
                </td>
                <td className="rule-evidence-cell">
                  <div className="rule-evidence">
                    <span className="rule-note">{r.note}</span>
                    <RuleCases rule={r} />
                    {r.id.startsWith('shadow.') && <ShadowEvidenceLink candidate={candidate} baseline={baseline} rule={{ id: r.id, observed: r.observed }} />}
                  </div>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </ScrollCue>
    </section>
  );
}
