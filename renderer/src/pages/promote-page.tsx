import { useContext, useEffect, useMemo, type ReactNode } from 'react';
import type { PolicySummary, VersionSummary } from '@contract';
import { StageBadge } from '../components/badges';
import { EmptyState } from '../components/empty-state';
import { ErrorAlert } from '../components/error-alert';
import { ArchiveDialog, PromoteDialog, RollbackDialog } from '../components/lifecycle-dialogs';
import { LifecycleVerdict } from '../components/lifecycle-verdict';
import { PageHeader } from '../components/page-header';
import { VerdictLink, VersionLink } from '../components/version-link';
import { StageTimeline } from '../components/stage-timeline';
import { formatAgo, formatDateTime, formatMs, formatTimestamp, zoneName } from '../format';
import { useLifecycle, useStores } from '../stores/context';
import { fileName, labelOf, productionSpans, TARGET_STAGES, type RollbackTarget } from '../stores/lifecycle-logic';
import { selectPromotionView, selectRollbackTarget, type GateRun, type LifecycleOutcome, type PromotionView } from '../stores/lifecycle-store';
import { errorHint } from '../error-hints';
import { NavigationContext } from './navigation';
import { ScrollCue } from '../components/scroll-cue';

export function PromotePage() {
  const { lifecycle } = useStores();
  const { entered } = useContext(NavigationContext);
  const status = useLifecycle((s) => s.status);
  const loadError = useLifecycle((s) => s.loadError);
  const policies = useLifecycle((s) => s.policies);
  const policyName = useLifecycle((s) => s.policy);
  const history = useLifecycle((s) => s.history);
  const verdicts = useLifecycle((s) => s.verdicts);
  const rules = useLifecycle((s) => s.rules);
  const suites = useLifecycle((s) => s.suites);
  const selected = useLifecycle((s) => s.selected);
  const target = useLifecycle((s) => s.target);
  const rulesPath = useLifecycle((s) => s.rulesPath);
  const refusal = useLifecycle((s) => s.refusal);
  const gate = useLifecycle((s) => s.gate);
  const dialog = useLifecycle((s) => s.dialog);
  const busy = useLifecycle((s) => s.busy);
  const problem = useLifecycle((s) => s.problem);
  const outcome = useLifecycle((s) => s.outcome);
  const at = useLifecycle((s) => s.at);
  const actions = lifecycle.getState();

  // Stages may have changed while the page was closed (another operator, the command line).
  useEffect(() => {
    void lifecycle.getState().load();
  }, [lifecycle]);

  const view = useMemo(
    () => selectPromotionView({ policies, policy: policyName, selected, target, rules, suites, verdicts, rulesPath, refusal }),
    [policies, policyName, selected, target, rules, suites, verdicts, rulesPath, refusal],
  );
  const rollback = useMemo(() => selectRollbackTarget({ policies, policy: policyName, history }), [policies, policyName, history]);
  const policy = view.policy;

  const header = (
    <PageHeader title="Promote / Rollback" focusOnMount={entered}>
      {policies.length > 0 && (
        <label className="inline-field">
          <span className="field-label">Policy</span>
          <select className="select" value={policyName ?? ''} onChange={(e) => void actions.selectPolicy(e.currentTarget.value)}>
            {policies.map((p) => (
              <option key={p.name} value={p.name}>
                {p.name}
              </option>
            ))}
          </select>
        </label>
      )}
      <button type="button" className="button" onClick={() => void actions.load()} disabled={status === 'loading'}>
        {status === 'loading' ? 'Loading…' : 'Refresh'}
      </button>
    </PageHeader>
  );

  if (status === 'ready' && policies.length === 0) {
    return (
      <div className="page">
        {header}
        <EmptyState title="No policies registered yet">
          <p>
            Promotion moves a registered version through candidate → staging → production on the verdict of the promotion rules. Build the demo workspace
            with <code>switchyard demo</code>, or register an export with <code>switchyard register PATH</code>.
          </p>
        </EmptyState>
      </div>
    );
  }

  return (
    <div className="page">
      {header}
      {loadError && <ErrorAlert title="Could not load the policies" error={loadError} hint={errorHint(loadError)} onRetry={() => void actions.load()} />}
      {status === 'loading' && policy === null && <p className="muted">Loading the policies…</p>}

      {policy && (
        <>
          <ProductionCard policy={policy} history={history} rollback={rollback} onRollback={() => actions.openDialog('rollback')} disabled={busy !== null} />
          {problem && dialog === null && <ErrorAlert title={problem.title} error={problem.error} hint={problem.hint} onDismiss={actions.dismissProblem} />}
          {outcome && <OutcomeBanner outcome={outcome} onDismiss={actions.dismissOutcome} />}
          <div className="promote-grid">
            <VersionsCard policy={policy} history={history} selected={selected} onSelect={actions.selectVersion} />
            <PromotionPanel view={view} gate={gate} busy={busy !== null} />
          </div>
          <StageTimeline key={policy.name} entries={history} policy={policy.name} at={at} onLookup={(q) => void actions.lookupAt(q)} />
        </>
      )}

      {dialog === 'promote' && view.version && (
        <PromoteDialog
          view={view}
          target={target}
          refusal={refusal}
          problem={problem}
          busy={busy === 'promote'}
          onConfirm={(reason) => void actions.promote(reason)}
          onCancel={actions.closeDialog}
        />
      )}
      {dialog === 'rollback' && policy && rollback && (
        <RollbackDialog
          policy={policy.name}
          target={rollback}
          problem={problem}
          busy={busy === 'rollback'}
          onConfirm={(reason) => void actions.rollback(reason)}
          onCancel={actions.closeDialog}
        />
      )}
      {dialog === 'archive' && view.version && (
        <ArchiveDialog version={view.version} problem={problem} busy={busy === 'archive'} onConfirm={(reason) => void actions.archive(reason)} onCancel={actions.closeDialog} />
      )}
    </div>
  );
}

