/**
 * The Replay page on a big trace, measured in a real Chromium against a real `switchyard console
 * --trace FILE` (spec §10, issue 11: open and first draw of 1,000,000 requests in < 10 s, < 1 GB in
 * the server, < 500 MB in the page; scrubbing and zooming answer within 100 ms).
 *
 *   npx tsx bench/replay-page-bench.ts [--requests 1000000] [--dir /tmp/swy-ref-bench] [--trace FILE ...]
 *                                      [--scrubs 30] [--zooms 6] [--json out.json]
 *
 * Needs `npm run build` (the console runs from dist/, the page from dist/renderer). Without
 * `--trace` it measures both traces of `bench/replay-reference-bench.ts` (Switchyard's format and
 * the reference format, generated there if missing: `--requests N` picks them).
 *
 * Per trace, first the **open from the list** (a console with the trace's folder as `--data-root`,
 * the page loaded and idle, then `Open NAME` clicked; timed until drawn). Then Chromium is
 * launched and left idle (a user's browser is open before the command runs), a fresh console
 * started on a temporary store (`--trace FILE --port 0 --no-open`), waited on until `/readyz` says
 * ready (the demo policies loaded), then:
 * - **open + first draw**: from `page.goto(URL#/replay)` until the summary is shown and the first
 *   chart window has its bins (the legend names the points' width) and a frame has been painted;
 *   and from the command's start (the console reads the `--trace` file from its start, while it
 *   loads its policies and the page loads: the page's open joins that pass), each contract call's
 *   start and answer printed on the way;
 * - **server RSS**: the console process's resident memory sampled every 100 ms (`/proc/PID/status`)
 *   during the open, and its high-water mark (`VmHWM`, the whole life of the process: demo
 *   policies, ONNX Runtime and the open);
 * - **page memory**: Chrome's own `Performance.getMetrics` (JSHeapUsedSize, JSHeapTotalSize) over
 *   CDP after the first draw and after the scrubbing and zooming, and after a forced GC;
 * - **scrub**: the `Position` slider set to a spread of positions (the input event a drag sends);
 *   each timed in the page from the event until the cursor text shows the new position and the
 *   next frame is painted;
 * - **zoom**: `Zoom in` clicked, timed in the page from the click until the charts hold the new
 *   window's bins (fetched from the server: `replay.timeline` and `replay.episodes`) and a frame is
 *   painted; then `Whole trace`.
 * The table says the machine's load average: other programs' load slows every row.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Page } from 'playwright';
import { quantile as quantileOfSorted } from './lib/stats.js';
import { flags } from './lib/args.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CONSOLE_LINE = /Switchyard console:\s*(https?:\/\/\S+)/;

interface Args {
  requests: number;
  dir: string;
  traces: string[];
  scrubs: number;
  zooms: number;
  json: string | null;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { requests: 1_000_000, dir: '/tmp/swy-ref-bench', traces: [], scrubs: 30, zooms: 6, json: null };
  for (const { k, v } of flags(argv)) {
    if (k === '--requests') a.requests = Number(v());
    else if (k === '--dir') a.dir = v();
    else if (k === '--trace') a.traces.push(v());
    else if (k === '--scrubs') a.scrubs = Math.max(1, Math.min(1000, Number(v())));
    else if (k === '--zooms') a.zooms = Math.max(1, Math.min(20, Number(v())));
    else if (k === '--json') a.json = v();
    else {
      process.stderr.write('usage: npx tsx bench/replay-page-bench.ts [--requests 1000000] [--dir DIR] [--trace FILE ...] [--scrubs 30] [--zooms 6] [--json out.json]\n');
      process.exit(2);
    }
  }
  return a;
}

function rssOf(pid: number): { rss: number; hwm: number } {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? NaN) * 1024;
    return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
  } catch {
    return { rss: NaN, hwm: NaN };
  }
}

const mib = (b: number) => (Number.isFinite(b) ? Math.round(b / 2 ** 20) : NaN);

function quantile(xs: number[], q: number): number {
  return quantileOfSorted([...xs].sort((a, b) => a - b), q);
}

async function startConsole(open: string[]): Promise<{ url: string; child: ChildProcess; dir: string; startedAt: number; stop: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'swy-page-bench-'));
  const startedAt = performance.now();
  const argv = ['bin/switchyard.js', 'console', '--store', join(dir, 'store.db'), '--port', '0', '--no-open', ...open];
  const child = spawn(process.execPath, argv, { cwd: ROOT, env: { ...process.env, NO_COLOR: '1', SWITCHYARD_HOME: dir }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no console URL within 300 s:\n${out.slice(-2000)}`)), 300_000);
    const on = (c: Buffer) => {
      out += c.toString();
      const m = CONSOLE_LINE.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout!.on('data', on);
    child.stderr!.on('data', on);
    child.on('exit', (code) => reject(new Error(`the console exited (${code}):\n${out.slice(-2000)}`)));
  });
  // Ready: the demo policies are loaded, so their start-up is not counted in the open.
  const origin = new URL(url).origin;
  const deadline = Date.now() + 300_000;
  while (Date.now() < deadline) {
    const ok = await fetch(`${origin}/readyz`).then((r) => r.ok, () => false);
    if (ok) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    url,
    child,
    dir,
    startedAt,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(t);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The Position slider moved the way a drag moves it (an input event; React renders a discrete
 * event at once), timed until the next frame has been painted (a task after the frame callback).
 */
