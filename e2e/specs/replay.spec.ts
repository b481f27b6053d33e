import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ReplayPage } from '../pages/replay-page.js';
import { expect, test } from '../support/fixtures.js';
import { callApi, CONSOLE_LINE, ENV_DIR, repoRoot, resultsDir, serverFromEnv, type ServerInfo } from '../support/server.js';

const run = promisify(execFile);
const shots = path.join(resultsDir, 'replay-screenshots');

/** `switchyard replay --json FILE`: the command line's reading of the same file. */
async function cliSummary(file: string): Promise<{ overall: { requests: number; errors: number }; slots: { slot: string }[]; episodes: { count: number }; records: number; chain: { status: string; firstBroken: { index: number } | null } }> {
  // A broken chain is a non-zero exit with the summary still printed.
  const { stdout } = await run(process.execPath, ['bin/switchyard.js', 'replay', '--json', file], { cwd: repoRoot, maxBuffer: 64 * 1024 * 1024 }).catch((e: { stdout?: string }) => ({ stdout: e.stdout ?? '' }));
  const out = JSON.parse(stdout) as { ok: boolean; summary: never };
  expect(out.ok).toBe(true);
  return out.summary;
}

/** Robots drive the console's own /act for a while; their recording is the trace the tests replay. */
async function recordDemoTraffic(server: ServerInfo, ms: number): Promise<string> {
  const on = await callApi(server, 'demo.traffic.set', { on: true, robots: 4 });
  expect(on.running).toBe(true);
  expect(on.trace).not.toBeNull();
  await new Promise((r) => setTimeout(r, ms));
  const off = await callApi(server, 'demo.traffic.set', { on: false });
  expect(off.running).toBe(false);
  expect(off.requests).toBeGreaterThan(50);
  // The writer flushes what it buffered; the file then stops growing.
  let size = -1;
  for (let i = 0; i < 50; i++) {
    await new Promise((r) => setTimeout(r, 200));
    const now = statSync(on.trace!).size;
    if (now === size) break;
    size = now;
  }
  return on.trace!;
}

test.describe.configure({ mode: 'serial' });

let trace = '';
let recordDir = '';

test.beforeAll(async ({}, testInfo) => {
  testInfo.setTimeout(120_000);
  mkdirSync(shots, { recursive: true });
  trace = await recordDemoTraffic(serverFromEnv(), 9000);
  recordDir = path.dirname(trace);
});

test('demo traffic is recorded and the trace is listed newest first; its summary matches `switchyard replay --json`', async ({ page, server, workbench }) => {
  void workbench;
  const replay = new ReplayPage(page);
  await replay.goto(server.url);
  const name = path.basename(trace);
  // A browser uploads; the native dialog (`Open trace…`) is the desktop app's.
  await expect(page.getByLabel('Upload a trace')).toBeAttached();
  await expect(page.getByRole('button', { name: 'Open trace…' })).toHaveCount(0);
  await expect(replay.traces().getByRole('row').nth(1)).toContainText(name);
  await replay.openFromList(name);
  const cli = await cliSummary(trace);
  await expect(replay.summaryValue('Requests')).toHaveText(cli.overall.requests.toLocaleString('en-US'));
  await expect(replay.summaryValue('Episodes')).toHaveText(cli.episodes.count.toLocaleString('en-US'));
  await expect(replay.summaryValue('Records')).toHaveText(cli.records.toLocaleString('en-US'));
  await expect(replay.chain()).toContainText('Chain intact');
  // Still recording: the footer is written when the console stops.
  await expect(replay.summaryValue('Footer')).toContainText('Missing footer');
  // Header, one row per slot, and `all` when there are two (episodes are routed by id: one slot may get them all).
  await expect(page.getByRole('table', { name: 'Latency per slot' }).getByRole('row')).toHaveCount(1 + cli.slots.length + (cli.slots.length > 1 ? 1 : 0));
  await expect(replay.timeline()).toBeVisible();
  await expect(replay.latencyChart()).toBeVisible();
  await replay.screenshot('1-summary', shots);

  // Hovering the latency chart names a request; hovering an episode row names the episode.
  const box = (await replay.latencyChart().boundingBox())!;
  await replay.latencyChart().hover({ position: { x: box.width * 0.5, y: box.height * 0.5 } });
  await expect(replay.pointer()).toContainText(/Request .*episode robot-/);
  // The first row is the first episode to start: its bar begins near the left edge.
  // Where along the row its bar ends depends on how long that robot's first episode ran, so the
  // pointer walks the row from the left until it names the episode.
  const tl = (await replay.timeline().boundingBox())!;
  let named = false;
  for (const f of [0.1, 0.15, 0.2, 0.3, 0.4, 0.5]) {
    await replay.timeline().hover({ position: { x: tl.width * f, y: 6 } });
    named = await expect(replay.pointer())
      .toContainText(/Episode robot-/, { timeout: 1_500 })
      .then(() => true)
      .catch(() => false);
    if (named) break;
  }
  expect(named, 'hovering the first row of the timeline names its episode').toBe(true);

  // Zoom in and back out: the window changes, the charts stay drawn.
  await page.getByRole('button', { name: 'Zoom in' }).click();
  await expect(page.getByRole('button', { name: 'Whole trace' })).toBeEnabled();
  await replay.screenshot('2-zoomed', shots);
  await page.getByRole('button', { name: 'Whole trace' }).click();
  await expect(page.getByRole('button', { name: 'Whole trace' })).toBeDisabled();
});

