import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Page } from '@playwright/test';
import { resultsDir } from './server.js';

/** The three sizes every changed state is looked at in (issue 12). */
export const SIZES = [
  { width: 1024, height: 700 },
  { width: 1400, height: 900 },
  { width: 1920, height: 1080 },
] as const;

/** Screenshots of the page as it is now at each size, in test-results/truth/<name>-<width>.png; the viewport is put back. */
export async function screenshotAtSizes(page: Page, name: string): Promise<void> {
  const dir = path.join(resultsDir, 'truth');
  mkdirSync(dir, { recursive: true });
  const before = page.viewportSize();
  for (const size of SIZES) {
    await page.setViewportSize(size);
    // Charts re-measure on resize; give them a frame or two.
    await page.waitForTimeout(300);
    await page.screenshot({ path: path.join(dir, `${name}-${size.width}.png`) });
  }
  if (before) await page.setViewportSize(before);
}