async function scrubOnce(page: Page, fraction: number): Promise<number> {
  return page.evaluate(`(async () => {
    const slider = document.querySelector('input[type="range"][aria-label="Position"]');
    const max = Number(slider.max);
    const step = Number(slider.step) || 1;
    const value = Math.round((max * ${fraction}) / step) * step;
    const setter = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set;
    const t0 = performance.now();
    setter.call(slider, String(value));
    slider.dispatchEvent(new Event('input', { bubbles: true }));
    await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
    return performance.now() - t0;
  })()`);
}

/**
 * A zoom button clicked, timed until the charts hold the new window's bins and a frame is painted.
 * (A string, not a function: tsx would wrap the helpers of a function in a `__name` the page lacks.)
 */
async function zoomOnce(page: Page, button: 'Zoom in' | 'Whole trace'): Promise<number> {
  return page.evaluate(`(async () => {
    const legend = () => document.querySelector('.replay-legend-line .muted')?.textContent ?? '';
    const perPoint = (s) => /, (.+) per point/.exec(s)?.[1] ?? '';
    const btn = [...document.querySelectorAll('button')].find((b) => b.textContent?.trim() === ${JSON.stringify(button)});
    const before = legend();
    const t0 = performance.now();
    btn.click();
    // The window is set at once ("window ..."); the points' width ("... per point") changes when the bins arrive.
    const deadline = t0 + 30000;
    while ((legend() === before || perPoint(legend()) === perPoint(before)) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 0));
    await new Promise((r) => requestAnimationFrame(() => r(null)));
    return performance.now() - t0;
  })()`);
}

/**
 * The open as a user makes it on a running console: the page loaded and idle, the trace's folder
 * a --data-root (so the Traces list shows it, and nothing has read it yet), then `Open NAME`
 * clicked; timed until the charts are drawn.
 */