function ProductionCard({
  policy,
  history,
  rollback,
  onRollback,
  disabled,
}: {
  policy: PolicySummary;
  history: Parameters<typeof productionSpans>[0];
  rollback: RollbackTarget | null;
  onRollback: () => void;
  disabled: boolean;
}) {
  const prod = policy.versions.find((v) => v.label === policy.productionLabel) ?? null;
  const spans = productionSpans(history);
  const since = prod?.productionSince ?? spans.filter((s) => s.label === prod?.label && s.until === null).at(-1)?.from ?? null;
  return (
    <section className="card prod-card" aria-labelledby="prod-heading">
      <div className="prod-main">
        <h2 id="prod-heading" className="eyebrow">
          Production
        </h2>
        {prod === null ? (
          <p className="prod-none">{policy.name} has no production version. Promote a staging version with a GO verdict to make one.</p>
        ) : (
          <>
            <p className="prod-version">
              <strong>
                <VersionLink reference={`${prod.policy}@${prod.label}`}>{prod.label}</VersionLink>
              </strong>
              <code className="mono muted" title={prod.modelVersion}>
                {prod.modelVersion}
              </code>
            </p>
            <p className="muted">
              since <time dateTime={since ?? undefined}>{formatTimestamp(since)}</time>
              {since !== null && ` (${formatAgo(since, Date.now())})`}
            </p>
          </>
        )}
      </div>
      {prod !== null && (
        <div className="prod-rollback">
          <p className="prod-rollback-text">
            {rollback === null ? (
              <span className="muted">No earlier production version: there is nothing to roll back to.</span>
            ) : (
              <>
                Rollback restores <strong>{rollback.label}</strong>
                {rollback.lastProduction?.until && <span className="muted"> (production until {formatTimestamp(rollback.lastProduction.until)})</span>}
                {rollback.skipped.length > 0 && <span className="muted">, skipping archived {rollback.skipped.join(', ')}</span>}
              </>
            )}
          </p>
          <button type="button" className="button button-danger-outline" onClick={onRollback} disabled={rollback === null || disabled}>
            Rollback
          </button>
        </div>
      )}
    </section>
  );
}

