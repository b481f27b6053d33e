import path from 'node:path';
import type { Page } from '@playwright/test';
import { expect, test } from '../support/fixtures.js';
import { callApi, resultsDir } from '../support/server.js';

/**
 * Shows the workbench a serving state the demo server cannot produce (a GPU, a shadow slot, a
 * warm standby): `serving.getState` answers `state`, and the event socket drops the server's own
 * `serving.state` pushes (it sends one on connect). Every other call and event is the server's.
 */
async function serveState(page: Page, state: unknown): Promise<void> {
  await page.route('**/api/serving.getState', (route) => route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify({ ok: true, value: state }) }));
  await page.routeWebSocket(/\/api\/events/, (ws) => {
    const server = ws.connectToServer();
    server.onMessage((message) => {
      if (typeof message === 'string' && message.includes('"event":"serving.state"')) return;
      ws.send(message);
    });
  });
}

const slot = (over: Record<string, unknown>) => ({
  versionRef: 'cartpole-balance@1.0.0',
  modelVersion: 'cartpole-lqr@1f0ce157e25150bd',
  kind: 'direct',
  ready: true,
  drained: false,
  consecutiveFailures: 0,
  crashes: 0,
  sizeBytes: 1_200_000_000,
  ...over,
});

test('the real server: the VRAM budget bar, or on the CPU a note that there is none', async ({ workbench, server }) => {
  const state = await callApi(server, 'serving.getState');
  await workbench.open();
  await workbench.traffic();
  if (state.vram) await expect(workbench.vramMeter()).toBeVisible();
  else await expect(workbench.page.getByText(/^Running on CPU: no VRAM budget/)).toBeVisible();
});

test('two-policy mode on a GPU with a shadow slot: shadow card and VRAM budget meter', async ({ workbench, page }) => {
  await serveState(page, {
    mode: 'ab',
    split: 50,
    drain: 'none',
    slots: [
      slot({ slot: 'a' }),
      slot({ slot: 'b', versionRef: 'cartpole-balance@2.0.0-iter', modelVersion: 'cartpole-iter-chunk4@fe5c016f105d3ea9', kind: 'iterative', sizeBytes: 2_400_000_000 }),
      slot({ slot: 'shadow', versionRef: 'cartpole-balance@1.2.0', modelVersion: 'cartpole-robust@8a9b0c1d2e3f4a5b', crashes: 1, consecutiveFailures: 1 }),
    ],
    actUrl: 'http://127.0.0.1:8000/act',
    rtc: false,
    maxConsecutiveCrashes: 5,
    standby: null,
    vram: { requiredBytes: 3_600_000_000, availableBytes: 11_200_000_000, totalGpuBytes: 16_000_000_000, fraction: 0.7, ok: true },
  });
  await workbench.open();
  await workbench.traffic();
  const shadow = workbench.slotCard('Shadow');
  await expect(shadow).toBeVisible();
  await expect(shadow).toContainText('cartpole-balance@1.2.0');
  await expect(shadow).toContainText('off the critical path');
  const meter = workbench.vramMeter();
  await expect(meter).toBeVisible();
  await expect(meter).toHaveAttribute('aria-valuetext', '3.6 GB required of 11.2 GB available (70% of 16.0 GB)');
  await expect(page.getByText('within budget', { exact: true })).toBeVisible();
  await page.screenshot({ path: path.join(resultsDir, 'traffic-extras.png'), fullPage: true });
});

test('single-policy mode: the warm standby, and no VRAM budget with one policy', async ({ workbench, page }) => {
  await serveState(page, {
    mode: 'single',
    split: 50,
    drain: 'none',
    slots: [slot({ slot: 'prod', versionRef: 'cartpole-balance@2.0.0-iter', modelVersion: 'cartpole-iter-chunk4@fe5c016f105d3ea9', kind: 'iterative' })],
    actUrl: 'http://127.0.0.1:8000/act',
    rtc: true,
    maxConsecutiveCrashes: 5,
    standby: { versionRef: 'cartpole-balance@1.0.0', modelVersion: 'cartpole-lqr@1f0ce157e25150bd', ready: true },
    vram: null,
  });
  await workbench.open();
  await workbench.traffic();
  await expect(workbench.standbyLine()).toContainText('Warm standby: cartpole-balance@1.0.0');
  await expect(workbench.standbyLine()).toContainText('ready');
  await expect(workbench.vramMeter()).toHaveCount(0);
  await expect(page.getByText(/^Single policy: no VRAM budget/)).toBeVisible();
  await page.screenshot({ path: path.join(resultsDir, 'traffic-extras-single.png'), fullPage: true });
});
