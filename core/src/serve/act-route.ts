/**
 * `POST /act` as a Fastify plugin with its own limits: a body cap checked before anything is
 * read into a string, a nesting check before `JSON.parse`, the loopback `Host` check when the
 * server has no token, and one `switchyard_requests_total` count per answer, whatever it was.
 */
import type { Server } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCodes, httpStatusFor, SwitchyardError, toErrorShape } from '../contract/index.js';
import type { Slot } from '../contract/index.js';
import { actRequestId, DEFAULT_MAX_ACT_BODY_BYTES, outcomeForStatus, parseActJson, parseActRequest, UnreadableActBody } from './act-request.js';
import type { ServingMetrics } from './metrics.js';
import type { ServingController } from './serving-controller.js';
import { ServingError } from './serving-errors.js';

export interface ActRouteOptions {
  serving: ServingController;
  metrics: ServingMetrics;
  /** `--max-body-bytes`; default 1 MiB. */
  maxBodyBytes?: number;
  /** Null when the caller may use `/act`; the error to answer otherwise (403/401). */
  checkCaller: (req: FastifyRequest) => SwitchyardError | null;
  logger: { warn(o: object, msg?: string): void; error(o: object, msg?: string): void };
}

/**
 * Server-wide socket limits (Node's http server, which Fastify wraps). A robot keeps one
 * keep-alive connection and sends a small request every few ms, so these only bite on clients
 * that trickle bytes or hold sockets open doing nothing.
 */
export const SERVER_LIMITS = {
  /** A request's headers must arrive within this. */
  headersTimeoutMs: 10_000,
  /** The whole request (headers and body) must arrive within this. */
  requestTimeoutMs: 30_000,
  /** An idle keep-alive socket is closed after this. */
  keepAliveTimeoutMs: 65_000,
  /** Open sockets at once; beyond it new connections are closed at accept. */
  maxConnections: 1024,
} as const;

/** Fastify constructor options for the limits above. */
export function fastifyLimitOptions(): { requestTimeout: number; keepAliveTimeout: number } {
  return { requestTimeout: SERVER_LIMITS.requestTimeoutMs, keepAliveTimeout: SERVER_LIMITS.keepAliveTimeoutMs };
}

/** The limits Fastify takes no option for, set on the underlying server. */
export function applyServerLimits(server: Server): void {
  server.headersTimeout = SERVER_LIMITS.headersTimeoutMs;
  server.maxConnections = SERVER_LIMITS.maxConnections;
}

/** Workbench pages (hash-routed, so only `/` is needed; the others are accepted as deep links). */
export const WORKBENCH_PAGES = new Set(['/', '/index.html', '/versions', '/compare', '/traffic', '/live', '/promote']);

/** Requests that reached the controller, which counts their outcome itself. */
const handedOff = new WeakSet<FastifyRequest>();

export async function registerActRoute(app: FastifyInstance, o: ActRouteOptions): Promise<void> {
  const limit = o.maxBodyBytes ?? DEFAULT_MAX_ACT_BODY_BYTES;
  await app.register(async (scope) => {
    scope.removeContentTypeParser('application/json');
    scope.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: limit }, (_req, text, done) => {
      try {
        done(null, parseActJson(text as string));
      } catch (e) {
        done(e as Error, undefined);
      }
    });

    scope.setErrorHandler((error: Error & { statusCode?: number; code?: string }, req, reply) => {
      if (error instanceof SwitchyardError) {
        if (error instanceof ServingError) {
          if (error.slot !== undefined) void reply.header('X-Switchyard-Policy-Slot', error.slot);
          if (error.retryAfterSeconds !== undefined) void reply.header('Retry-After', String(error.retryAfterSeconds));
        }
        return reply.status(httpStatusFor(error, error instanceof UnreadableActBody ? 'api' : 'act')).send({ error: toErrorShape(error) });
      }
      if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
        o.logger.warn({ limit, length: req.headers['content-length'] }, 'act.body_too_large');
        const e = new SwitchyardError(
          ErrorCodes.SWY_ERR_BODY_TOO_LARGE,
          `body: larger than the ${limit} byte limit for /act; send smaller images, or raise --max-body-bytes`,
          'body',
        );
        return reply.status(httpStatusFor(e, 'act')).send({ error: toErrorShape(e) });
      }
      const status = error.statusCode ?? 500;
      if (status >= 400 && status < 500) {
        const message =
          error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' ? 'body: send JSON with Content-Type: application/json' : `body: ${error.message}`;
        return reply.status(status).send({ error: { code: ErrorCodes.SWY_ERR_INVALID_INPUT, message, where: 'body' } });
      }
      o.logger.error({ err: error.message }, 'unhandled /act error');
      const shape = toErrorShape(error);
      return reply.status(httpStatusFor(shape, 'act')).send({ error: shape });
    });

    // Callback hooks: an async one costs a promise and a microtask turn per request (issue 15).
    // Before the body is read: a refused caller costs no parsing.
    scope.addHook('onRequest', (req, reply, done) => {
      void reply.header('X-Request-ID', actRequestId(null, req.headers['x-request-id'], () => o.serving.nextRequestId()));
      const denied = o.checkCaller(req);
      if (denied) {
        void reply.status(httpStatusFor(denied, 'act')).send({ error: toErrorShape(denied) });
        return;
      }
      done();
    });

    scope.addHook('onResponse', (req, reply, done) => {
      if (!handedOff.has(req)) o.metrics.countRequest('none', outcomeForStatus(reply.statusCode));
      done();
    });

    scope.post('/act', async (req: FastifyRequest, reply: FastifyReply) => {
      const body = parseActRequest(req.body, o.serving.observationDim);
      const requestId = body.request_id ?? (reply.getHeader('X-Request-ID') as string);
      void reply.header('X-Request-ID', requestId);
      handedOff.add(req);
      const res = await o.serving.act(body, requestId);
      void reply.header('X-Switchyard-Policy-Slot', res.slot satisfies Slot);
      void reply.header('X-Switchyard-Model-Version', res.model_version);
      return res;
    });
  });
}