function VersionsCard({
  policy,
  history,
  selected,
  onSelect,
}: {
  policy: PolicySummary;
  history: Parameters<typeof productionSpans>[0];
  selected: string | null;
  onSelect: (label: string) => void;
}) {
  const spans = useMemo(() => productionSpans(history), [history]);
  const productionText = (v: VersionSummary): string => {
    if (v.stage === 'production') return `since ${formatDateTime(v.productionSince ?? spans.filter((s) => s.label === v.label).at(-1)?.from ?? null)}`;
    const last = spans.filter((s) => s.label === v.label).at(-1);
    return last?.until ? `until ${formatDateTime(last.until)}` : '—';
  };
  return (
    <section className="card card-flush versions-card" aria-labelledby="stages-heading">
      <header className="card-header card-header-pad">
        <h2 id="stages-heading">Versions</h2>
        <span className="muted">pick one to promote</span>
      </header>
      <ScrollCue label="Stages" bodyClassName="table-scroll">
        <table className="data-table stages-table" aria-label="Stages">
          <thead>
            <tr>
              <th scope="col">Version</th>
              <th scope="col">Stage</th>
              <th scope="col">Model version</th>
              <th scope="col">
                Production <span className="muted zone">({zoneName()})</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {policy.versions.map((v) => {
              const isSelected = v.label === selected;
              const id = `stage-row-${v.label}`;
              return (
                <tr key={v.label} className={isSelected ? 'row selected' : 'row'} onClick={() => onSelect(v.label)}>
                  <td>
                    <label className="radio-label" htmlFor={id}>
                      <input id={id} type="radio" name="promote-version" value={v.label} checked={isSelected} onChange={() => onSelect(v.label)} />
                      <span className="version-label">{v.label}</span>
                    </label>
                  </td>
                  <td>
                    <StageBadge stage={v.stage} />
                  </td>
                  <td>
                    <code className="mono muted" title={v.modelVersion}>
                      {v.modelVersion}
                    </code>
                  </td>
                  <td className="muted">{productionText(v)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </ScrollCue>
    </section>
  );
}

function PromotionPanel({ view, gate, busy }: { view: PromotionView; gate: GateRun | null; busy: boolean }) {
  const { lifecycle } = useStores();
  const target = useLifecycle((s) => s.target);
  const actions = lifecycle.getState();
  const v = view.version;
  if (v === null) {
    return (
      <section className="card promote-panel" aria-label="Promotion">
        <p className="muted">Pick a version to promote.</p>
      </section>
    );
  }
  const ref = `${v.policy}@${v.label}`;
  const gateHere = gate !== null && gate.version === ref && gate.transition === view.transition ? gate : null;
  const running = gateHere?.status === 'running';
  const moveOk = view.move?.ok === true;
  return (
    <section className="card promote-panel" aria-labelledby="promote-heading">
      <header className="card-header">
        <h2 id="promote-heading">
          Promote {v.label} <StageBadge stage={v.stage} />
        </h2>
        {v.stage !== 'production' && v.stage !== 'archived' && (
          <button type="button" className="button button-quiet small" onClick={() => actions.openDialog('archive')} disabled={busy || running}>
            Archive…
          </button>
        )}
      </header>

      <div className="promote-fields">
        <div className="segmented" role="radiogroup" aria-label="Target stage">
          <span className="segmented-label" aria-hidden="true">
            To
          </span>
          {TARGET_STAGES.map((stage) => (
            <label key={stage} className="segment">
              <input type="radio" name="promote-target" value={stage} checked={target === stage} onChange={() => actions.selectTarget(stage)} />
              <span>{stage}</span>
            </label>
          ))}
        </div>
        {moveOk && view.rulesOffered.length > 1 && (
          <label className="inline-field">
            <span className="field-label">Rules</span>
            <select className="select" value={view.rules?.path ?? ''} onChange={(e) => actions.selectRules(e.currentTarget.value)}>
              {view.rulesOffered.map((r) => (
                <option key={r.path} value={r.path} title={r.path}>
                  {r.name}
                </option>
              ))}
            </select>
          </label>
        )}
        {moveOk && view.rulesOffered.length === 1 && view.rules && (
          <span className="muted" title={view.rules.path}>
            rules <code>{fileName(view.rules.path)}</code>
          </span>
        )}
      </div>

      {view.move && !view.move.ok ? (
        <p className="promote-why">{view.move.why}</p>
      ) : (
        <>
          <p className="promote-transition">
            <strong>{(view.transition ?? '').replace('->', ' → ')}</strong>
            {view.rules === null && <span className="warn"> · no rules file for this transition: the gate cannot run</span>}
          </p>
          {gateHere?.status === 'cancelled' && (
            <p className="note gate-cancelled" role="status">
              Gate cancelled: its evaluations were stopped (their finished cases are kept, labelled cancelled) and no verdict was recorded.
            </p>
          )}
          {running ? (
            <GateRunning gate={gateHere} label={v.label} onCancel={() => void actions.cancelGate()} />
          ) : view.verdict ? (
            <LifecycleVerdict verdict={view.verdict} stale={view.stale} label="Latest verdict" />
          ) : (
            <p className="lc-missing" role="note">
              No {(view.transition ?? '').replace('->', ' → ')} verdict for {v.label} yet. Run the gate to get one; promoting without a GO verdict is an override that needs a
              reason.
            </p>
          )}
        </>
      )}

      <div className="promote-actions">
        <button type="button" className="button" onClick={() => void actions.runGate()} disabled={!moveOk || view.rules === null || running || busy}>
          {running ? 'Running gate…' : 'Run gate'}
        </button>
        <button type="button" className="button button-primary" onClick={() => actions.openDialog('promote')} disabled={!moveOk || running || busy}>
          Promote
        </button>
        {moveOk && (
          <span className="muted promote-hint">
            {view.reasonRequired || !view.verdict ? (
              'Without a GO verdict that holds, promoting needs a reason.'
            ) : (
              <>
                Rests on GO <VerdictLink policy={view.verdict.policy} id={view.verdict.id} />.
              </>
            )}
          </span>
        )}
      </div>
    </section>
  );
}

function GateRunning({ gate, label, onCancel }: { gate: GateRun; label: string; onCancel: () => void }) {
  const p = gate.progress;
  const pct = p === null ? null : Math.round(p.fraction * 100);
  return (
    <div className="gate-running" role="status">
      <p>
        <span className="spinner" aria-hidden="true" /> Running the {gate.transition.replace('->', ' → ')} gate for {label}
        {p === null ? '…' : `: evaluating ${labelOf(p.version)}, ${p.done} of ${p.total} cases`}
      </p>
      {p !== null && pct !== null && (
        <div className="progress" role="progressbar" aria-label={`Evaluating ${p.version}`} aria-valuemin={0} aria-valuemax={100} aria-valuenow={pct}>
          <span className="progress-fill" style={{ width: `${pct}%` }} />
        </div>
      )}
      {p !== null && (
        <button type="button" className="button small" onClick={onCancel} disabled={gate.cancelling === true}>
          {gate.cancelling ? 'Cancelling…' : 'Cancel gate'}
        </button>
      )}
    </div>
  );
}

function trafficText(t: { moved: boolean; ms: number | null; how: string }): string {
  return t.moved ? `traffic moved in ${formatMs(t.ms)} ms (${t.how})` : `traffic not moved: ${t.how}`;
}

function OutcomeBanner({ outcome, onDismiss }: { outcome: LifecycleOutcome; onDismiss: () => void }) {
  let text: ReactNode;
  if (outcome.kind === 'promote') {
    const r = outcome.result;
    text = (
      <>
        <strong>
          Promoted <VersionLink reference={`${r.version.policy}@${r.version.label}`}>{r.version.label}</VersionLink>: {r.from} → {r.to}
        </strong>{' '}
        at {formatTimestamp(r.at)} {r.forced ? `· forced (override): “${r.reason}”` : r.verdictId !== null ? (
          <>
            on GO <VerdictLink policy={r.version.policy} id={r.verdictId} />
          </>
        ) : (
          ''
        )}
        {r.replaced && ` · replaced ${r.replaced.label} (now ${r.replaced.stage})`}
        {r.to === 'production' && ` · ${trafficText(r.traffic)}`}
      </>
    );
  } else if (outcome.kind === 'rollback') {
    const r = outcome.result;
    text = (
      <>
        <strong>
          Rolled back {r.policy}: restored {r.restored.label}, replacing {r.replaced.label}
        </strong>{' '}
        at {formatTimestamp(r.at)} · {trafficText(r.traffic)}
        {r.skipped.length > 0 && ` · skipped archived ${r.skipped.map(labelOf).join(', ')}`}
      </>
    );
  } else {
    const r = outcome.result;
    text = (
      <>
        <strong>
          Archived {r.version.label} (was {r.from})
        </strong>{' '}
        at {formatTimestamp(r.at)}
      </>
    );
  }
  return (
    <div className={`banner banner-success outcome-${outcome.kind}`} role="status" aria-label="Last change">
      <p>{text}</p>
      <button type="button" className="button button-quiet small" onClick={onDismiss} aria-label="Dismiss the last change">
        ✕
      </button>
    </div>
  );
}
