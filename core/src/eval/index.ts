/** Evaluation: environments, frozen suites, graders, the evaluator and imported results. */
export type { ActionBounds, EnvParams, Environment, EnvironmentFactory, ParamSpec, StateBound, StepInfo, StepResult } from './environment.js';
export { checkParam, resolveParams } from './environment.js';
export { CARTPOLE_ENV, CARTPOLE_PARAMS, CARTPOLE_VERSION, CartPole, cartpoleFactory } from './cartpole.js';
export { ENVIRONMENTS, findEnvironment } from './environments.js';
export { mulberry32, type Rng } from './rng.js';
export { IssueListError, type Issue } from './issues.js';
export {
  SuiteError,
  canonicalJson,
  caseParams,
  loadSuite,
  parseSuite,
  suiteFingerprint,
  suiteFromContent,
  suiteToJson,
  suiteToJsonl,
  writeSuiteFile,
  type Suite,
  type SuiteCase,
  type SuiteContent,
} from './suite.js';
export { DEMO_SUITE_NAME, DEMO_SUITE_SLICES, buildDemoSuite, demoSuite, writeDemoSuite } from './demo-suite.js';
export { GRADERS, WALL_CLOCK_GRADERS, deterministicView, type CaseResult, type GraderResult } from './graders.js';
export {
  checkDeterminism,
  compareRuns,
  evaluate,
  sliceSummary,
  type BatchPolicy,
  type DeterminismReport,
  type EvalProgress,
  type EvalRunResult,
  type EvalStatus,
  type EvaluateOptions,
} from './evaluator.js';
export { evaluateAndStore, type StoredEvaluation, type StoredEvaluationOptions } from './run-eval.js';
export { createProgress, evalProgressReporter, formatBar, type ProgressLine, type ProgressOptions } from './progress.js';
export {
  EXTERNAL_ENV,
  ImportResultsError,
  externalModelHash,
  externalSuiteFingerprint,
  importResults,
  parseImportedResults,
  type ImportSummary,
  type ImportedRun,
} from './import-results.js';
