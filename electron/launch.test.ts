/**
 * Electron end-to-end launch: runs only where the Electron binary exists. Where it does not (these
 * machines cannot download it), the test is reported as skipped by name and the reason is printed.
 *
 * The binary is located the way node_modules/electron/index.js does it (path.txt + dist/), but
 * without require('electron'): that module tries to download the binary when it is missing.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ELECTRON_PKG = path.join(ROOT, 'node_modules', 'electron');
const MAIN_JS = path.join(ROOT, 'dist', 'electron', 'main', 'main.js');
const RENDERER_INDEX = path.join(ROOT, 'dist', 'renderer', 'index.html');

function findElectron(): { path: string } | { reason: string } {
  const pathFile = path.join(ELECTRON_PKG, 'path.txt');
  if (!existsSync(pathFile)) {
    return { reason: 'Electron binary not installed (node_modules/electron/path.txt and dist/ missing; the binary cannot be downloaded here)' };
  }
  const rel = readFileSync(pathFile, 'utf8').trim();
  const override = process.env['ELECTRON_OVERRIDE_DIST_PATH'];
  const exe = override ? path.join(override, rel || 'electron') : path.join(ELECTRON_PKG, 'dist', rel);
  if (!existsSync(exe)) return { reason: `Electron binary not installed (${path.relative(ROOT, exe)} missing)` };
  if (process.platform === 'linux' && !process.env['DISPLAY'] && !process.env['WAYLAND_DISPLAY']) {
    return { reason: 'Electron binary present but no display (DISPLAY/WAYLAND_DISPLAY unset; run under xvfb-run)' };
  }
  return { path: exe };
}

const found = findElectron();
const hasElectron = 'path' in found;
const TEST_NAME = 'launches the Electron window and lists versions';

if (!hasElectron) {
  console.log(`[skip] electron launch: ${found.reason}; skipping "${TEST_NAME}". The bridge, preload and security policy are covered by electron/main/*.test.ts and electron/preload/*.test.ts.`);
}

describe('electron launch', () => {
  const tmp = mkdtempSync(path.join(tmpdir(), 'swy-electron-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it.skipIf(!hasElectron)(TEST_NAME, async () => {
    if (!('path' in found)) return;
    for (const f of [MAIN_JS, RENDERER_INDEX]) {
      if (!existsSync(f)) throw new Error(`${path.relative(ROOT, f)} is missing: run "npm run build" before the Electron launch test.`);
    }
    const { _electron } = await import('playwright-core');
    const storePath = path.join(tmp, 'store.db');
    const rootArgs = typeof process.getuid === 'function' && process.getuid() === 0 ? ['--no-sandbox'] : [];
    const app = await _electron.launch({
      executablePath: found.path,
      args: [...rootArgs, path.relative(ROOT, MAIN_JS), '--store', storePath],
      cwd: ROOT,
      timeout: 60_000,
    });
    try {
      const page = await app.firstWindow({ timeout: 60_000 });
      await page.getByRole('heading', { name: 'Versions' }).first().waitFor({ state: 'visible', timeout: 60_000 });

      // The preload exposes exactly the two calls, and the bridge answers the window itself.
      const keys = await page.evaluate(() => Object.keys((globalThis as unknown as { switchyard: object }).switchyard).sort());
      expect(keys).toEqual(['invoke', 'subscribe']);
      const info = (await page.evaluate(() =>
        (globalThis as unknown as { switchyard: { invoke(m: string, i: unknown): Promise<unknown> } }).switchyard.invoke('app.info', {}),
      )) as { ok: boolean; value?: { storePath?: string } };
      expect(info.ok).toBe(true);
      expect(info.value?.storePath).toBe(storePath);

      // Node is not reachable from the page.
      const nodeVisible = await page.evaluate(() => typeof (globalThis as unknown as { require?: unknown }).require !== 'undefined' || typeof (globalThis as unknown as { process?: unknown }).process !== 'undefined');
      expect(nodeVisible).toBe(false);
    } finally {
      await app.close();
    }
  }, 120_000);
});
