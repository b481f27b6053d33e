import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect, test } from '../support/fixtures.js';
import { RestartableConsole } from '../support/restartable-console.js';
import { screenshotAtSizes } from '../support/screens.js';
import { callApi, resultsDir } from '../support/server.js';
import { WorkbenchPage } from '../pages/workbench-page.js';

/**
 * Issue 12, what remained: every verdict, run and version is a link to its detail (and a reload of
 * a detail URL shows the same detail); a forced promotion carries a FORCED mark on Versions; grader
 * values carry units and end reasons are explained; a slider drag sends one split, and Undo is
 * offered. Against a console of this spec's own, because it promotes and moves the split.
 */

const P = 'cartpole-balance';
const FORCE_REASON = 'e2e: bench run on the edge cases';
const own = new RestartableConsole('links');

interface GateAnswer {
  verdictId: number;
  verdict: string;
  candidate: { runId: number; version: string };
}

/** `split changed` lines the server logged for operator calls of `serving.setSplit`: one per call it received. */
function operatorSplitCalls(): number {
  let text = '';
  try {
    text = readFileSync(own.logPath, 'utf8');
  } catch {
    return 0;
  }
  return text.split('\n').filter((line) => line.includes('"msg":"split changed"') && line.includes('"cause":"operator"')).length;
}

async function splitEvents(): Promise<number> {
  const h = await callApi(own.server, 'serving.history', { sinceMs: 3_600_000 });
  return h.events.filter((e) => e.kind === 'split' && e.message.includes('operator')).length;
}

