/**
 * The canary ramp of a `staging->production` promotion (spec §6).
 *
 * Slot `a` serves production, slot `b` the candidate. The canary's share of new episodes goes
 * through `config.steps` (default 5, 25, 50, 100 %); each step lasts `intervalMs` and ends with a
 * look (domain/canary.ts: data, error rate, p99), judged at alpha / planned looks. A passing look
 * moves to the next step; the look at 100 % promotes the candidate (with the verdict it rested
 * on), and a monitor keeps looking every `intervalMs` for `monitorWindowMs`. A failing look, at
 * any time, rolls back at once: every request (episodes in progress too) back on slot `a`, and,
 * after the promotion, the registry rolled back as well; the failed check is recorded with its
 * numbers (audit log, stage history reason when the stage changes, `canary.progress`).
 *
 * The operator can pause (the step holds, the look waits), resume (the look comes after the
 * rest of the interval) and abort (as a rollback). Clock and timers are injected: tests run the
 * whole ramp in virtual time. Metrics reads that throw or take longer than `lookTimeoutMs` fail
 * the look.
 */
import { ErrorCodes, SwitchyardError, type CanaryLook, type CanaryStatus } from '../contract/index.js';
import { judgeLook, monitorLooks, plannedLooks, type CanaryConfig, type LookCheck, type SlotWindow } from '../domain/canary.js';
import { iso, type Clock } from '../platform/clock.js';
import type { Logger } from '../platform/logger.js';
import type { TimerHandle, Timers } from '../platform/timers.js';

/** One slot's cumulative numbers, and its latency samples since a mark. */
export interface SlotReading {
  requests: number;
  errors: number;
  /** Latency samples recorded so far (the next read's mark). */
  latencyCount: number;
  /** Latencies (ms) recorded after the mark the read was given. */
  latenciesMs: number[];
}

export interface CanaryMetricsSource {
  /**
   * Cumulative numbers of production (slot a) and the canary (slot b), with latency samples after
   * the given marks; null for a slot it has no numbers for. May throw or never answer: the look
   * then fails.
   */
  read(marks: { production: number; canary: number }): Promise<{ production: SlotReading | null; canary: SlotReading | null }>;
}

export interface CanaryTraffic {
  /** Percent of new episodes sent to the canary (slot b). */
  setCanaryPercent(percent: number): void;
  /** Every request, episodes in progress included, on production (slot a). */
  allToProduction(): void;
}

export interface CanaryLifecycle {
  /** Promote the candidate to production; resolves with when, or throws why not. */
  promote(): Promise<{ at: string }>;
  /** Roll the registry back (after a promotion): the previous production version again. */
  rollback(reason: string): Promise<void>;
  /** Append to the audit log. */
  audit(action: string, detail: Record<string, unknown>): void;
}

export interface CanaryOptions {
  id: string;
  policy: string;
  candidate: string;
  baseline: string;
  config: CanaryConfig;
  verdictId: number | null;
  forced: boolean;
  source: CanaryMetricsSource;
  traffic: CanaryTraffic;
  lifecycle: CanaryLifecycle;
  clock: Clock;
  timers: Timers;
  logger?: Logger;
  onProgress?: (s: CanaryStatus) => void;
}

const TERMINAL = new Set<CanaryStatus['state']>(['completed', 'rolled_back', 'aborted']);

export class CanaryController {
  private state: CanaryStatus['state'] = 'ramping';
  private pausedFrom: 'ramping' | 'monitoring' | null = null;
  private stepIndex = 0;
  private percent = 0;
  private readonly looks: CanaryLook[] = [];
  private readonly planned: number;
  private readonly startedAt: string;
  private updatedAt: string;
  private promotedAt: string | null = null;
  private outcome: string | null = null;
  private failedCheck: LookCheck | null = null;
  private timer: TimerHandle | null = null;
  private dueAt: number | null = null;
  private remainingMs: number | null = null;
  /** Bumped whenever a pending look must be forgotten (pause, abort, end). */
  private generation = 0;
  private monitorDone = 0;
  private lookInFlight: Promise<void> | null = null;
  /** The promotion is being written: pause waits (refused) until it is. */
  private promoting = false;
  private start0: { production: SlotReading; canary: SlotReading } | null = null;
  private lastCanaryRequests = 0;
  private readonly settled: Promise<void>;
  private settle!: () => void;

  constructor(private readonly o: CanaryOptions) {
    this.planned = plannedLooks(o.config);
    this.startedAt = iso(o.clock.now());
    this.updatedAt = this.startedAt;
    this.settled = new Promise((r) => (this.settle = r));
  }

