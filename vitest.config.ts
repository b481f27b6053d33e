import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['core/src/**/*.test.ts', 'electron/**/*.test.ts', 'renderer/src/**/*.test.ts', 'bench/**/*.test.ts'],
    typecheck: { enabled: true, include: ['core/src/**/*.test-d.ts'], tsconfig: './tsconfig.json' },
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
  resolve: {
    alias: { '@contract': new URL('./core/src/contract/index.ts', import.meta.url).pathname },
  },
});
