import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { expect, test } from '../support/fixtures.js';
import { startOwnConsole, type OwnConsole } from '../support/own-console.js';
import { callApi, resultsDir } from '../support/server.js';
import { RegistrationSection } from '../pages/registration-section.js';
import { WorkbenchPage } from '../pages/workbench-page.js';

/**
 * Issue 13, item 3: registration from the workbench. A console of this spec's own (the shared one
 * keeps its four versions) on a fresh demo store, watching a folder; exports are real ONNX files
 * written by the test helpers in core/test-support (TypeScript, loaded by Playwright directly).
 */

type Edit = (m: { version: string }) => void;
interface Fixtures {
  writeGoodExport(dir: string, version: string, edit?: Edit): Promise<string>;
  writeFaultyExport(dir: string, fault: string): Promise<string>;
}
interface SlowFixtures {
  writeBusyExport(dir: string, opts: { version: string; trips: number }): Promise<string>;
}

const P = 'cartpole-balance';
let own: OwnConsole;
let fx: Fixtures;
let slow: SlowFixtures;
let watched: string;

test.describe.configure({ mode: 'serial' });

test.beforeAll(async () => {
  test.setTimeout(240_000);
  fx = (await import('../../core/test-support/fault-fixtures.js')) as Fixtures;
  slow = (await import('../../core/test-support/fault-exports.js')) as SlowFixtures;
  const { mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(path.join(tmpdir(), 'switchyard-e2e-register-'));
  watched = path.join(dir, 'watched');
  mkdirSync(watched, { recursive: true });
  own = await startOwnConsole('register', ['--demo', '--watch', watched], { dir });
});

test.afterAll(async () => {
  await own?.stop();
  const { rmSync } = await import('node:fs');
  if (own) rmSync(own.dir, { recursive: true, force: true });
});

async function versionCount(): Promise<number> {
  const { policies } = await callApi(own, 'policies.list');
  return policies.reduce((n, p) => n + p.versions.length, 0);
}

test('Register export: a broken export shows the failing check and writes nothing; a good one is registered with its doctor report', async ({ page, pageErrors }) => {
  test.setTimeout(180_000);
  void pageErrors;
  const workbench = new WorkbenchPage(page, own.url);
  const reg = new RegistrationSection(page);
  const broken = await fx.writeFaultyExport(path.join(own.dir, 'drops', 'bad-shapes'), 'obs-dim-mismatch');
  const good = await fx.writeGoodExport(path.join(own.dir, 'drops', 'cartpole-1.4.0'), '1.2.0', (m) => (m.version = '1.4.0'));
  const before = await versionCount();

  await workbench.open();
  await expect(workbench.versionRows()).toHaveCount(before);

  // The form lists the folders an export may come from; a path outside them is refused by name.
  await reg.registerButton().click();
  await expect(reg.form().getByRole('list', { name: 'Folders exports may be registered from' })).toContainText(own.dir);
  await reg.register('/etc');
  await expect(reg.form().getByRole('alert')).toContainText('SWY_ERR_PATH_NOT_ALLOWED');
  await reg.form().getByRole('button', { name: 'Dismiss' }).click();

  // Broken: the io-shapes check fails, why is shown, later checks are skipped, nothing is written.
  await reg.register(broken);
  const badCard = reg.card('bad-shapes');
  await expect(badCard.getByRole('alert')).toContainText('Not registered: the inputs and outputs match check (io-shapes) failed', { timeout: 60_000 });
  await expect(badCard.getByRole('alert')).toContainText("input 'obs' has shape [N, 4] but switchyard.json (observation.dim 5)");
  await expect(badCard.getByRole('alert')).toContainText('Nothing was written to the store.');
  await expect(reg.check('bad-shapes', 'Manifest', 'passed')).toBeVisible();
  await expect(reg.check('bad-shapes', 'Inputs and outputs match', 'failed')).toBeVisible();
  await expect(reg.check('bad-shapes', 'Warm-up on random input', 'skipped')).toBeVisible();
  await page.screenshot({ path: path.join(resultsDir, 'register-broken.png'), fullPage: true });
  expect(await versionCount()).toBe(before);
  await expect(workbench.versionRows()).toHaveCount(before);

  // Good: every check passes, the version appears as a candidate with doctor ok.
  await reg.register(good);
  const goodCard = reg.card('cartpole-1.4.0');
  await expect(goodCard.getByRole('status')).toContainText(`Registered ${P}@1.4.0 as a candidate`, { timeout: 60_000 });
  for (const name of ['Manifest', 'Files and hash', 'Model loads', 'Inputs and outputs match', 'Warm-up on random input', 'Finite outputs, timed runs']) {
    await expect(reg.check('cartpole-1.4.0', name, 'passed')).toBeVisible();
  }
  await expect(goodCard.getByRole('progressbar', { name: 'Doctor checks of cartpole-1.4.0' })).toHaveAttribute('aria-valuenow', '100');
  await expect(workbench.versionRows()).toHaveCount(before + 1);
  const row = workbench.versionRow(P, '1.4.0');
  await expect(row).toContainText('candidate');
  await expect(row).toContainText('ok');
  await page.screenshot({ path: path.join(resultsDir, 'register-good.png'), fullPage: true });

  // The report is kept: the version's detail shows it, later, from the store.
  await page.reload();
  const pane = await workbench.openDetails(workbench.versionRow(P, '1.4.0'));
  await pane.getByRole('button', { name: 'Doctor report' }).click();
  const checks = pane.getByRole('table', { name: `Doctor checks of ${P}@1.4.0` });
  await expect(checks.getByRole('row')).toHaveCount(7);
  await expect(checks).toContainText('finite-outputs');
  await expect(pane.getByRole('region', { name: `Doctor report of ${P}@1.4.0` })).toContainText('50 timed runs');
  await page.screenshot({ path: path.join(resultsDir, 'register-doctor-report.png'), fullPage: true });
  // The refused /etc answered 403; Chromium logs that answer as an error.
  for (const e of pageErrors.filter((x) => /status of 403/.test(x))) pageErrors.splice(pageErrors.indexOf(e), 1);
});

test('a registration in progress shows each check as it runs, and Cancel registration stops it with nothing written', async ({ page, pageErrors }) => {
  test.setTimeout(180_000);
  void pageErrors;
  const workbench = new WorkbenchPage(page, own.url);
  const reg = new RegistrationSection(page);
  // Every call of this policy runs a 200,000-step ONNX loop (about half a second here): doctor's
  // 50 timed runs last long enough to be watched on any machine.
  const busy = await slow.writeBusyExport(path.join(own.dir, 'drops', 'busy'), { version: '9.9.9-busy', trips: 200_000 });
  const before = await versionCount();
  await workbench.open();
  await reg.register(busy);
  const card = reg.card('busy');
  await expect(reg.check('busy', 'Finite outputs, timed runs', 'running')).toBeVisible({ timeout: 90_000 });
  await expect(reg.check('busy', 'Warm-up on random input', 'passed')).toBeVisible();
  await expect(card.getByRole('progressbar', { name: 'Doctor checks of busy' })).toHaveAttribute('aria-valuetext', /5 of 6 checks passed, \d+ of 50 timed runs/);
  await page.screenshot({ path: path.join(resultsDir, 'register-running.png'), fullPage: true });
  await card.getByRole('button', { name: 'Cancel registration' }).click();
  await expect(card.getByRole('status')).toContainText('Cancelled before it was registered: nothing was written to the store.', { timeout: 60_000 });
  await expect(card.getByRole('alert')).toHaveCount(0);
  await expect(reg.check('busy', 'Finite outputs, timed runs', 'skipped')).toBeVisible();
  expect(await versionCount()).toBe(before);
  await page.screenshot({ path: path.join(resultsDir, 'register-cancelled.png'), fullPage: true });
});

test('a watched-folder export shows up live, is registered, evaluated against production and given a verdict', async ({ page, pageErrors }) => {
  test.setTimeout(300_000);
  void pageErrors;
  const workbench = new WorkbenchPage(page, own.url);
  const reg = new RegistrationSection(page);
  await workbench.open();
  await expect(page.getByLabel('Watched folders')).toContainText(watched);

  // The job drops an export while the page is open.
  await fx.writeGoodExport(path.join(watched, 'cartpole-1.5.0'), '1.2.0', (m) => (m.version = '1.5.0'));
  const row = reg.row('cartpole-1.5.0');
  await expect(row).toBeVisible({ timeout: 60_000 });
  await expect(row).toContainText('watched folder');
  await expect(row).toContainText('registered', { timeout: 60_000 });
  // The evaluation may take only seconds: its in-progress state is kept when the page catches it.
  if (/evaluating \d+%/.test((await row.textContent()) ?? '')) await page.screenshot({ path: path.join(resultsDir, 'register-watched-evaluating.png'), fullPage: true });
  await expect(workbench.versionRow(P, '1.5.0')).toBeVisible({ timeout: 30_000 });
  // 1.2.0's model earns GO from the demo's candidate->staging rules (demo-rules.ts).
  await expect(row.getByText('GO', { exact: true })).toBeVisible({ timeout: 240_000 });
  await expect(row).toContainText('cartpole-frozen-v1');
  await row.getByRole('button', { name: 'cartpole-1.5.0' }).click();
  const card = reg.card('cartpole-1.5.0');
  await expect(card.getByRole('group', { name: 'Evaluation of cartpole-1.5.0' })).toContainText('Verdict');
  await expect(card.getByRole('link', { name: 'Open in Compare' })).toBeVisible();
  await expect(workbench.versionRow(P, '1.5.0')).toContainText('GO');
  await page.screenshot({ path: path.join(resultsDir, 'register-watched-verdict.png'), fullPage: true });

  const { verdicts } = await callApi(own, 'verdicts.list', { policy: P, candidate: '1.5.0' });
  expect(verdicts[0]).toMatchObject({ verdict: 'GO', transition: 'candidate->staging' });

  // A broken export dropped there is listed as rejected, with its failing check.
  await fx.writeFaultyExport(path.join(watched, 'broken-nan'), 'nan-output');
  const bad = reg.row('broken-nan');
  await expect(bad).toContainText('not registered', { timeout: 60_000 });
  await expect(bad).toContainText('warmup failed');
  await page.screenshot({ path: path.join(resultsDir, 'register-watched-rejected.png'), fullPage: true });
});
