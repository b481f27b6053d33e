/** Suites, rules files, evaluations, their results, comparisons, the gate and verdicts. */
import { ErrorCodes, SwitchyardError } from '../../contract/index.js';
import { exportRun, formatRows, type CaseExportFormat } from '../../eval/case-export.js';
import { compareVersions, requireSuite } from '../../eval/compare.js';
import type { EvalService } from '../../eval/eval-service.js';
import type { GateResult } from '../../eval/gate.js';
import { listRunSummaries, listVerdictSummaries, versionRefs } from '../../eval/queries.js';
import { listRulesFiles } from '../../eval/rules-files.js';
import type { Db } from '../../store/database.js';
import type { EvalStore } from '../../store/eval-store.js';
import type { Registry } from '../../store/registry.js';
import type { Handlers } from '../dispatcher.js';

export type EvalHandlers = Pick<
  Handlers,
  'suites.list' | 'rules.list' | 'eval.start' | 'eval.cancel' | 'eval.runs' | 'eval.results' | 'compare.get' | 'gate.run' | 'verdicts.list'
>;

export interface EvalHandlerDeps {
  db: Db;
  registry: Registry;
  evalStore: EvalStore;
  evals: EvalService;
  /** Where `rules.list` looks (the demo's, `<dataDir>/rules/`, a configured folder). */
  rulesDirs: readonly string[];
  gate: (req: { rulesPath: string; candidate: string; baseline?: string; reeval?: boolean }) => Promise<GateResult>;
}

export function evalHandlers({ db, registry, evalStore, evals, rulesDirs, gate }: EvalHandlerDeps): EvalHandlers {
  function runResults(runId: number, format: CaseExportFormat) {
    const out = exportRun(evalStore, runId);
    const run = evalStore.getRun(runId);
    const version = versionRefs(db).get(run?.versionId ?? -1) ?? `#${run?.versionId}`;
    const ext = format === 'json' ? 'json' : format;
    return {
      runId,
      version,
      status: out.status,
      format,
      cases: out.rows.length,
      fileName: `run-${runId}-${version.replace(/[^A-Za-z0-9._-]+/g, '-')}.${ext}`,
      text: formatRows(out.rows, format),
    };
  }

  return {
    'suites.list': () => ({ suites: evalStore.listSuites() }),
    'rules.list': async () => ({ rules: await listRulesFiles(rulesDirs) }),
    'eval.start': async ({ version, suite, reruns }) => {
      const job = await evals.start({ version, suite, ...(reruns !== undefined ? { reruns } : {}) });
      return { runId: job.runId, version: job.version, suite: job.suite, alreadyRunning: job.alreadyRunning };
    },
    'eval.cancel': ({ runId }) => {
      if (!evalStore.getRun(runId)) throw new SwitchyardError(ErrorCodes.SWY_ERR_NOT_FOUND, `No evaluation run ${runId}. \`eval.runs\` lists them.`, 'runId');
      return { runId, cancelled: evals.cancel(runId) };
    },
    'eval.runs': ({ version, suite, limit }) => ({
      runs: listRunSummaries(db, evalStore, {
        ...(version !== undefined ? { versionId: registry.resolve(version).id } : {}),
        ...(suite !== undefined ? { suiteFingerprint: requireSuite(evalStore, suite, '`suites.list` shows the recorded suites.', 'suite').fingerprint } : {}),
        ...(limit !== undefined ? { limit } : {}),
      }),
    }),
    'eval.results': ({ runId, format }) => runResults(runId, format ?? 'jsonl'),
    'compare.get': ({ candidate, baseline, suite }) => compareVersions({ registry, evalStore, candidate, baseline, suite }),
    'gate.run': ({ rulesPath, candidate, baseline, reeval }) => gate({ rulesPath, candidate, ...(baseline !== undefined ? { baseline } : {}), ...(reeval !== undefined ? { reeval } : {}) }),
    'verdicts.list': ({ policy, candidate, limit, id }) => {
      const candidateVersionId = candidate === undefined ? undefined : registry.resolve(candidate.includes('@') ? candidate : `${policy}@${candidate}`).id;
      return { verdicts: listVerdictSummaries(db, evalStore, { policy, ...(candidateVersionId !== undefined ? { candidateVersionId } : {}), ...(limit !== undefined ? { limit } : {}), ...(id !== undefined ? { id } : {}) }) };
    },
  };
}