async function measureListOpen(trace: string): Promise<number> {
  const con = await startConsole(['--data-root', dirname(trace)]);
  const browser = await chromium.launch({ executablePath: existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : undefined, args: ['--no-sandbox', '--disable-gpu'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1360, height: 860 } });
    await page.goto(con.url.replace(/#.*$/, '') + '#/replay');
    const name = basename(trace);
    const open = page.getByRole('table', { name: 'Traces' }).getByRole('button', { name: `Open ${name}`, exact: true });
    await open.waitFor({ timeout: 60_000 });
    // Start-up done (policies, demo, page): only the open is timed.
    await new Promise((r) => setTimeout(r, 3000));
    const t0 = performance.now();
    await open.click();
    await page.getByRole('heading', { level: 2, name: `Summary of ${name}` }).waitFor({ timeout: 600_000 });
    await page.waitForFunction(`/per point/.test(document.querySelector('.replay-legend-line .muted')?.textContent ?? '')`, undefined, { timeout: 600_000 });
    await page.evaluate('new Promise((r) => requestAnimationFrame(() => r(null)))');
    return (performance.now() - t0) / 1000;
  } finally {
    await browser.close();
    await con.stop();
  }
}

async function measure(trace: string, args: Args): Promise<Record<string, string | number>> {
  const listOpenS = await measureListOpen(trace);
  // The browser is open before the command runs, as a user's is: its launch is not the open's.
  const browser = await chromium.launch({ executablePath: existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : undefined, args: ['--no-sandbox', '--disable-gpu', '--enable-precise-memory-info'] });
  const page = await browser.newPage({ viewport: { width: 1360, height: 860 } });
  await new Promise((r) => setTimeout(r, 2000));
  const con = await startConsole(['--trace', trace]);
  const pid = con.child.pid!;
  try {
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Performance.enable');
    const heap = async () => {
      const { metrics } = (await cdp.send('Performance.getMetrics')) as { metrics: { name: string; value: number }[] };
      const m = (n: string) => metrics.find((x) => x.name === n)?.value ?? NaN;
      return { used: m('JSHeapUsedSize'), total: m('JSHeapTotalSize') };
    };
    const rssBefore = rssOf(pid).rss;
    let rssPeak = rssBefore;
    let pagePeak = 0;
    const sampler = setInterval(() => {
      rssPeak = Math.max(rssPeak, rssOf(pid).rss || 0);
      void heap().then((h) => (pagePeak = Math.max(pagePeak, h.used || 0)), () => {});
    }, 100);
    // The server's own time for the summary pass (the open job), from the page's summary request.
    let serverS = NaN;
    page.on('response', (r) => {
      if (r.url().includes('/api/replay.summary')) void r.json().then((b: { ok: boolean; value?: { elapsedMs: number } }) => (serverS = (b.value?.elapsedMs ?? NaN) / 1000), () => {});
    });
    // Where the open's time goes: each contract call the page makes, from its start to its answer.
    const calls: { method: string; from: number; to: number }[] = [];
    const started = new Map<object, { method: string; from: number }>();
    page.on('request', (r) => {
      const m = /\/api\/([\w.]+)/.exec(r.url());
      if (m) started.set(r, { method: m[1]!, from: performance.now() });
    });
    page.on('requestfinished', (r) => {
      const s = started.get(r);
      if (s) calls.push({ ...s, to: performance.now() });
    });
    let loadedAt = NaN;
    page.once('domcontentloaded', () => (loadedAt = performance.now()));
    const t0 = performance.now();
    await page.goto(con.url);
    const name = basename(trace);
    await page.getByRole('heading', { level: 2, name: `Summary of ${name}` }).waitFor({ timeout: 600_000 });
    await page.waitForFunction(`/per point/.test(document.querySelector('.replay-legend-line .muted')?.textContent ?? '')`, undefined, { timeout: 600_000 });
    await page.evaluate('new Promise((r) => requestAnimationFrame(() => r(null)))');
    const openS = (performance.now() - t0) / 1000;
    clearInterval(sampler);
    const at = (t: number) => ((t - t0) / 1000).toFixed(2);
    process.stdout.write(
      `${basename(trace)}: page loaded ${at(loadedAt)} s; calls (s from goto): ` +
        calls.filter((c) => c.to - t0 <= openS * 1000 + 50).map((c) => `${c.method} ${at(c.from)}–${at(c.to)}`).join(', ') +
        `; drawn ${openS.toFixed(2)} s\n`,
    );
    const afterOpen = await heap();
    const requests = (await page.locator('xpath=//dl[@aria-label="Trace summary"]//dt[normalize-space()="Requests"]/following-sibling::dd[1]').textContent())?.trim() ?? '?';
    const chain = /Chain (intact|broken at record [\d,]+)/.exec((await page.getByRole('status', { name: 'Chain' }).textContent()) ?? '')?.[0] ?? '?';

    const scrubs: number[] = [];
    // Positions spread over the trace, in a jumping order (as a drag back and forth would reach them).
    for (let i = 0; i < args.scrubs; i++) scrubs.push(await scrubOnce(page, (((i * 7919) % args.scrubs) + 0.5) / args.scrubs));
    const zooms: number[] = [];
    for (let i = 0; i < args.zooms; i++) zooms.push(await zoomOnce(page, 'Zoom in'));
    zooms.push(await zoomOnce(page, 'Whole trace'));
    const afterUse = await heap();
    await cdp.send('HeapProfiler.collectGarbage');
    const afterGc = await heap();
    const srv = rssOf(pid);
    return {
      trace: name.length > 40 ? name.slice(0, 37) + '…' : name,
      'MiB': mib(Number(spawnSync('stat', ['-c', '%s', trace]).stdout.toString().trim())),
      requests,
      chain,
      // The console reads the --trace file from its start (while it loads its policies and the
      // page loads), so the pass may be under way, or done, when the page asks for it.
      'open from the list s (click → drawn)': listOpenS.toFixed(2),
      'open + first draw s (from page load / from command)': `${openS.toFixed(2)} / ${((t0 - con.startedAt) / 1000 + openS).toFixed(2)}`,
      'summary pass s (server)': serverS.toFixed(2),
      'server RSS MiB (before / peak in open / VmHWM)': `${mib(rssBefore)} / ${mib(rssPeak)} / ${mib(srv.hwm)}`,
      'page JS heap MiB (peak in open / drawn / after use / after GC)': `${mib(pagePeak)} / ${mib(afterOpen.used)} / ${mib(afterUse.used)} / ${mib(afterGc.used)}`,
      'scrub ms p50 / p95 / max': `${quantile(scrubs, 0.5).toFixed(1)} / ${quantile(scrubs, 0.95).toFixed(1)} / ${Math.max(...scrubs).toFixed(1)}`,
      'zoom ms p50 / max': `${quantile(zooms, 0.5).toFixed(0)} / ${Math.max(...zooms).toFixed(0)}`,
    };
  } finally {
    await browser.close();
    await con.stop();
  }
}

const args = parseArgs(process.argv.slice(2));
if (!existsSync(join(ROOT, 'dist/core/src/cli/main.js')) || !existsSync(join(ROOT, 'dist/renderer/index.html'))) {
  process.stderr.write('dist/ is missing: run `npm run build` first (the console and the page run from dist/).\n');
  process.exit(2);
}
let traces = args.traces;
if (traces.length === 0) {
  const ref = join(args.dir, `reference-${args.requests}.jsonl`);
  const ownDir = join(args.dir, `switchyard-${args.requests}`);
  if (!existsSync(ref) || !existsSync(ownDir)) {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/replay-reference-bench.ts', '--requests', String(args.requests), '--dir', args.dir, '--generate-only'], { cwd: ROOT, stdio: 'inherit' });
    if (r.status !== 0) process.exit(r.status ?? 1);
  }
  traces = [join(ownDir, readdirSync(ownDir).find((f) => f.endsWith('.jsonl'))!), ref];
}
const rows: Record<string, string | number>[] = [];
for (const t of traces) rows.push(await measure(t, args));
const load = loadavg().map((x) => x.toFixed(1)).join(' ');
console.log(`\nReplay page bench: ${cpus().length} CPUs, load average ${load} (at the end)\n`);
const cols = Object.keys(rows[0] ?? {});
console.log(`| ${cols.join(' | ')} |\n|${cols.map(() => '---').join('|')}|`);
for (const r of rows) console.log(`| ${cols.map((c) => String(r[c])).join(' | ')} |`);
if (args.json) writeFileSync(args.json, JSON.stringify({ load, cpus: cpus().length, rows }, null, 2));