  /** Resolves when the canary has ended (completed, rolled back or aborted). */
  get done(): Promise<void> {
    return this.settled;
  }

  /** Resolves once the look under way (if any), with its promotion or rollback, has finished. */
  async whenIdle(): Promise<void> {
    while (this.lookInFlight !== null) await this.lookInFlight;
  }

  get isActive(): boolean {
    return !TERMINAL.has(this.state);
  }

  /** Read the starting numbers, set the first step and schedule its look. Throws when the metrics do not answer. */
  async start(): Promise<CanaryStatus> {
    let r: Awaited<ReturnType<CanaryMetricsSource['read']>>;
    try {
      r = await this.readWithTimeout({ production: 0, canary: 0 });
    } catch (e) {
      throw new SwitchyardError(ErrorCodes.SWY_ERR_NOT_SERVING, `The canary cannot start: the serving metrics did not answer (${(e as Error).message}).`);
    }
    if (r.production === null || r.canary === null) {
      throw new SwitchyardError(ErrorCodes.SWY_ERR_NOT_SERVING, `The canary cannot start: no numbers for slot ${r.production === null ? 'a (production)' : 'b (the candidate)'}.`);
    }
    this.start0 = { production: r.production, canary: r.canary };
    this.lastCanaryRequests = r.canary.requests;
    this.setPercent(this.o.config.steps[0]!);
    this.audit('canary.start', { id: this.o.id, candidate: this.o.candidate, baseline: this.o.baseline, config: this.o.config, plannedLooks: this.planned, verdictId: this.o.verdictId, forced: this.o.forced });
    this.o.logger?.info({ canary: this.o.id, candidate: this.o.candidate, steps: this.o.config.steps, plannedLooks: this.planned }, 'canary started');
    this.schedule(this.o.config.intervalMs);
    return this.emit();
  }

  /** Stop looking without touching traffic or the store (the engine is closing). */
  dispose(): void {
    this.cancelTimer();
    this.settle();
  }

  status(): CanaryStatus {
    const c = this.o.config;
    return {
      id: this.o.id,
      policy: this.o.policy,
      candidate: this.o.candidate,
      baseline: this.o.baseline,
      state: this.state,
      pausedFrom: this.pausedFrom,
      stepIndex: this.stepIndex,
      percent: this.percent,
      config: { ...c, steps: [...c.steps] },
      plannedLooks: this.planned,
      looks: this.looks.map((l) => ({ ...l, checks: l.checks.map((x) => ({ ...x })) })),
      startedAt: this.startedAt,
      updatedAt: this.updatedAt,
      nextLookAt: this.dueAt === null ? null : iso(this.dueAt),
      promotedAt: this.promotedAt,
      verdictId: this.o.verdictId,
      forced: this.o.forced,
      outcome: this.outcome,
      failedCheck: this.failedCheck,
    };
  }

  pause(actor = 'operator'): CanaryStatus {
    if (this.promoting) throw new SwitchyardError(ErrorCodes.SWY_ERR_CONFLICT, 'The canary is promoting the candidate right now; pause it again in a moment (it will be monitoring).');
    if (this.state !== 'ramping' && this.state !== 'monitoring') {
      throw new SwitchyardError(ErrorCodes.SWY_ERR_CONFLICT, `The canary is ${this.state}; only a ramping or monitoring canary can be paused.`);
    }
    this.pausedFrom = this.state;
    this.state = 'paused';
    this.remainingMs = this.dueAt === null ? this.o.config.intervalMs : Math.max(0, this.dueAt - this.o.clock.now());
    this.cancelTimer();
    this.audit('canary.pause', { id: this.o.id, actor, stepIndex: this.stepIndex, percent: this.percent });
    return this.emit();
  }

  resume(actor = 'operator'): CanaryStatus {
    if (this.state !== 'paused' || this.pausedFrom === null) {
      throw new SwitchyardError(ErrorCodes.SWY_ERR_CONFLICT, `The canary is ${this.state}; only a paused canary can be resumed.`);
    }
    this.state = this.pausedFrom;
    this.pausedFrom = null;
    this.audit('canary.resume', { id: this.o.id, actor, stepIndex: this.stepIndex, percent: this.percent });
    this.schedule(this.remainingMs ?? this.o.config.intervalMs);
    this.remainingMs = null;
    return this.emit();
  }

