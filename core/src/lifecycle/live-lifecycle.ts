/**
 * The live lifecycle, inside a running engine: the LifecycleService plus what only a serving engine
 * can do (spec §5, §6).
 *
 * - Traffic follows production. Serving `POLICY@production` in single-policy mode, the engine
 *   keeps the rollback target (the previous production version) loaded and warm in a hidden
 *   standby (never routed). A rollback swaps it into `prod` atomically (requests in flight finish
 *   on the old runner, which is closed once idle), then loads the next rollback target. A
 *   promotion to production loads the new version, swaps it in, and keeps the old one as the
 *   standby. In two-policy mode a rollback whose restored and replaced versions are the two slots
 *   sends every request (episodes in progress too) to the restored slot.
 * - The canary (one at a time) ramps slot b against slot a (CanaryController).
 * - Shadow evidence: the shadow slot's counters are written to the store as this session's row.
 */
import { randomUUID } from 'node:crypto';
import { ErrorCodes, SwitchyardError, stageChangeTrafficEffect, type CanaryStatus, type Slot, type TrafficMove } from '../contract/index.js';
import { canaryConfig, type CanaryConfig } from '../domain/canary.js';
import type { GateResult } from '../eval/gate.js';
import { iso, type Clock } from '../platform/clock.js';
import type { Logger } from '../platform/logger.js';
import type { Timers } from '../platform/timers.js';
import type { SlotRunner } from '../runtime/types.js';
import type { Db } from '../store/database.js';
import type { EvalStore } from '../store/eval-store.js';
import type { Registry } from '../store/registry.js';
import { ShadowEvidenceStore } from '../store/shadow-evidence-store.js';
import { CanaryController, type CanaryMetricsSource } from './canary-controller.js';
import { LifecycleService, type LifecycleChange, type PromoteRequest, type PromoteResult, type RollbackRequest, type RollbackResult } from './lifecycle-service.js';
import type { ServingPort } from './serving-port.js';

export interface LiveLifecycleOptions {
  db: Db;
  registry: Registry;
  evalStore: EvalStore;
  /** Serving, through the port the lifecycle decides with. */
  serving: ServingPort;
  clock: Clock;
  timers: Timers;
  logger: Logger;
  /** Loads a registered version (`policy@label`) into a runner for `slot`. */
  load: (ref: string, slot: Slot) => Promise<{ ref: string; runner: SlotRunner }>;
  /** Runs a rules file's gate (for `lifecycle.promote` with `rulesPath`). */
  gate: (req: { rulesPath: string; candidate: string }) => Promise<GateResult>;
  onChange?: (c: LifecycleChange) => void;
  onCanary?: (s: CanaryStatus) => void;
}

export interface CanaryStartRequest extends Partial<CanaryConfig> {
  policy: string;
  candidate: string;
  force?: boolean;
  reason?: string;
  actor?: string;
}

export type EnginePromoteRequest = PromoteRequest & { rulesPath?: string };

const NOT_MOVED = (how: string): TrafficMove => ({ moved: false, ms: null, how });

export class LiveLifecycle {
  readonly service: LifecycleService;
  readonly shadowEvidence: ShadowEvidenceStore;
  /** Single-policy serving that follows this policy's production version. */
  private follow: { policy: string } | null = null;
  private standbyToken = 0;
  private standbyLoading: Promise<void> = Promise.resolve();
  private moves: Promise<unknown> = Promise.resolve();
  private canary: CanaryController | null = null;
  private shadowSession: { id: string; startedAt: string } | null = null;
  private closed = false;

  constructor(private readonly o: LiveLifecycleOptions) {
    this.service = new LifecycleService({
      db: o.db,
      registry: o.registry,
      evalStore: o.evalStore,
      clock: o.clock,
      logger: o.logger,
      ...(o.onChange ? { onChange: o.onChange } : {}),
    });
    this.shadowEvidence = new ShadowEvidenceStore(o.db, o.clock);
  }

