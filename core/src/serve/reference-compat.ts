/**
 * What lets robots written against the reference VLA server (FastCrest's `tether`) talk to
 * Switchyard unchanged: its `/health` shape, its robot-token headers on `/act`, the 503 bodies
 * its client reads to decide whether to retry, and the response fields that client surfaces.
 * Everything here hangs off hooks, so the `/act` route itself stays Switchyard's.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCodes, httpStatusFor, toErrorShape } from '../contract/index.js';
import { ActAuth } from './act-auth.js';
import { HealthTracker, type HealthState } from './health.js';
import type { ServingController } from './serving-controller.js';

export interface ReferenceCompatOptions {
  health: HealthTracker;
  /** The robot token; null leaves `/act` open. */
  actToken: string | null;
}

/** Seconds a client should wait before asking again, per state (the reference client sleeps exactly this). */
export const RETRY_AFTER_SECONDS: Record<Exclude<HealthState, 'ready'>, number> = {
  initializing: 5,
  loading: 1,
  warming: 1,
  warmup_failed: 5,
  // Same as the controller's own drained answer: a drain ends when an operator restores a slot.
  degraded: 10,
};

const NOT_READY_MESSAGE: Record<Exclude<HealthState, 'ready' | 'degraded'>, string> = {
  initializing: 'No policy is loaded. Start `switchyard serve PATH` or pick versions on the Traffic page.',
  loading: 'The policy is loading; retry shortly (GET /health says when it is ready).',
  warming: 'The policy is warming up; retry shortly (GET /health says when it is ready).',
  warmup_failed: 'The policy failed to load or warm up; the server log says why. Fix the export and restart, or serve another version.',
};

/** Fields the reference client reads that Switchyard has no use for itself; constant until an action guard exists. */
export interface ReferenceActFields {
  inference_mode: string;
  guard_violations: string[];
  guard_clamped: boolean;
}

function isAct(req: FastifyRequest): boolean {
  return req.method === 'POST' && req.routeOptions.url === '/act';
}

export function installReferenceCompat(app: FastifyInstance, serving: ServingController, opts: ReferenceCompatOptions): void {
  const auth = opts.actToken === null ? null : new ActAuth(opts.actToken);

  const refuse = (reply: FastifyReply, state: Exclude<HealthState, 'ready'>): FastifyReply => {
    void reply.header('Retry-After', String(RETRY_AFTER_SECONDS[state]));
    if (state === 'degraded') {
      const h = opts.health.body(serving);
      // The reference's circuit-breaker body: its client keys on `error == "server-degraded"`.
      return reply.status(httpStatusFor({ code: ErrorCodes.SWY_ERR_SLOT_DRAINED }, 'act')).send({
        error: 'server-degraded',
        status: 'not_ready',
        state,
        code: ErrorCodes.SWY_ERR_SLOT_DRAINED,
        message: 'Every slot is drained after repeated failures.',
        consecutive_crashes: h.consecutive_crashes,
        max_consecutive_crashes: h.max_consecutive_crashes,
        hint: 'An operator restores a slot (Traffic page, or `serving.restoreSlot`); no restart is needed.',
      });
    }
    const error = { code: ErrorCodes.SWY_ERR_NOT_SERVING, message: NOT_READY_MESSAGE[state] };
    return reply.status(httpStatusFor(error, 'act')).send({ error, status: 'not_ready', state });
  };

  // These hooks run on every request, so they take fastify's callback form: an async hook costs
  // a promise and a microtask turn each (issue 15). A hook that answers sends and does not call done.
  // onRequest: an unauthenticated or premature request is answered before its body is read.
  app.addHook('onRequest', (req, reply, done) => {
    if (!isAct(req)) return done();
    if (auth) {
      const denied = auth.check(req.headers);
      if (denied) {
        void reply.header('WWW-Authenticate', 'Bearer realm="switchyard-act"');
        void reply.status(httpStatusFor(denied, 'act')).send({ error: toErrorShape(denied) });
        return;
      }
    }
    // Once slots serve, the controller decides (a drained slot's traffic moves to its partner).
    if (serving.isServing && serving.drainState() !== 'degraded') return done();
    const state = opts.health.state(serving);
    if (state !== 'ready') {
      void refuse(reply, state);
      return;
    }
    done();
  });

  // The reference client sends `state: null` for image-only policies. Switchyard's exports all
  // read an observation vector, so say that instead of a bare type error.
  app.addHook('preValidation', (req, reply, done) => {
    if (!isAct(req)) return done();
    const b = req.body as Record<string, unknown> | null;
    if (typeof b !== 'object' || b === null || Array.isArray(b) || b.state !== null) return done();
    const dim = serving.observationDim;
    void reply.status(httpStatusFor({ code: ErrorCodes.SWY_ERR_INVALID_INPUT }, 'act')).send({
      error: {
        code: ErrorCodes.SWY_ERR_INVALID_INPUT,
        message: `state: is null, but ${dim === null ? 'every policy' : `this policy`} reads an observation of ${dim === null ? 'numbers' : `${dim} numbers`}; no Switchyard export is image-only (an image is recorded, not fed to the model). Send "state": [...].`,
        where: 'state',
      },
    });
  });

  app.addHook('preSerialization', (req: FastifyRequest, reply: FastifyReply, payload: unknown, done: (err: Error | null, value?: unknown) => void) => {
    if (!isAct(req) || reply.statusCode !== 200 || typeof payload !== 'object' || payload === null || !('actions' in payload)) return done(null, payload);
    const slot = (payload as { slot?: unknown }).slot;
    const spec = slot === 'prod' || slot === 'a' || slot === 'b' ? serving.slotSpec(slot) : null;
    const extra: ReferenceActFields = { inference_mode: spec?.runner.export.manifest.kind ?? '', guard_violations: [], guard_clamped: false };
    done(null, { ...payload, ...extra });
  });

  app.get('/health', async (_req, reply) => {
    const body = opts.health.body(serving);
    return reply.status(body.state === 'ready' ? 200 : 503).send(body);
  });

  // The reference client's `config()`; behind the robot token like /act, because it names the models.
  app.get('/config', async (req, reply) => {
    const denied = auth?.check(req.headers);
    if (denied) return reply.status(httpStatusFor(denied, 'act')).send({ error: toErrorShape(denied) });
    const st = serving.state();
    return {
      mode: st.mode,
      split: st.mode === 'ab' ? st.split : null,
      rtc: st.rtc,
      act_auth: auth !== null,
      slots: serving.slotExports().map(({ slot, exp, provider }) => ({
        slot,
        model_version: exp.modelVersion,
        model_id: exp.manifest.model_id,
        kind: exp.manifest.kind,
        observation: exp.manifest.observation,
        action: exp.manifest.action,
        provider,
      })),
    };
  });
}
