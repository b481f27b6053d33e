import { createStore, type StoreApi } from 'zustand/vanilla';
import {
  ErrorCodes,
  type ArchiveResult,
  type ContractClient,
  type EvalProgressPayload,
  type GateResult,
  type HistoryEntry,
  type PolicySummary,
  type ProductionAt,
  type PromotionResult,
  type RollbackResult,
  type RulesFile,
  type SuiteSummary,
  type SwitchyardErrorShape,
  type TransitionName,
  type VerdictSummary,
  type VersionSummary,
} from '@contract';
import {
  chooseRules,
  defaultTarget,
  defaultVersion,
  findPolicy,
  hintFor,
  latestVerdict,
  normalizeAtInput,
  reasonRequired,
  refOf,
  rollbackTarget,
  rulesForTransition,
  stageMove,
  verdictStaleness,
  type LifecycleActionKind,
  type RollbackTarget,
  type StageMove,
  type TargetStage,
} from './lifecycle-logic';

/** An error to show: what the workbench was doing, the contract's error, and what to do. */
export interface LifecycleProblem {
  title: string;
  error: SwitchyardErrorShape;
  hint: string | null;
}

export type LifecycleOutcome =
  | { kind: 'promote'; result: PromotionResult }
  | { kind: 'rollback'; result: RollbackResult }
  | { kind: 'archive'; result: ArchiveResult };

export type DialogKind = 'promote' | 'rollback' | 'archive';

export interface GateRun {
  /** `policy@label` and transition the run is for. */
  version: string;
  transition: TransitionName;
  status: 'running' | 'done' | 'failed' | 'cancelled';
  result: GateResult | null;
  /** The newest evaluation progress of the candidate or baseline while the gate evaluates. */
  progress: EvalProgressPayload | null;
  /** Evaluation runs the gate started (from `eval.progress`): what Cancel stops. */
  runIds?: number[];
  /** Cancel was asked for; the gate ends without a verdict once its runs stop. */
  cancelling?: boolean;
}

export interface AtLookup {
  query: string;
  status: 'idle' | 'loading' | 'done' | 'error';
  result: ProductionAt | null;
  error: SwitchyardErrorShape | null;
}

export interface LifecycleState {
  status: 'idle' | 'loading' | 'ready' | 'error';
  loadError: SwitchyardErrorShape | null;
  policies: PolicySummary[];
  rules: RulesFile[];
  suites: SuiteSummary[];
  /** The policy shown. */
  policy: string | null;
  /** Its stage history as the server returns it (oldest first). */
  history: HistoryEntry[];
  verdicts: VerdictSummary[];
  /** The version to promote (a label of `policy`). */
  selected: string | null;
  target: TargetStage;
  /** The rules file the operator picked for the gate; null: the first for the transition. */
  rulesPath: string | null;
  gate: GateRun | null;
  dialog: DialogKind | null;
  /** The server refused the promotion for want of a verdict: the dialog now asks for a reason. */
  refusal: SwitchyardErrorShape | null;
  busy: DialogKind | null;
  problem: LifecycleProblem | null;
  outcome: LifecycleOutcome | null;
  at: AtLookup;

  /** Reads policies, rules and suites, then the chosen policy's history and verdicts. */
  load(): Promise<void>;
  selectPolicy(name: string): Promise<void>;
  selectVersion(label: string): void;
  selectTarget(target: TargetStage): void;
  selectRules(path: string): void;
  /** `gate.run` with the transition's rules for the selected version and target. */
  runGate(): Promise<void>;
  /** Stops the evaluations the running gate started; the gate then ends without a verdict. */
  cancelGate(): Promise<void>;
  openDialog(kind: DialogKind): void;
  closeDialog(): void;
  /** Promotes the selection; with a reason when one is required (sent as `force: true`). */
  promote(reason: string): Promise<boolean>;
  rollback(reason: string): Promise<boolean>;
  archive(reason: string): Promise<boolean>;
  lookupAt(query: string): Promise<void>;
  dismissProblem(): void;
  dismissOutcome(): void;
  /** Subscribes to `lifecycle.changed` and `eval.progress`, and loads; returns the unsubscribe function. */
  start(): () => void;
}

export type LifecycleStore = StoreApi<LifecycleState>;