  /** Stop and send every request back to the version that was production when the canary started. */
  async abort(reason: string, actor = 'operator'): Promise<CanaryStatus> {
    if (TERMINAL.has(this.state)) throw new SwitchyardError(ErrorCodes.SWY_ERR_CONFLICT, `The canary already ended (${this.state}).`);
    const why = `aborted by ${actor}: ${reason}`;
    await this.end('aborted', why, null);
    return this.status();
  }

  // ---------------------------------------------------------------- internals

  private setPercent(p: number): void {
    this.percent = p;
    this.o.traffic.setCanaryPercent(p);
  }

  private schedule(ms: number): void {
    this.cancelTimer();
    const gen = this.generation;
    this.dueAt = this.o.clock.now() + ms;
    this.timer = this.o.timers.setTimeout(() => {
      this.timer = null;
      if (gen !== this.generation) return;
      // Fail closed: a look that breaks is a failed look.
      const p = this.look(gen).catch(async (e: unknown) => {
        if (!TERMINAL.has(this.state)) await this.end('rolled_back', `the look could not be completed: ${e instanceof Error ? e.message : String(e)}`, null);
      });
      this.lookInFlight = p;
      void p.then(() => {
        if (this.lookInFlight === p) this.lookInFlight = null;
      });
    }, ms);
  }

  private cancelTimer(): void {
    this.generation++;
    this.o.timers.clearTimeout(this.timer);
    this.timer = null;
    this.dueAt = null;
  }

  private readWithTimeout(marks: { production: number; canary: number }): ReturnType<CanaryMetricsSource['read']> {
    return new Promise((resolve, reject) => {
      let finished = false;
      const t = this.o.timers.setTimeout(() => {
        if (finished) return;
        finished = true;
        reject(new Error(`no answer within ${this.o.config.lookTimeoutMs} ms`));
      }, this.o.config.lookTimeoutMs);
      let p: ReturnType<CanaryMetricsSource['read']>;
      try {
        p = this.o.source.read(marks);
      } catch (e) {
        p = Promise.reject(e);
      }
      p.then(
        (v) => {
          if (finished) return;
          finished = true;
          this.o.timers.clearTimeout(t);
          resolve(v);
        },
        (e: unknown) => {
          if (finished) return;
          finished = true;
          this.o.timers.clearTimeout(t);
          reject(e instanceof Error ? e : new Error(String(e)));
        },
      );
    });
  }

  private async look(gen: number): Promise<void> {
    const c = this.o.config;
    const s0 = this.start0!;
    const phase: CanaryLook['phase'] = this.state === 'monitoring' ? 'monitor' : 'ramp';
    let production: SlotWindow | null = null;
    let canary: SlotWindow | null = null;
    let newCanary = 0;
    let sourceError: string | undefined;
    let canaryRequests = this.lastCanaryRequests;
    try {
      const r = await this.readWithTimeout({ production: s0.production.latencyCount, canary: s0.canary.latencyCount });
      if (r.production && r.production.requests < s0.production.requests) throw new Error('the production slot\'s counters went backwards (was it reloaded?)');
      if (r.canary && r.canary.requests < s0.canary.requests) throw new Error('the canary slot\'s counters went backwards (was it reloaded?)');
      if (r.production) production = { requests: r.production.requests - s0.production.requests, errors: r.production.errors - s0.production.errors, latenciesMs: r.production.latenciesMs };
      if (r.canary) {
        canary = { requests: r.canary.requests - s0.canary.requests, errors: r.canary.errors - s0.canary.errors, latenciesMs: r.canary.latenciesMs };
        newCanary = r.canary.requests - this.lastCanaryRequests;
        canaryRequests = r.canary.requests;
      }
    } catch (e) {
      sourceError = (e as Error).message;
    }
    if (gen !== this.generation || TERMINAL.has(this.state)) return; // paused or ended meanwhile
    const j = judgeLook({ config: c, plannedLooks: this.planned, production, canary, newCanaryRequests: newCanary, ...(sourceError !== undefined ? { sourceError } : {}) });
    this.lastCanaryRequests = canaryRequests;
    const look: CanaryLook = {
      index: this.looks.length + 1,
      phase,
      percent: this.percent,
      at: iso(this.o.clock.now()),
      pass: j.pass,
      alpha: j.alpha,
      confidence: j.confidence,
      checks: j.checks,
      canary: j.canary,
      production: j.production,
    };
    this.looks.push(look);
    this.audit('canary.look', { id: this.o.id, look });
    this.o.logger?.info({ canary: this.o.id, look: look.index, phase, percent: look.percent, pass: look.pass, failed: j.failed?.id ?? null }, 'canary look');
    if (!j.pass) {
      const f = j.failed!;
      const where = phase === 'monitor' ? `monitor look ${look.index} of ${this.planned} (after promotion)` : `look ${look.index} of ${this.planned} at ${look.percent}%`;
      await this.end('rolled_back', `${where} failed the ${f.id} check: ${f.note}`, f);
      return;
    }
    if (phase === 'ramp') {
      if (this.stepIndex < c.steps.length - 1) {
        this.stepIndex++;
        this.setPercent(c.steps[this.stepIndex]!);
        this.schedule(c.intervalMs);
        this.emit();
        return;
      }
      await this.promote();
      return;
    }
    this.monitorDone++;
    if (this.monitorDone >= monitorLooks(c)) {
      this.state = 'completed';
      this.outcome = `promoted at ${this.promotedAt}; the monitor passed ${this.monitorDone} look${this.monitorDone === 1 ? '' : 's'} over ${c.monitorWindowMs} ms`;
      this.audit('canary.completed', { id: this.o.id, outcome: this.outcome });
      this.finish();
      return;
    }
    this.schedule(c.intervalMs);
    this.emit();
  }

