import { expectTypeOf, test } from 'vitest';
import type {
  ArchiveResult,
  CanaryStatus,
  Comparison,
  ContractClient,
  EvalProgressPayload,
  EventName,
  EventPayload,
  GateResult,
  HistoryResult,
  LifecycleChanged,
  MethodInput,
  MethodName,
  MethodOutput,
  PromotionResult,
  Result,
  RollbackResult,
  ServingState,
  ServingStats,
  VersionSummary,
} from './index.js';

// These fail the type check (vitest typecheck) when a signature in the map drifts.
test('method signatures', () => {
  expectTypeOf<MethodName>().toEqualTypeOf<
    | 'app.info'
    | 'policies.list'
    | 'versions.get'
    | 'serving.getState'
    | 'serving.setSplit'
    | 'serving.restoreSlot'
    | 'serving.history'
    | 'suites.list'
    | 'rules.list'
    | 'eval.start'
    | 'eval.cancel'
    | 'eval.runs'
    | 'eval.results'
    | 'compare.get'
    | 'gate.run'
    | 'verdicts.list'
    | 'lifecycle.promote'
    | 'lifecycle.rollback'
    | 'lifecycle.history'
    | 'lifecycle.archive'
    | 'canary.start'
    | 'canary.pause'
    | 'canary.resume'
    | 'canary.abort'
    | 'canary.status'
    | 'replay.list'
    | 'replay.open'
    | 'replay.openDialog'
    | 'replay.cancel'
    | 'replay.job'
    | 'replay.summary'
    | 'replay.timeline'
    | 'replay.episodes'
    | 'replay.episode'
    | 'replay.at'
    | 'replay.rerun'
    | 'replay.rerunResult'
    | 'demo.traffic.get'
    | 'demo.traffic.set'
    | 'registry.registerExport'
    | 'registry.cancelRegistration'
    | 'registry.registrations'
    | 'registry.doctorReport'
    | 'registry.chooseExportFolder'
    | 'shadow.evidence'
  >();
  expectTypeOf<MethodInput<'serving.setSplit'>>().toEqualTypeOf<{ split: number }>();
  expectTypeOf<MethodOutput<'serving.setSplit'>>().toEqualTypeOf<ServingState>();
  expectTypeOf<MethodInput<'versions.get'>>().toEqualTypeOf<{ policy: string; label: string }>();
  expectTypeOf<MethodOutput<'versions.get'>>().toEqualTypeOf<VersionSummary>();
  expectTypeOf<MethodOutput<'policies.list'>['policies'][number]['versions'][number]>().toEqualTypeOf<VersionSummary>();
  expectTypeOf<MethodInput<'serving.restoreSlot'>>().toEqualTypeOf<{ slot: 'prod' | 'a' | 'b' | 'shadow' }>();
});

test('evaluation, comparison and gate signatures', () => {
  expectTypeOf<MethodInput<'eval.results'>>().toEqualTypeOf<{ runId: number; format?: 'json' | 'jsonl' | 'csv' | undefined }>();
  expectTypeOf<MethodOutput<'eval.results'>['text']>().toEqualTypeOf<string>();
  expectTypeOf<MethodInput<'eval.start'>>().toEqualTypeOf<{ version: string; suite: string; reruns?: number | undefined }>();
  expectTypeOf<MethodOutput<'eval.start'>>().toEqualTypeOf<{ runId: number; version: string; suite: { name: string; fingerprint: string }; alreadyRunning: boolean }>();
  expectTypeOf<MethodInput<'eval.cancel'>>().toEqualTypeOf<{ runId: number }>();
  expectTypeOf<MethodInput<'compare.get'>>().toEqualTypeOf<{ candidate: string; baseline: string; suite: string }>();
  expectTypeOf<MethodOutput<'compare.get'>>().toEqualTypeOf<Comparison>();
  expectTypeOf<MethodInput<'gate.run'>>().toEqualTypeOf<{ rulesPath: string; candidate: string; baseline?: string | undefined; reeval?: boolean | undefined }>();
  expectTypeOf<MethodOutput<'gate.run'>>().toEqualTypeOf<GateResult>();
  expectTypeOf<MethodOutput<'gate.run'>['verdict']>().toEqualTypeOf<'GO' | 'NO-GO' | 'INCONCLUSIVE'>();
  expectTypeOf<MethodOutput<'gate.run'>['rules'][number]['pass']>().toEqualTypeOf<boolean | null>();
  expectTypeOf<MethodOutput<'compare.get'>['determinism']['status']>().toEqualTypeOf<'deterministic' | 'not frozen' | 'not checked'>();
  expectTypeOf<MethodInput<'verdicts.list'>['policy']>().toEqualTypeOf<string>();
  expectTypeOf<MethodOutput<'rules.list'>['rules'][number]['transition']>().toEqualTypeOf<'candidate->staging' | 'staging->production' | null>();
});

