import path from 'node:path';
import { CanarySection } from '../pages/canary-section.js';
import { WorkbenchPage } from '../pages/workbench-page.js';
import { expect, test } from '../support/fixtures.js';
import { driveTraffic, startOwnConsole, type OwnConsole } from '../support/own-console.js';
import { callApi, resultsDir } from '../support/server.js';

/**
 * The canary from the Traffic page, on a console of its own (it promotes a version, which the
 * shared server's other specs must not see): the demo with production (1.0.0) in slot A and
 * 1.1.0, moved to staging, in slot B. The spec plays the robots: /act requests with new episode
 * ids all along, so every look has real numbers from both slots.
 */

const P = 'cartpole-balance';
let own: OwnConsole | null = null;

test.describe('Canary', () => {
  // Generous: on a loaded CI machine the page itself is slow; the canary's own intervals are seconds.
  test.describe.configure({ timeout: 600_000 });

  test.beforeAll(async () => {
    own = await startOwnConsole('canary', ['--demo', '--policy-a', `${P}@production`, '--policy-b', `${P}@1.1.0`, '--no-rtc', '--split', '100']);
    await callApi(own, 'lifecycle.promote', { version: `${P}@1.1.0`, to: 'staging', force: true, reason: 'e2e: canary candidate', actor: 'e2e' });
  });

  test.afterAll(async () => {
    await own?.stop();
  });

  test('refused without a verdict, rolled back on a failed look, paused, resumed, aborted, then ramped to production', async ({ page, pageErrors }) => {
    const server = own as OwnConsole;
    const workbench = new WorkbenchPage(page, server.url);
    const state = await callApi(server, 'serving.getState');
    expect(state.mode).toBe('ab');
    const traffic = driveTraffic(state.actUrl as string);
    const canary = new CanarySection(page);
    try {
      await workbench.open();
      await workbench.traffic();
      await expect(canary.form()).toContainText(`${P}@1.1.0`);

      // ---- No GO verdict for staging -> production: refused, with what to do.
      await canary.fill({ 'Steps (% to canary)': '50, 100', 'Interval (s)': '1.5', 'Monitor (s)': '0' });
      await canary.startButton().click();
      await expect(canary.alert()).toContainText('SWY_ERR_VERDICT_REQUIRED');
      await expect(canary.alert()).toContainText('Force');
      await page.screenshot({ path: path.join(resultsDir, 'canary-refused.png'), fullPage: true });
      await canary.button('Dismiss').click();
      // Chromium logs every non-2xx answer; this refusal (409) is the one the test asked for.
      const logged = pageErrors.findIndex((e) => /status of 409/.test(e));
      expect(logged, 'the refusal reached the page as a 409').toBeGreaterThanOrEqual(0);
      pageErrors.splice(logged, 1);

      // ---- A form mistake is caught next to the form, before the server.
      await canary.fill({ 'Steps (% to canary)': '50, 90' });
      await canary.startButton().click();
      await expect(canary.form().getByRole('alert')).toContainText('last step must be 100');

      // ---- A look that cannot prove anything (far too few requests) fails closed: automatic rollback.
      await canary.fill({ 'Steps (% to canary)': '50, 100', 'Requests per look': '1000000', 'Error margin': '0.3', 'p99 ratio limit': '50' });
      await canary.force('e2e: automatic rollback');
      await canary.startButton().click();
      await expect(canary.outcome()).toContainText('Rolled back', { timeout: 30_000 });
      await expect(canary.looks()).toHaveCount(1);
      await expect(canary.looks().first()).toContainText('fail');
      await expect(canary.looks().first()).toContainText('data');
      await expect(canary.outcome()).toContainText(`every request is back on ${P}@1.0.0`);
      await page.screenshot({ path: path.join(resultsDir, 'canary-rolled-back.png'), fullPage: true });
      let st = await callApi(server, 'serving.getState');
      expect(st.split, 'a failed look sends every request to production').toBe(100);

      // ---- Pause, resume, abort with a reason.
      await canary.fill({ 'Requests per look': '1', 'Interval (s)': '600' });
      await canary.startButton().click();
      await expect(canary.headline()).toContainText('Ramping');
      await expect(canary.headline()).toContainText('50% on the canary');
      await canary.button('Pause').click();
      await expect(canary.headline()).toContainText('Paused');
      await canary.button('Resume').click();
      await expect(canary.headline()).toContainText('Ramping');
      await canary.button('Abort…').click();
      const dialog = page.getByRole('dialog', { name: 'Abort the canary' });
      await expect(dialog.getByRole('button', { name: 'Abort canary' })).toBeDisabled();
      await dialog.getByLabel('Reason').fill('e2e: operator stops the ramp');
      await page.screenshot({ path: path.join(resultsDir, 'canary-abort-dialog.png') });
      await dialog.getByRole('button', { name: 'Abort canary' }).click();
      await expect(dialog).toHaveCount(0);
      await expect(canary.outcome()).toContainText('Aborted');
      await expect(canary.outcome()).toContainText('e2e: operator stops the ramp');
      st = await callApi(server, 'serving.getState');
      expect(st.split).toBe(100);

      // ---- The ramp to completion: 50% then 100%, each look passing on live traffic, promoted.
      await canary.fill({ 'Interval (s)': '2', Reason: 'e2e: ramp on simulated traffic' });
      await canary.startButton().click();
      await expect(canary.looks().first()).toContainText('pass', { timeout: 30_000 });
      await page.screenshot({ path: path.join(resultsDir, 'canary-ramping.png'), fullPage: true });
      await expect(canary.outcome()).toContainText('Completed', { timeout: 60_000 });
      await expect(canary.looks()).toHaveCount(2);
      for (const row of await canary.looks().all()) await expect(row).toContainText('pass');
      await expect(canary.outcome()).toContainText('promoted at');
      await page.screenshot({ path: path.join(resultsDir, 'canary-completed.png'), fullPage: true });
      st = await callApi(server, 'serving.getState');
      expect(st.split, 'every new episode on the canary').toBe(0);

      // ---- Recorded: 1.1.0 is production and the timeline says the canary did it.
      await workbench.promote();
      await expect(workbench.productionCard()).toContainText('1.1.0');
      const newest = workbench.historyEntries().first();
      await expect(newest).toContainText('1.1.0');
      await expect(newest).toContainText('every look passed');
      await expect(newest).toContainText('e2e: ramp on simulated traffic');
      await page.screenshot({ path: path.join(resultsDir, 'canary-timeline.png'), fullPage: true });
    } finally {
      const sent = await traffic.stop();
      console.log(`[canary] simulated traffic: ${sent.sent} /act requests, ${sent.failed} failed`);
    }
  });
});
