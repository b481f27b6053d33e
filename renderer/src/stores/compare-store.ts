import { createStore, type StoreApi } from 'zustand/vanilla';
import type {
  Comparison,
  ContractClient,
  EvalProgressPayload,
  EvalRunSummary,
  GateResult,
  PolicySummary,
  RulesFile,
  Stage,
  SuiteSummary,
  SwitchyardErrorShape,
  VersionSummary,
} from '@contract';

/** What the operator compares: two versions (`policy@label`), a suite (fingerprint), rules (path). */
export interface CompareSelection {
  baseline: string | null;
  candidate: string | null;
  /** The suite's fingerprint. */
  suite: string | null;
  /** A rules file's path; null compares without a verdict. */
  rules: string | null;
}

export type TrackStatus = 'starting' | 'running' | 'completed' | 'failed' | 'cancelled';

/** One evaluation the comparison waits for, as the progress events report it. */
export interface EvalTrack {
  /** `policy@label` */
  version: string;
  role: 'baseline' | 'candidate';
  /** Null until `eval.start` answers (or a progress event names the run first). */
  runId: number | null;
  done: number;
  total: number;
  passed: number;
  /** 0..1 of the evaluation itself (the determinism re-run reports no progress of its own). */
  fraction: number;
  phase: EvalProgressPayload['phase'];
  status: TrackStatus;
  error: SwitchyardErrorShape | null;
  /** The version was already being evaluated on this suite: this comparison joined that run. */
  joined: boolean;
}

/**
 * - `checking`: reading which versions have a completed run on the suite;
 * - `evaluating`: waiting for the evaluations it started;
 * - `comparing`: `compare.get` and `gate.run` are in flight.
 */
export type ComparePhase = 'idle' | 'checking' | 'evaluating' | 'comparing' | 'done' | 'failed' | 'cancelled';

export interface CompareResult {
  /** The selection these results are for (they are stale once the selection differs). */
  for: CompareSelection;
  comparison: Comparison;
  gate: GateResult | null;
  /** The comparison worked but the gate did not. */
  gateError: SwitchyardErrorShape | null;
}

/** An error to show: what the workbench was doing, the contract's error, and what to do. */
export interface CompareProblem {
  title: string;
  error: SwitchyardErrorShape;
  hint: string | null;
}

export interface CompareState {
  optionsStatus: 'idle' | 'loading' | 'ready' | 'error';
  optionsError: SwitchyardErrorShape | null;
  policies: PolicySummary[];
  suites: SuiteSummary[];
  rules: RulesFile[];
  selection: CompareSelection;
  /** The operator picked the rules (or "none") by hand: they no longer follow the candidate's stage. */
  rulesChosen: boolean;
  phase: ComparePhase;
  /** The selection the run in progress (or the last run) is for. */
  running: CompareSelection | null;
  tracks: EvalTrack[];
  result: CompareResult | null;
  problem: CompareProblem | null;
  /** A short, non-error message about the last run (cancelled, abandoned). */
  notice: string | null;
  /** When the result shown was computed on an earlier visit (restored after a reload); null for this visit's. */
  restoredAt: string | null;
  /** Loads versions, suites and rules files, and fills in the defaults. */
  load(): Promise<void>;
  select(patch: Partial<CompareSelection>): void;
  /** Evaluates what is missing, then compares and runs the gate. */
  run(): Promise<void>;
  /** Cancels the evaluations of the run in progress (`eval.cancel`) and stops waiting for them. */
  cancel(): Promise<void>;
  dismissProblem(): void;
  /** Subscribes to `eval.progress`; returns the unsubscribe function. */
  start(): () => void;
}

export type CompareStore = StoreApi<CompareState>;

export interface CompareStoreOptions {
  /**
   * While evaluations run, how often to re-read their runs (`eval.runs`) in case a progress event
   * was missed (the event channel was down); 0 turns it off. Default 2000 ms.
   */
  pollMs?: number;
}

const EMPTY_SELECTION: CompareSelection = { baseline: null, candidate: null, suite: null, rules: null };

// ---------------------------------------------------------------- pure helpers

