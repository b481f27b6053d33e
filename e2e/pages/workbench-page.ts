import { expect, type Locator, type Page } from '@playwright/test';

export type Stage = 'candidate' | 'staging' | 'production' | 'archived';

/**
 * The workbench as an operator sees it, found by roles and names (SPEC §7), never by CSS classes.
 */
export class WorkbenchPage {
  constructor(
    readonly page: Page,
    readonly url: string,
  ) {}

  async open(): Promise<void> {
    await this.page.goto(this.url);
    await expect(this.heading('Versions')).toBeVisible();
  }

  heading(name: string): Locator {
    return this.page.getByRole('heading', { level: 1, name, exact: true });
  }

  nav(): Locator {
    return this.page.getByRole('navigation', { name: 'Workbench' });
  }

  navLink(name: string): Locator {
    return this.nav().getByRole('link', { name, exact: true });
  }

  async versions(): Promise<void> {
    await this.navLink('Versions').click();
    await expect(this.heading('Versions')).toBeVisible();
  }

  async compare(): Promise<void> {
    await this.navLink('Compare').click();
    await expect(this.heading('Compare')).toBeVisible();
  }

  async traffic(): Promise<void> {
    await this.navLink('Traffic').click();
    await expect(this.heading('Traffic')).toBeVisible();
  }

  async live(): Promise<void> {
    await this.navLink('Live').click();
    await expect(this.heading('Live')).toBeVisible();
  }

  async promote(): Promise<void> {
    await this.navLink('Promote').click();
    await expect(this.heading('Promote / Rollback')).toBeVisible();
  }

  // ---- Versions page ----

  versionsTable(): Locator {
    return this.page.getByRole('table', { name: 'Versions' });
  }

  /** One row per version (the policy group rows have no version button). */
  versionRows(): Locator {
    return this.versionsTable()
      .getByRole('row')
      .filter({ has: this.page.getByRole('button') });
  }

  versionRow(policy: string, label: string): Locator {
    return this.versionRows().filter({ has: this.page.getByRole('button', { name: `${policy} ${label}`, exact: true }) });
  }

  rowsWithStage(stage: Stage): Locator {
    return this.versionRows().filter({ has: this.page.getByText(stage, { exact: true }) });
  }

  detailPane(): Locator {
    return this.page.getByRole('region', { name: 'Version details' });
  }

  async openDetails(row: Locator): Promise<Locator> {
    await row.click();
    await expect(this.detailPane()).toBeVisible();
    return this.detailPane();
  }

  // ---- Compare page ----

  /** A labelled select of the Compare page: `Baseline`, `Candidate`, `Suite` or `Rules`. */
  compareSelect(label: 'Baseline' | 'Candidate' | 'Suite' | 'Rules'): Locator {
    return this.page.getByRole('combobox', { name: label, exact: true });
  }

  runComparisonButton(): Locator {
    return this.page.getByRole('button', { name: 'Run comparison', exact: true });
  }

  evalProgress(version: string): Locator {
    return this.page.getByRole('progressbar', { name: `Evaluating ${version}`, exact: true });
  }

  /** The verdict banner (GO / NO-GO / INCONCLUSIVE with the summary line). */
  verdict(): Locator {
    return this.page.getByRole('status', { name: 'Verdict', exact: true });
  }

  /** The verdict word alone, e.g. `GO` (so that `NO-GO` never matches `GO`). */
  verdictWord(word: 'GO' | 'NO-GO' | 'INCONCLUSIVE'): Locator {
    return this.verdict().getByText(word, { exact: true });
  }

  slicesTable(): Locator {
    return this.page.getByRole('table', { name: 'Slices' });
  }

  sliceRow(slice: string): Locator {
    return this.slicesTable()
      .getByRole('row')
      .filter({ has: this.page.getByRole('rowheader', { name: slice, exact: true }) });
  }

  rulesTable(): Locator {
    return this.page.getByRole('table', { name: 'Rules' });
  }

  ruleRow(id: string): Locator {
    return this.rulesTable()
      .getByRole('row')
      .filter({ has: this.page.getByRole('rowheader', { name: new RegExp(`^${id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\b`) }) });
  }

  failingCasesTable(): Locator {
    return this.page.getByRole('table', { name: 'Failing cases' });
  }

  /**
   * Chooses baseline, candidate and rules (by the rules file's name), runs the comparison and
   * waits for the verdict `expected`.
   */
  async runComparison(opts: { baseline: string; candidate: string; rulesFile: string; expected: 'GO' | 'NO-GO' | 'INCONCLUSIVE'; timeoutMs?: number }): Promise<void> {
    await this.compareSelect('Baseline').selectOption(opts.baseline);
    await this.compareSelect('Candidate').selectOption(opts.candidate);
    const rules = this.compareSelect('Rules');
    const value = await rules.locator('option', { hasText: opts.rulesFile }).first().getAttribute('value');
    if (value === null) throw new Error(`no rules option names ${opts.rulesFile}`);
    await rules.selectOption(value);
    await this.runComparisonButton().click();
    await expect(this.verdictWord(opts.expected)).toBeVisible({ timeout: opts.timeoutMs ?? 60_000 });
  }

  // ---- Traffic page ----

  slotCard(slot: 'A' | 'B' | 'Prod' | 'Shadow'): Locator {
    return this.page.getByRole('region', { name: `Slot ${slot}`, exact: true });
  }

  splitSlider(): Locator {
    return this.page.getByRole('slider', { name: 'Split' });
  }

