import { expectTypeOf, test } from 'vitest';
import type { ContractClient, EventPayload, MethodInput, MethodName, MethodOutput, Result, ServingState, ServingStats, VersionSummary } from './index.js';

// These fail the type check (vitest typecheck) when a signature in the map drifts.
test('method signatures', () => {
  expectTypeOf<MethodName>().toEqualTypeOf<'app.info' | 'policies.list' | 'versions.get' | 'serving.getState' | 'serving.setSplit' | 'serving.restoreSlot'>();
  expectTypeOf<MethodInput<'serving.setSplit'>>().toEqualTypeOf<{ split: number }>();
  expectTypeOf<MethodOutput<'serving.setSplit'>>().toEqualTypeOf<ServingState>();
  expectTypeOf<MethodInput<'versions.get'>>().toEqualTypeOf<{ policy: string; label: string }>();
  expectTypeOf<MethodOutput<'versions.get'>>().toEqualTypeOf<VersionSummary>();
  expectTypeOf<MethodOutput<'policies.list'>['policies'][number]['versions'][number]>().toEqualTypeOf<VersionSummary>();
  expectTypeOf<MethodInput<'serving.restoreSlot'>>().toEqualTypeOf<{ slot: 'prod' | 'a' | 'b' | 'shadow' }>();
});

test('event payloads', () => {
  expectTypeOf<EventPayload<'serving.stats'>>().toEqualTypeOf<ServingStats>();
  expectTypeOf<EventPayload<'serving.state'>>().toEqualTypeOf<ServingState>();
});

test('client calls are typed end to end', () => {
  expectTypeOf<ContractClient['invoke']>().toBeFunction();
  const c = null as unknown as ContractClient;
  expectTypeOf(c.invoke('serving.setSplit', { split: 80 })).resolves.toEqualTypeOf<Result<ServingState>>();
  // @ts-expect-error a wrong input type does not compile
  void c.invoke('serving.setSplit', { split: '80' });
  // @ts-expect-error an unknown method does not compile
  void c.invoke('serving.nope', {});
});
