import path from 'node:path';
import { expect, test } from '../support/fixtures.js';
import { callApi, resultsDir } from '../support/server.js';

test('the Versions page lists the demo versions with stages, identities and a detail pane', async ({ workbench, page, server }) => {
  const { policies } = await callApi(server, 'policies.list');
  const versions = policies.flatMap((p) => p.versions);
  expect(versions.length, 'the demo workspace registers several versions').toBeGreaterThanOrEqual(2);

  await workbench.open();
  await expect(workbench.versionsTable()).toBeVisible();
  await expect(workbench.versionRows()).toHaveCount(versions.length);
  // One production version per policy, shown as a badge.
  await expect(workbench.rowsWithStage('production')).toHaveCount(policies.filter((p) => p.versions.some((v) => v.stage === 'production')).length);

  for (const v of versions) {
    const row = workbench.versionRow(v.policy, v.label);
    await expect(row).toHaveCount(1);
    await expect(row).toContainText(v.stage);
    // The model version string `<model_id>@<model_hash>`, hash being 16 hex digits.
    await expect(row).toContainText(v.modelVersion);
    if (v.exportPath !== null) expect(v.modelVersion).toMatch(/^[^@\s]+@[0-9a-f]{16}$/);
  }

  const production = versions.find((v) => v.stage === 'production')!;
  const pane = await workbench.openDetails(workbench.versionRow(production.policy, production.label));
  await expect(pane).toContainText(`${production.policy} @ ${production.label}`);
  await expect(pane).toContainText('Export path');
  if (production.exportPath !== null) await expect(pane).toContainText(production.exportPath);
  await expect(pane).toContainText('Notes');
  await expect(workbench.alerts()).toHaveCount(0);

  await page.screenshot({ path: path.join(resultsDir, 'versions.png'), fullPage: true });
});

test('the side bar is a keyboard-reachable navigation landmark', async ({ workbench, page }) => {
  await workbench.open();
  await expect(workbench.navLink('Versions')).toHaveAttribute('aria-current', 'page');

  await workbench.navLink('Versions').focus();
  await page.keyboard.press('Tab');
  await expect(workbench.navLink('Compare')).toBeFocused();
  await page.keyboard.press('Tab');
  await expect(workbench.navLink('Traffic')).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(workbench.heading('Traffic')).toBeVisible();
  await expect(workbench.heading('Traffic')).toBeFocused();
  await expect(workbench.navLink('Traffic')).toHaveAttribute('aria-current', 'page');

  await workbench.versions();
  await expect(workbench.heading('Versions')).toBeFocused();
});
