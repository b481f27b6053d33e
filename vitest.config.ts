import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['core/src/**/*.test.ts', 'electron/**/*.test.ts', 'renderer/src/**/*.test.ts', 'bench/**/*.test.ts'],
    typecheck: { enabled: true, include: ['core/src/**/*.test-d.ts'], tsconfig: './tsconfig.json' },
    // Generous on purpose: many tests start real CLI processes through tsx (several seconds each
    // on a loaded 2-core machine) and a clean-clone CI run was seen to need more than 30 s for one
    // with five of them. A timeout is a hang detector here, never a speed assertion.
    testTimeout: 90_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Memory checks (act-robustness) compare the heap after a full collection, not a floating heap.
    execArgv: ['--expose-gc'],
  },
  resolve: {
    alias: { '@contract': new URL('./core/src/contract/index.ts', import.meta.url).pathname },
  },
});