test('lifecycle and canary signatures', () => {
  type StageName = 'candidate' | 'staging' | 'production' | 'archived';
  expectTypeOf<MethodInput<'lifecycle.promote'>>().toEqualTypeOf<{
    version: string;
    to: StageName;
    force?: boolean | undefined;
    reason?: string | undefined;
    rulesPath?: string | undefined;
    expectedProduction?: string | null | undefined;
    actor?: string | undefined;
  }>();
  expectTypeOf<MethodOutput<'lifecycle.promote'>>().toEqualTypeOf<PromotionResult>();
  expectTypeOf<MethodOutput<'lifecycle.promote'>['replaced']>().toEqualTypeOf<VersionSummary | null>();
  expectTypeOf<MethodOutput<'lifecycle.promote'>['traffic']>().toEqualTypeOf<{ moved: boolean; ms: number | null; how: string }>();
  expectTypeOf<MethodInput<'lifecycle.rollback'>>().toEqualTypeOf<{ policy: string; reason?: string | undefined; expectedProduction?: string | null | undefined; actor?: string | undefined }>();
  expectTypeOf<MethodOutput<'lifecycle.rollback'>>().toEqualTypeOf<RollbackResult>();
  expectTypeOf<MethodOutput<'lifecycle.rollback'>['lastProduction']>().toEqualTypeOf<{ from: string; until: string | null } | null>();
  expectTypeOf<MethodInput<'lifecycle.history'>>().toEqualTypeOf<{ policy: string; at?: string | undefined }>();
  expectTypeOf<MethodOutput<'lifecycle.history'>>().toEqualTypeOf<HistoryResult>();
  expectTypeOf<MethodOutput<'lifecycle.history'>['entries'][number]['verdictId']>().toEqualTypeOf<number | null>();
  expectTypeOf<MethodInput<'lifecycle.archive'>>().toEqualTypeOf<{ version: string; reason?: string | undefined; actor?: string | undefined }>();
  expectTypeOf<MethodOutput<'lifecycle.archive'>>().toEqualTypeOf<ArchiveResult>();
  expectTypeOf<MethodInput<'canary.start'>['policy']>().toEqualTypeOf<string>();
  expectTypeOf<MethodInput<'canary.start'>['steps']>().toEqualTypeOf<number[] | undefined>();
  expectTypeOf<MethodOutput<'canary.start'>>().toEqualTypeOf<CanaryStatus>();
  expectTypeOf<MethodOutput<'canary.status'>>().toEqualTypeOf<{ canary: CanaryStatus | null }>();
  expectTypeOf<CanaryStatus['state']>().toEqualTypeOf<'ramping' | 'paused' | 'monitoring' | 'completed' | 'rolled_back' | 'aborted'>();
  expectTypeOf<MethodInput<'canary.abort'>>().toEqualTypeOf<{ reason?: string | undefined; actor?: string | undefined }>();
});

test('event payloads', () => {
  expectTypeOf<EventName>().toEqualTypeOf<'serving.stats' | 'serving.state' | 'eval.progress' | 'lifecycle.changed' | 'serving.event' | 'canary.progress' | 'replay.progress' | 'registry.registerProgress'>();
  expectTypeOf<EventPayload<'registry.registerProgress'>['state']>().toEqualTypeOf<'settling' | 'checking' | 'registered' | 'rejected' | 'failed' | 'cancelled'>();
  expectTypeOf<MethodInput<'registry.registerExport'>>().toEqualTypeOf<{ path: string }>();
  expectTypeOf<EventPayload<'serving.event'>['kind']>().toEqualTypeOf<'start' | 'deploy' | 'split' | 'drain' | 'restore' | 'rollback' | 'promote' | 'canary'>();
  expectTypeOf<MethodOutput<'serving.history'>['samples'][number]>().toEqualTypeOf<ServingStats>();
  expectTypeOf<EventPayload<'replay.progress'>['status']>().toEqualTypeOf<'running' | 'done' | 'failed' | 'cancelled'>();
  expectTypeOf<EventPayload<'lifecycle.changed'>>().toEqualTypeOf<LifecycleChanged>();
  expectTypeOf<EventPayload<'lifecycle.changed'>['action']>().toEqualTypeOf<'promote' | 'rollback' | 'archive'>();
  expectTypeOf<EventPayload<'canary.progress'>>().toEqualTypeOf<CanaryStatus>();
  expectTypeOf<EventPayload<'serving.stats'>>().toEqualTypeOf<ServingStats>();
  expectTypeOf<EventPayload<'serving.state'>>().toEqualTypeOf<ServingState>();
  expectTypeOf<EventPayload<'eval.progress'>>().toEqualTypeOf<EvalProgressPayload>();
  expectTypeOf<EventPayload<'eval.progress'>['status']>().toEqualTypeOf<'running' | 'completed' | 'failed' | 'cancelled'>();
});

test('client calls are typed end to end', () => {
  expectTypeOf<ContractClient['invoke']>().toBeFunction();
  const c = null as unknown as ContractClient;
  expectTypeOf(c.invoke('serving.setSplit', { split: 80 })).resolves.toEqualTypeOf<Result<ServingState>>();
  expectTypeOf(c.invoke('gate.run', { rulesPath: 'r.yaml', candidate: 'p@1.0.0' })).resolves.toEqualTypeOf<Result<GateResult>>();
  // @ts-expect-error a wrong input type does not compile
  void c.invoke('serving.setSplit', { split: '80' });
  // @ts-expect-error gate.run needs a candidate
  void c.invoke('gate.run', { rulesPath: 'r.yaml' });
  // @ts-expect-error an unknown method does not compile
  void c.invoke('serving.nope', {});
  // @ts-expect-error promote needs a stage
  void c.invoke('lifecycle.promote', { version: 'p@1.0.0' });
  // @ts-expect-error there is no stage called live
  void c.invoke('lifecycle.promote', { version: 'p@1.0.0', to: 'live' });
});
