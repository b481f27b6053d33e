import path from 'node:path';
import { WorkbenchPage } from '../pages/workbench-page.js';
import { expect, test } from '../support/fixtures.js';
import { driveTraffic, startOwnConsole, type OwnConsole } from '../support/own-console.js';
import { callApi, resultsDir } from '../support/server.js';

/**
 * Shadow divergence from a real server: a console of its own serving production (1.0.0, LQR) with
 * 1.1.0 (high gain) as the shadow, both real ONNX policies; the spec sends /act traffic and the
 * Traffic page shows how far the shadow's answers are from the primary's.
 */
const P = 'cartpole-balance';
let own: OwnConsole | null = null;

test.describe('Shadow divergence', () => {
  test.describe.configure({ timeout: 300_000 });
  test.beforeAll(async () => {
    own = await startOwnConsole('shadow', ['--demo', `${P}@1.0.0`, '--shadow-policy', `${P}@1.1.0`]);
  });
  test.afterAll(async () => {
    await own?.stop();
  });

  test('the shadow card shows real divergence of the shadow from the primary', async ({ page }) => {
    const server = own as OwnConsole;
    const state = await callApi(server, 'serving.getState');
    expect(state.slots.map((s) => s.slot)).toEqual(['prod', 'shadow']);
    const traffic = driveTraffic(state.actUrl as string, 1, 20);
    try {
      const workbench = new WorkbenchPage(page, server.url);
      await workbench.open();
      await workbench.traffic();
      const card = page.getByRole('region', { name: 'Shadow divergence' });
      await expect(card).toContainText(`${P}@1.1.0`);
      const totals = card.getByLabel('Shadow totals');
      await expect(totals).toContainText(/Since loaded: [1-9]\d* compared/, { timeout: 30_000 });
      const facts = card.getByLabel('Shadow divergence, newest window');
      // Two different controllers: the max abs difference is above zero.
      await expect(facts).toContainText(/Max abs p50 \/ p99\s*0\.\d*[1-9]/, { timeout: 30_000 });
      await expect(facts).toContainText(/Over threshold\s*\d+\.\d%/);
      await page.screenshot({ path: path.join(resultsDir, 'shadow-card.png'), fullPage: true });

      // The Live page charts the same numbers over time.
      await workbench.live();
      const chart = page.getByRole('region', { name: 'Shadow divergence' });
      await expect(chart.getByRole('img', { name: /Shadow divergence/ })).toBeVisible({ timeout: 30_000 });
      // A steady divergence draws a flat line, which has no height: check the drawn path, not its box.
      await expect(chart.locator('path[name="max abs p99"]')).toHaveAttribute('d', /^M[\d.]+,[\d.]+L/, { timeout: 30_000 });
      await page.screenshot({ path: path.join(resultsDir, 'shadow-live-chart.png'), fullPage: true });
    } finally {
      await traffic.stop();
    }
  });
});
