import { useMemo, type FormEvent } from 'react';
import type { PolicySummary, RulesFile, SuiteSummary } from '@contract';
import { useCompare, useStores } from '../stores/context';
import {
  findVersionByRef,
  gateBaselineArg,
  rulesForSuite,
  selectBusy,
  selectionProblem,
  versionRef,
  type CompareSelection,
} from '../stores/compare-store';

const TRANSITION_TEXT: Record<string, string> = {
  'candidate->staging': 'candidate → staging',
  'staging->production': 'staging → production',
};

/** A rules option shows the file's name (the note below the fields names its transition); its tooltip: the transition and where the file is. */
function rulesOptionTitle(r: RulesFile): string {
  const transition = r.transition === null ? '' : `${TRANSITION_TEXT[r.transition] ?? r.transition}: `;
  return `${transition}${r.path}`;
}

function VersionOptions({ policies }: { policies: readonly PolicySummary[] }) {
  return (
    <>
      {policies.map((p) => (
        <optgroup key={p.name} label={p.name}>
          {p.versions.map((v) => (
            <option key={versionRef(v)} value={versionRef(v)}>
              {v.label} · {v.kind === 'external' ? `${v.stage}, external` : v.stage}
            </option>
          ))}
        </optgroup>
      ))}
    </>
  );
}

/** Baseline, candidate, suite and rules, and the button that runs the comparison. */
export function CompareControls() {
  const { compare } = useStores();
  const policies = useCompare((s) => s.policies);
  const suites = useCompare((s) => s.suites);
  const rules = useCompare((s) => s.rules);
  const selection = useCompare((s) => s.selection);
  const busy = useCompare(selectBusy);
  const optionsStatus = useCompare((s) => s.optionsStatus);
  const { select, run } = compare.getState();

  const suite = suites.find((s) => s.fingerprint === selection.suite) ?? null;
  const usableRules = useMemo(() => rulesForSuite(rules, suite), [rules, suite]);
  const brokenRules = useMemo(() => rules.filter((r) => r.error !== null), [rules]);
  const problem = selectionProblem(selection);
  const noVersions = policies.every((p) => p.versions.length === 0);

  const submit = (e: FormEvent): void => {
    e.preventDefault();
    if (!busy && problem === null) void run();
  };

  return (
    <form className="card compare-controls" aria-label="Comparison" onSubmit={submit}>
      <div className="compare-fields">
        <div className="field">
          <label className="field-label" htmlFor="compare-baseline">
            Baseline
          </label>
          <select
            id="compare-baseline"
            className="select"
            value={selection.baseline ?? ''}
            disabled={noVersions}
            onChange={(e) => select({ baseline: e.target.value || null })}
          >
            {selection.baseline === null && <option value="">—</option>}
            <VersionOptions policies={policies} />
          </select>
        </div>
        <div className="field">
          <label className="field-label" htmlFor="compare-candidate">
            Candidate
          </label>
          <select
            id="compare-candidate"
            className="select"
            value={selection.candidate ?? ''}
            disabled={noVersions}
            onChange={(e) => select({ candidate: e.target.value || null })}
          >
            {selection.candidate === null && <option value="">—</option>}
            <VersionOptions policies={policies} />
          </select>
        </div>
        <div className="field field-suite">
          <label className="field-label" htmlFor="compare-suite">
            Suite
          </label>
          <select
            id="compare-suite"
            className="select"
            value={selection.suite ?? ''}
            disabled={suites.length === 0}
            onChange={(e) => select({ suite: e.target.value || null })}
          >
            {suites.length === 0 && <option value="">No suites recorded</option>}
            {suites.map((s) => (
              <option key={s.fingerprint} value={s.fingerprint}>
                {s.name} ({s.caseCount} cases{s.environment === 'external' ? ', imported' : ''})
              </option>
            ))}
          </select>
        </div>
        <div className="field field-wide">
          <label className="field-label" htmlFor="compare-rules">
            Rules
          </label>
          <select
            id="compare-rules"
            className="select"
            value={selection.rules ?? ''}
            onChange={(e) => select({ rules: e.target.value || null })}
          >
            <option value="">None: compare without a verdict</option>
            {usableRules.map((r) => (
              <option key={r.path} value={r.path} title={rulesOptionTitle(r)}>
                {r.name}
              </option>
            ))}
            {brokenRules.length > 0 && (
              <optgroup label="Cannot be used">
                {brokenRules.map((r) => (
                  <option key={r.path} value={r.path} disabled title={r.error?.message}>
                    {r.name}: {r.error?.message.slice(0, 70)}
                  </option>
                ))}
              </optgroup>
            )}
          </select>
        </div>
        <div className="field field-action">
          <button type="submit" className="button button-primary" disabled={busy || problem !== null || optionsStatus !== 'ready'}>
            {busy ? 'Running…' : 'Run comparison'}
          </button>
        </div>
      </div>
      <SelectionNote selection={selection} policies={policies} suite={suite} rules={usableRules} problem={problem} />
    </form>
  );
}

function SelectionNote({
  selection,
  policies,
  suite,
  rules,
  problem,
}: {
  selection: CompareSelection;
  policies: readonly PolicySummary[];
  suite: SuiteSummary | null;
  rules: readonly RulesFile[];
  problem: string | null;
}) {
  if (problem !== null && selection.baseline !== null && selection.candidate !== null) {
    return <p className="compare-note compare-note-warn">{problem}</p>;
  }
  const rulesFile = rules.find((r) => r.path === selection.rules) ?? null;
  const parts: string[] = [];
  if (suite !== null) parts.push(`Suite ${suite.name} (${suite.fingerprint.slice(0, 12)}), ${Object.keys(suite.slices).length} slices`);
  if (rulesFile !== null && rulesFile.transition !== null) {
    parts.push(`rules gate ${TRANSITION_TEXT[rulesFile.transition] ?? rulesFile.transition} against ${rulesFile.baseline ?? 'the chosen baseline'}`);
  } else if (selection.rules === null) {
    parts.push('no rules: slices only, no verdict');
  }
  let override: string | null = null;
  if (rulesFile !== null && selection.baseline !== null && selection.candidate !== null) {
    const arg = gateBaselineArg(rulesFile, selection.baseline, policies, selection.candidate);
    if (arg !== undefined && rulesFile.baseline !== null) {
      const base = findVersionByRef(policies, selection.baseline);
      override = `The rules compare with ${rulesFile.baseline}; this verdict uses ${base?.label ?? selection.baseline} instead, so it does not count for a promotion.`;
    }
  }
  return (
    <p className="compare-note">
      {parts.join(' · ')}
      {override && <span className="compare-note-warn"> {override}</span>}
    </p>
  );
}
