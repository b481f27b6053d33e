import path from 'node:path';
import { expect, test } from '../support/fixtures.js';
import { resultsDir } from '../support/server.js';

/**
 * The console's token, end to end in Chromium: the printed URL carries it, the page moves it to
 * sessionStorage and out of the address bar, the workbench's data loads with it, and the control
 * API refuses the same request without it.
 */
test('the workbench takes the token from its URL and the control API refuses callers without it', async ({ workbench, page, server, pageErrors }) => {
  expect(server.url).toContain('?token=');
  await workbench.open();
  await expect(workbench.versionsTable()).toBeVisible();
  expect(page.url()).not.toContain('token=');
  expect(await page.evaluate(() => window.sessionStorage.getItem('switchyard.token'))).toBe(server.token);

  // A reload of this tab keeps working from sessionStorage.
  await page.reload();
  await expect(workbench.versionsTable()).toBeVisible();

  // The same call without the token, from Node and from the page itself.
  const bare = await fetch(`${server.origin}/api/policies.list`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  expect(bare.status).toBe(401);
  const fromPage = await page.evaluate(async () => (await fetch('/api/policies.list', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status);
  expect(fromPage).toBe(401);
  // Chromium logs that refused load; it is this test's own call, not a workbench error.
  const refused = pageErrors.findIndex((e) => e.includes('status of 401'));
  expect(refused).toBeGreaterThanOrEqual(0);
  pageErrors.splice(refused, 1);
  await page.screenshot({ path: path.join(resultsDir, 'security-versions.png') });
});