/** Everything the promotion panel needs, derived from the state. */
export interface PromotionView {
  policy: PolicySummary | null;
  version: VersionSummary | null;
  move: StageMove | null;
  transition: TransitionName | null;
  rulesOffered: RulesFile[];
  rules: RulesFile | null;
  verdict: VerdictSummary | null;
  stale: string[];
  reasonRequired: boolean;
}

export function createLifecycleStore(client: ContractClient): LifecycleStore {
  let loadSeq = 0;
  let policySeq = 0;
  let atSeq = 0;

  return createStore<LifecycleState>()((set, get) => {
    const problem = (title: string, error: SwitchyardErrorShape, action: LifecycleActionKind): LifecycleProblem => ({ title, error, hint: hintFor(error, action) });

    /** History and verdicts of one policy; drops the answer if another policy was chosen meanwhile. */
    const loadPolicy = async (name: string): Promise<void> => {
      const seq = ++policySeq;
      const [history, verdicts] = await Promise.all([client.invoke('lifecycle.history', { policy: name }), client.invoke('verdicts.list', { policy: name })]);
      if (seq !== policySeq || get().policy !== name) return;
      if (!history.ok) {
        set({ problem: problem(`Could not read the stage history of ${name}`, history.error, 'history') });
        return;
      }
      set({ history: history.value.entries, verdicts: verdicts.ok ? verdicts.value.verdicts : get().verdicts });
      if (!verdicts.ok) set({ problem: problem(`Could not read the verdicts of ${name}`, verdicts.error, 'load') });
    };

    /** Keeps the selected version when it still exists; else picks the default. */
    const normalizeSelection = (): void => {
      const { policies, policy, selected, target } = get();
      const p = findPolicy(policies, policy);
      if (p === null) {
        set({ selected: null });
        return;
      }
      const current = p.versions.find((v) => v.label === selected);
      if (current) {
        // After the version reached the stage the panel aimed at, it aims at the next one (not "To: staging" again).
        if (current.stage === target) set({ target: defaultTarget(current.stage) });
        return;
      }
      const pick = defaultVersion(p.versions);
      set({ selected: pick?.label ?? null, target: pick ? defaultTarget(pick.stage) : target });
    };

    const refreshAll = async (): Promise<void> => {
      await get().load();
    };

    return {
      status: 'idle',
      loadError: null,
      policies: [],
      rules: [],
      suites: [],
      policy: null,
      history: [],
      verdicts: [],
      selected: null,
      target: 'staging',
      rulesPath: null,
      gate: null,
      dialog: null,
      refusal: null,
      busy: null,
      problem: null,
      outcome: null,
      at: { query: '', status: 'idle', result: null, error: null },

      async load() {
        const seq = ++loadSeq;
        if (get().status !== 'ready') set({ status: 'loading' });
        const [policies, rules, suites] = await Promise.all([
          client.invoke('policies.list', {}),
          client.invoke('rules.list', {}),
          client.invoke('suites.list', {}),
        ]);
        if (seq !== loadSeq) return;
        if (!policies.ok) {
          set({ status: 'error', loadError: policies.error });
          return;
        }
        const list = policies.value.policies;
        const current = get().policy;
        const policy = list.some((p) => p.name === current) ? current : (list.find((p) => p.productionLabel !== null) ?? list[0])?.name ?? null;
        set({
          status: 'ready',
          loadError: null,
          policies: list,
          rules: rules.ok ? rules.value.rules : get().rules,
          suites: suites.ok ? suites.value.suites : get().suites,
          policy,
        });
        normalizeSelection();
        if (!rules.ok) set({ problem: problem('Could not list the rules files', rules.error, 'load') });
        if (policy === null) {
          set({ history: [], verdicts: [] });
          return;
        }
        await loadPolicy(policy);
      },

      async selectPolicy(name) {
        if (name === get().policy) return;
        set({ policy: name, selected: null, history: [], verdicts: [], gate: null, outcome: null, problem: null, at: { query: get().at.query, status: 'idle', result: null, error: null } });
        normalizeSelection();
        await loadPolicy(name);
      },

      selectVersion(label) {
        const version = findPolicy(get().policies, get().policy)?.versions.find((v) => v.label === label);
        if (!version || label === get().selected) return;
        set({ selected: label, target: defaultTarget(version.stage), rulesPath: null });
      },

      selectTarget(target) {
        if (target !== get().target) set({ target, rulesPath: null });
      },

      selectRules(path) {
        set({ rulesPath: path });
      },

      async runGate() {
        const view = selectPromotionView(get());
        if (view.version === null || view.transition === null) return;
        const version = refOf(view.version.policy, view.version.label);
        const transition = view.transition;
        if (view.rules === null) {
          set({
            problem: {
              title: `No rules file for ${transition.replace('->', ' → ')}`,
              error: { code: ErrorCodes.SWY_ERR_NOT_FOUND, message: `The server knows no usable rules file for ${transition}.` },
              hint: 'Put a rules file for this transition in the data folder\u2019s rules/ directory, then refresh.',
            },
          });
          return;
        }
        set({ gate: { version, transition, status: 'running', result: null, progress: null }, problem: null });
        const result = await client.invoke('gate.run', { rulesPath: view.rules.path, candidate: version });
        const gate = get().gate;
        if (gate === null || gate.version !== version || gate.transition !== transition) return;
        if (!result.ok && gate.cancelling) {
          set({ gate: { ...gate, status: 'cancelled', progress: null, cancelling: false } });
          return;
        }
        if (!result.ok) {
          set({ gate: { ...gate, status: 'failed', progress: null }, problem: problem(`The gate for ${view.version.label} could not run`, result.error, 'gate') });
          return;
        }
        set({ gate: { ...gate, status: 'done', result: result.value, progress: null } });
        const policy = get().policy;
        if (policy !== null) await loadPolicy(policy);
      },

      openDialog(kind) {
        set({ dialog: kind, refusal: null, problem: null });
      },

      closeDialog() {
        if (get().busy !== null) return;
        set({ dialog: null, refusal: null, problem: null });
      },

      async promote(reason) {
        const state = get();
        const view = selectPromotionView(state);
        if (view.version === null || view.policy === null || view.move === null || !view.move.ok) return false;
        const required = view.reasonRequired || state.refusal !== null;
        const text = reason.trim();
        if (required && text === '') return false;
        const label = view.version.label;
        set({ busy: 'promote', problem: null });
        const result = await client.invoke('lifecycle.promote', {
          version: refOf(view.version.policy, label),
          to: state.target,
          expectedProduction: view.policy.productionLabel,
          ...(required ? { force: true, reason: text } : text !== '' ? { reason: text } : {}),
        });
        set({ busy: null });
        if (!result.ok) {
          if (result.error.code === ErrorCodes.SWY_ERR_VERDICT_REQUIRED) {
            // The server's check is the one that counts (it reads the suite file too): ask for a reason.
            set({ refusal: result.error });
          } else {
            set({ problem: problem(`Could not promote ${label} to ${state.target}`, result.error, 'promote') });
          }
          if (result.error.code === ErrorCodes.SWY_ERR_CONFLICT) void refreshAll();
          return false;
        }
        set({ dialog: null, refusal: null, outcome: { kind: 'promote', result: result.value } });
        await refreshAll();
        return true;
      },

      async rollback(reason) {
        const state = get();
        const p = findPolicy(state.policies, state.policy);
        if (p === null) return false;
        set({ busy: 'rollback', problem: null });
        const text = reason.trim();
        const result = await client.invoke('lifecycle.rollback', { policy: p.name, expectedProduction: p.productionLabel, ...(text !== '' ? { reason: text } : {}) });
        set({ busy: null });
        if (!result.ok) {
          set({ problem: problem(`Could not roll back ${p.name}`, result.error, 'rollback') });
          if (result.error.code === ErrorCodes.SWY_ERR_CONFLICT) void refreshAll();
          return false;
        }
        set({ dialog: null, outcome: { kind: 'rollback', result: result.value } });
        await refreshAll();
        return true;
      },

      async archive(reason) {
        const state = get();
        const view = selectPromotionView(state);
        if (view.version === null) return false;
        const label = view.version.label;
        set({ busy: 'archive', problem: null });
        const text = reason.trim();
        const result = await client.invoke('lifecycle.archive', { version: refOf(view.version.policy, label), ...(text !== '' ? { reason: text } : {}) });
        set({ busy: null });
        if (!result.ok) {
          set({ problem: problem(`Could not archive ${label}`, result.error, 'archive') });
          if (result.error.code === ErrorCodes.SWY_ERR_CONFLICT) void refreshAll();
          return false;
        }
        set({ dialog: null, outcome: { kind: 'archive', result: result.value } });
        await refreshAll();
        return true;
      },

      async lookupAt(query) {
        const policy = get().policy;
        const at = normalizeAtInput(query);
        if (policy === null || at === '') {
          set({ at: { query, status: 'idle', result: null, error: null } });
          return;
        }
        const seq = ++atSeq;
        set({ at: { query, status: 'loading', result: get().at.result, error: null } });
        const result = await client.invoke('lifecycle.history', { policy, at });
        if (seq !== atSeq) return;
        if (!result.ok) {
          set({ at: { query, status: 'error', result: null, error: result.error } });
          return;
        }
        set({ at: { query, status: 'done', result: result.value.productionAt, error: null } });
      },

      dismissProblem() {
        set({ problem: null });
      },

      async cancelGate() {
        const gate = get().gate;
        if (gate === null || gate.status !== 'running') return;
        set({ gate: { ...gate, cancelling: true } });
        const ids = gate.runIds ?? (gate.progress ? [gate.progress.runId] : []);
        const results = await Promise.all(ids.map((runId) => client.invoke('eval.cancel', { runId })));
        const failed = results.find((r) => !r.ok);
        if (failed && !failed.ok) set({ problem: problem('The gate could not be cancelled', failed.error, 'gate') });
      },

      dismissOutcome() {
        set({ outcome: null });
      },

      start() {
        // Any committed change (ours or someone else's) may move stages, production and the rollback target.
        const stopChanged = client.subscribe('lifecycle.changed', () => void refreshAll());
        const stopProgress = client.subscribe('eval.progress', (p) => {
          const gate = get().gate;
          if (gate === null || gate.status !== 'running') return;
          const policy = gate.version.slice(0, gate.version.lastIndexOf('@'));
          if (!p.version.startsWith(`${policy}@`)) return;
          const runIds = gate.runIds ?? [];
          set({ gate: { ...gate, progress: p, runIds: runIds.includes(p.runId) ? runIds : [...runIds, p.runId] } });
        });
        void get().load();
        return () => {
          stopChanged();
          stopProgress();
        };
      },
    };
  });
}

