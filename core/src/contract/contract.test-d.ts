import { expectTypeOf, test } from 'vitest';
import type {
  Comparison,
  ContractClient,
  EvalProgressPayload,
  EventName,
  EventPayload,
  GateResult,
  MethodInput,
  MethodName,
  MethodOutput,
  Result,
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
    | 'suites.list'
    | 'rules.list'
    | 'eval.start'
    | 'eval.cancel'
    | 'eval.runs'
    | 'compare.get'
    | 'gate.run'
    | 'verdicts.list'
  >();
  expectTypeOf<MethodInput<'serving.setSplit'>>().toEqualTypeOf<{ split: number }>();
  expectTypeOf<MethodOutput<'serving.setSplit'>>().toEqualTypeOf<ServingState>();
  expectTypeOf<MethodInput<'versions.get'>>().toEqualTypeOf<{ policy: string; label: string }>();
  expectTypeOf<MethodOutput<'versions.get'>>().toEqualTypeOf<VersionSummary>();
  expectTypeOf<MethodOutput<'policies.list'>['policies'][number]['versions'][number]>().toEqualTypeOf<VersionSummary>();
  expectTypeOf<MethodInput<'serving.restoreSlot'>>().toEqualTypeOf<{ slot: 'prod' | 'a' | 'b' | 'shadow' }>();
});

test('evaluation, comparison and gate signatures', () => {
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

test('event payloads', () => {
  expectTypeOf<EventName>().toEqualTypeOf<'serving.stats' | 'serving.state' | 'eval.progress'>();
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
});
