import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, test } from '../support/fixtures.js';
import { RestartableConsole } from '../support/restartable-console.js';
import { screenshotAtSizes } from '../support/screens.js';
import { callApi } from '../support/server.js';
import { WorkbenchPage } from '../pages/workbench-page.js';

/**
 * Issue 12, item 4: a drain an operator can diagnose. A console of this spec's own serves two
 * real ONNX fixtures side by side: slot B's policy answers NaN for state[0] > 1 (a failed
 * request, its worker stays up), so real `/act` traffic drains it.
 */

type WriteFlaky = (dir: string, opts: { limit?: number; version?: string }) => Promise<string>;

const exportsDir = mkdtempSync(path.join(tmpdir(), 'switchyard-e2e-flaky-'));
let own: RestartableConsole;

test.beforeAll(async () => {
  test.setTimeout(240_000);
  // The fixture writer is a core test helper (core/test-support), never compiled into dist.
  const mod = (await import('../../core/test-support/fault-exports.js')) as { writeFlakyExport: WriteFlaky };
  const a = await mod.writeFlakyExport(path.join(exportsDir, 'healthy'), { limit: 100, version: '1.0.0' });
  const b = await mod.writeFlakyExport(path.join(exportsDir, 'flaky'), { limit: 1, version: '1.1.0' });
  own = new RestartableConsole('drain', ['--policy-a', a, '--policy-b', b, '--no-rtc', '--max-consecutive-crashes', '3']);
  await own.start();
});

test.afterAll(async () => {
  await own?.dispose();
  rmSync(exportsDir, { recursive: true, force: true });
});

test('a drained slot shows its effective share, last error and time, request failures apart from crashes, on Traffic, Live and in the side bar', async ({ page, pageErrors }) => {
  test.setTimeout(300_000);
  void pageErrors;
  const server = own.server;
  await callApi(server, 'serving.setSplit', { split: 0 });
  const act = `${server.origin}/act`;
  const statuses: number[] = [];
  for (let i = 0; i < 3; i += 1) {
    const r = await fetch(act, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ episode_id: `drain-${i}`, state: [5, 0, 0, 0] }) });
    await r.arrayBuffer();
    statuses.push(r.status);
  }
  expect(statuses).toEqual([500, 500, 500]);

  const wb = new WorkbenchPage(page, own.url);
  await wb.open();
  await expect(wb.navLink('Traffic'), 'the side bar shows the drain').toHaveAccessibleDescription('B drained');
  await wb.traffic();
  const slotB = page.getByRole('region', { name: 'Slot B', exact: true });
  await expect(slotB).toContainText('drained');
  await expect(slotB).toContainText(/Request failures\s*3/);
  await expect(slotB).toContainText(/Worker crashes\s*0/);
  await expect(slotB).toContainText(/100% configured\s*·\s*0% effective/);
  const lastError = page.getByLabel('Last error of slot B', { exact: true });
  await expect(lastError).toContainText('request failure');
  await expect(lastError.locator('time')).toHaveAttribute('datetime', /^\d{4}-\d\d-\d\dT/);
  await expect(page.getByRole('status', { name: 'Split in effect', exact: true })).toContainText('Effective A 100% / B 0% (slot B is drained)');
  await screenshotAtSizes(page, 'traffic-drained');

  await wb.live();
  const drain = page.getByRole('status', { name: 'Drain', exact: true });
  await expect(drain).toContainText('Slot B is drained');
  await expect(drain).toContainText('request failure');
  await screenshotAtSizes(page, 'live-drained');

  // Restoring is an event, shown on the charts' event list.
  await wb.traffic();
  await page.getByRole('button', { name: 'Restore slot B', exact: true }).click();
  await expect(slotB).not.toContainText('drained');
  await expect(page.getByRole('region', { name: 'Serving events', exact: true })).toContainText('restore');
  await expect(wb.navLink('Traffic')).not.toHaveAccessibleDescription('B drained');
  // The 500s of the drained slot are in the browser's log only if the page made them; it did not.
});
