import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCodes, SwitchyardError } from '../contract/errors.js';
import { runGate } from '../eval/gate.js';
import { importResults } from '../eval/import-results.js';
import { openDatabase, type Db } from '../store/database.js';
import { EvalStore } from '../store/eval-store.js';
import { Registry } from '../store/registry.js';
import { handClock, LAB, LAB_SUITE, labWorkspace, type LabWorkspace } from '../../test-support/lifecycle-fixtures.js';
import { LifecycleService, type LifecycleChange } from './lifecycle-service.js';

let dir: string;
let ws: LabWorkspace;
let clock: ReturnType<typeof handClock>;
let svc: LifecycleService;
let evalStore: EvalStore;
let changes: LifecycleChange[];
const extraDbs: Db[] = [];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'swy-lifecycle-'));
  clock = handClock();
  ws = await labWorkspace(dir, { clock, failing: ['1.3.0'] });
  evalStore = new EvalStore(ws.db, clock);
  changes = [];
  svc = new LifecycleService({ db: ws.db, registry: ws.registry, evalStore, clock, onChange: (c) => changes.push(c) });
});

afterEach(() => {
  for (const d of extraDbs.splice(0)) d.close();
  ws.db.close();
  rmSync(dir, { recursive: true, force: true });
});

async function gate(rules: string, label: string) {
  clock.tick();
  return runGate({ registry: ws.registry, evalStore, rulesText: readFileSync(rules, 'utf8'), rulesFile: rules, candidate: `${LAB}@${label}` });
}

async function error(p: Promise<unknown> | (() => unknown)): Promise<SwitchyardError> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    expect(e).toBeInstanceOf(SwitchyardError);
    return e as SwitchyardError;
  }
  throw new Error('expected a SwitchyardError');
}

const stage = (label: string) => ws.registry.getVersion(LAB, label).stage;
const rows = (sql: string, ...args: unknown[]) => ws.db.prepare(sql).all(...args) as Record<string, unknown>[];

/** candidate -> staging -> production with fresh GO verdicts. */
async function promoteToProduction(label: string) {
  await gate(ws.rulesC2S, label);
  clock.tick();
  await svc.promote({ version: `${LAB}@${label}`, to: 'staging', actor: 'ops' });
  await gate(ws.rulesS2P, label);
  clock.tick();
  return svc.promote({ version: `${LAB}@${label}`, to: 'production', actor: 'ops' });
}