export function versionRef(v: Pick<VersionSummary, 'policy' | 'label'>): string {
  return `${v.policy}@${v.label}`;
}

export function allVersions(policies: readonly PolicySummary[]): VersionSummary[] {
  return policies.flatMap((p) => p.versions);
}

export function findVersionByRef(policies: readonly PolicySummary[], ref: string | null): VersionSummary | null {
  if (ref === null) return null;
  return allVersions(policies).find((v) => versionRef(v) === ref) ?? null;
}

/** Rules files that gate on this suite (by name, fingerprint or fingerprint prefix) and parse. */
export function rulesForSuite(rules: readonly RulesFile[], suite: SuiteSummary | null): RulesFile[] {
  if (suite === null) return [];
  return rules.filter(
    (r) => r.error === null && r.suite !== null && (r.suite === suite.name || r.suite === suite.fingerprint || (r.suite.length >= 8 && suite.fingerprint.startsWith(r.suite))),
  );
}

const TRANSITION_FROM: Partial<Record<Stage, string>> = { candidate: 'candidate->staging', staging: 'staging->production' };

/** The rules a candidate in `stage` is gated by: the file for its next transition, else the first. */
export function preferredRules(rules: readonly RulesFile[], stage: Stage | null): RulesFile | null {
  const transition = stage === null ? undefined : TRANSITION_FROM[stage];
  return rules.find((r) => r.transition === transition) ?? rules[0] ?? null;
}

/**
 * Fills what is missing or no longer valid: baseline = the production version (else the oldest
 * version), candidate = the newest candidate of the baseline's policy (else the newest staging
 * version, else the newest other version), suite = the first suite some rules gate on (else the
 * first), rules = the file for the candidate's next transition, unless the operator chose them.
 */
export function normalizeSelection(
  options: { policies: readonly PolicySummary[]; suites: readonly SuiteSummary[]; rules: readonly RulesFile[] },
  current: CompareSelection,
  rulesChosen: boolean,
): CompareSelection {
  const { policies, suites, rules } = options;
  const versions = allVersions(policies);
  const valid = (ref: string | null): ref is string => ref !== null && versions.some((v) => versionRef(v) === ref);

  let baseline = valid(current.baseline) ? current.baseline : null;
  if (baseline === null) {
    const production = versions.find((v) => v.stage === 'production');
    const first = versions[0];
    baseline = production ? versionRef(production) : first ? versionRef(first) : null;
  }

  let candidate = valid(current.candidate) ? current.candidate : null;
  if (candidate === null) {
    const policy = findVersionByRef(policies, baseline)?.policy;
    const others = versions.filter((v) => versionRef(v) !== baseline && (policy === undefined || v.policy === policy)).reverse();
    const pick = others.find((v) => v.stage === 'candidate') ?? others.find((v) => v.stage === 'staging') ?? others.find((v) => v.stage !== 'archived') ?? others[0];
    candidate = pick ? versionRef(pick) : null;
  }

  let suite = current.suite !== null && suites.some((s) => s.fingerprint === current.suite) ? current.suite : null;
  if (suite === null) {
    const ruled = suites.find((s) => rulesForSuite(rules, s).length > 0);
    suite = (ruled ?? suites[0])?.fingerprint ?? null;
  }

  const usable = rulesForSuite(rules, suites.find((s) => s.fingerprint === suite) ?? null);
  let chosen: string | null = current.rules;
  if (!rulesChosen || (chosen !== null && !usable.some((r) => r.path === chosen))) {
    chosen = preferredRules(usable, findVersionByRef(policies, candidate)?.stage ?? null)?.path ?? null;
  }
  return { baseline, candidate, suite, rules: chosen };
}

export function sameSelection(a: CompareSelection | null, b: CompareSelection | null): boolean {
  if (a === null || b === null) return a === b;
  return a.baseline === b.baseline && a.candidate === b.candidate && a.suite === b.suite && a.rules === b.rules;
}

/** Why the selection cannot be compared yet, or null. */
export function selectionProblem(sel: CompareSelection): string | null {
  if (sel.baseline === null || sel.candidate === null) return 'Choose a baseline and a candidate version.';
  if (sel.suite === null) return 'Choose a suite.';
  if (sel.baseline === sel.candidate) return 'The baseline and the candidate are the same version: choose two different versions.';
  return null;
}