// ---------------------------------------------------------------- selectors

/** The promotion panel's view of the state (compute once per render with useMemo or a shallow compare). */
export function selectPromotionView(state: Pick<LifecycleState, 'policies' | 'policy' | 'selected' | 'target' | 'rules' | 'suites' | 'verdicts' | 'rulesPath' | 'refusal'>): PromotionView {
  const policy = findPolicy(state.policies, state.policy);
  const version = policy?.versions.find((v) => v.label === state.selected) ?? null;
  if (policy === null || version === null) {
    return { policy, version, move: null, transition: null, rulesOffered: [], rules: null, verdict: null, stale: [], reasonRequired: true };
  }
  const move = stageMove(version.label, version.stage, state.target);
  const transition: TransitionName = move.ok ? move.transition : state.target === 'production' ? 'staging->production' : 'candidate->staging';
  const ref = refOf(policy.name, version.label);
  const verdict = latestVerdict(state.verdicts, ref, transition);
  const rulesOffered = rulesForTransition(state.rules, transition, verdict?.rulesFile ?? null);
  const rules = chooseRules(rulesOffered, state.rulesPath);
  const productionRef = policy.productionLabel === null ? null : refOf(policy.name, policy.productionLabel);
  const stale = verdict === null ? [] : verdictStaleness(verdict, { rules: state.rules, suites: state.suites, productionRef });
  return {
    policy,
    version,
    move,
    transition,
    rulesOffered,
    rules,
    verdict,
    stale,
    reasonRequired: reasonRequired({ verdict, stale, refused: state.refusal !== null }),
  };
}

/** Where a rollback of the shown policy would go now, or null. */
export function selectRollbackTarget(state: Pick<LifecycleState, 'policies' | 'policy' | 'history'>): RollbackTarget | null {
  const policy = findPolicy(state.policies, state.policy);
  if (policy === null) return null;
  return rollbackTarget(state.history, policy.versions, policy.productionLabel);
}
