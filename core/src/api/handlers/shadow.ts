/** `shadow.evidence`: what `shadow` promotion rules read (issue 13). */
import type { LiveLifecycle } from '../../lifecycle/live-lifecycle.js';
import type { ServingController } from '../../serve/serving-controller.js';
import type { Registry } from '../../store/registry.js';
import type { Handlers } from '../dispatcher.js';

export type ShadowHandlers = Pick<Handlers, 'shadow.evidence'>;

export interface ShadowHandlerDeps {
  registry: Registry;
  lifecycle: LiveLifecycle;
  serving: ServingController;
}

export function shadowHandlers({ registry, lifecycle, serving }: ShadowHandlerDeps): ShadowHandlers {
  /** What `shadow` rules read for `candidate` against `baseline` (default: production), plus the live window when it is the shadow now. */
  function evidenceView(candidate: string, baseline?: string) {
    const c = registry.resolve(candidate);
    const b = registry.resolve(baseline ?? `${c.policy}@production`);
    lifecycle.flushShadowEvidence();
    const e = lifecycle.shadowEvidence.evidence(c.id, b.id);
    const st = serving.state();
    const shadowSlot = st.slots.find((s) => s.slot === 'shadow');
    return {
      candidate: `${c.policy}@${c.label}`,
      baseline: `${b.policy}@${b.label}`,
      recorded: e !== null,
      requests: e?.requests ?? 0,
      errors: e?.errors ?? 0,
      maxDivergence: e === null ? 0 : Number.isFinite(e.maxDivergence) ? e.maxDivergence : null,
      sessions: e?.sessions ?? 0,
      updatedAt: e?.updatedAt || null,
      live: shadowSlot?.versionRef === `${c.policy}@${c.label}` ? (st.shadowDivergence ?? null) : null,
    };
  }
  return { 'shadow.evidence': ({ candidate, baseline }) => evidenceView(candidate, baseline) };
}