  /** Call after serving started: follow production when the single ref was `POLICY@production`. */
  servingStarted(t: { single?: string; shadow?: string }): void {
    if (t.shadow) this.shadowSession = { id: `${iso(this.o.clock.now())}-${randomUUID().slice(0, 8)}`, startedAt: iso(this.o.clock.now()) };
    if (t.single && /@production$/.test(t.single) && !t.single.includes('/')) {
      this.follow = { policy: t.single.slice(0, t.single.lastIndexOf('@')) };
      this.o.serving.followsProduction = this.follow.policy;
      this.standbyLoading = this.refreshStandby();
    }
  }

  /** Resolves once the standby load under way (if any) has settled. */
  standbyReady(): Promise<void> {
    return this.standbyLoading;
  }

  // ---------------------------------------------------------------- promote / rollback with traffic

  async promote(req: EnginePromoteRequest): Promise<PromoteResult & { traffic: TrafficMove }> {
    const t0 = this.o.clock.monotonicMs();
    let verdictId = req.verdictId;
    if (req.rulesPath !== undefined) {
      const g = await this.o.gate({ rulesPath: req.rulesPath, candidate: req.version });
      verdictId = g.verdictId;
    }
    const r = await this.service.promote({ ...req, ...(verdictId !== undefined ? { verdictId } : {}) });
    const traffic = r.to === 'production' ? await this.serialized(() => this.followPromotion(r, t0)) : r.to === 'archived' ? await this.afterArchive() : NOT_MOVED('not a production change');
    return { ...r, traffic };
  }

  async rollback(req: RollbackRequest): Promise<RollbackResult & { traffic: TrafficMove }> {
    const t0 = this.o.clock.monotonicMs();
    const r = this.service.rollback(req);
    // The warm swap happens here, before any await: nothing can come between the store's change and the traffic's.
    const warm = this.swapToStandby(r, t0);
    const traffic = warm ?? (await this.serialized(() => this.followRollback(r, t0)));
    return { ...r, traffic };
  }

  archive(req: { version: string; actor: string; reason?: string | null }) {
    const r = this.service.archive(req);
    void this.afterArchive();
    return r;
  }

  private async afterArchive(): Promise<TrafficMove> {
    if (this.follow) this.standbyLoading = this.refreshStandby();
    return NOT_MOVED('archiving moves no traffic');
  }

