/**
 * Issue 12 with real ONNX workers and a real store: one rule for what a stage change does to a
 * running two-policy server (a promotion of a slot's version moves traffic like a rollback does,
 * with its cause on the state), the bounded serving history with events, and a console restart
 * that serves the same versions as before instead of re-resolving `@candidate`.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stageChangeTrafficEffect, type ServingEvent, type ServingState } from '../contract/index.js';
import { startConsoleSession } from '../console-session.js';
import { createEngine, type Engine } from '../engine.js';
import { createMemoryLogger } from '../platform/logger.js';
import { createDemoEngine } from '../../test-support/demo-engine.js';
import { contractCaller } from '../../test-support/lifecycle-fixtures.js';
import { ServingJournal, HOUR_MS } from './serving-journal.js';

const DEMO = 'cartpole-balance';
let engine: Engine;
let dir: string;
let cleanup: () => Promise<void>;
let call: ReturnType<typeof contractCaller>;
const events: ServingEvent[] = [];

beforeAll(async () => {
  const ctx = await createDemoEngine();
  engine = ctx.engine;
  dir = ctx.dir;
  cleanup = ctx.cleanup;
  call = contractCaller(engine.api);
  engine.events.on('serving.event', (e) => events.push(e));
  await startConsoleSession(engine);
}, 180_000);

afterAll(async () => {
  await cleanup();
});

const slotRef = (st: ServingState, slot: string) => st.slots.find((s) => s.slot === slot)?.versionRef;

describe('a stage change on a running two-policy console', () => {
  it('the console serves production in A and the newest candidate in B, resolved to labels and stored', () => {
    const st = engine.serving.state();
    expect(st.mode).toBe('ab');
    expect(slotRef(st, 'a')).toBe(`${DEMO}@1.0.0`);
    expect(slotRef(st, 'b')).toBe(`${DEMO}@2.0.0-iter`);
    expect(st.lastSplitChange).toMatchObject({ cause: 'start', split: 50 });
    expect(engine.journal.loadConsoleConfig()).toEqual({ a: `${DEMO}@1.0.0`, b: `${DEMO}@2.0.0-iter`, split: 50 });
    expect(events.map((e) => e.kind)).toContain('start');
  });

  it('a promotion to staging moves nothing and says so', async () => {
    const r = await call('lifecycle.promote', { version: `${DEMO}@2.0.0-iter`, to: 'staging', force: true, reason: 'test', actor: 'test' });
    expect(r.ok && r.value.traffic.moved).toBe(false);
    expect(engine.serving.state().split).toBe(50);
  });

  it('the confirmation rule predicts, and the promotion to production does, what a rollback does: every request to the slot', async () => {
    const before = engine.serving.state();
    const effect = stageChangeTrafficEffect(before, { policy: DEMO, to: 'production', version: `${DEMO}@2.0.0-iter`, replaced: `${DEMO}@1.0.0` });
    expect(effect).toMatchObject({ moves: true, slot: 'b', how: 'route-all' });
    const r = await call('lifecycle.promote', { version: `${DEMO}@2.0.0-iter`, to: 'production', force: true, reason: 'test', actor: 'test' });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.traffic).toMatchObject({ moved: true, how: 'split: every request to slot b' });
    const st = engine.serving.state();
    expect(st.split).toBe(0);
    expect(st.lastSplitChange).toMatchObject({ cause: 'promote', split: 0, allEpisodes: true });
    // An episode that started on A before the promotion is on B now.
    const answers = await Promise.all([0, 1, 2, 3, 4].map((i) => engine.serving.act({ episode_id: `ep-${i}`, state: [0, 0, 0.01, 0] }, `r${i}`)));
    expect(new Set(answers.map((a) => a.slot))).toEqual(new Set(['b']));
    expect(events.filter((e) => e.kind === 'promote' || e.kind === 'split').length).toBeGreaterThanOrEqual(2);
  });

  it('a rollback moves every request back, with its cause', async () => {
    const r = await call('lifecycle.rollback', { policy: DEMO, reason: 'test', actor: 'test' });
    expect(r.ok && r.value.traffic.moved).toBe(true);
    const st = engine.serving.state();
    expect(st.split).toBe(100);
    expect(st.lastSplitChange).toMatchObject({ cause: 'rollback', allEpisodes: true });
    expect(st.lastSplitChange?.detail).toContain('1.0.0');
    expect(events.at(-1)?.kind === 'rollback' || events.some((e) => e.kind === 'rollback')).toBe(true);
  });

  it('an operator split is stored and annotated as the operator\'s', async () => {
    const r = await call('serving.setSplit', { split: 80 });
    expect(r.ok && r.value.lastSplitChange).toMatchObject({ cause: 'operator', split: 80, allEpisodes: false });
    expect(engine.journal.loadConsoleConfig()).toMatchObject({ split: 80 });
  });

  it('history returns the pushed samples and the events, oldest first', async () => {
    engine.pushStats();
    engine.pushStats();
    const h = await call('serving.history', {});
    expect(h.ok).toBe(true);
    if (!h.ok) return;
    expect(h.value.samples.length).toBe(2);
    expect(h.value.retentionMs).toBeGreaterThanOrEqual(HOUR_MS);
    expect(h.value.events.map((e) => e.kind)).toEqual(events.map((e) => e.kind));
  });

  it('after a restart the console serves the same versions and split, though the newest candidate changed', async () => {
    const storePath = join(dir, 'store.db');
    await engine.close();
    // 2.0.0-iter left candidate: re-resolving `@candidate` would now give another version.
    const again = await createEngine({ storePath, statsIntervalMs: 0, logger: createMemoryLogger(), device: 'cpu' });
    try {
      await startConsoleSession(again);
      const st = again.serving.state();
      expect(slotRef(st, 'a')).toBe(`${DEMO}@1.0.0`);
      expect(slotRef(st, 'b')).toBe(`${DEMO}@2.0.0-iter`);
      expect(st.split).toBe(80);
      // Event markers survive the restart (they are in the store); a new start is one more.
      const h = again.journal.history();
      expect(h.events.filter((e) => e.kind === 'start').length).toBe(2);
      expect(h.events.some((e) => e.kind === 'rollback')).toBe(true);
    } finally {
      await again.close();
    }
  }, 180_000);
});

describe('ServingJournal', () => {
  it('keeps at least an hour of samples at the interval and forgets older ones', async () => {
    const ctx = await createEngine({ storePath: ':memory:', statsIntervalMs: 0, logger: createMemoryLogger() });
    try {
      let now = Date.UTC(2026, 0, 1);
      const clock = { now: () => now, monotonicMs: () => now };
      const j = new ServingJournal({ db: ctx.db, clock, logger: ctx.logger, intervalMs: 1000 });
      const total = 3600 + 600;
      for (let i = 0; i < total; i++) {
        j.addSample({ at: new Date(now).toISOString(), windowMs: 1000, slots: [] });
        now += 1000;
      }
      const h = j.history();
      expect(h.samples.length).toBe(3600);
      expect(Date.parse(h.samples[0]!.at)).toBe(now - 3600_000);
      expect(j.history(60_000).samples.length).toBe(60);
    } finally {
      await ctx.close();
    }
  });
});
