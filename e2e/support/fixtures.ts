import { test as base, expect } from '@playwright/test';
import { serverFromEnv, type ServerInfo } from './server.js';
import { WorkbenchPage } from '../pages/workbench-page.js';

interface Fixtures {
  server: ServerInfo;
  workbench: WorkbenchPage;
  /** Console errors and uncaught exceptions of the page; a test fails if any remain at its end. */
  pageErrors: string[];
}

export const test = base.extend<Fixtures>({
  server: async ({}, use) => {
    await use(serverFromEnv());
  },
  pageErrors: async ({ page }, use) => {
    const errors: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(`console: ${message.text()}`);
    });
    page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
    await use(errors);
    expect(errors, 'the workbench logged errors').toEqual([]);
  },
  workbench: async ({ page, server, pageErrors }, use) => {
    void pageErrors; // installs the listeners before the page opens
    await use(new WorkbenchPage(page, server.url));
  },
});

export { expect };
