import path from 'node:path';
import { expect, test } from '../support/fixtures.js';
import { resultsDir } from '../support/server.js';

/** The fault switch of renderer/src/components/page-error-boundary.tsx. */
const RENDER_FAULT_KEY = 'switchyard.fault.render';

test.describe('Errors that say what to do', () => {
  test('a render error on one page is caught by its boundary; the rest of the console keeps running', async ({ workbench, page, pageErrors }) => {
    await workbench.open();
    await page.evaluate((key) => window.sessionStorage.setItem(key, 'Traffic'), RENDER_FAULT_KEY);
    await workbench.navLink('Traffic').click();

    const broken = page.getByRole('alert', { name: 'Page error' });
    await expect(broken).toContainText('The Traffic page failed to draw');
    await expect(broken).toContainText('forced render error');
    await expect(broken).toContainText('keeps running');
    await expect(broken.getByRole('button', { name: 'Reload page' })).toBeVisible();
    await page.screenshot({ path: path.join(resultsDir, 'page-error-boundary.png') });

    // The side bar, the connection and the other pages still work, with live data.
    await expect(page.getByText('Live', { exact: true }).last()).toBeVisible();
    await workbench.live();
    await expect(page.getByRole('alert', { name: 'Page error' })).toHaveCount(0);
    await workbench.navLink('Traffic').click();
    await expect(broken).toBeVisible();

    // Once the cause is gone, `Reload page` draws the page again without reloading the window.
    await page.evaluate((key) => window.sessionStorage.removeItem(key), RENDER_FAULT_KEY);
    const marker = await page.evaluate(() => ((window as unknown as { __e2eMarker: number }).__e2eMarker = Math.random()));
    await broken.getByRole('button', { name: 'Reload page' }).click();
    await expect(workbench.heading('Traffic')).toBeVisible();
    await expect(page.getByRole('alert', { name: 'Page error' })).toHaveCount(0);
    expect(await page.evaluate(() => (window as unknown as { __e2eMarker?: number }).__e2eMarker), 'the window was not reloaded').toBe(marker);

    // React reports each caught render error on the console; those are the ones this test forced.
    const forced = pageErrors.filter((e) => e.includes('forced render error'));
    expect(forced.length).toBeGreaterThan(0);
    for (const e of forced) pageErrors.splice(pageErrors.indexOf(e), 1);
    const stacks = pageErrors.filter((e) => /The above error occurred|PageErrorBoundary/.test(e));
    for (const e of stacks) pageErrors.splice(pageErrors.indexOf(e), 1);
  });

  test('a load error on Versions says what happened and what to do, and Retry recovers', async ({ workbench, page, pageErrors }) => {
    let down = true;
    await page.route('**/api/policies.list', async (route) => {
      if (down) await route.abort('connectionrefused');
      else await route.continue();
    });
    await page.goto(workbench.url);
    const alert = page.getByRole('alert').filter({ hasText: 'Could not load the versions' });
    await expect(alert).toContainText('Cannot reach the Switchyard server');
    await expect(alert).toContainText('keeps reconnecting');
    await page.screenshot({ path: path.join(resultsDir, 'versions-load-error-hint.png') });
    down = false;
    await alert.getByRole('button', { name: 'Retry' }).click();
    await expect(alert).toHaveCount(0);
    await expect(workbench.versionsTable()).toBeVisible();
    const refused = pageErrors.filter((e) => /ERR_CONNECTION_REFUSED/.test(e));
    expect(refused.length).toBeGreaterThan(0);
    for (const e of refused) pageErrors.splice(pageErrors.indexOf(e), 1);
  });
});