test.describe.serial('links to every detail, the FORCED mark, units, one split per drag', () => {
  let gate: GateAnswer;
  let goGate: GateAnswer;

  test.beforeAll(async () => {
    test.setTimeout(300_000);
    await own.start();
    const { rules } = await callApi(own.server, 'rules.list');
    const c2s = rules.find((r) => r.transition === 'candidate->staging');
    if (!c2s) throw new Error('the demo workspace has no candidate->staging rules');
    gate = await callApi(own.server, 'gate.run', { rulesPath: c2s.path, candidate: `${P}@1.1.0` });
    // A promotion that rests on a GO verdict, for the timeline's verdict link (before the forced one: that stays the newest).
    goGate = await callApi(own.server, 'gate.run', { rulesPath: c2s.path, candidate: `${P}@2.0.0-iter` });
    if (goGate.verdict !== 'GO') throw new Error(`2.0.0-iter was expected to pass candidate->staging, got ${goGate.verdict}`);
    await callApi(own.server, 'lifecycle.promote', { version: `${P}@2.0.0-iter`, to: 'staging', actor: 'e2e' });
    await callApi(own.server, 'lifecycle.promote', { version: `${P}@1.2.0`, to: 'staging', force: true, reason: FORCE_REASON, actor: 'e2e' });
  });

  test.afterAll(async () => {
    await own.dispose();
  });

  test('a forced promotion shows a FORCED mark with its reason on Versions and in the stage history', async ({ page, pageErrors }) => {
    void pageErrors;
    const wb = new WorkbenchPage(page, own.url);
    await wb.open();
    const row = wb.versionRow(P, '1.2.0');
    const mark = row.getByRole('img', { name: `Forced promotion: ${FORCE_REASON}`, exact: true });
    await expect(mark).toBeVisible();
    await expect(mark).toHaveText(/forced/i);
    await expect(mark).toHaveAttribute('title', new RegExp(FORCE_REASON));
    // A version that got its stage without an override has no mark.
    await expect(wb.versionRow(P, '1.0.0').getByRole('img', { name: /Forced promotion/ })).toHaveCount(0);
    await expect(wb.versionsTable().getByRole('columnheader', { name: /Production since \(.+\)/ })).toBeVisible();
    // The last verdict's word links to that verdict.
    await expect(wb.versionRow(P, '1.1.0').getByRole('link', { name: `${gate.verdict}, verdict #${gate.verdictId}`, exact: true })).toHaveAttribute(
      'href',
      `#/verdict?policy=${P}&id=${gate.verdictId}`,
    );
    const pane = await wb.openDetails(row);
    const history = pane.getByRole('list', { name: 'Stage history of 1.2.0', exact: true });
    await expect(history).toContainText(FORCE_REASON);
    await expect(history.getByRole('img', { name: `Forced promotion: ${FORCE_REASON}`, exact: true })).toBeVisible();
    await screenshotAtSizes(page, 'versions-forced');
    await page.keyboard.press('Escape');
    await expect(wb.detailPane()).toHaveCount(0);

    // At 1024 px the table cannot show every column: it says how many are out of view, and
    // scrolling sideways shows them; at 1920 px every column fits and the note is gone.
    await page.setViewportSize({ width: 1024, height: 700 });
    const cue = page.getByRole('note', { name: 'Versions: columns out of view', exact: true });
    await expect(cue).toContainText(/\d+ more columns?: scroll →/);
    await screenshotAtSizes(page, 'versions-scroll-cue');
    await page.setViewportSize({ width: 1024, height: 700 });
    await expect(cue).toBeVisible();
    await page.getByRole('group', { name: 'Versions (scrolls sideways)', exact: true }).evaluate((el) => el.scrollBy({ left: 2000 }));
    await expect(cue).toContainText(/← \d+ columns? to the left/);
    await expect(cue).not.toContainText('scroll →');
    await expect(wb.versionsTable().getByRole('columnheader', { name: /Last verdict/i })).toBeInViewport();
    await page.setViewportSize({ width: 1920, height: 1080 });
    await expect(cue).toHaveCount(0);
    await page.setViewportSize({ width: 1360, height: 860 });

    // The skip link is the first stop of the keyboard and leads to the content.
    await page.reload();
    await expect(wb.heading('Versions')).toBeVisible();
    await page.keyboard.press('Tab');
    await expect(page.getByRole('link', { name: 'Skip to content', exact: true })).toBeFocused();
    await page.keyboard.press('Enter');
    await expect(page.getByRole('main')).toBeFocused();

    await wb.promote();
    await expect(wb.historyEntries().first().getByRole('img', { name: `Forced promotion: ${FORCE_REASON}`, exact: true })).toBeVisible();
  });

  test('verdict #N is a link to that verdict; a reload of its URL shows it again; its versions link to their detail', async ({ page, pageErrors }) => {
    void pageErrors;
    const wb = new WorkbenchPage(page, own.url);
    await wb.open();
    await wb.promote();
    await wb.pickVersion('1.1.0');
    const link = wb.latestVerdict().getByRole('link', { name: `verdict #${gate.verdictId}`, exact: true });
    await expect(link).toBeVisible();
    await link.click();
    const heading = wb.heading(`Verdict #${gate.verdictId}`);
    await expect(heading).toBeVisible();
    expect(new URL(page.url()).hash).toBe(`#/verdict?policy=${P}&id=${gate.verdictId}`);
    await expect(wb.verdictWord(gate.verdict as 'NO-GO')).toBeVisible();
    await expect(wb.rulesTable()).toContainText('max_fail_rate');
    await screenshotAtSizes(page, 'verdict-detail');
    // Wherever the rules table is cut off, it says so; where it fits, it says nothing.
    for (const size of [{ width: 1024, height: 700 }, { width: 1920, height: 1080 }]) {
      await page.setViewportSize(size);
      const body = page.getByRole('group', { name: 'Rules (scrolls sideways)', exact: true });
      await expect
        .poll(async () => {
          const cut = await body.evaluate((el) => el.scrollWidth > el.clientWidth + 1);
          const noted = await page.getByRole('note', { name: 'Rules: columns out of view', exact: true }).count();
          return cut === noted > 0;
        }, { message: `rules table at ${size.width} px: cue shown exactly when columns are cut off` })
        .toBe(true);
    }
    await page.setViewportSize({ width: 1360, height: 860 });

    await page.reload();
    await expect(heading).toBeVisible();
    await expect(wb.rulesTable()).toContainText('max_fail_rate');

    await page.getByRole('region', { name: 'What was judged', exact: true }).getByRole('link', { name: `${P}@1.1.0`, exact: true }).click();
    await expect(wb.heading('Versions')).toBeVisible();
    await expect(wb.detailPane()).toContainText('1.1.0');
    expect(new URL(page.url()).hash).toBe(`#/versions?version=${encodeURIComponent(`${P}@1.1.0`)}`);
    await page.reload();
    await expect(wb.detailPane()).toContainText('1.1.0');
  });

  test('verdict #N in the stage history is a link to the verdict, which lists the promotion that rests on it', async ({ page, pageErrors }) => {
    void pageErrors;
    const wb = new WorkbenchPage(page, own.url);
    await wb.open();
    await wb.promote();
    const entry = wb.historyEntries().filter({ hasText: '2.0.0-iter' }).filter({ hasText: 'promoted' }).first();
    await entry.getByRole('link', { name: `verdict #${goGate.verdictId}`, exact: true }).click();
    await expect(wb.heading(`Verdict #${goGate.verdictId}`)).toBeVisible();
    await expect(wb.verdictWord('GO')).toBeVisible();
    const resting = page.getByRole('region', { name: 'Stage changes that rest on it', exact: true });
    await expect(resting).toContainText('2.0.0-iter');
    await expect(resting).toContainText('promoted');
    await page.goBack();
    await expect(wb.heading('Promote / Rollback')).toBeVisible();
  });

  test('run #N on Compare is a link to the run: its cases with grader units and end reasons in words, and Compare with it', async ({ page, pageErrors }) => {
    void pageErrors;
    const wb = new WorkbenchPage(page, own.url);
    await page.goto(`${own.url}#/compare?baseline=${encodeURIComponent(`${P}@1.0.0`)}&candidate=${encodeURIComponent(`${P}@1.1.0`)}`);
    await expect(wb.heading('Compare')).toBeVisible();
    await expect(wb.compareSelect('Candidate')).toHaveValue(`${P}@1.1.0`);
    await wb.runComparisonButton().click();
    const runs = page.getByRole('region', { name: 'Runs compared', exact: true });
    await expect(runs).toBeVisible({ timeout: 90_000 });
    await expect(runs.getByRole('link', { name: `${P}@1.1.0`, exact: true })).toBeVisible();
    const failing = wb.failingCasesTable();
    await expect(failing).toContainText(/steps/);
    await expect(failing).toContainText(/The cart left the track|The pole fell/);
    await screenshotAtSizes(page, 'compare-units');

    const runLink = runs.getByRole('link', { name: `run #${gate.candidate.runId}`, exact: true });
    await runLink.click();
    await expect(wb.heading(`Run #${gate.candidate.runId}`)).toBeVisible();
    expect(new URL(page.url()).hash).toBe(`#/run?id=${gate.candidate.runId}`);
    const cases = page.getByRole('table', { name: 'Cases of the run', exact: true });
    await expect(cases).toContainText(/\d+ steps/);
    await expect(cases).toContainText(/ ms/);
    await expect(cases).toContainText(/The cart left the track|The pole fell/);
    await screenshotAtSizes(page, 'run-detail');
    await page.reload();
    await expect(wb.heading(`Run #${gate.candidate.runId}`)).toBeVisible();
    await expect(cases).toContainText(/\d+ steps/);

    await page.getByRole('link', { name: 'Compare with this run', exact: true }).click();
    await expect(wb.heading('Compare')).toBeVisible();
    await expect(wb.compareSelect('Candidate')).toHaveValue(`${P}@1.1.0`);
  });

  test('a slider drag sends one split, on release, and Undo puts it back with one more (counted by the server)', async ({ page, pageErrors }) => {
    void pageErrors;
    const wb = new WorkbenchPage(page, own.url);
    await wb.open();
    await wb.traffic();
    const before = (await callApi(own.server, 'serving.getState')).split;
    const calls0 = operatorSplitCalls();
    const events0 = await splitEvents();
    const slider = wb.splitSlider();
    const box = await slider.boundingBox();
    if (!box) throw new Error('the split slider has no box');
    const y = box.y + box.height / 2;
    const xAt = (v: number): number => box.x + (box.width * v) / 100;
    const goal = before > 50 ? 15 : 85;
    await page.mouse.move(xAt(before), y);
    await page.mouse.down();
    for (let i = 1; i <= 25; i += 1) await page.mouse.move(xAt(before + ((goal - before) * i) / 25), y);
    const held = Number(await slider.inputValue());
    expect(Math.abs(held - goal), `the slider followed the drag (at ${held})`).toBeLessThanOrEqual(5);
    await expect(page.getByRole('status').filter({ hasText: 'Not applied yet' })).toBeVisible();
    // Held, not released: the server has received nothing of the drag.
    expect(operatorSplitCalls()).toBe(calls0);
    expect((await callApi(own.server, 'serving.getState')).split).toBe(before);
    await page.mouse.up();

    await expect.poll(async () => (await callApi(own.server, 'serving.getState')).split, { timeout: 15_000 }).toBe(held);
    await expect.poll(operatorSplitCalls, { timeout: 15_000, message: 'split calls the server received for one drag' }).toBe(calls0 + 1);
    await expect.poll(splitEvents, { timeout: 15_000 }).toBe(events0 + 1);

    const undo = page.getByRole('status', { name: 'Undo split', exact: true });
    await expect(undo).toContainText(`from ${before}% to ${held}%`);
    // The offer lasts a few seconds, and stays while it has the focus: focus it, take one picture, then Undo.
    const undoButton = undo.getByRole('button', { name: `Undo (back to ${before}%)`, exact: true });
    await undoButton.focus();
    await page.screenshot({ path: path.join(resultsDir, 'truth', 'traffic-split-undo-offer.png') });
    await undoButton.click();
    await expect.poll(async () => (await callApi(own.server, 'serving.getState')).split, { timeout: 15_000 }).toBe(before);
    await expect.poll(operatorSplitCalls, { timeout: 15_000 }).toBe(calls0 + 2);
    await expect(page.getByRole('status').filter({ hasText: `The router sends ${before}% of new episodes to A.` })).toBeVisible();
    expect(operatorSplitCalls(), 'nothing more was sent').toBe(calls0 + 2);
    await screenshotAtSizes(page, 'traffic-split-undone');
  });
});