/** The newest completed run of a version on a suite (runs as `eval.runs` lists them, newest first). */
export function latestCompletedRun(runs: readonly EvalRunSummary[], suiteFingerprint: string): EvalRunSummary | null {
  let best: EvalRunSummary | null = null;
  for (const r of runs) {
    if (r.status !== 'completed' || r.suiteFingerprint !== suiteFingerprint) continue;
    if (best === null || r.id > best.id) best = r;
  }
  return best;
}

export interface EvaluationNeed {
  version: string;
  role: 'baseline' | 'candidate';
  reason: 'no completed run' | 'determinism not checked';
}

/**
 * The versions to evaluate before comparing: each one without a completed run on the suite and,
 * when a verdict is wanted, a candidate whose native run was never re-run (the gate's determinism
 * rule would otherwise evaluate it again, out of sight).
 */
export function versionsNeedingEvaluation(input: {
  baseline: string;
  candidate: string;
  suiteFingerprint: string;
  baselineRuns: readonly EvalRunSummary[];
  candidateRuns: readonly EvalRunSummary[];
  withVerdict: boolean;
}): EvaluationNeed[] {
  const needs: EvaluationNeed[] = [];
  const check = (version: string, role: 'baseline' | 'candidate', runs: readonly EvalRunSummary[]): void => {
    const run = latestCompletedRun(runs, input.suiteFingerprint);
    if (run === null) needs.push({ version, role, reason: 'no completed run' });
    else if (role === 'candidate' && input.withVerdict && run.kind === 'native' && run.determinism.status === 'not checked') {
      needs.push({ version, role, reason: 'determinism not checked' });
    }
  };
  check(input.baseline, 'baseline', input.baselineRuns);
  check(input.candidate, 'candidate', input.candidateRuns);
  return needs;
}

export interface ProgressSummary {
  /** Evaluations still running. */
  running: number;
  done: number;
  total: number;
  /** 0..1 over all evaluations, weighted by their case counts. */
  fraction: number;
}

export function aggregateProgress(tracks: readonly EvalTrack[]): ProgressSummary {
  let done = 0;
  let total = 0;
  let work = 0;
  let running = 0;
  for (const t of tracks) {
    done += Math.min(t.done, t.total);
    total += t.total;
    work += (t.status === 'completed' ? 1 : t.fraction) * t.total;
    if (t.status === 'starting' || t.status === 'running') running += 1;
  }
  return { running, done, total, fraction: total > 0 ? Math.min(1, work / total) : 0 };
}

export function isTerminal(status: TrackStatus): boolean {
  return status === 'completed' || status === 'failed' || status === 'cancelled';
}

/**
 * The `baseline` argument of `gate.run`: left out when the rules would pick the same version
 * themselves (`baseline: production` and the chosen baseline is production now), so the verdict
 * records the rules' own baseline and counts for a promotion.
 */
export function gateBaselineArg(rules: RulesFile | null, baseline: string, policies: readonly PolicySummary[], candidate: string): string | undefined {
  if (rules === null || rules.baseline === null) return baseline;
  if (rules.baseline === 'production') {
    const policy = findVersionByRef(policies, candidate)?.policy;
    const production = policies.find((p) => p.name === policy)?.productionLabel ?? null;
    return policy !== undefined && production !== null && `${policy}@${production}` === baseline ? undefined : baseline;
  }
  return rules.baseline === baseline ? undefined : baseline;
}

/** Selector: the results are for another selection than the one shown. */
export function selectResultIsStale(s: CompareState): boolean {
  return s.result !== null && !sameSelection(s.result.for, s.selection);
}

/** Selector: a run is in progress. */
export function selectBusy(s: CompareState): boolean {
  return s.phase === 'checking' || s.phase === 'evaluating' || s.phase === 'comparing';
}

function trackFromProgress(track: EvalTrack, p: EvalProgressPayload): EvalTrack {
  return {
    ...track,
    runId: p.runId,
    done: p.done,
    total: p.total,
    passed: p.passed,
    fraction: p.fraction,
    phase: p.phase,
    status: p.status,
    error: p.error,
  };
}

