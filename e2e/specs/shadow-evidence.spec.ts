import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { WorkbenchPage } from '../pages/workbench-page.js';
import { expect, test } from '../support/fixtures.js';
import { driveTraffic, startOwnConsole, type OwnConsole } from '../support/own-console.js';
import { callApi, repoRoot, resultsDir } from '../support/server.js';

/**
 * Issue 13 item 2: shadow divergence is part of `serving.state`, and Compare links a verdict's
 * `shadow` rules to the evidence they read. A console of its own serves production with 1.1.0 as
 * the shadow; a staging->production rules file with a `shadow` block sits in the data folder's
 * rules/ (listed by `rules.list`); real /act traffic builds the evidence.
 */
const P = 'cartpole-balance';
let own: OwnConsole;

test.describe.configure({ timeout: 300_000 });

test.beforeAll(async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'switchyard-e2e-shadow-evidence-'));
  const { DEMO_RULES_STAGING_TO_PRODUCTION } = (await import(pathToFileURL(path.join(repoRoot, 'dist/core/src/eval/demo-rules.js')).href)) as { DEMO_RULES_STAGING_TO_PRODUCTION: string };
  mkdirSync(path.join(dir, 'exports', 'rules'), { recursive: true });
  writeFileSync(path.join(dir, 'exports', 'rules', 'shadow-staging-to-production.yaml'), `${DEMO_RULES_STAGING_TO_PRODUCTION}shadow: { min_requests: 20, max_divergence: 25 }\n`);
  own = await startOwnConsole('shadow-evidence', ['--demo', `${P}@1.0.0`, '--shadow-policy', `${P}@1.1.0`], { dir });
});

test.afterAll(async () => {
  const { rmSync } = await import('node:fs');
  const dir = own?.dir;
  await own?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('serving.state carries the shadow divergence, and Compare links the shadow rules to the evidence they used', async ({ page, pageErrors }) => {
  void pageErrors;
  const state0 = await callApi(own, 'serving.getState');
  const traffic = driveTraffic(state0.actUrl!, 1, 20);
  try {
    await expect(async () => {
      const st = await callApi(own, 'serving.getState');
      expect(st.shadowDivergence?.versionRef).toBe(`${P}@1.1.0`);
      expect(st.shadowDivergence!.total.compared).toBeGreaterThan(0);
      const ev = await callApi(own, 'shadow.evidence', { candidate: `${P}@1.1.0` });
      expect(ev.requests).toBeGreaterThanOrEqual(20);
    }).toPass({ timeout: 60_000 });

    const workbench = new WorkbenchPage(page, own.url);
    await workbench.open();
    await workbench.compare();
    await workbench.runComparison({ baseline: `${P}@1.0.0`, candidate: `${P}@1.1.0`, rulesFile: 'shadow-staging-to-production.yaml', expected: 'NO-GO', timeoutMs: 180_000 });
    const row = workbench.rulesTable().getByRole('row').filter({ hasText: 'shadow.min_requests' });
    await expect(row).toContainText('PASS', { ignoreCase: true });
    await row.getByRole('button', { name: 'Shadow evidence' }).click();
    const evidence = row.getByRole('region', { name: `Shadow evidence of ${P}@1.1.0` });
    await expect(evidence).toContainText(`beside ${P}@1.0.0`);
    await expect(evidence).toContainText(/answered [\d,]+ requests in the shadow slot/);
    await expect(evidence).toContainText('In the shadow slot now');
    await expect(evidence.getByRole('link', { name: 'Shadow card on Traffic' })).toHaveAttribute('href', '#/traffic');
    await expect(evidence).toContainText('The verdict read');
    await page.screenshot({ path: path.join(resultsDir, 'compare-shadow-evidence.png'), fullPage: true });
    await workbench.rulesTable().screenshot({ path: path.join(resultsDir, 'compare-shadow-evidence-rules.png') });
  } finally {
    await traffic.stop();
  }
});
