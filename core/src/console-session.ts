import type { Engine } from './engine.js';

export interface ConsoleSessionOptions {
  /** Build the demo workspace even when the store already has policies. */
  demo?: boolean;
  /** Explicit serving targets; when absent the production/candidate pair of a policy is served. */
  single?: string;
  a?: string;
  b?: string;
  split?: number;
}

export interface ConsoleSession {
  builtDemo: boolean;
  serving: string;
}

/**
 * What both consoles (the desktop window and `switchyard console`) do at start: build the
 * demo workspace into an empty store, then serve production against the newest candidate
 * so the Traffic and Live pages have something real to show.
 */
export async function startConsoleSession(engine: Engine, opts: ConsoleSessionOptions = {}): Promise<ConsoleSession> {
  let builtDemo = false;
  if (opts.demo || engine.registry.listPolicies().length === 0) {
    const demo = await engine.buildDemo();
    builtDemo = demo.registered.some((r) => r.created);
  }
  let { a, b } = opts;
  if (!opts.single && !a && !b) {
    const policy = engine.registry
      .listPolicies()
      .find((p) => p.productionLabel && p.versions.some((v) => v.stage === 'candidate' && v.kind !== 'external' && v.doctorStatus !== 'failed'));
    if (policy) {
      a = `${policy.name}@production`;
      b = `${policy.name}@candidate`;
    }
  }
  if (opts.single) await engine.startServing({ single: opts.single });
  else if (a && b) await engine.startServing({ a, b, split: opts.split ?? 50 });
  const st = engine.serving.state();
  return { builtDemo, serving: st.mode === 'off' ? 'nothing' : st.slots.map((s) => `${s.slot}=${s.versionRef}`).join(', ') };
}

/**
 * The desktop window's start: the console session, and only when the user asks for a port
 * (`--serve-port`), `/act`, `/metrics`, health and the control API on loopback, with a generated
 * token written to the runtime file (as `switchyard serve`). Returns what to call on quit.
 */
export async function startDesktopServices(
  engine: Engine,
  opts: { port?: number; dataDir?: string } = {},
): Promise<{ actUrl: string | null; url: string | null; runtimeFile: string | null; close: () => Promise<void> }> {
  await startConsoleSession(engine);
  if (opts.port === undefined) return { actUrl: null, url: null, runtimeFile: null, close: async () => {} };
  const [{ createHttpServer }, { generateToken }, { writeRuntimeFile, removeRuntimeFile }, { defaultDataDir }] = await Promise.all([
    import('./serve/http-server.js'),
    import('./serve/auth.js'),
    import('./serve/runtime-file.js'),
    import('./cli/paths.js'),
  ]);
  const token = generateToken();
  const app = await createHttpServer(engine, { host: '127.0.0.1', port: opts.port, token, tokenLabel: 'desktop-serve' });
  await app.listen({ host: '127.0.0.1', port: opts.port });
  const addr = app.server.address();
  const port = addr && typeof addr === 'object' ? addr.port : opts.port;
  const url = `http://127.0.0.1:${port}/`;
  const runtimeFile = writeRuntimeFile(opts.dataDir ?? defaultDataDir(), { url, pid: process.pid, token, port });
  return {
    actUrl: engine.serving.actUrl,
    url,
    runtimeFile,
    close: async () => {
      removeRuntimeFile(runtimeFile);
      await app.close();
    },
  };
}