describe('promote', () => {
  it('needs a GO verdict for the transition; records the verdict id; answers with the version, the time and what it replaced', async () => {
    const none = await error(svc.promote({ version: `${LAB}@1.1.0`, to: 'staging', actor: 'ops' }));
    expect(none.code).toBe(ErrorCodes.SWY_ERR_VERDICT_REQUIRED);
    expect(none.message).toContain('lab@1.1.0 has no candidate->staging verdict');

    const g1 = await gate(ws.rulesC2S, '1.1.0');
    expect(g1.verdict).toBe('GO');
    clock.tick();
    const s = await svc.promote({ version: `${LAB}@1.1.0`, to: 'staging', actor: 'ops' });
    expect(s).toMatchObject({ policy: LAB, from: 'candidate', to: 'staging', verdictId: g1.verdictId, forced: false, replaced: null, reason: `GO verdict #${g1.verdictId} for candidate->staging` });
    expect(s.at).toBe(new Date(clock.t).toISOString());

    // staging -> production needs its own transition's verdict.
    const wrong = await error(svc.promote({ version: `${LAB}@1.1.0`, to: 'production', actor: 'ops' }));
    expect(wrong.message).toContain('has no staging->production verdict');
    const g2 = await gate(ws.rulesS2P, '1.1.0');
    clock.tick();
    const p = await svc.promote({ version: `${LAB}@1.1.0`, to: 'production', actor: 'ops' });
    expect(p.version).toMatchObject({ label: '1.1.0', stage: 'production', productionSince: p.at });
    expect(p.replaced).toMatchObject({ label: '1.0.0', stage: 'staging' });
    expect(p.verdictId).toBe(g2.verdictId);
    expect(stage('1.0.0')).toBe('staging');

    const hist = rows("SELECT v.label, h.from_stage, h.to_stage, h.action, h.verdict_id, h.forced, h.reason FROM stage_history h JOIN versions v ON v.id = h.version_id WHERE h.action = 'promote' ORDER BY h.id");
    expect(hist).toEqual([
      { label: '1.1.0', from_stage: 'candidate', to_stage: 'staging', action: 'promote', verdict_id: g1.verdictId, forced: 0, reason: `GO verdict #${g1.verdictId} for candidate->staging` },
      { label: '1.0.0', from_stage: 'production', to_stage: 'staging', action: 'promote', verdict_id: null, forced: 0, reason: 'replaced by 1.1.0' },
      { label: '1.1.0', from_stage: 'staging', to_stage: 'production', action: 'promote', verdict_id: g2.verdictId, forced: 0, reason: `GO verdict #${g2.verdictId} for staging->production` },
    ]);
    expect(changes.map((c) => [c.action, c.version, c.from, c.to, c.replaced])).toEqual([
      ['promote', 'lab@1.1.0', 'candidate', 'staging', null],
      ['promote', 'lab@1.1.0', 'staging', 'production', 'lab@1.0.0'],
    ]);
    const audit = rows("SELECT action, subject, detail FROM audit_log WHERE action = 'promote' ORDER BY id");
    expect(audit).toHaveLength(2);
    expect(JSON.parse(audit[1]!.detail as string)).toMatchObject({ from: 'staging', to: 'production', verdictId: g2.verdictId, replaced: '1.0.0' });
  });

  it('refuses a NO-GO verdict with its summary', async () => {
    const g = await gate(ws.rulesC2S, '1.3.0');
    expect(g.verdict).toBe('NO-GO');
    const e = await error(svc.promote({ version: `${LAB}@1.3.0`, to: 'staging', actor: 'ops' }));
    expect(e.code).toBe(ErrorCodes.SWY_ERR_VERDICT_REQUIRED);
    expect(e.message).toContain(`the newest candidate->staging verdict (#${g.verdictId}`);
    expect(e.message).toContain('is NO-GO: NO-GO: aggregate.min_pass_rate failed');
    expect(stage('1.3.0')).toBe('candidate');
  });

  it('refuses a verdict gone stale because production changed since', async () => {
    await promoteToProduction('1.1.0');
    await gate(ws.rulesC2S, '1.2.0');
    await svc.promote({ version: `${LAB}@1.2.0`, to: 'staging', actor: 'ops' });
    await gate(ws.rulesS2P, '1.2.0'); // against 1.1.0
    clock.tick();
    svc.rollback({ policy: LAB, actor: 'ops' }); // production is 1.0.0 again
    const e = await error(svc.promote({ version: `${LAB}@1.2.0`, to: 'production', actor: 'ops' }));
    expect(e.code).toBe(ErrorCodes.SWY_ERR_VERDICT_REQUIRED);
    expect(e.message).toContain('is stale: the baseline changed: verdict');
    expect(e.message).toContain('compared with lab@1.1.0, the baseline now is lab@1.0.0 (production now)');
    expect(e.message).toContain(`switchyard promote lab@1.2.0 --to production --rules ${ws.rulesS2P}`);
    // A fresh gate makes it promotable again.
    await gate(ws.rulesS2P, '1.2.0');
    expect((await svc.promote({ version: `${LAB}@1.2.0`, to: 'production', actor: 'ops' })).replaced?.label).toBe('1.0.0');
  });

  it('refuses a verdict whose rules file or suite changed; --force --reason records the override', async () => {
    const g = await gate(ws.rulesC2S, '1.1.0');
    appendFileSync(ws.rulesC2S, '# tightened later\n');
    const rulesChanged = await error(svc.promote({ version: `${LAB}@1.1.0`, to: 'staging', actor: 'ops' }));
    expect(rulesChanged.message).toMatch(new RegExp(`the rules file ${ws.rulesC2S.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} changed since verdict #${g.verdictId} \\(hash [0-9a-f]{12} then, [0-9a-f]{12} now\\)`));

    await gate(ws.rulesC2S, '1.1.0'); // fresh again with the new file
    // A new recording of the suite (new cases under the same name) makes the verdict stale too.
    evalStore.upsertSuiteRow({ fingerprint: 'f'.repeat(64), name: LAB_SUITE, environment: 'external', envVersion: 'external', path: null, caseCount: 41, slices: { core: 21, edge: 20 } });
    const suiteChanged = await error(svc.promote({ version: `${LAB}@1.1.0`, to: 'staging', actor: 'ops' }));
    expect(suiteChanged.message).toMatch(/the suite changed since verdict #\d+ \(fingerprint [0-9a-f]{12} then, ffffffffffff now\)/);

    const noReason = await error(svc.promote({ version: `${LAB}@1.1.0`, to: 'staging', actor: 'ops', force: true }));
    expect(noReason.code).toBe(ErrorCodes.SWY_ERR_INVALID_INPUT);
    expect(noReason.where).toBe('--reason');
    const latest = evalStore.latestVerdict({ candidateVersionId: ws.registry.getVersion(LAB, '1.1.0').id, transition: 'candidate->staging' })!;
    const forced = await svc.promote({ version: `${LAB}@1.1.0`, to: 'staging', actor: 'ops', force: true, reason: 'suite re-recorded by mistake; same cases' });
    expect(forced).toMatchObject({ forced: true, verdictId: latest.id, reason: 'suite re-recorded by mistake; same cases' });
    expect(forced.overridden[0]).toContain('the suite changed');
    const row = rows("SELECT forced, verdict_id, reason FROM stage_history WHERE action = 'promote'")[0]!;
    expect(row).toEqual({ forced: 1, verdict_id: latest.id, reason: 'suite re-recorded by mistake; same cases' });
    const audit = JSON.parse(rows("SELECT detail FROM audit_log WHERE action = 'promote'")[0]!.detail as string) as { forced: boolean; overridden: string[] };
    expect(audit.forced).toBe(true);
    expect(audit.overridden[0]).toContain('is stale');
  });

  it('a rules file that is gone leaves no verdict to rest on', async () => {
    await gate(ws.rulesC2S, '1.1.0');
    rmSync(ws.rulesC2S);
    const e = await error(svc.promote({ version: `${LAB}@1.1.0`, to: 'staging', actor: 'ops' }));
    expect(e.message).toContain(`the rules file ${ws.rulesC2S} cannot be read (the file is gone)`);
  });

  it('two operators promoting at once on two connections: one wins, the other gets SWY_ERR_CONFLICT and writes nothing', async () => {
    for (const l of ['1.1.0', '1.2.0']) {
      await gate(ws.rulesC2S, l);
      await svc.promote({ version: `${LAB}@${l}`, to: 'staging', actor: 'ops' });
      await gate(ws.rulesS2P, l);
    }
    const other = openDatabase(ws.storePath);
    extraDbs.push(other);
    const svc2 = new LifecycleService({ db: other, registry: new Registry(other, clock), evalStore: new EvalStore(other, clock), clock });
    const before = rows('SELECT COUNT(*) AS n FROM stage_history')[0]!.n as number;
    const results = await Promise.allSettled([
      svc.promote({ version: `${LAB}@1.1.0`, to: 'production', actor: 'alice' }),
      svc2.promote({ version: `${LAB}@1.2.0`, to: 'production', actor: 'bob' }),
    ]);
    // Which promote commits first depends on when each one's file reads finish; the contract is
    // that exactly one wins and the other is refused naming the winner, whichever it is.
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual(['fulfilled', 'rejected']);
    const winner = results[0]!.status === 'fulfilled' ? { label: '1.1.0', actor: 'alice', loser: '1.2.0' } : { label: '1.2.0', actor: 'bob', loser: '1.1.0' };
    const e = (results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason as SwitchyardError;
    expect(e.code).toBe(ErrorCodes.SWY_ERR_CONFLICT);
    expect(e.message).toBe(
      `The production version of lab changed while this promote was being decided: it is now ${winner.label} (promoted by ${winner.actor} at ${new Date(clock.t).toISOString()}), not 1.0.0. Someone else changed it first; nothing was written. Look at \`switchyard history lab\` and decide again.`,
    );
    expect(rows('SELECT COUNT(*) AS n FROM stage_history')[0]!.n).toBe(before + 2);
    expect(rows("SELECT label FROM versions WHERE stage = 'production'")).toEqual([{ label: winner.label }]);
    expect(stage(winner.loser)).toBe('staging');
  });

  it('expectedProduction: a promotion decided on an older view of production is refused', async () => {
    await gate(ws.rulesC2S, '1.1.0');
    const e = await error(svc.promote({ version: `${LAB}@1.1.0`, to: 'staging', actor: 'ops', expectedProduction: '0.9.0' }));
    expect(e.code).toBe(ErrorCodes.SWY_ERR_CONFLICT);
    expect(e.message).toContain('The production version of lab is 1.0.0, not 0.9.0 as this promotion expected');
    await svc.promote({ version: `${LAB}@1.1.0`, to: 'staging', actor: 'ops', expectedProduction: '1.0.0' });
    expect(stage('1.1.0')).toBe('staging');
  });
});

describe('rollback', () => {
  it('walks back through the production timeline, answering when each version was last production', async () => {
    const p1 = await promoteToProduction('1.1.0');
    const p2 = await promoteToProduction('1.2.0');
    clock.tick(60_000);
    const r1 = svc.rollback({ policy: LAB, actor: 'ops', reason: 'error spike' });
    expect(r1.restored).toMatchObject({ label: '1.1.0', stage: 'production' });
    expect(r1.replaced).toMatchObject({ label: '1.2.0', stage: 'staging' });
    expect(r1.lastProduction).toEqual({ from: p1.at, until: p2.at });
    expect(r1.reason).toBe('error spike');
    clock.tick(60_000);
    const r2 = svc.rollback({ policy: LAB, actor: 'ops' });
    expect(r2.restored.label).toBe('1.0.0');
    expect(r2.replaced.label).toBe('1.1.0');
    expect(r2.reason).toBe('rollback from 1.1.0');
    const e = await error(() => svc.rollback({ policy: LAB, actor: 'ops' }));
    expect(e.code).toBe(ErrorCodes.SWY_ERR_NOT_FOUND);
    expect(e.message).toBe('lab has no earlier production version to roll back to: 1.0.0 is the first in its production timeline (archived versions are skipped). Promote another version instead.');
    const hist = rows("SELECT v.label, h.from_stage, h.to_stage, h.reason FROM stage_history h JOIN versions v ON v.id = h.version_id WHERE h.action = 'rollback' ORDER BY h.id");
    expect(hist).toEqual([
      { label: '1.2.0', from_stage: 'production', to_stage: 'staging', reason: 'rolled back to 1.1.0: error spike' },
      { label: '1.1.0', from_stage: 'staging', to_stage: 'production', reason: 'error spike' },
      { label: '1.1.0', from_stage: 'production', to_stage: 'staging', reason: 'rolled back to 1.0.0: rollback from 1.1.0' },
      { label: '1.0.0', from_stage: 'staging', to_stage: 'production', reason: 'rollback from 1.1.0' },
    ]);
    expect(changes.filter((c) => c.action === 'rollback').map((c) => [c.version, c.replaced])).toEqual([
      ['lab@1.1.0', 'lab@1.2.0'],
      ['lab@1.0.0', 'lab@1.1.0'],
    ]);
  });

  it('refuses a policy without a production version, and an unknown policy', async () => {
    const file = join(dir, 'solo.jsonl');
    writeFileSync(file, JSON.stringify({ suite: 'solo-suite', version: 'solo@1.0.0', case_id: 'a', slices: ['x'], pass: true, graders: { ok: true } }) + '\n');
    await importResults(file, { db: ws.db, clock });
    const none = await error(() => svc.rollback({ policy: 'solo', actor: 'ops' }));
    expect(none.code).toBe(ErrorCodes.SWY_ERR_CONFLICT);
    expect(none.message).toContain('solo has no production version, so there is nothing to roll back');
    const unknown = await error(() => svc.rollback({ policy: 'nope', actor: 'ops' }));
    expect(unknown.code).toBe(ErrorCodes.SWY_ERR_NOT_FOUND);
    expect(unknown.message).toContain('No policy named nope in the store (registered: lab, solo)');
  });

  it('expectedProduction guards a rollback decided on an older view', async () => {
    await promoteToProduction('1.1.0');
    const e = await error(() => svc.rollback({ policy: LAB, actor: 'ops', expectedProduction: '1.0.0' }));
    expect(e.code).toBe(ErrorCodes.SWY_ERR_CONFLICT);
    expect(svc.rollback({ policy: LAB, actor: 'ops', expectedProduction: '1.1.0' }).restored.label).toBe('1.0.0');
  });
});

describe('archive guards', () => {
  it('refuse the production version and the last 3 that were production, naming the rule; allow the rest', async () => {
    await promoteToProduction('1.1.0');
    await promoteToProduction('1.2.0');
    const prodErr = await error(() => svc.archive({ version: `${LAB}@1.2.0`, actor: 'ops' }));
    expect(prodErr.code).toBe(ErrorCodes.SWY_ERR_PROTECTED_VERSION);
    expect(prodErr.message).toContain('is the production version and cannot be archived (rule: production is protected)');
    const former = await error(() => svc.archive({ version: `${LAB}@1.0.0`, actor: 'ops' }));
    expect(former.message).toMatch(/^lab@1\.0\.0 cannot be archived: it is one of the last 3 versions that were production \(#2 most recent, production until .+\)\. The guard keeps/);
    // A candidate that was never production may be archived; the change is recorded like any other.
    clock.tick();
    const a = svc.archive({ version: `${LAB}@1.3.0`, actor: 'ops', reason: 'superseded' });
    expect(a).toMatchObject({ from: 'candidate', reason: 'superseded', version: { stage: 'archived' } });
    expect(rows("SELECT to_stage, action, reason FROM stage_history WHERE action = 'archive'")).toEqual([{ to_stage: 'archived', action: 'archive', reason: 'superseded' }]);
    // Archiving again: already archived.
    expect((await error(() => svc.archive({ version: `${LAB}@1.3.0`, actor: 'ops' }))).code).toBe(ErrorCodes.SWY_ERR_CONFLICT);
  });

  it('the 4th most recent former production version is no longer protected; rollback skips archived versions', async () => {
    const labs = await labWorkspace(join(dir, 'more'), { clock, versions: ['1.1.0', '1.2.0', '1.3.0', '1.4.0'] });
    extraDbs.push(labs.db);
    const s = new LifecycleService({ db: labs.db, registry: labs.registry, evalStore: new EvalStore(labs.db, clock), clock });
    for (const l of ['1.1.0', '1.2.0', '1.3.0', '1.4.0']) {
      clock.tick();
      await s.promote({ version: `${LAB}@${l}`, to: 'staging', actor: 'ops', force: true, reason: 'test' });
      clock.tick();
      await s.promote({ version: `${LAB}@${l}`, to: 'production', actor: 'ops', force: true, reason: 'test' });
    }
    // Production 1.4.0; former: 1.3.0, 1.2.0, 1.1.0 protected; 1.0.0 is the 4th.
    clock.tick();
    expect(s.archive({ version: `${LAB}@1.0.0`, actor: 'ops' }).version.stage).toBe('archived');
    for (const l of ['1.1.0', '1.2.0', '1.3.0']) expect((await error(() => s.archive({ version: `${LAB}@${l}`, actor: 'ops' }))).code).toBe(ErrorCodes.SWY_ERR_PROTECTED_VERSION);
    // Walk back: 1.3.0, 1.2.0, 1.1.0, then 1.0.0 is archived: nowhere left.
    expect(s.rollback({ policy: LAB, actor: 'ops' }).restored.label).toBe('1.3.0');
    expect(s.rollback({ policy: LAB, actor: 'ops' }).restored.label).toBe('1.2.0');
    expect(s.rollback({ policy: LAB, actor: 'ops' }).restored.label).toBe('1.1.0');
    expect((await error(() => s.rollback({ policy: LAB, actor: 'ops' }))).code).toBe(ErrorCodes.SWY_ERR_NOT_FOUND);
  });
});

describe('history', () => {
  it('lists every stage change and answers what was production at any time', async () => {
    const start = clock.t;
    clock.tick(3_600_000);
    const p = await promoteToProduction('1.1.0');
    clock.tick(3_600_000);
    const r = svc.rollback({ policy: LAB, actor: 'ops', reason: 'latency' });
    const h = svc.history(LAB);
    expect(h.map((e) => [e.label, e.from, e.to, e.action])).toEqual([
      ['1.0.0', null, 'candidate', 'stage'],
      ['1.1.0', null, 'candidate', 'stage'],
      ['1.2.0', null, 'candidate', 'stage'],
      ['1.3.0', null, 'candidate', 'stage'],
      ['1.0.0', 'candidate', 'production', 'stage'],
      ['1.1.0', 'candidate', 'staging', 'promote'],
      ['1.0.0', 'production', 'staging', 'promote'],
      ['1.1.0', 'staging', 'production', 'promote'],
      ['1.1.0', 'production', 'staging', 'rollback'],
      ['1.0.0', 'staging', 'production', 'rollback'],
    ]);
    expect(h[7]).toMatchObject({ actor: 'ops', verdictId: p.verdictId, forced: false, at: p.at });

    const before = svc.productionAt(LAB, start - 86_400_000);
    expect(before.production).toBeNull();
    expect(before.message).toBe(`lab had no production version at ${new Date(start - 86_400_000).toISOString()}: its first production version, 1.0.0, became production at ${h[4]!.at}.`);
    expect(svc.productionAt(LAB, Date.parse(p.at) - 1).production?.label).toBe('1.0.0');
    const mid = svc.productionAt(LAB, Date.parse(p.at) + 1000);
    expect(mid).toMatchObject({ production: { label: '1.1.0' }, since: p.at, until: r.at });
    expect(mid.message).toContain(`was 1.1.0 (`);
    expect(mid.message).toContain(`production from ${p.at} until ${r.at}.`);
    expect(svc.productionAt(LAB, Date.parse(r.at)).message).toContain('and still is');
    expect((await error(() => svc.history('nope'))).code).toBe(ErrorCodes.SWY_ERR_NOT_FOUND);
  });

  it('stage_history is append-only in the store itself', () => {
    expect(() => ws.db.prepare("UPDATE stage_history SET reason = 'x'").run()).toThrow(/append-only/);
    expect(() => ws.db.prepare('DELETE FROM stage_history').run()).toThrow(/append-only/);
  });
});
