import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker, type ResourceLimits } from 'node:worker_threads';

let tsxApiUrlCache: string | undefined;
/** The ESM build of `tsx/esm/api` (its CJS build cannot register ESM hooks from a worker). */
function tsxEsmApiUrl(): string {
  if (tsxApiUrlCache !== undefined) return tsxApiUrlCache;
  const require = createRequire(import.meta.url);
  const pkgPath = require.resolve('tsx/package.json');
  const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as { exports?: Record<string, { import?: { default?: string } }> };
  const rel = pkg.exports?.['./esm/api']?.import?.default ?? './dist/esm/api/index.mjs';
  tsxApiUrlCache = pathToFileURL(join(dirname(pkgPath), rel)).href;
  return tsxApiUrlCache;
}

let liveThreads = 0;

/**
 * Worker threads started here that have not exited. A thread stuck in native code (ONNX Runtime
 * inside a long `Loop`) ignores `terminate()`, and `process.exit()` joins every worker thread, so
 * a process with such a thread cannot exit normally: callers check this first.
 */
export function liveWorkerThreads(): number {
  return liveThreads;
}

function trackLive(w: Worker): Worker {
  liveThreads++;
  w.once('exit', () => {
    liveThreads--;
  });
  return w;
}

/**
 * The file a worker starts from: `<entry>.ts` beside a TypeScript caller, `<entry>.js` beside a
 * compiled one. In the packaged desktop app the caller sits inside `resources/app.asar`, which
 * only Electron's patched fs can read; the worker is started from the copy electron-builder puts
 * in `app.asar.unpacked` (asarUnpack in electron-builder.yml), so it and everything it imports
 * load through plain file reads and do not depend on asar support inside worker threads.
 */
export function workerScriptUrl(entry: string, callerUrl: string): URL {
  const ext = callerUrl.endsWith('.ts') ? '.ts' : '.js';
  const url = new URL(entry + ext);
  if (ext === '.js') url.pathname = url.pathname.replace(/\/app\.asar\//, '/app.asar.unpacked/');
  return url;
}

/**
 * Starts a worker thread on a module beside the caller: `entry` is the module's URL without its
 * extension, e.g. `new URL('./policy-worker', import.meta.url).href`, and `callerUrl` the caller's
 * own `import.meta.url`. From compiled JS (dist/) that is `<entry>.js`. From TypeScript source
 * (vitest, tsx) it is `<entry>.ts`, which plain Node cannot load: `execArgv: ['--import', 'tsx']`
 * is ignored for workers on Node 20 (ERR_UNKNOWN_FILE_EXTENSION), so a tiny eval bootstrap
 * registers tsx inside the worker and then imports the .ts entry.
 */
export function startModuleWorker(
  entry: string,
  callerUrl: string,
  workerData: unknown,
  name: string,
  extra: { resourceLimits?: ResourceLimits; /** Runs only JavaScript, so exit can always stop it: not counted by `liveWorkerThreads`. */ pureJs?: boolean } = {},
): Worker {
  const { pureJs, ...options } = extra;
  const track = pureJs ? (w: Worker) => w : trackLive;
  const url = workerScriptUrl(entry, callerUrl);
  if (url.pathname.endsWith('.js')) return track(new Worker(url, { workerData, name, ...options }));
  const bootstrap =
    `import(${JSON.stringify(tsxEsmApiUrl())})` +
    `.then((m) => { m.register(); return import(${JSON.stringify(url.href)}); })` +
    `.catch((e) => { setImmediate(() => { throw e; }); });`;
  return track(new Worker(bootstrap, { eval: true, workerData, name, ...options }));
}
