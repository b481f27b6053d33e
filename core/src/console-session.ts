import type { Engine } from './engine.js';

export interface ConsoleSessionOptions {
  /** Build the demo workspace even when the store already has policies. */
  demo?: boolean;
  /** Explicit serving targets; when absent the production/candidate pair of a policy is served. */
  single?: string;
  /** A shadow slot beside `single`. */
  shadow?: string;
  a?: string;
  b?: string;
  split?: number;
  /** Called with the two refs before two-policy mode loads anything (the VRAM check); may throw to refuse. */
  beforeTwoPolicy?: (a: string, b: string) => Promise<void>;
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
  // The console serves what it served before a restart (issue 12): the stored configuration names
  // resolved versions, so a restart never re-resolves `@candidate` to something else.
  if (!opts.single && !a && !b) {
    const saved = engine.journal.loadConsoleConfig();
    if (saved && (saved.single || (saved.a && saved.b))) {
      try {
        if (saved.single) await engine.startServing({ single: saved.single, ...(saved.shadow ? { shadow: saved.shadow } : {}) });
        else await engine.startServing({ a: saved.a!, b: saved.b!, split: saved.split ?? 50 });
        keepConsoleConfig(engine);
        return { builtDemo, serving: describe(engine) };
      } catch (e) {
        engine.logger.warn({ saved, err: (e as Error).message }, 'the stored console serving configuration could not be served; serving the default pair');
      }
    }
  }
  if (!opts.single && !a && !b) {
    const policy = engine.registry
      .listPolicies()
      .find((p) => p.productionLabel && p.versions.some((v) => v.stage === 'candidate' && v.kind !== 'external' && v.doctorStatus !== 'failed'));
    if (policy) {
      a = `${policy.name}@production`;
      b = `${policy.name}@candidate`;
    }
  }
  if (opts.single) await engine.startServing({ single: opts.single, ...(opts.shadow ? { shadow: opts.shadow } : {}) });
  else if (a && b) {
    await opts.beforeTwoPolicy?.(a, b);
    await engine.startServing({ a, b, split: opts.split ?? 50 });
  }
  keepConsoleConfig(engine);
  return { builtDemo, serving: describe(engine) };
}

function describe(engine: Engine): string {
  const st = engine.serving.state();
  return st.mode === 'off' ? 'nothing' : st.slots.map((s) => `${s.slot}=${s.versionRef}`).join(', ');
}

/** Stores what the console serves now and after every change of a slot's version, the split or the shadow. */
function keepConsoleConfig(engine: Engine): void {
  let last = '';
  const save = (): void => {
    const st = engine.serving.state();
    if (st.mode === 'off') return;
    const ref = (slot: string) => st.slots.find((s) => s.slot === slot)?.versionRef;
    const shadow = ref('shadow');
    // `followsProduction` keeps following: store `POLICY@production`, not the label it resolved to.
    const single = st.followsProduction ? `${st.followsProduction}@production` : ref('prod');
    const config = st.mode === 'single' ? { single, ...(shadow ? { shadow } : {}) } : { a: ref('a'), b: ref('b'), split: st.split };
    const json = JSON.stringify(config);
    if (json === last) return;
    last = json;
    try {
      engine.journal.saveConsoleConfig(config);
    } catch (e) {
      engine.logger.warn({ err: (e as Error).message }, 'could not store the console serving configuration');
    }
  };
  save();
  engine.events.on('serving.state', save);
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
    import('./platform/paths.js'),
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
