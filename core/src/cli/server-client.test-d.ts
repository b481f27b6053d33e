import { expectTypeOf, test } from 'vitest';
import type { ApiClient } from '../contract/index.js';
import { engineClient } from './common.js';
import { serverClient } from './server-client.js';

// The CLI has one client type, whether the engine is in this process or behind a server.
test('both ways the CLI calls the contract are the typed client', () => {
  expectTypeOf(engineClient).returns.toEqualTypeOf<ApiClient>();
  expectTypeOf(serverClient).returns.toEqualTypeOf<ApiClient>();
});