  /**
   * Moves the slider with the keyboard, as an operator would: Home (0) or End (100), whichever is
   * nearer, then arrow keys. The workbench sends where the presses come to rest (once they pause);
   * the method returns once the router has confirmed the final value.
   */
  async setSplit(split: number): Promise<void> {
    if (!Number.isInteger(split) || split < 0 || split > 100) throw new RangeError(`split must be 0..100, got ${split}`);
    const slider = this.splitSlider();
    await slider.focus();
    if (split <= 50) {
      await slider.press('Home');
      for (let i = 0; i < split; i += 1) await slider.press('ArrowRight');
    } else {
      await slider.press('End');
      for (let i = 0; i < 100 - split; i += 1) await slider.press('ArrowLeft');
    }
    await expect(slider).toHaveValue(String(split));
    await expect(this.page.getByText(`A ${split}% / B ${100 - split}%`, { exact: true })).toBeVisible();
    await expect(this.page.getByRole('status').filter({ hasText: `The router sends ${split}% of new episodes to A.` })).toBeVisible();
  }

  // ---- Live page ----

  timeWindow(): Locator {
    return this.page.getByRole('radiogroup', { name: 'Time window' });
  }

  timeWindowOption(label: '1 min' | '5 min' | '15 min'): Locator {
    return this.timeWindow().getByRole('radio', { name: label, exact: true });
  }

  /** The current-value tile of one slot. */
  liveTile(slot: 'A' | 'B' | 'Prod' | 'Shadow'): Locator {
    return this.page.getByRole('region', { name: `Slot ${slot} now`, exact: true });
  }

  /** One value of a tile, a group named `p50`, `p99`, `req/s`, `cache hit`, `in flight` or `errors`. */
  liveMetric(slot: 'A' | 'B' | 'Prod' | 'Shadow', metric: string): Locator {
    return this.liveTile(slot).getByRole('group', { name: metric, exact: true });
  }

  /** What a tile value reads, without its label: `0.42 ms`, `87.5%`, `— no lookups`. */
  async liveReading(slot: 'A' | 'B' | 'Prod' | 'Shadow', metric: string): Promise<string> {
    const text = await this.liveMetric(slot, metric).innerText();
    return text.split('\n').slice(1).join(' ').replace(/\s+/g, ' ').trim();
  }

  /** A Live chart, by what it shows (e.g. `Requests per second`) and its window. */
  liveChart(description: string, window: '1 min' | '5 min' | '15 min'): Locator {
    return this.page.getByRole('img', { name: `${description} per slot, last ${window}`, exact: true });
  }

  // ---- Promote / Rollback page ----

  /** The current production version, since when, and the Rollback button. */
  productionCard(): Locator {
    return this.page.getByRole('region', { name: 'Production', exact: true });
  }

  stagesTable(): Locator {
    return this.page.getByRole('table', { name: 'Stages', exact: true });
  }

  stageRow(label: string): Locator {
    return this.stagesTable()
      .getByRole('row')
      .filter({ has: this.page.getByRole('radio', { name: label, exact: true }) });
  }

  /** Picks the version to promote. */
  async pickVersion(label: string): Promise<void> {
    const radio = this.stagesTable().getByRole('radio', { name: label, exact: true });
    await radio.check();
    await expect(radio).toBeChecked();
  }

  targetStage(stage: 'staging' | 'production'): Locator {
    return this.page.getByRole('radiogroup', { name: 'Target stage' }).getByRole('radio', { name: stage, exact: true });
  }

  runGateButton(): Locator {
    return this.page.getByRole('button', { name: 'Run gate', exact: true });
  }

  promoteButton(): Locator {
    return this.page.getByRole('button', { name: 'Promote', exact: true });
  }

  rollbackButton(): Locator {
    return this.page.getByRole('button', { name: 'Rollback', exact: true });
  }

  /** The newest verdict for the selected version and transition. */
  latestVerdict(): Locator {
    return this.page.getByRole('region', { name: 'Latest verdict', exact: true });
  }

  /** The verdict word alone inside `scope` (so that `NO-GO` never matches `GO`). */
  verdictWordIn(scope: Locator, word: 'GO' | 'NO-GO' | 'INCONCLUSIVE'): Locator {
    return scope.getByText(word, { exact: true });
  }

  dialog(name: 'Confirm promotion' | 'Confirm rollback' | 'Confirm archive'): Locator {
    return this.page.getByRole('dialog', { name, exact: true });
  }

  reasonBox(dialog: Locator): Locator {
    return dialog.getByRole('textbox', { name: 'Reason', exact: true });
  }

  /** What the last promotion or rollback did. */
  lastChange(): Locator {
    return this.page.getByRole('status', { name: 'Last change', exact: true });
  }

  stageHistory(): Locator {
    return this.page.getByRole('list', { name: 'Stage history', exact: true });
  }

  historyEntries(): Locator {
    return this.stageHistory().getByRole('listitem');
  }

  productionAtInput(): Locator {
    return this.page.getByRole('textbox', { name: 'What was production at', exact: true });
  }

  productionAtResult(): Locator {
    return this.page.getByRole('status', { name: 'Production at that time', exact: true });
  }

  async lookUpProductionAt(when: string): Promise<void> {
    await this.productionAtInput().fill(when);
    await this.page.getByRole('button', { name: 'Look up', exact: true }).click();
    await expect(this.productionAtResult()).toBeVisible();
  }

  // ---- Traffic page extras ----

  vramMeter(): Locator {
    return this.page.getByRole('meter', { name: 'VRAM budget', exact: true });
  }

  standbyLine(): Locator {
    return this.page.getByRole('status', { name: 'Warm standby', exact: true });
  }

  alerts(): Locator {
    return this.page.getByRole('alert');
  }
}
