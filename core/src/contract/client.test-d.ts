import { expectTypeOf, test } from 'vitest';
import type { ApiClient, ApiInvoke, CanaryStatus, HistoryResult, MethodName, PromotionResult, Result, ServingState } from './index.js';
import { apiClient } from './index.js';

declare const client: ApiClient;

// The typed client is the contract map: these fail the type check when a signature drifts.
test('the client answers each method with its output type', () => {
  expectTypeOf(client.call('lifecycle.promote', { version: 'p@1', to: 'production' })).toEqualTypeOf<Promise<PromotionResult>>();
  expectTypeOf(client.call('lifecycle.history', { policy: 'p', at: '-2h' })).toEqualTypeOf<Promise<HistoryResult>>();
  expectTypeOf(client.call('serving.setSplit', { split: 50 })).toEqualTypeOf<Promise<ServingState>>();
  expectTypeOf(client.call('canary.status', {})).toEqualTypeOf<Promise<{ canary: CanaryStatus | null }>>();
  expectTypeOf(apiClient).parameter(0).toEqualTypeOf<ApiInvoke>();
  expectTypeOf(apiClient).returns.toEqualTypeOf<ApiClient>();
  expectTypeOf<Parameters<ApiInvoke>>().toEqualTypeOf<[method: MethodName, input: unknown]>();
  expectTypeOf<ReturnType<ApiInvoke>>().toEqualTypeOf<Promise<Result<unknown>>>();
});

test('a wrong method name or input shape does not type-check', () => {
  // @ts-expect-error no such method
  void client.call('lifecycle.promot', { version: 'p@1', to: 'production' });
  // @ts-expect-error split is a number
  void client.call('serving.setSplit', { split: '50' });
  // @ts-expect-error `to` is required
  void client.call('lifecycle.promote', { version: 'p@1' });
  // @ts-expect-error not a stage
  void client.call('lifecycle.promote', { version: 'p@1', to: 'prod' });
  // @ts-expect-error the input of another method
  void client.call('lifecycle.rollback', { version: 'p@1' });
});
