import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, test } from '../support/fixtures.js';
import { startOwnConsole, type OwnConsole } from '../support/own-console.js';
import { callApi, resultsDir } from '../support/server.js';
import { WorkbenchPage } from '../pages/workbench-page.js';

/**
 * Issue 13, item 5: the gate on Promote can be cancelled. The candidate is a deliberately slow
 * fixture policy (the 1.0.0 controller plus work that changes no action: every case runs its full
 * 500 steps at several GFLOP a step), registered into a console of this spec's own, so its
 * evaluation is still running when Cancel is pressed, on a fast machine or a loaded one.
 */

const P = 'cartpole-balance';
const SLOW = '9.9.9-slow';

let own: OwnConsole;

test.beforeAll(async () => {
  test.setTimeout(240_000);
  const dir = mkdtempSync(path.join(tmpdir(), 'switchyard-e2e-gate-cancel-'));
  own = await startOwnConsole('gate-cancel', ['--demo'], { dir });
  const { writeSlowExport } = (await import('../../core/test-support/fault-exports.js')) as {
    writeSlowExport(dir: string, opts: { version: string }): Promise<string>;
  };
  const exp = await writeSlowExport(path.join(dir, 'drops', 'slow'), { version: SLOW });
  const started = await callApi(own, 'registry.registerExport', { path: exp });
  await expect(async () => {
    const { jobs } = await callApi(own, 'registry.registrations');
    const job = jobs.find((j) => j.jobId === started.jobId);
    expect(job?.state, job?.error?.message).toBe('registered');
  }).toPass({ timeout: 120_000 });
});

test.afterAll(async () => {
  await own?.stop();
  if (own) rmSync(own.dir, { recursive: true, force: true });
});

test('the gate on Promote can be cancelled: its evaluations stop, no verdict is recorded', async ({ page, pageErrors }) => {
  test.setTimeout(300_000);
  const workbench = new WorkbenchPage(page, own.url);
  const { verdicts: before } = await callApi(own, 'verdicts.list', { policy: P, candidate: SLOW });

  await workbench.open();
  await workbench.promote();
  await workbench.pickVersion(SLOW);
  await expect(workbench.targetStage('staging')).toBeChecked();
  await workbench.runGateButton().click();
  const cancel = page.getByRole('button', { name: 'Cancel gate' });
  await expect(cancel).toBeVisible({ timeout: 60_000 });
  // The slow candidate's run exists and is running before Cancel is pressed.
  await expect(async () => {
    const { runs } = await callApi(own, 'eval.runs', { version: `${P}@${SLOW}` });
    expect(runs.some((r) => r.status === 'running')).toBe(true);
    // The baseline may be evaluated first: on a loaded machine that takes a while.
  }).toPass({ timeout: 150_000 });
  await page.screenshot({ path: path.join(resultsDir, 'gate-running-cancel.png') });
  await cancel.click();

  await expect(page.getByRole('status').filter({ hasText: 'Gate cancelled' })).toBeVisible({ timeout: 60_000 });
  await expect(page.getByRole('alert')).toHaveCount(0);
  await expect(workbench.runGateButton()).toBeEnabled();
  await page.screenshot({ path: path.join(resultsDir, 'gate-cancelled.png') });

  await expect(async () => {
    const { runs } = await callApi(own, 'eval.runs', { version: `${P}@${SLOW}` });
    expect(runs.map((r) => r.status)).toContain('cancelled');
    expect(runs.map((r) => r.status)).not.toContain('running');
  }).toPass({ timeout: 60_000 });
  const { verdicts } = await callApi(own, 'verdicts.list', { policy: P, candidate: SLOW });
  expect(verdicts).toHaveLength(before.length);
  // The gate.run call that the cancel ended answered 409 (no verdict); Chromium logs that answer.
  const logged = pageErrors.filter((e) => /status of 409/.test(e));
  for (const e of logged) pageErrors.splice(pageErrors.indexOf(e), 1);
});
