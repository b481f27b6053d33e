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
  const st = engine.serving.state();
  return { builtDemo, serving: st.mode === 'off' ? 'nothing' : st.slots.map((s) => `${s.slot}=${s.versionRef}`).join(', ') };
}

/**
 * The desktop window's start: the console session plus `/act`, `/metrics` and health on
 * loopback (port 8000, or a free one when taken). Returns what to call on quit.
 */
export async function startDesktopServices(engine: Engine, port = 8000): Promise<{ actUrl: string | null; close: () => Promise<void> }> {
  await startConsoleSession(engine);
  const { createHttpServer } = await import('./serve/http-server.js');
  let app = await createHttpServer(engine, { host: '127.0.0.1', port });
  try {
    await app.listen({ host: '127.0.0.1', port });
  } catch {
    await app.close();
    app = await createHttpServer(engine, { host: '127.0.0.1', port: 0 });
    await app.listen({ host: '127.0.0.1', port: 0 });
  }
  return { actUrl: engine.serving.actUrl, close: () => app.close() };
}