  private serialized<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.moves.then(fn, fn);
    this.moves = next.catch(() => undefined);
    return next;
  }

  private followsSingle(policy: string): boolean {
    return this.follow?.policy === policy && this.o.serving.state().mode === 'single';
  }

  /** The warm path of a rollback: the standby is the restored version. Null when it is not. */
  private swapToStandby(r: RollbackResult, t0: number): TrafficMove | null {
    if (!this.followsSingle(r.policy)) return null;
    const sb = this.o.serving.standbySpec;
    const ref = `${r.policy}@${r.restored.label}`;
    if (sb === null || sb.ref !== ref || sb.runner.export.modelHash !== r.restored.modelHash || !sb.runner.ready) return null;
    const swapped = this.o.serving.promoteStandby()!;
    const ms = this.o.clock.monotonicMs() - t0;
    this.retire(swapped.previous.runner, swapped.idle);
    this.standbyLoading = this.refreshStandby();
    this.o.logger.warn({ policy: r.policy, restored: ref, ms }, 'rollback: the warm standby now serves prod');
    return { moved: true, ms, how: 'standby' };
  }

  private async followRollback(r: RollbackResult, t0: number): Promise<TrafficMove> {
    const st = this.o.serving.state();
    const restored = `${r.policy}@${r.restored.label}`;
    const replaced = `${r.policy}@${r.replaced.label}`;
    if (st.mode === 'ab') return this.routeToNewProduction(r.policy, restored, replaced, 'rollback', t0);
    if (!this.followsSingle(r.policy)) return NOT_MOVED(st.mode === 'off' ? 'not serving' : `this server does not serve ${r.policy}@production`);
    return this.coldSwap(restored, r.restored.kind === 'external', t0, 'rollback');
  }

  /** Two-policy mode, the one rule (`stageChangeTrafficEffect`): the new production's slot gets every request. */
  private routeToNewProduction(policy: string, version: string, replaced: string | null, cause: 'rollback' | 'promote', t0: number): TrafficMove {
    const effect = stageChangeTrafficEffect(this.o.serving.state(), { policy, to: 'production', version, replaced });
    if (!effect.moves || (effect.slot !== 'a' && effect.slot !== 'b')) return NOT_MOVED(effect.text);
    const label = version.slice(version.lastIndexOf('@') + 1);
    const detail = cause === 'rollback' ? `rollback of ${policy} to ${label}` : `promotion of ${version} to production`;
    this.o.serving.routeAll(effect.slot, { cause, detail });
    return { moved: true, ms: this.o.clock.monotonicMs() - t0, how: `split: every request to slot ${effect.slot}` };
  }

  private async followPromotion(r: PromoteResult, t0: number): Promise<TrafficMove> {
    if (this.o.serving.state().mode === 'ab') {
      return this.routeToNewProduction(r.policy, `${r.policy}@${r.version.label}`, r.replaced ? `${r.policy}@${r.replaced.label}` : null, 'promote', t0);
    }
    if (!this.followsSingle(r.policy)) return NOT_MOVED(this.o.serving.isServing ? `this server does not serve ${r.policy}@production in single-policy mode` : 'not serving');
    const ref = `${r.policy}@${r.version.label}`;
    const sb = this.o.serving.standbySpec;
    if (sb !== null && sb.ref === ref && sb.runner.ready) {
      const swapped = this.o.serving.promoteStandby()!;
      this.keepAsStandby(swapped.previous);
      return { moved: true, ms: this.o.clock.monotonicMs() - t0, how: 'standby' };
    }
    return this.coldSwap(ref, r.version.kind === 'external', t0, 'promote');
  }

  private async coldSwap(ref: string, external: boolean, t0: number, why: 'rollback' | 'promote'): Promise<TrafficMove> {
    if (external) return NOT_MOVED(`${ref} is an external version with no model to serve`);
    let loaded: { ref: string; runner: SlotRunner };
    try {
      loaded = await this.o.load(ref, 'prod');
    } catch (e) {
      this.o.logger.error({ ref, err: (e as Error).message }, `${why}: could not load the new production version; prod still serves the old one`);
      return NOT_MOVED(`loading ${ref} failed: ${(e as Error).message}; prod still serves the previous version`);
    }
    if (this.closed || !this.o.serving.isServing) {
      await loaded.runner.close();
      return NOT_MOVED('serving stopped meanwhile');
    }
    const swapped = this.o.serving.swapPrimary('prod', loaded);
    const ms = this.o.clock.monotonicMs() - t0;
    if (why === 'promote') this.keepAsStandby(swapped.previous);
    else {
      this.retire(swapped.previous.runner, swapped.idle);
      this.standbyLoading = this.refreshStandby();
    }
    return { moved: true, ms, how: 'cold-load' };
  }

  /** After a promotion the old prod runner is the rollback target: keep it warm. */
  private keepAsStandby(previous: { ref: string; runner: SlotRunner }): void {
    this.standbyToken++;
    const old = this.o.serving.setStandby({ ref: previous.ref, runner: previous.runner });
    if (old) void old.runner.close();
    this.standbyLoading = this.refreshStandby();
  }

  private retire(runner: SlotRunner, idle: Promise<void>): void {
    void idle.then(() => runner.close()).catch((e: unknown) => this.o.logger.warn({ err: String(e) }, 'closing a replaced runner failed'));
  }

  /** Load the current rollback target into the standby when it is not there already. */
  private async refreshStandby(): Promise<void> {
    const follow = this.follow;
    if (!follow || this.closed || this.o.serving.state().mode !== 'single') return;
    const token = ++this.standbyToken;
    const t = this.service.rollbackTarget(follow.policy);
    const want = t && t.target.kind !== 'external' ? `${follow.policy}@${t.target.label}` : null;
    const cur = this.o.serving.standbySpec;
    if (want === null) {
      const old = this.o.serving.setStandby(null);
      if (old) await old.runner.close();
      return;
    }
    if (cur?.ref === want) return;
    let loaded: { ref: string; runner: SlotRunner };
    try {
      loaded = await this.o.load(want, 'prod');
    } catch (e) {
      this.o.logger.error({ ref: want, err: (e as Error).message }, 'could not load the rollback target into the warm standby; a rollback will load it cold');
      return;
    }
    if (token !== this.standbyToken || this.closed || this.o.serving.state().mode !== 'single') {
      await loaded.runner.close();
      return;
    }
    const old = this.o.serving.setStandby(loaded);
    if (old) await old.runner.close();
    this.o.logger.info({ standby: want }, 'rollback target loaded warm in the standby');
  }

  // ---------------------------------------------------------------- canary

  canaryStatus(): CanaryStatus | null {
    return this.canary?.status() ?? null;
  }

  get activeCanary(): CanaryController | null {
    return this.canary?.isActive ? this.canary : null;
  }

  async startCanary(req: CanaryStartRequest): Promise<CanaryStatus> {
    if (this.canary?.isActive) {
      const s = this.canary.status();
      throw new SwitchyardError(ErrorCodes.SWY_ERR_CONFLICT, `A canary of ${s.candidate} is already ${s.state} on this server; abort it first (\`canary.abort\`).`);
    }
    const { registry, serving } = this.o;
    const cand = registry.resolve(req.candidate);
    const candRef = `${cand.policy}@${cand.label}`;
    if (cand.policy !== req.policy) throw new SwitchyardError(ErrorCodes.SWY_ERR_INVALID_INPUT, `${candRef} is not a version of ${req.policy}.`, 'candidate');
    const prod = this.service.store.production(req.policy);
    if (prod === null) throw new SwitchyardError(ErrorCodes.SWY_ERR_CONFLICT, `${req.policy} has no production version to compare the canary with; promote one first.`, req.policy);
    const prodRef = `${req.policy}@${prod.label}`;
    const a = serving.slotSpec('a');
    const b = serving.slotSpec('b');
    const how = `serve \`switchyard serve --policy-a ${req.policy}@production --policy-b ${candRef} --no-rtc --split 100\` and start the canary there`;
    if (serving.state().mode !== 'ab' || a === null || b === null) {
      throw new SwitchyardError(ErrorCodes.SWY_ERR_NOT_SERVING, `A canary needs two-policy mode with production in slot a and the candidate in slot b: ${how}.`);
    }
    if (a.ref !== prodRef || b.ref !== candRef) {
      throw new SwitchyardError(ErrorCodes.SWY_ERR_CONFIG, `Slot a serves ${a.ref} and slot b ${b.ref}, but the canary needs a = ${prodRef} (production) and b = ${candRef}: ${how}.`, 'slot');
    }
    if (cand.stage !== 'staging') {
      throw new SwitchyardError(ErrorCodes.SWY_ERR_INVALID_INPUT, `A canary ramps a staging version to production; ${candRef} is ${cand.stage}. Promote it to staging first.`, 'candidate');
    }
    const { policy, candidate: _c, force, reason, actor: actorIn, ...partial } = req;
    const config = canaryConfig(partial);
    const actor = actorIn ?? 'api';
    const check = await this.service.check({ version: candRef, to: 'production', force: force ?? false, reason: reason ?? null, expectedProduction: prod.label });
    const id = `canary-${iso(this.o.clock.now())}-${randomUUID().slice(0, 8)}`;
    const source = this.metricsSource(prodRef, candRef);
    const controller = new CanaryController({
      id,
      policy,
      candidate: candRef,
      baseline: prodRef,
      config,
      verdictId: check.verdictId,
      forced: check.forced,
      source,
      clock: this.o.clock,
      timers: this.o.timers,
      logger: this.o.logger,
      ...(this.o.onCanary ? { onProgress: this.o.onCanary } : {}),
      traffic: {
        setCanaryPercent: (p) => void serving.setSplit(100 - p, { cause: 'canary', detail: `canary ${candRef} at ${p}%` }),
        allToProduction: () => void serving.routeAll('a', { cause: 'canary', detail: `canary of ${candRef} ended: every request back to production` }),
      },
      lifecycle: {
        promote: async () => {
          const r = await this.promote({
            version: candRef,
            to: 'production',
            actor,
            force: check.forced,
            reason: check.forced ? `canary ${id}: every look passed; forced without a GO verdict: ${reason ?? 'no reason given'}` : `canary ${id}: every look passed`,
            ...(check.verdictId !== null ? { verdictId: check.verdictId } : {}),
            expectedProduction: prod.label,
          });
          return { at: r.at };
        },
        rollback: async (why) => {
          await this.rollback({ policy, actor, reason: why, expectedProduction: cand.label });
        },
        audit: (action, detail) => void this.service.store.audit(actor, action, candRef, detail),
      },
    });
    this.canary = controller;
    try {
      return await controller.start();
    } catch (e) {
      this.canary = null;
      throw e;
    }
  }

  /** The running or last canary of this server; refused (SWY_ERR_NOT_FOUND) when none has run. */
  requireCanary(): CanaryController {
    if (this.canary === null) throw new SwitchyardError(ErrorCodes.SWY_ERR_NOT_FOUND, 'No canary has run on this server; start one with `canary.start`.');
    return this.canary;
  }

  /** The serving controller's cumulative counters of slots a and b, checked to still serve the canary's versions. */
  private metricsSource(prodRef: string, candRef: string): CanaryMetricsSource {
    const serving = this.o.serving;
    return {
      read: async (marks) => {
        const counters = serving.counters();
        const a = counters.find((c) => c.slot === 'a');
        const b = counters.find((c) => c.slot === 'b');
        if (a && a.versionRef !== prodRef) throw new Error(`slot a now serves ${a.versionRef}, not ${prodRef}`);
        if (b && b.versionRef !== candRef) throw new Error(`slot b now serves ${b.versionRef}, not ${candRef}`);
        return {
          production: a ? { requests: a.requests, errors: a.errors, latencyCount: a.latencyCount, latenciesMs: serving.latencySamples('a', marks.production) } : null,
          canary: b ? { requests: b.requests, errors: b.errors, latencyCount: b.latencyCount, latenciesMs: serving.latencySamples('b', marks.canary) } : null,
        };
      },
    };
  }

  // ---------------------------------------------------------------- shadow evidence

  /** Write this session's shadow counters (for a registered shadow version) to the store. */
  flushShadowEvidence(): void {
    const session = this.shadowSession;
    if (session === null) return;
    const counters = this.o.serving.counters();
    const sh = counters.find((c) => c.slot === 'shadow');
    const prim = counters.find((c) => c.slot === 'prod');
    if (!sh) return;
    const shadowV = this.registered(sh.versionRef, sh.modelVersion);
    if (shadowV === null) return;
    const primary = prim ? this.registered(prim.versionRef, prim.modelVersion) : null;
    try {
      this.shadowEvidence.record({
        versionId: shadowV,
        session: session.id,
        primaryVersionId: primary,
        requests: sh.requests,
        errors: sh.errors,
        maxDivergence: sh.maxDivergence,
        startedAt: session.startedAt,
      });
    } catch (e) {
      this.o.logger.warn({ err: (e as Error).message }, 'could not record shadow evidence');
    }
  }

  private registered(ref: string, modelVersion: string): number | null {
    const at = ref.lastIndexOf('@');
    if (at <= 0 || ref.includes('/')) return null;
    const v = this.o.registry.find(ref.slice(0, at), ref.slice(at + 1));
    return v && v.modelVersion === modelVersion ? v.id : null;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.flushShadowEvidence();
    if (this.canary?.isActive) {
      // A canary does not outlive its server: traffic is closing anyway, and the registry is left as it is.
      this.o.logger.warn({ canary: this.canary.status().id }, 'the server stops with a canary running; it ends here (the store is left as it is)');
      this.canary.dispose();
    }
    await this.standbyLoading.catch(() => undefined);
    await this.moves.catch(() => undefined);
  }
}
