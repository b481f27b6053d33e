import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative } from 'node:path';
import websocket from '@fastify/websocket';
import type { Readable } from 'node:stream';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Registry } from 'prom-client';
import { ErrorCodes, eventNames, httpStatusFor, SwitchyardError, toErrorShape, type EventName, type EventPayload, type Result } from '../contract/index.js';
import type { Clock } from '../platform/clock.js';
import type { Logger } from '../platform/logger.js';
import { applyServerLimits, fastifyLimitOptions, registerActRoute, WORKBENCH_PAGES } from './act-route.js';
import { checkControlRequest, checkPageRequest, generateToken, rememberControlToken } from './auth.js';
import { HealthTracker } from './health.js';
import type { ServingMetrics } from './metrics.js';
import { installReferenceCompat } from './reference-compat.js';
import type { ServingController } from './serving-controller.js';
import { ServingError } from './serving-errors.js';

export interface HttpServerOptions {
  host: string;
  port: number;
  /** The control API's token; one is generated when absent (read it back with `controlTokenOf`). */
  token?: string;
  /** The audit log records callers with this token as `token:<label>` (default `default`). */
  tokenLabel?: string;
  /** Built workbench (dist/renderer); served at `/` when given. */
  workbenchDir?: string;
  bodyLimitBytes?: number;
  /** `--max-body-bytes`: the `/act` body limit (default 1 MiB). */
  maxBodyBytes?: number;
  /** Follows start-up for `GET /health`; the serve command hands the engine's load events to it. */
  health?: HealthTracker;
  /** Robot token for `/act` (`--act-token-file`, `SWITCHYARD_ACT_TOKEN`); absent leaves `/act` open. */
  actToken?: string;
}

/**
 * What the server needs of the engine, named here so that serve never imports the composition
 * root (`engine.ts`) or the replay feature: the engine satisfies it as it is.
 */
export interface ServerHost {
  readonly serving: ServingController;
  readonly metrics: ServingMetrics;
  readonly metricsRegistry: Registry;
  readonly logger: Logger;
  readonly clock: Clock;
  /** The contract's dispatcher: `/api/<method>` hands every call to it. */
  readonly api: { call(method: string, input: unknown, ctx: { caller: string }): Promise<Result<unknown>> };
  readonly events: { on<E extends EventName>(e: E, h: (p: EventPayload<E>) => void): () => void };
  /** Where `POST /api/replay/upload` streams a trace to. */
  readonly replay: { saveUpload(body: Readable, name: string, now: Date): Promise<{ path: string; bytes: number }> };
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK.has(host) || host.startsWith('127.');
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

function loadStatic(dir: string): Map<string, { body: Buffer; type: string }> {
  const files = new Map<string, { body: Buffer; type: string }>();
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else files.set('/' + relative(dir, p).split('\\').join('/'), { body: readFileSync(p), type: MIME[extname(p)] ?? 'application/octet-stream' });
    }
  };
  walk(dir);
  return files;
}

/**
 * The headless server: `/act` for robots, `/metrics` for Prometheus, health probes, the
 * contract at `/api/<method>` and `/api/events`, and the workbench itself at `/`.
 */
