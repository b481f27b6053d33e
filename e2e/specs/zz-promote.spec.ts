import path from 'node:path';
import { expect, test } from '../support/fixtures.js';
import { callApi, resultsDir, serverFromEnv, type ServerInfo } from '../support/server.js';

/**
 * Promote / Rollback against the real demo server. This spec changes stages (2.0.0-iter and 1.1.0
 * end in staging; production goes to 2.0.0-iter and back to 1.0.0) and the split (a rollback in
 * two-policy mode sends every request to the restored slot), and nothing moves a version back to
 * candidate, so its file name sorts it after every other spec. It puts the split back at the end.
 */

const P = 'cartpole-balance';

async function stages(server: ServerInfo): Promise<Map<string, string>> {
  const { policies } = await callApi(server, 'policies.list');
  const policy = policies.find((p) => p.name === P);
  return new Map((policy?.versions ?? []).map((v) => [v.label, v.stage]));
}

test.describe('Promote / Rollback', () => {
  test.afterAll(async () => {
    // The rollback routed every request to slot a; give later runs against this server the demo's split.
    await callApi(serverFromEnv(), 'serving.setSplit', { split: 50 }).catch(() => undefined);
  });

  test('gate and promote, override a NO-GO with a reason, promote to production and roll back', async ({ workbench, page, server, pageErrors }) => {
    const before = await stages(server);
    test.skip(
      before.get('1.0.0') !== 'production' || before.get('2.0.0-iter') !== 'candidate' || before.get('1.1.0') !== 'candidate',
      `needs the demo's starting stages (1.0.0 production, 2.0.0-iter and 1.1.0 candidates); the server has ${JSON.stringify([...before])}`,
    );

    await workbench.open();
    await workbench.promote();
    await expect(workbench.productionCard()).toContainText('1.0.0');
    await expect(workbench.productionCard()).toContainText('since');
    // Nothing was production before 1.0.0: there is nowhere to roll back to yet.
    await expect(workbench.rollbackButton()).toBeDisabled();
    for (const [label, stage] of before) await expect(workbench.stageRow(label), `${label} shows its stage`).toContainText(stage);
    const initialEntries = await workbench.historyEntries().count();
    expect(initialEntries, 'registration and the first production are in the history').toBeGreaterThanOrEqual(2);

    // ---- 2.0.0-iter: candidate -> staging on a GO verdict, no reason needed.
    await workbench.pickVersion('2.0.0-iter');
    await expect(workbench.targetStage('staging')).toBeChecked();
    await workbench.runGateButton().click();
    await expect(workbench.verdictWordIn(workbench.latestVerdict(), 'GO')).toBeVisible({ timeout: 90_000 });
    await expect(workbench.latestVerdict()).toContainText('candidate → staging');
    await expect(workbench.latestVerdict()).toContainText(/rules passed/);

    await workbench.promoteButton().click();
    let dialog = workbench.dialog('Confirm promotion');
    await expect(dialog).toBeVisible();
    await expect(workbench.verdictWordIn(dialog, 'GO')).toBeVisible();
    await expect(workbench.reasonBox(dialog)).toHaveCount(0);
    await page.screenshot({ path: path.join(resultsDir, 'promote-dialog-go.png') });
    await dialog.getByRole('button', { name: 'Promote 2.0.0-iter to staging', exact: true }).click();
    await expect(dialog).toHaveCount(0);
    await expect(workbench.lastChange()).toContainText('Promoted 2.0.0-iter: candidate → staging');
    await expect(workbench.stageRow('2.0.0-iter')).toContainText('staging');
    await expect(workbench.historyEntries()).toHaveCount(initialEntries + 1);
    const newest = workbench.historyEntries().first();
    await expect(newest).toContainText('2.0.0-iter');
    await expect(newest).toContainText('promoted');
    await expect(newest).toContainText(/verdict #\d+/);
    await expect(newest.getByText('forced', { exact: true })).toHaveCount(0);

    // ---- 1.1.0: the gate says NO-GO; promoting needs a reason and is recorded as forced.
    await workbench.pickVersion('1.1.0');
    await expect(workbench.targetStage('staging')).toBeChecked();
    await workbench.runGateButton().click();
    await expect(workbench.verdictWordIn(workbench.latestVerdict(), 'NO-GO')).toBeVisible({ timeout: 90_000 });
    await workbench.promoteButton().click();
    dialog = workbench.dialog('Confirm promotion');
    await expect(dialog).toBeVisible();
    await expect(workbench.verdictWordIn(dialog, 'NO-GO')).toBeVisible();
    await expect(dialog).toContainText('slices.safety.max_fail_rate');
    const override = dialog.getByRole('button', { name: 'Override and promote 1.1.0 to staging', exact: true });
    await expect(override).toBeDisabled();
    const reason = workbench.reasonBox(dialog);
    await expect(reason).toBeVisible();
    await reason.fill('   ');
    await expect(override, 'a blank reason is no reason').toBeDisabled();
    await reason.fill('bench test of the safety edge cases (e2e)');
    await expect(override).toBeEnabled();
    await page.screenshot({ path: path.join(resultsDir, 'promote-override.png') });
    await override.click();
    await expect(dialog).toHaveCount(0);
    await expect(workbench.lastChange()).toContainText('forced');
    await expect(workbench.stageRow('1.1.0')).toContainText('staging');
    const forced = workbench.historyEntries().first();
    await expect(forced).toContainText('1.1.0');
    await expect(forced.getByText('forced', { exact: true })).toBeVisible();
    await expect(forced).toContainText('bench test of the safety edge cases (e2e)');

    // ---- 2.0.0-iter: staging -> production on the staging-to-production rules (GO).
    await workbench.pickVersion('2.0.0-iter');
    await expect(workbench.targetStage('production')).toBeChecked();
    await workbench.runGateButton().click();
    await expect(workbench.latestVerdict()).toContainText('staging → production', { timeout: 90_000 });
    await expect(workbench.verdictWordIn(workbench.latestVerdict(), 'GO')).toBeVisible();
    await workbench.promoteButton().click();
    dialog = workbench.dialog('Confirm promotion');
    await expect(dialog).toContainText('1.0.0 leaves production');
    await dialog.getByRole('button', { name: 'Promote 2.0.0-iter to production', exact: true }).click();
    await expect(dialog).toHaveCount(0);
    await expect(workbench.productionCard()).toContainText('2.0.0-iter');
    await expect(workbench.productionCard()).toContainText('Rollback restores 1.0.0');
    await expect(workbench.stageRow('1.0.0')).toContainText('staging');
    const promotedAt = await workbench.historyEntries().filter({ hasText: '2.0.0-iter' }).first().locator('time').getAttribute('datetime');
    expect(promotedAt).toBeTruthy();

    // ---- Rollback: the confirmation names the version it restores; the answer says where traffic went.
    await workbench.rollbackButton().click();
    dialog = workbench.dialog('Confirm rollback');
    await expect(dialog).toBeVisible();
    await expect(dialog).toContainText('Restores');
    await expect(dialog).toContainText('1.0.0');
    await workbench.reasonBox(dialog).fill('e2e: back to the known-good controller');
    await dialog.getByRole('button', { name: 'Roll back to 1.0.0', exact: true }).click();
    await expect(dialog).toHaveCount(0);
    await expect(workbench.lastChange()).toContainText('restored 1.0.0, replacing 2.0.0-iter');
    // The demo serves 1.0.0 in slot a and 2.0.0-iter in slot b: the rollback routes everything to a.
    await expect(workbench.lastChange()).toContainText(/traffic moved in [\d.]+ ms/);
    await expect(workbench.productionCard()).toContainText('1.0.0');
    await expect(workbench.productionCard()).not.toContainText('2.0.0-iter');
    const rolledBack = workbench.historyEntries().first();
    await expect(rolledBack).toContainText('rolled back');
    await expect(rolledBack).toContainText('e2e: back to the known-good controller');
    expect((await stages(server)).get('1.0.0')).toBe('production');

    // ---- What was production at a time: now, and the moment 2.0.0-iter was promoted.
    await workbench.lookUpProductionAt('now');
    await expect(workbench.productionAtResult()).toContainText('was 1.0.0');
    await workbench.lookUpProductionAt(promotedAt!);
    await expect(workbench.productionAtResult()).toContainText('was 2.0.0-iter');
    await expect(workbench.alerts()).toHaveCount(0);

    await page.screenshot({ path: path.join(resultsDir, 'promote.png'), fullPage: true });

    // ---- Errors read as alerts: 2.0.0-iter was production a moment ago, so the archive guard protects it.
    await workbench.pickVersion('2.0.0-iter');
    await page.getByRole('button', { name: 'Archive…', exact: true }).click();
    dialog = workbench.dialog('Confirm archive');
    await dialog.getByRole('button', { name: 'Archive 2.0.0-iter', exact: true }).click();
    const alert = dialog.getByRole('alert');
    await expect(alert).toContainText('SWY_ERR_PROTECTED_VERSION');
    await expect(alert).toContainText('cannot be archived');
    await expect(alert).toContainText('Archive an older version instead');
    await page.screenshot({ path: path.join(resultsDir, 'promote-protected.png') });
    // Chromium logs the refusal's HTTP status (409) as a console error: that one is expected.
    const logged = pageErrors.findIndex((e) => /status of 409/.test(e));
    expect(logged, 'the refused archive answered 409').toBeGreaterThanOrEqual(0);
    pageErrors.splice(logged, 1);
    await dialog.getByRole('button', { name: 'Cancel', exact: true }).click();
    await expect(dialog).toHaveCount(0);
    await expect(workbench.stageRow('2.0.0-iter')).toContainText('staging');
    await expect(workbench.alerts()).toHaveCount(0);
  });
});
