/** `lifecycle.*` and `canary.*`: promote, roll back, archive, history and the canary (spec §5, §6). */
import { parseTimeArg } from '../../domain/lifecycle.js';
import type { LiveLifecycle } from '../../lifecycle/live-lifecycle.js';
import type { Clock } from '../../platform/clock.js';
import type { Handlers } from '../dispatcher.js';

export type LifecycleHandlers = Pick<
  Handlers,
  'lifecycle.promote' | 'lifecycle.rollback' | 'lifecycle.history' | 'lifecycle.archive' | 'canary.start' | 'canary.pause' | 'canary.resume' | 'canary.abort' | 'canary.status'
>;

export function lifecycleHandlers(lifecycle: LiveLifecycle, clock: Clock): LifecycleHandlers {
  return {
    'lifecycle.promote': async ({ version, to, force, reason, rulesPath, expectedProduction, actor }) => {
      const r = await lifecycle.promote({
        version,
        to,
        actor: actor ?? 'api',
        ...(force !== undefined ? { force } : {}),
        ...(reason !== undefined ? { reason } : {}),
        ...(rulesPath !== undefined ? { rulesPath } : {}),
        ...(expectedProduction !== undefined ? { expectedProduction } : {}),
      });
      return { policy: r.policy, version: r.version, from: r.from, to: r.to, at: r.at, replaced: r.replaced, verdictId: r.verdictId, forced: r.forced, overridden: r.overridden, reason: r.reason, actor: r.actor, traffic: r.traffic };
    },
    'lifecycle.rollback': async ({ policy, reason, expectedProduction, actor }) => {
      const r = await lifecycle.rollback({ policy, actor: actor ?? 'api', ...(reason !== undefined ? { reason } : {}), ...(expectedProduction !== undefined ? { expectedProduction } : {}) });
      return { policy: r.policy, restored: r.restored, replaced: r.replaced, at: r.at, lastProduction: r.lastProduction, skipped: r.skipped, reason: r.reason, actor: r.actor, traffic: r.traffic };
    },
    'lifecycle.history': ({ policy, at }) => {
      const entries = lifecycle.service.history(policy);
      const productionAt = at === undefined ? null : lifecycle.service.productionAt(policy, parseTimeArg(at, clock.now(), 'at'));
      return { policy, entries, productionAt };
    },
    'lifecycle.archive': ({ version, reason, actor }) => {
      const r = lifecycle.archive({ version, actor: actor ?? 'api', reason: reason ?? null });
      return { policy: r.policy, version: r.version, from: r.from, at: r.at, reason: r.reason, actor: r.actor };
    },
    'canary.start': (input) => lifecycle.startCanary(input),
    'canary.pause': ({ actor }) => lifecycle.requireCanary().pause(actor ?? 'api'),
    'canary.resume': ({ actor }) => lifecycle.requireCanary().resume(actor ?? 'api'),
    'canary.abort': ({ reason, actor }) => lifecycle.requireCanary().abort(reason ?? 'operator abort', actor ?? 'api'),
    'canary.status': () => ({ canary: lifecycle.canaryStatus() }),
  };
}
