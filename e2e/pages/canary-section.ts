import type { Locator, Page } from '@playwright/test';

/** The Canary card on the Traffic page, found by roles and names. */
export class CanarySection {
  constructor(readonly page: Page) {}

  card(): Locator {
    return this.page.getByRole('region', { name: 'Canary' });
  }

  form(): Locator {
    return this.card().getByRole('form', { name: 'Start a canary' });
  }

  field(label: string): Locator {
    return this.form().getByLabel(label, { exact: true });
  }

  async fill(values: Record<string, string>): Promise<void> {
    for (const [label, value] of Object.entries(values)) await this.field(label).fill(value);
  }

  async force(reason: string): Promise<void> {
    await this.form().getByRole('checkbox', { name: /Force/ }).check();
    await this.field('Reason').fill(reason);
  }

  startButton(): Locator {
    return this.card().getByRole('button', { name: 'Start canary' });
  }

  button(name: string): Locator {
    return this.card().getByRole('button', { name, exact: true });
  }

  status(): Locator {
    return this.card().getByLabel('Canary status');
  }

  headline(): Locator {
    return this.status().getByRole('status').first();
  }

  outcome(): Locator {
    return this.card().getByRole('status', { name: 'Canary outcome' });
  }

  looks(): Locator {
    return this.card().getByRole('table', { name: 'Canary looks' }).locator('tbody tr');
  }

  alert(): Locator {
    return this.card().getByRole('alert');
  }
}
