import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from '@playwright/test';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '..');
const results = path.join(repoRoot, 'test-results');

/**
 * End-to-end tests of the workbench over the HTTP transport against a real `switchyard console`
 * (started by global-setup.ts). Debian's Chromium drives them; never `playwright install`.
 * Set SWITCHYARD_E2E_URL to run against a server that is already up instead.
 */
export default defineConfig({
  testDir: path.join(here, 'specs'),
  outputDir: path.join(results, 'e2e-artifacts'),
  globalSetup: path.join(here, 'global-setup.ts'),
  globalTeardown: path.join(here, 'global-teardown.ts'),
  workers: 1,
  // One retry on CI only: the specs share one live console on a loaded machine, and a timing
  // flake there must not hide a whole run; a retried pass is named in the summary as flaky.
  retries: process.env.CI ? 1 : 0,
  fullyParallel: false,
  forbidOnly: true,
  timeout: 120_000,
  expect: { timeout: 20_000 },
  reporter: [['list'], ['json', { outputFile: path.join(results, 'e2e-results.json') }]],
  use: {
    browserName: 'chromium',
    headless: true,
    viewport: { width: 1360, height: 860 },
    screenshot: 'only-on-failure',
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    },
  },
});