export async function createHttpServer(engine: ServerHost, opts: HttpServerOptions): Promise<FastifyInstance> {
  if (!opts.token && !isLoopbackHost(opts.host)) {
    throw new SwitchyardError(
      ErrorCodes.SWY_ERR_CONFIG,
      `Refusing to listen on ${opts.host} without --token: anyone on the network could drive the control API. Add --token, or keep --host 127.0.0.1.`,
      '--host',
    );
  }
  const app = Fastify({ logger: false, bodyLimit: opts.bodyLimitBytes ?? 16 * 1024 * 1024, return503OnClosing: true, ...fastifyLimitOptions() });
  applyServerLimits(app.server);
  await app.register(websocket);
  const serving = engine.serving;
  let boundPort = opts.port;
  installReferenceCompat(app, serving, { health: opts.health ?? new HealthTracker(), actToken: opts.actToken ?? null });

  const token = opts.token ?? generateToken();
  rememberControlToken(app, token);
  /** Token, Host and Origin for the control API; the page itself only needs a fitting Host (auth.ts). */
  const checkCaller = (req: FastifyRequest, needToken: boolean) => {
    const q = (req.query as Record<string, unknown> | undefined)?.token;
    const r = { host: req.headers.host, origin: req.headers.origin, authorization: req.headers.authorization, queryToken: typeof q === 'string' ? q : undefined };
    if (needToken) return checkControlRequest(r, { token, port: boundPort, label: opts.tokenLabel ?? 'default' });
    return checkPageRequest(r, { port: boundPort, loopbackOnly: isLoopbackHost(opts.host) });
  };

  app.setErrorHandler((error: Error & { statusCode?: number; code?: string }, _req, reply) => {
    if (error instanceof SwitchyardError) {
      if (error instanceof ServingError && error.retryAfterSeconds !== undefined) void reply.header('Retry-After', String(error.retryAfterSeconds));
      return reply.status(httpStatusFor(error)).send({ error: toErrorShape(error) });
    }
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      const message =
        error.code === 'FST_ERR_CTP_BODY_TOO_LARGE'
          ? `body: larger than the ${opts.bodyLimitBytes ?? 16 * 1024 * 1024} byte limit`
          : error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
            ? 'body: send JSON with Content-Type: application/json'
            : `body: not valid JSON (${error.message})`;
      return reply.status(status).send({ error: { code: ErrorCodes.SWY_ERR_INVALID_INPUT, message, where: 'body' } });
    }
    engine.logger.error({ err: error.message }, 'unhandled server error');
    const shape = toErrorShape(error);
    return reply.status(httpStatusFor(shape)).send({ error: shape });
  });

  await registerActRoute(app, {
    serving,
    metrics: engine.metrics,
    ...(opts.maxBodyBytes !== undefined ? { maxBodyBytes: opts.maxBodyBytes } : {}),
    // The page's Host check (DNS rebinding): on a loopback bind only loopback names pass; on a
    // network bind robots may use any name for the server.
    checkCaller: (req) => {
      const d = checkCaller(req, false);
      return d.ok ? null : d.error;
    },
    logger: engine.logger,
  });

  // Anything that is not a route or a workbench page: a JSON 404, never the workbench's HTML.
  app.setNotFoundHandler(async (req, reply) => {
    const path = req.url.split('?')[0] ?? '/';
    const error = { code: ErrorCodes.SWY_ERR_NOT_FOUND, message: `No route ${req.method} ${path}. The robot endpoint is POST /act; the workbench is at /.`, where: path };
    return reply.status(httpStatusFor(error)).send({ error });
  });

  app.get('/metrics', async (_req, reply) => {
    void reply.header('Content-Type', engine.metricsRegistry.contentType);
    return engine.metricsRegistry.metrics();
  });

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const state = serving.state();
    const ready = serving.ready;
    return reply.status(ready ? 200 : 503).send({ ready, mode: state.mode, slots: state.slots.map((s) => ({ slot: s.slot, ready: s.ready })) });
  });

  app.post('/api/:method', async (req: FastifyRequest<{ Params: { method: string } }>, reply: FastifyReply) => {
    const auth = checkCaller(req, true);
    if (!auth.ok) return reply.status(auth.status).send({ ok: false, error: toErrorShape(auth.error) });
    const result = await engine.api.call(req.params.method, req.body ?? {}, { caller: auth.caller });
    if (result.ok) return result;
    return reply.status(httpStatusFor(result.error)).send(result);
  });

  // ---- replay uploads (spec §7.6): the raw body is streamed to a file, never held whole ----
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_req, payload, done) => done(null, payload));
    scope.post('/api/replay/upload', async (req: FastifyRequest<{ Querystring: { name?: string } }>, reply: FastifyReply) => {
      const auth = checkCaller(req, true);
      if (!auth.ok) return reply.status(auth.status).send({ ok: false, error: toErrorShape(auth.error) });
      try {
        const saved = await engine.replay.saveUpload(req.body as Readable, req.query.name ?? '', new Date(engine.clock.now()));
        return { ok: true, value: saved };
      } catch (e) {
        const shape = toErrorShape(e);
        return reply.status(httpStatusFor(shape)).send({ ok: false, error: shape });
      }
    });
  });

  // Refused before the upgrade: a caller without the token never gets a 101.
  const refuseUpgrade = async (req: FastifyRequest, reply: FastifyReply) => {
    const auth = checkCaller(req, true);
    if (!auth.ok) return reply.status(auth.status).send({ ok: false, error: toErrorShape(auth.error) });
  };
  app.get('/api/events', { websocket: true, preValidation: refuseUpgrade }, (socket) => {
    const offs = eventNames.map((event) =>
      engine.events.on(event, (payload) => {
        if (socket.readyState === socket.OPEN) socket.send(JSON.stringify({ event, payload }));
      }),
    );
    socket.on('close', () => offs.forEach((off) => off()));
    // A fresh subscriber sees the current state at once instead of waiting for a change.
    socket.send(JSON.stringify({ event: 'serving.state', payload: serving.state() }));
  });

  if (opts.workbenchDir) {
    const files = loadStatic(opts.workbenchDir);
    const index = files.get('/index.html');
    app.get('/*', async (req, reply) => {
      const page = checkCaller(req, false);
      if (!page.ok) return reply.status(page.status).send({ error: toErrorShape(page.error) });
      const path = req.url.split('?')[0] ?? '/';
      const file = files.get(path) ?? (WORKBENCH_PAGES.has(path) ? index : undefined);
      if (!file) return reply.callNotFound();
      void reply.header('Content-Type', file.type);
      void reply.header('X-Content-Type-Options', 'nosniff');
      void reply.header('Content-Security-Policy', "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self' ws: wss:");
      return reply.send(file.body);
    });
  }

  app.addHook('onListen', async () => {
    const addr = app.server.address();
    if (addr && typeof addr === 'object') {
      boundPort = addr.port;
      serving.actUrl = `http://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${boundPort}/act`;
    }
  });
  return app;
}