test('play moves the cursor and the cart-pole of a demo episode animates', async ({ page, server, workbench }) => {
  void workbench;
  const replay = new ReplayPage(page);
  await replay.goto(server.url);
  await replay.openFromList(path.basename(trace));
  // A cart-pole trace opens on its first episode.
  await expect(replay.cartPole()).toBeVisible();
  const first = await replay.cartPole().getAttribute('aria-label');
  const before = await replay.positionValue();
  await replay.speed('1×');
  await replay.playButton().click();
  await expect(replay.pauseButton()).toBeVisible();
  await expect.poll(() => replay.positionValue(), { timeout: 10_000 }).toBeGreaterThan(before);
  await expect.poll(() => replay.cartPole().getAttribute('aria-label'), { timeout: 10_000 }).not.toBe(first);
  // The demo trace is short: pause before it plays out.
  await replay.pauseButton().click();
  const paused = await replay.positionValue();
  await page.waitForTimeout(400);
  expect(await replay.positionValue()).toBe(paused);
  expect(paused).toBeGreaterThan(before);
  await replay.screenshot('3-paused-mid-episode', shots);

  // The episode list is searchable; picking one shows its steps.
  await page.getByRole('searchbox', { name: 'Search episodes' }).fill('robot-2-');
  await expect(replay.episodes().getByRole('button').first()).toContainText('robot-2-');
  await replay.episodes().getByRole('button').first().click();
  await expect(page.getByRole('heading', { level: 2, name: /^Episode robot-2-/ })).toBeVisible();
  await expect(page.getByText(/^Step \d+ of \d+ · request /)).toBeVisible();
  await replay.speed('max');
  await replay.playButton().click();
  await expect(replay.playButton()).toBeVisible({ timeout: 20_000 }); // max plays the whole trace in about 10 s, then stops
  // At the end (the slider snaps to its step).
  const max = Number(await replay.position().getAttribute('max'));
  const step = Number(await replay.position().getAttribute('step'));
  expect(await replay.positionValue()).toBeGreaterThanOrEqual(max - step);
});

test('a tampered trace shows the broken record, as `trace verify` counts it', async ({ page, server, workbench }) => {
  void workbench;
  const lines = readFileSync(trace, 'utf8').split('\n');
  lines[6] = lines[6]!.replace(/"total_ms":\s*[0-9.e-]+/, '"total_ms": 0.125');
  const tampered = path.join(recordDir, `tampered-${Date.now()}.jsonl`);
  writeFileSync(tampered, lines.join('\n'));
  const cli = await cliSummary(tampered);
  expect(cli.chain.firstBroken?.index).toBe(6);
  const replay = new ReplayPage(page);
  await replay.goto(server.url);
  await replay.openFromList(path.basename(tampered));
  await expect(replay.chain()).toContainText('Chain broken at record 6');
  await replay.screenshot('4-tampered', shots);
  rmSync(tampered);
});

