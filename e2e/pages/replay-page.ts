import { expect, type Locator, type Page } from '@playwright/test';

/** The Replay page as an operator sees it, by roles and names. */
export class ReplayPage {
  constructor(readonly page: Page) {}

  async goto(url: string): Promise<void> {
    await this.page.goto(url);
    await this.page.getByRole('navigation', { name: 'Workbench' }).getByRole('link', { name: 'Replay', exact: true }).click();
    await expect(this.heading()).toBeVisible();
  }

  heading(): Locator {
    return this.page.getByRole('heading', { level: 1, name: 'Replay', exact: true });
  }

  traces(): Locator {
    return this.page.getByRole('table', { name: 'Traces' });
  }

  async refreshList(): Promise<void> {
    await this.page.getByRole('button', { name: 'Refresh list' }).click();
  }

  async openFromList(name: string): Promise<void> {
    await this.refreshList();
    await this.traces().getByRole('button', { name: `Open ${name}` }).click();
    await this.waitForSummary(name);
  }

  async waitForSummary(name: string | RegExp): Promise<void> {
    const title = typeof name === 'string' ? `Summary of ${name}` : name;
    await expect(this.page.getByRole('heading', { level: 2, name: title })).toBeVisible({ timeout: 60_000 });
  }

  async upload(file: string): Promise<void> {
    await this.page.getByLabel('Upload a trace').setInputFiles(file);
  }

  chain(): Locator {
    return this.page.getByRole('status', { name: 'Chain' });
  }

  summaryValue(name: string): Locator {
    return this.page.locator(`xpath=//dl[@aria-label="Trace summary"]//dt[normalize-space()="${name}"]/following-sibling::dd[1]`);
  }

  position(): Locator {
    return this.page.getByRole('slider', { name: 'Position' });
  }

  async positionValue(): Promise<number> {
    return Number(await this.position().inputValue());
  }

  playButton(): Locator {
    return this.page.getByRole('button', { name: 'Play', exact: true });
  }

  pauseButton(): Locator {
    return this.page.getByRole('button', { name: 'Pause', exact: true });
  }

  async speed(label: '1×' | '10×' | '100×' | 'max'): Promise<void> {
    await this.page.getByRole('radiogroup', { name: 'Speed' }).getByRole('radio', { name: label, exact: true }).check({ force: true });
  }

  cartPole(): Locator {
    return this.page.getByRole('img', { name: /^Cart-pole at step/ });
  }

  timeline(): Locator {
    return this.page.getByRole('img', { name: /^Timeline of/ });
  }

  latencyChart(): Locator {
    return this.page.getByRole('img', { name: /^Latency over time per slot/ });
  }

  pointer(): Locator {
    return this.page.getByRole('status', { name: 'Pointer' });
  }

  episodes(): Locator {
    return this.page.getByRole('list', { name: 'Episodes' });
  }

  async rerun(version: string, limit?: number): Promise<void> {
    await this.page.getByLabel('Version', { exact: true }).selectOption(version);
    await this.page.getByLabel('First N requests').fill(limit === undefined ? '' : String(limit));
    await this.page.getByRole('button', { name: 'Re-run', exact: true }).click();
  }

  rerunResult(): Locator {
    return this.page.getByRole('region', { name: 'Re-run result' });
  }

  async screenshot(name: string, dir: string): Promise<void> {
    await this.page.screenshot({ path: `${dir}/replay-${name}.png`, fullPage: true });
  }
}
