import { expect, type Locator, type Page } from '@playwright/test';

/** The Versions page's `Register export` action and its registrations, found by roles and names. */
export class RegistrationSection {
  constructor(readonly page: Page) {}

  registerButton(): Locator {
    return this.page.getByRole('button', { name: 'Register export', exact: true });
  }

  form(): Locator {
    return this.page.getByRole('form', { name: 'Register an export' });
  }

  pathInput(): Locator {
    return this.form().getByRole('textbox', { name: 'Export folder' });
  }

  /** Opens the form (when closed), types the path and presses Register. */
  async register(path: string): Promise<void> {
    if (!(await this.form().isVisible())) await this.registerButton().click();
    await expect(this.form()).toBeVisible();
    await this.pathInput().fill(path);
    await this.form().getByRole('button', { name: 'Register', exact: true }).click();
  }

  /** The card of one registration, by its export folder's name. */
  card(folderName: string): Locator {
    return this.page.getByRole('region', { name: `Registration of ${folderName}`, exact: true });
  }

  check(folderName: string, check: string, status: string): Locator {
    return this.card(folderName).getByRole('listitem', { name: `${check}: ${status}`, exact: true });
  }

  registrationsTable(): Locator {
    return this.page.getByRole('table', { name: 'Registrations' });
  }

  row(folderName: string): Locator {
    return this.registrationsTable()
      .getByRole('row')
      .filter({ has: this.page.getByRole('button', { name: folderName, exact: true }) });
  }
}