  private async promote(): Promise<void> {
    this.promoting = true;
    try {
      const p = await this.o.lifecycle.promote();
      this.promotedAt = p.at;
    } catch (e) {
      this.promoting = false;
      if (TERMINAL.has(this.state)) return;
      await this.end('rolled_back', `every look passed, but the promotion was refused: ${(e as Error).message}`, null);
      return;
    }
    this.promoting = false;
    this.audit('canary.promoted', { id: this.o.id, candidate: this.o.candidate, at: this.promotedAt, looks: this.looks.length });
    if (TERMINAL.has(this.state)) {
      // Aborted while the promotion was being written: undo it, the abort asked for production as it was.
      try {
        await this.o.lifecycle.rollback(`canary ${this.state}: ${this.outcome ?? 'stopped'} (during its promotion)`);
      } catch (e) {
        this.outcome = `${this.outcome ?? ''} (the promotion landed during the abort and its rollback failed: ${(e as Error).message}; run \`switchyard rollback ${this.o.policy}\`)`;
        this.emit();
      }
      return;
    }
    if (monitorLooks(this.o.config) === 0) {
      this.state = 'completed';
      this.outcome = `promoted at ${this.promotedAt} after ${this.looks.length} passing looks (no monitor window)`;
      this.finish();
      return;
    }
    this.state = 'monitoring';
    this.schedule(this.o.config.intervalMs);
    this.emit();
  }

  /** Roll back (traffic at once; the registry too after a promotion), record why, and stop. */
  private async end(state: 'rolled_back' | 'aborted', why: string, failed: LookCheck | null): Promise<void> {
    this.cancelTimer();
    const wasPromoted = this.promotedAt !== null;
    this.state = state;
    this.pausedFrom = null;
    this.outcome = why;
    this.failedCheck = failed;
    try {
      this.o.traffic.allToProduction();
    } catch (e) {
      this.outcome += ` (moving traffic back failed: ${(e as Error).message})`;
    }
    this.percent = 0;
    if (wasPromoted) {
      try {
        await this.o.lifecycle.rollback(`canary ${state === 'aborted' ? 'aborted' : 'rolled back'}: ${why}`);
      } catch (e) {
        this.outcome += ` (the registry rollback failed: ${(e as Error).message}; run \`switchyard rollback ${this.o.policy}\`)`;
      }
    }
    this.audit(state === 'aborted' ? 'canary.aborted' : 'canary.rolled_back', { id: this.o.id, candidate: this.o.candidate, reason: this.outcome, failedCheck: failed, promoted: wasPromoted });
    this.o.logger?.warn({ canary: this.o.id, state, reason: this.outcome }, `canary ${state === 'aborted' ? 'aborted' : 'rolled back'}`);
    this.finish();
  }

  /** The audit log is the record, but a failing write must not stop a rollback. */
  private audit(action: string, detail: Record<string, unknown>): void {
    try {
      this.o.lifecycle.audit(action, detail);
    } catch (e) {
      this.o.logger?.error({ err: String(e), action }, 'canary audit write failed');
    }
  }

  private finish(): void {
    this.cancelTimer();
    this.emit();
    this.settle();
  }

  private emit(): CanaryStatus {
    this.updatedAt = iso(this.o.clock.now());
    const s = this.status();
    try {
      this.o.onProgress?.(s);
    } catch (e) {
      this.o.logger?.error({ err: String(e) }, 'canary progress listener failed');
    }
    return s;
  }
}
