import path from 'node:path';
import { expect, test } from '../support/fixtures.js';
import { resultsDir } from '../support/server.js';

const P = 'cartpole-balance';
const SLICES = ['nominal', 'large_angle', 'heavy_pole', 'noisy_sensors', 'safety'];

test('Compare evaluates what is missing, then shows slices, the verdict and its evidence', async ({ workbench, page }) => {
  test.setTimeout(240_000);
  await workbench.open();
  await workbench.compare();

  // Defaults: the production version against the newest candidate, on the demo suite.
  await expect(workbench.compareSelect('Baseline')).toHaveValue(`${P}@1.0.0`);
  await expect(workbench.compareSelect('Candidate')).not.toHaveValue('');
  await expect(workbench.compareSelect('Suite').locator('option:checked')).toHaveText(/cartpole-frozen-v1/);
  // The rules offered are those of the chosen suite: both demo files.
  await expect(workbench.compareSelect('Rules').locator('option', { hasText: 'candidate-to-staging.yaml' })).toHaveCount(1);
  await expect(workbench.compareSelect('Rules').locator('option', { hasText: 'staging-to-production.yaml' })).toHaveCount(1);

  // Nothing has been evaluated in the demo store yet: the comparison evaluates both versions.
  await workbench.compareSelect('Baseline').selectOption(`${P}@1.0.0`);
  await workbench.compareSelect('Candidate').selectOption(`${P}@2.0.0-iter`);
  const rules = workbench.compareSelect('Rules');
  await rules.selectOption((await rules.locator('option', { hasText: 'candidate-to-staging.yaml' }).getAttribute('value')) as string);
  await workbench.runComparisonButton().click();
  const progress = workbench.evalProgress(`${P}@2.0.0-iter`);
  await expect(progress).toBeVisible();
  await expect(progress).toHaveAttribute('aria-valuenow', /^\d+$/);
  await expect(page.getByRole('button', { name: 'Cancel', exact: true })).toBeVisible();
  await page.screenshot({ path: path.join(resultsDir, 'compare-progress.png') });

  await expect(workbench.verdictWord('GO')).toBeVisible({ timeout: 60_000 });
  await expect(workbench.verdict()).toContainText('candidate → staging');
  await expect(workbench.evalProgress(`${P}@2.0.0-iter`)).toHaveCount(0);
  await expect(workbench.alerts()).toHaveCount(0);

  // Slices: every slice of the suite, plus all cases.
  await expect(workbench.slicesTable()).toBeVisible();
  await expect(workbench.sliceRow('all cases')).toHaveCount(1);
  for (const slice of SLICES) await expect(workbench.sliceRow(slice), `a row for ${slice}`).toHaveCount(1);
  await expect(workbench.sliceRow('safety')).toContainText('100%');

  // Every rule passes, with its evidence.
  await expect(workbench.rulesTable()).toBeVisible();
  await expect(workbench.ruleRow('slices.safety.max_fail_rate')).toContainText('PASS');
  await expect(workbench.rulesTable().getByText('FAIL', { exact: true })).toHaveCount(0);
  await expect(page.getByText('deterministic', { exact: true })).toBeVisible();

  await page.screenshot({ path: path.join(resultsDir, 'compare-go.png'), fullPage: true });

  // 1.1.0 fails near the ends of the track: NO-GO, with the safety rule failing and its cases.
  await workbench.runComparison({ baseline: `${P}@1.0.0`, candidate: `${P}@1.1.0`, rulesFile: 'candidate-to-staging.yaml', expected: 'NO-GO' });
  await expect(workbench.verdict()).toContainText('slices.safety.max_fail_rate');
  const safety = workbench.ruleRow('slices.safety.max_fail_rate');
  await expect(safety).toContainText('FAIL');
  await expect(safety.getByText(/^cp-\d+$/).first()).toBeVisible();
  // The slices show the regression; new failures open to their case ids.
  const safetySlice = workbench.sliceRow('safety');
  const newFailures = safetySlice.getByRole('button', { name: /new failures? in safety/ });
  await newFailures.click();
  await expect(newFailures).toHaveAttribute('aria-expanded', 'true');
  await expect(workbench.slicesTable().getByText(/^cp-\d+$/).first()).toBeVisible();
  // The failing cases with their slices and grader results.
  await expect(workbench.failingCasesTable()).toBeVisible();
  expect(await workbench.failingCasesTable().getByRole('row').count()).toBeGreaterThan(10);
  await expect(workbench.failingCasesTable().getByText('new failure').first()).toBeVisible();
  await expect(workbench.alerts()).toHaveCount(0);

  await page.screenshot({ path: path.join(resultsDir, 'compare-nogo.png'), fullPage: true });

  // Issue 12: the selection is in the URL (shareable), and the last comparison survives a reload.
  expect(decodeURIComponent(page.url())).toContain(`#/compare?baseline=${P}@1.0.0&candidate=${P}@1.1.0`);
  await page.reload();
  await expect(workbench.heading('Compare')).toBeVisible();
  await expect(workbench.compareSelect('Candidate')).toHaveValue(`${P}@1.1.0`);
  await expect(page.getByRole('note', { name: 'Restored comparison', exact: true })).toBeVisible();
  await expect(workbench.verdictWord('NO-GO')).toBeVisible();
  await expect(page.getByText(/the selection has changed since/)).toHaveCount(0);
  // A shared link is the page state (the hash); the token reaches the other person as the console printed it.
  const shared = await page.context().newPage();
  await shared.goto(`${workbench.url.split('#')[0]}${new URL(page.url()).hash}`);
  await expect(shared.getByRole('combobox', { name: 'Baseline', exact: true })).toHaveValue(`${P}@1.0.0`);
  await expect(shared.getByRole('combobox', { name: 'Candidate', exact: true })).toHaveValue(`${P}@1.1.0`);
  await shared.close();
});

test('Compare refuses a version compared with itself, and marks results of another selection stale', async ({ workbench, page }) => {
  await workbench.open();
  await workbench.compare();
  await workbench.compareSelect('Baseline').selectOption(`${P}@1.0.0`);
  await workbench.compareSelect('Candidate').selectOption(`${P}@1.0.0`);
  await expect(workbench.runComparisonButton()).toBeDisabled();
  await expect(page.getByText(/same version: choose two different versions/)).toBeVisible();

  // Runs exist from the first test (or are evaluated now): compare without rules.
  await workbench.compareSelect('Candidate').selectOption(`${P}@2.0.0-iter`);
  await workbench.compareSelect('Rules').selectOption('');
  await workbench.runComparisonButton().click();
  await expect(workbench.slicesTable()).toBeVisible({ timeout: 60_000 });
  await expect(workbench.verdict()).toHaveCount(0);
  await expect(page.getByText(/no verdict is given/)).toBeVisible();

  await workbench.compareSelect('Candidate').selectOption(`${P}@1.1.0`);
  await expect(page.getByText(/the selection has changed since/)).toBeVisible();
});
