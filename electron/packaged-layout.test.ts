/**
 * The packaged desktop app, proven without Electron: the resources directory is built the way
 * electron-builder.yml describes it (scripts/app-layout.mjs: app.asar made with @electron/asar,
 * native addons and worker closures in app.asar.unpacked, better-sqlite3 built for the target
 * runtime), laid out on disk the way Electron's fs shows an archive to the main process
 * (scripts/packaged/mount.mjs), and the real dist/electron/main/main.js is started from it under
 * Node 24, the Node that Electron 45 embeds, with a named fake `electron` module
 * (scripts/packaged/fake-electron.mjs). The fake acts as the renderer page through main's own IPC
 * handler and as a robot on /act, runs one evaluation, and reports which native files the process
 * really mapped.
 *
 * Node 24 and its better-sqlite3 build come from `bash scripts/node24.sh prepare` (the CI runs it);
 * without them the test is skipped with the reason printed. No network: the test never fetches.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { referenceTrace } from '../core/test-support/replay-fixtures.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const CACHE = process.env['SWITCHYARD_NODE24_CACHE'] ?? path.join(ROOT, 'node_modules', '.cache', 'switchyard-node24');

function findNode24(): { node: string; sqliteAddon: string } | { reason: string } {
  const prepare = 'run "bash scripts/node24.sh prepare" (the CI does) to fetch it';
  if (!existsSync(CACHE)) return { reason: `Node 24 is not in ${path.relative(ROOT, CACHE)}; ${prepare}` };
  const nodeDir = readdirSync(CACHE).filter((d) => /^node-v24\./.test(d)).sort().pop();
  const node = nodeDir && path.join(CACHE, nodeDir, 'bin', 'node');
  if (!node || !existsSync(node)) return { reason: `Node 24 is not in ${path.relative(ROOT, CACHE)}; ${prepare}` };
  const abi = spawnSync(node, ['-p', 'process.versions.modules'], { encoding: 'utf8' }).stdout.trim();
  const { version } = JSON.parse(readFileSync(path.join(ROOT, 'node_modules', 'better-sqlite3', 'package.json'), 'utf8')) as { version: string };
  const sqliteAddon = path.join(CACHE, `better-sqlite3-${version}-abi${abi}-${process.arch === 'x64' ? 'x86_64' : process.arch}`, 'better_sqlite3.node');
  if (!existsSync(sqliteAddon)) return { reason: `better-sqlite3 ${version} has no build for Node 24 (ABI ${abi}) in the cache; ${prepare}` };
  return { node, sqliteAddon };
}

const found = findNode24();
const has24 = 'node' in found;
if (!has24) console.log(`[skip] packaged layout: ${found.reason}; skipping the packaged-layout tests.`);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

function run24(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeout?: number } = {}) {
  if (!('node' in found)) throw new Error('no Node 24');
  const env = { ...process.env, ...opts.env };
  delete env['NODE_OPTIONS']; // the app runs as shipped: no CI hooks
  const r = spawnSync(found.node, args, { cwd: opts.cwd ?? ROOT, env, encoding: 'utf8', timeout: opts.timeout ?? 240_000, maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw r.error;
  return r;
}

interface Probe {
  node: string;
  page: string;
  preload: string | null;
  info: { storePath: string; demoWorkspace: boolean };
  serving: { mode: string; actUrl: string | null; slots: { slot: string; ready: boolean }[] };
  act: { status: number; body: { actions: number[][]; slot: string } };
  evalRun: { status: string; casesTotal: number; casesDone: number; passed: number };
  native: string[];
  hash: string | null;
  replayList: { initial: string | null; traces: { path: string }[] };
  replayJob: { status: string; records: number };
  replaySummary: { overall: { requests: number }; chain: { status: string } };
  error?: string;
}

describe.skipIf(!has24)('packaged layout under Node 24 (no Electron binary: a named fake electron module)', () => {
  const tmp = mkdtempSync(path.join(tmpdir(), 'swy-packaged-'));
  const out = path.join(tmp, 'layout');
  const resources = path.join(out, 'resources');
  let report: { archiveBytes: number; files: number; unpackedFiles: number; unpackedBytes: number };
  let listing: { packed: string[]; unpacked: string[] };

  beforeAll(() => {
    if (!('node' in found)) return;
    for (const f of ['dist/electron/main/main.js', 'dist/core/src/engine.js', 'dist/renderer/index.html']) {
      if (!existsSync(path.join(ROOT, f))) throw new Error(`${f} is missing: run "npm run build" before the packaged-layout test.`);
    }
    const built = run24(['scripts/app-layout.mjs', '--out', out, '--sqlite-addon', found.sqliteAddon]);
    expect(built.status, built.stderr).toBe(0);
    report = JSON.parse(built.stdout.trim().split('\n').pop()!) as typeof report;
    console.log(
      `[packaged] app.asar ${(report.archiveBytes / 1e6).toFixed(1)} MB; app.asar.unpacked ${(report.unpackedBytes / 1e6).toFixed(1)} MB ` +
        `(${report.unpackedFiles} of ${report.files} files)`,
    );
    const mounted = run24(['scripts/packaged/mount.mjs', resources]);
    expect(mounted.status, mounted.stderr).toBe(0);
    listing = JSON.parse(mounted.stdout) as typeof listing;
  }, 180_000);
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('packs the app and its production dependencies, not tests, fixtures or dev tools', () => {
    const all = [...listing.packed, ...listing.unpacked];
    expect(listing.packed).toEqual(expect.arrayContaining(['package.json', 'dist/electron/main/main.js', 'dist/electron/preload/preload.cjs', 'dist/renderer/index.html']));
    expect(all.filter((f) => /\.test\.|\.map$|(^|\/)testing\/|(^|\/)fixtures?\//.test(f) && !f.startsWith('node_modules/'))).toEqual([]);
    for (const dev of ['vitest', 'electron', 'typescript', 'vite', 'tsx', '@electron/asar', 'react', 'wabt']) {
      expect(all.some((f) => f.startsWith(`node_modules/${dev}/`)), `${dev} is a devDependency`).toBe(false);
    }
    // Only this platform's ONNX Runtime (electron-builder.yml's per-platform `files`).
    expect(all.some((f) => f.includes('onnxruntime-node/bin/napi-v6/win32/'))).toBe(false);
    expect(report.archiveBytes).toBeGreaterThan(0);
  });

  it('keeps native addons and each worker with everything it imports in app.asar.unpacked', () => {
    expect(listing.unpacked).toEqual(
      expect.arrayContaining([
        'node_modules/better-sqlite3/build/Release/better_sqlite3.node',
        `node_modules/onnxruntime-node/bin/napi-v6/${process.platform}/${process.arch}/onnxruntime_binding.node`,
        'node_modules/onnxruntime-common/package.json',
        'dist/core/src/runtime/policy-worker.js',
        'dist/core/src/replay/summary-worker.js',
        'dist/core/src/trace/trace-sealer-worker.js',
        // The summary pass's WebAssembly loop, read from beside its module (record-wasm.ts).
        'dist/core/src/replay/record-compact.wasm',
      ]),
    );
    expect(listing.packed.filter((f) => f.endsWith('.node'))).toEqual([]);
  });

  it('starts main.js from the archive with --serve-port: demo loaded, /act answered, one evaluation run, addons from app.asar.unpacked', async () => {
    const userData = path.join(tmp, 'user-data');
    mkdirSync(userData);
    // A reference-format trace (read by the WebAssembly loop) named with --trace, and a folder of
    // others named with --data-root: both outside every folder the app knows.
    const runs = path.join(tmp, 'runs');
    mkdirSync(path.join(runs, 'night-2'), { recursive: true });
    const traceFile = path.join(tmp, 'bench-night.jsonl');
    writeFileSync(traceFile, referenceTrace(300));
    writeFileSync(path.join(runs, 'night-2', 'other.jsonl'), referenceTrace(5));
    const port = await freePort();
    const main = path.join(resources, 'app.asar', 'dist', 'electron', 'main', 'main.js');
    const r = run24(
      [
        '--preserve-symlinks',
        '--preserve-symlinks-main',
        '--import',
        path.join(ROOT, 'scripts', 'packaged', 'hooks.mjs'),
        main,
        '--store',
        path.join(userData, 'switchyard.db'),
        '--serve-port',
        String(port),
        '--trace',
        traceFile,
        '--data-root',
        runs,
      ],
      // SWITCHYARD_HOME: the runtime file main writes for its port lands in the test's folder.
      { cwd: tmp, env: { SWITCHYARD_HOME: userData, SWITCHYARD_PROBE_USERDATA: userData } },
    );
    const line = r.stdout.split('\n').find((l) => l.startsWith('PROBE '));
    expect(line, `no PROBE line; exit ${r.status}\n${r.stderr.slice(-4000)}\n${r.stdout.slice(-4000)}`).toBeDefined();
    const p = JSON.parse(line!.slice('PROBE '.length)) as Probe;
    expect(p.error, p.error).toBeUndefined();
    expect(r.status, r.stderr.slice(-4000)).toBe(0);

    expect(p.node).toMatch(/^v24\./);
    expect(p.page).toBe(path.join(resources, 'app.asar', 'dist', 'renderer', 'index.html'));
    expect(p.preload).toBe(path.join(resources, 'app.asar', 'dist', 'electron', 'preload', 'preload.cjs'));
    expect(p.info).toMatchObject({ storePath: path.join(userData, 'switchyard.db'), demoWorkspace: true });
    expect(p.serving.mode).toBe('ab');
    expect(p.serving.actUrl).toBe(`http://127.0.0.1:${port}/act`);
    expect(p.serving.slots.every((s) => s.ready)).toBe(true);
    expect(p.act.status).toBe(200);
    expect(p.act.body.actions[0]?.every((x) => Number.isFinite(x))).toBe(true);
    expect(p.evalRun.status).toBe('completed');
    expect(p.evalRun.casesDone).toBe(p.evalRun.casesTotal);
    expect(p.evalRun.casesTotal).toBeGreaterThan(0);

    // --trace and --data-root: the window opens on the Replay page; both files are listed, the
    // --trace one first opened, and the packaged summary pass verifies its chain.
    expect(p.hash).toBe('/replay');
    expect(p.replayList.initial).toBe(traceFile);
    expect(p.replayList.traces.map((t) => t.path).sort()).toEqual(expect.arrayContaining([traceFile, path.join(runs, 'night-2', 'other.jsonl')]));
    expect(p.replayJob).toMatchObject({ status: 'done', records: 1 + 300 + 6 + 1 }); // header, requests, a shadow result every 50, footer
    expect(p.replaySummary).toMatchObject({ overall: { requests: 300 }, chain: { status: 'verified' } });

    const unpacked = path.join(resources, 'app.asar.unpacked') + path.sep;
    const addons = p.native.filter((f) => f.endsWith('.node'));
    expect(addons.map((f) => path.basename(f)).sort()).toEqual(['better_sqlite3.node', 'onnxruntime_binding.node']);
    for (const f of p.native) expect(f.startsWith(unpacked), `${f} was loaded from outside app.asar.unpacked`).toBe(true);
  }, 300_000);
});