test('a trace uploaded from the browser is saved in the record folder and opened', async ({ page, server, workbench }) => {
  void workbench;
  const dir = mkdtempSync(path.join(tmpdir(), 'swy-upload-'));
  const local = path.join(dir, 'last-night.jsonl');
  copyFileSync(trace, local);
  const replay = new ReplayPage(page);
  await replay.goto(server.url);
  await replay.upload(local);
  await replay.waitForSummary(/^Summary of \d{8}T\d{6}-last-night\.jsonl$/);
  const saved = readdirSync(path.join(recordDir, 'uploads')).find((f) => f.endsWith('last-night.jsonl'));
  expect(saved).toBeDefined();
  expect(readFileSync(path.join(recordDir, 'uploads', saved!), 'utf8')).toBe(readFileSync(local, 'utf8'));
  await expect(replay.chain()).toContainText('Chain intact');
  rmSync(dir, { recursive: true, force: true });

  // A path outside the known folders is refused to API callers.
  await expect(callApi(server, 'replay.open', { path: '/etc/hostname' })).rejects.toThrow(/SWY_ERR_PATH_NOT_ALLOWED/);
});

test('re-run against another version shows divergence, and a re-run can be cancelled', async ({ page, server, workbench }) => {
  void workbench;
  test.setTimeout(180_000);
  const replay = new ReplayPage(page);
  await replay.goto(server.url);
  await replay.openFromList(path.basename(trace));
  // Cancel first: the worker is still starting when Cancel is pressed.
  await replay.rerun('cartpole-balance@1.1.0');
  await page.getByRole('button', { name: 'Cancel', exact: true }).click();
  await expect(page.getByText(/^Cancelled after \d+ requests/)).toBeVisible({ timeout: 60_000 });
  await expect(replay.rerunResult()).toContainText('(cancelled: partial)');

  await replay.rerun('cartpole-balance@1.1.0', 400);
  await expect(replay.rerunResult()).toBeVisible({ timeout: 90_000 });
  await expect(replay.rerunResult()).not.toContainText('cancelled');
  const maxAbs = Number(await page.getByTestId('rerun-max-abs').textContent());
  expect(maxAbs).toBeGreaterThan(0);
  await expect(page.getByRole('table', { name: 'Most divergent episodes' }).getByRole('row').nth(1)).toContainText('robot-');
  await expect(page.getByRole('img', { name: /^Action divergence per request/ })).toBeVisible();
  await expect(page.getByRole('img', { name: /^Latency, recorded against re-run/ })).toBeVisible();
  await replay.screenshot('5-rerun', shots);
});

test('`switchyard console --trace FILE` opens on the Replay page with FILE loaded', async ({ page, workbench }) => {
  void workbench;
  test.setTimeout(180_000);
  const outside = mkdtempSync(path.join(tmpdir(), 'swy-trace-arg-'));
  const file = path.join(outside, 'bench-run.jsonl');
  copyFileSync(trace, file);
  const store = path.join(process.env[ENV_DIR]!, 'store.db');
  let child: ChildProcess | null = null;
  try {
    child = spawn(process.execPath, ['bin/switchyard.js', 'console', '--store', store, '--port', '0', '--trace', file], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no console URL within 120 s:\n${out}`)), 120_000);
      const on = (b: Buffer) => {
        out += b.toString();
        const m = CONSOLE_LINE.exec(out);
        if (m?.[1]) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      };
      child!.stdout!.on('data', on);
      child!.stderr!.on('data', on);
      child!.on('exit', (code) => reject(new Error(`console exited (${code}):\n${out}`)));
    });
    expect(url).toContain('#/replay');
    await page.goto(url);
    const replay = new ReplayPage(page);
    await expect(replay.heading()).toBeVisible();
    await replay.waitForSummary('bench-run.jsonl');
    await expect(replay.chain()).toContainText('Chain intact');
    // The file, outside every folder the console lists, is in the list too, marked as the open one.
    const row = replay.traces().getByRole('row').filter({ hasText: 'bench-run.jsonl' });
    await expect(row).toHaveCount(1);
    await expect(row).toHaveAttribute('aria-current', 'true');
    await expect(row).toContainText(outside);
    await replay.screenshot('6-trace-flag', shots);
  } finally {
    if (child && child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child!.once('exit', r));
    }
    rmSync(outside, { recursive: true, force: true });
  }
});
