import { useMemo, type FormEvent, type ReactNode } from 'react';
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

type SelectionKey = 'baseline' | 'candidate' | 'suite' | 'rules';
const FIELD_LABEL: Record<SelectionKey, string> = { baseline: 'Baseline', candidate: 'Candidate', suite: 'Suite', rules: 'Rules' };

/** One labelled `<select>` bound to a field of the selection; the empty option means "none". */
function SelectionField({
  field,
  className,
  selection,
  disabled,
  onSelect,
  children,
}: {
  field: SelectionKey;
  className?: string;
  selection: CompareSelection;
  disabled?: boolean;
  onSelect: (patch: Partial<CompareSelection>) => void;
  children: ReactNode;
}) {
  const id = `compare-${field}`;
  return (
    <div className={className === undefined ? 'field' : `field ${className}`}>
      <label className="field-label" htmlFor={id}>
        {FIELD_LABEL[field]}
      </label>
      <select id={id} className="select" value={selection[field] ?? ''} disabled={disabled} onChange={(e) => onSelect({ [field]: e.target.value || null })}>
        {children}
      </select>
    </div>
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
        {(['baseline', 'candidate'] as const).map((field) => (
          <SelectionField key={field} field={field} selection={selection} disabled={noVersions} onSelect={select}>
            {selection[field] === null && <option value="">—</option>}
            <VersionOptions policies={policies} />
          </SelectionField>
        ))}
        <SelectionField field="suite" className="field-suite" selection={selection} disabled={suites.length === 0} onSelect={select}>
          {suites.length === 0 && <option value="">No suites recorded</option>}
          {suites.map((s) => (
            <option key={s.fingerprint} value={s.fingerprint}>
              {s.name} ({s.caseCount} cases{s.environment === 'external' ? ', imported' : ''})
            </option>
          ))}
        </SelectionField>
        <SelectionField field="rules" className="field-wide" selection={selection} onSelect={select}>
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
        </SelectionField>
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