function trackFromRun(track: EvalTrack, r: EvalRunSummary): EvalTrack {
  return {
    ...track,
    runId: r.id,
    done: r.casesDone,
    total: r.casesTotal,
    passed: r.passed,
    fraction: r.status === 'completed' ? 1 : track.fraction,
    phase: r.status === 'running' ? track.phase : 'finished',
    status: r.status,
    error: r.error,
  };
}

function short(ref: string): string {
  const at = ref.lastIndexOf('@');
  return at >= 0 ? ref.slice(at + 1) : ref;
}

// ---------------------------------------------------------------- the store

export function createCompareStore(client: ContractClient, options: CompareStoreOptions = {}): CompareStore {
  const pollMs = options.pollMs ?? 2000;
  let loadSeq = 0;
  /** Bumped by every run, cancel and mid-run selection change: answers of an older run are dropped. */
  let runSeq = 0;
  let pollTimer: ReturnType<typeof setTimeout> | null = null;
  /** Runs the operator cancelled: an `eval.start` that answers late for one is cancelled at once. */
  const cancelledRuns = new Set<number>();

  return createStore<CompareState>()((set, get) => {
    const stopPolling = (): void => {
      if (pollTimer !== null) clearTimeout(pollTimer);
      pollTimer = null;
    };

    const fail = (seq: number, problem: CompareProblem): void => {
      if (seq !== runSeq) return;
      stopPolling();
      set({ phase: 'failed', problem });
    };

    /** Abandons the run in progress (its late answers are ignored). */
    const abandon = (): void => {
      runSeq += 1;
      stopPolling();
    };

    const compareNow = async (seq: number, sel: CompareSelection): Promise<void> => {
      stopPolling();
      set({ phase: 'comparing' });
      const { policies, rules } = get();
      const baseline = sel.baseline as string;
      const candidate = sel.candidate as string;
      const suite = sel.suite as string;
      const rulesFile = sel.rules === null ? null : (rules.find((r) => r.path === sel.rules) ?? null);
      const baselineArg = gateBaselineArg(rulesFile, baseline, policies, candidate);
      const [cmp, gate] = await Promise.all([
        client.invoke('compare.get', { candidate, baseline, suite }),
        sel.rules === null
          ? Promise.resolve(null)
          : client.invoke('gate.run', { rulesPath: sel.rules, candidate, ...(baselineArg !== undefined ? { baseline: baselineArg } : {}) }),
      ]);
      if (seq !== runSeq) return;
      if (!cmp.ok) {
        fail(seq, { title: `Could not compare ${short(candidate)} with ${short(baseline)}`, error: cmp.error, hint: null });
        return;
      }
      set({
        phase: 'done',
        tracks: [],
        result: { for: sel, comparison: cmp.value, gate: gate?.ok ? gate.value : null, gateError: gate && !gate.ok ? gate.error : null },
      });
    };

    /** Called after every track change: moves on once every evaluation has ended. */
    const settle = (seq: number): void => {
      const s = get();
      if (seq !== runSeq || s.phase !== 'evaluating' || s.running === null) return;
      if (!s.tracks.every((t) => isTerminal(t.status) && t.runId !== null)) return;
      const failed = s.tracks.find((t) => t.status === 'failed');
      if (failed) {
        fail(seq, {
          title: `Evaluating ${failed.version} failed`,
          error: failed.error ?? { code: 'SWY_ERR_INFERENCE', message: `The evaluation of ${failed.version} (run ${failed.runId}) failed.` },
          hint: 'Check the export with `switchyard doctor` and the server log, then run the comparison again; cases that finished are kept.',
        });
        return;
      }
      const cancelled = s.tracks.find((t) => t.status === 'cancelled');
      if (cancelled) {
        stopPolling();
        set({ phase: 'cancelled', notice: `The evaluation of ${cancelled.version} was cancelled elsewhere, so there is nothing complete to compare. Run the comparison again to evaluate it.` });
        return;
      }
      void compareNow(seq, s.running);
    };

    const updateTracks = (seq: number, update: (tracks: EvalTrack[]) => EvalTrack[]): void => {
      if (seq !== runSeq) return;
      set({ tracks: update(get().tracks) });
      settle(seq);
    };

    const poll = (seq: number, suite: string): void => {
      if (pollMs <= 0) return;
      pollTimer = setTimeout(() => {
        pollTimer = null;
        void (async () => {
          const pending = get().tracks.filter((t) => t.runId !== null && !isTerminal(t.status));
          const answers = await Promise.all(pending.map((t) => client.invoke('eval.runs', { version: t.version, suite, limit: 20 })));
          if (seq !== runSeq || get().phase !== 'evaluating') return;
          updateTracks(seq, (tracks) =>
            tracks.map((t) => {
              for (const a of answers) {
                if (!a.ok) continue;
                const r = a.value.runs.find((x) => x.id === t.runId);
                if (r && r.status !== 'running' && !isTerminal(t.status)) return trackFromRun(t, r);
              }
              return t;
            }),
          );
          if (seq === runSeq && get().phase === 'evaluating') poll(seq, suite);
        })();
      }, pollMs);
    };

    const onProgress = (p: EvalProgressPayload): void => {
      const s = get();
      if (s.running === null || p.suiteFingerprint !== s.running.suite) return;
      const seq = runSeq;
      if (s.phase === 'evaluating') {
        const i = s.tracks.findIndex((t) => t.version === p.version && (t.runId === null || t.runId === p.runId));
        if (i < 0) return;
        updateTracks(seq, (tracks) => tracks.map((t, j) => (j === i ? trackFromProgress(t, p) : t)));
      } else if (s.phase === 'comparing' && (p.version === s.running.baseline || p.version === s.running.candidate)) {
        // The gate evaluates what its rules need (e.g. more determinism re-runs): show that too.
        const role = p.version === s.running.candidate ? 'candidate' : 'baseline';
        const others = s.tracks.filter((t) => t.runId !== p.runId);
        const base: EvalTrack = { version: p.version, role, runId: p.runId, done: 0, total: p.total, passed: 0, fraction: 0, phase: 'starting', status: 'running', error: null, joined: true };
        const existing = s.tracks.find((t) => t.runId === p.runId) ?? base;
        set({ tracks: [...others, trackFromProgress(existing, p)].sort((a, b) => (a.role === b.role ? 0 : a.role === 'baseline' ? -1 : 1)) });
      }
    };

    return {
      optionsStatus: 'idle',
      optionsError: null,
      policies: [],
      suites: [],
      rules: [],
      selection: EMPTY_SELECTION,
      rulesChosen: false,
      phase: 'idle',
      running: null,
      tracks: [],
      result: null,
      problem: null,
      notice: null,
      restoredAt: null,

      async load() {
        const seq = ++loadSeq;
        set({ optionsStatus: 'loading' });
        const [p, s, r] = await Promise.all([client.invoke('policies.list', {}), client.invoke('suites.list', {}), client.invoke('rules.list', {})]);
        if (seq !== loadSeq) return;
        const error = !p.ok ? p.error : !s.ok ? s.error : !r.ok ? r.error : null;
        if (error !== null || !p.ok || !s.ok || !r.ok) {
          set({ optionsStatus: 'error', optionsError: error });
          return;
        }
        const opts = { policies: p.value.policies, suites: s.value.suites, rules: r.value.rules };
        const selection = normalizeSelection(opts, get().selection, get().rulesChosen);
        const same = sameSelection(selection, get().selection);
        set({ ...opts, optionsStatus: 'ready', optionsError: null, selection: same ? get().selection : selection });
      },

      select(patch) {
        const s = get();
        const rulesChosen = s.rulesChosen || 'rules' in patch;
        const selection = normalizeSelection(s, { ...s.selection, ...patch }, rulesChosen);
        if (sameSelection(selection, s.selection) && rulesChosen === s.rulesChosen) return;
        if (selectBusy(s)) {
          // The run in progress is for the old selection: drop its answers. Evaluations already
          // started go on in the background; the next run finds them running and joins them.
          abandon();
          set({
            selection,
            rulesChosen,
            phase: 'idle',
            tracks: [],
            notice: 'The selection changed, so the comparison in progress stopped. Evaluations it started keep running on the server and are reused by the next run.',
          });
          return;
        }
        set({ selection, rulesChosen, notice: null });
      },

      async run() {
        const s = get();
        const sel = s.selection;
        const invalid = selectionProblem(sel);
        if (invalid !== null) {
          set({ phase: 'failed', problem: { title: 'Nothing to compare yet', error: { code: 'SWY_ERR_INVALID_INPUT', message: invalid }, hint: null } });
          return;
        }
        abandon();
        const seq = runSeq;
        const baseline = sel.baseline as string;
        const candidate = sel.candidate as string;
        const suite = sel.suite as string;
        set({ phase: 'checking', running: sel, tracks: [], problem: null, notice: null });

        const [b, c] = await Promise.all([
          client.invoke('eval.runs', { version: baseline, suite, limit: 50 }),
          client.invoke('eval.runs', { version: candidate, suite, limit: 50 }),
        ]);
        if (seq !== runSeq) return;
        if (!b.ok || !c.ok) {
          const error = !b.ok ? b.error : !c.ok ? c.error : null;
          if (error) fail(seq, { title: 'Could not read the evaluation runs', error, hint: null });
          return;
        }
        const needs = versionsNeedingEvaluation({ baseline, candidate, suiteFingerprint: suite, baselineRuns: b.value.runs, candidateRuns: c.value.runs, withVerdict: sel.rules !== null });
        if (needs.length === 0) {
          await compareNow(seq, sel);
          return;
        }

        const caseCount = get().suites.find((x) => x.fingerprint === suite)?.caseCount ?? 0;
        const tracks: EvalTrack[] = needs.map((n) => ({
          version: n.version,
          role: n.role,
          runId: null,
          done: 0,
          total: caseCount,
          passed: 0,
          fraction: 0,
          phase: 'starting',
          status: 'starting',
          error: null,
          joined: false,
        }));
        set({ phase: 'evaluating', tracks });
        poll(seq, suite);

        await Promise.all(
          needs.map(async (n) => {
            const r = await client.invoke('eval.start', { version: n.version, suite });
            if (seq !== runSeq) {
              // Cancelled before the run's id was known: cancel it now that it is.
              if (r.ok && cancelledRuns.has(seq)) void client.invoke('eval.cancel', { runId: r.value.runId });
              return;
            }
            if (!r.ok) {
              fail(seq, {
                title: `Could not start evaluating ${n.version}`,
                error: r.error,
                hint: 'Fix what the message names, then run the comparison again.',
              });
              return;
            }
            const { runId, alreadyRunning } = r.value;
            updateTracks(seq, (ts) =>
              ts.map((t) => {
                if (t.version !== n.version) return t;
                // A progress event may have named the run (or even ended it) before this answer.
                const status = t.runId === runId ? t.status : 'running';
                return { ...t, runId, joined: alreadyRunning, status };
              }),
            );
          }),
        );
      },

      async cancel() {
        const s = get();
        if (!selectBusy(s)) return;
        const seq = runSeq;
        cancelledRuns.add(seq);
        const runIds = s.tracks.filter((t) => t.runId !== null && !isTerminal(t.status)).map((t) => t.runId as number);
        abandon();
        set({
          phase: 'cancelled',
          tracks: [],
          notice: 'Comparison cancelled. Stopped evaluations keep the cases they finished, but only completed runs are compared: run the comparison again to evaluate from the start.',
        });
        const answers = await Promise.all(runIds.map((runId) => client.invoke('eval.cancel', { runId })));
        const failed = answers.find((a) => !a.ok);
        if (failed && !failed.ok && get().phase === 'cancelled') {
          set({ problem: { title: 'Could not cancel an evaluation', error: failed.error, hint: 'It may have finished already; `eval.runs` shows its state.' } });
        }
      },

      dismissProblem() {
        set({ problem: null });
      },

      start() {
        const unsubscribe = client.subscribe('eval.progress', onProgress);
        return () => {
          unsubscribe();
          stopPolling();
        };
      },
    };
  });
}
