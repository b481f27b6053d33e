// @vitest-environment node
import { describe, expect, it } from 'vitest';
import type { HistoryEntry, VerdictSummary } from '@contract';
import { rulesFile, suiteSummary, version } from '../testing/fixtures';
import {
  canConfirm,
  defaultTarget,
  defaultVersion,
  hintFor,
  latestVerdict,
  normalizeAtInput,
  overrideWhy,
  productionSpans,
  productionStack,
  reasonRequired,
  rollbackTarget,
  rulesForTransition,
  stageMove,
  timelineOrder,
  verdictStaleness,
} from './lifecycle-logic';

const P = 'cartpole-balance';
let nextId = 1;

function entry(label: string, from: HistoryEntry['from'], to: HistoryEntry['to'], action: HistoryEntry['action'] = 'promote', at?: string): HistoryEntry {
  const id = nextId++;
  return { id, at: at ?? new Date(Date.UTC(2025, 0, 1, 0, id)).toISOString(), policy: P, label, from, to, action, actor: 'api', reason: '', verdictId: null, forced: false };
}

/** Promotes `label` to production, sending the current one back to staging (as core writes it). */
function promoteToProduction(history: HistoryEntry[], label: string, current: string | null): void {
  if (current !== null) history.push(entry(current, 'production', 'staging'));
  history.push(entry(label, 'staging', 'production'));
}

function rollbackTo(history: HistoryEntry[], label: string, current: string): void {
  history.push(entry(current, 'production', 'staging', 'rollback'));
  history.push(entry(label, 'staging', 'production', 'rollback'));
}

function verdict(overrides: Partial<VerdictSummary> = {}): VerdictSummary {
  return {
    id: 7,
    policy: P,
    candidate: `${P}@2.0.0`,
    baseline: `${P}@1.0.0`,
    transition: 'candidate->staging',
    suite: 'cartpole-frozen-v1',
    suiteFingerprint: suiteSummary().fingerprint,
    rulesHash: 'abc',
    rulesFile: '/demo/rules/candidate-to-staging.yaml',
    verdict: 'GO',
    summary: 'GO: all 9 rules passed',
    rules: [],
    failingCases: [],
    createdAt: '2025-01-02T00:00:00.000Z',
    ...overrides,
  };
}

describe('stage moves', () => {
  it('allows candidate/archived → staging and staging → production only', () => {
    expect(stageMove('2.0.0', 'candidate', 'staging')).toEqual({ ok: true, transition: 'candidate->staging' });
    expect(stageMove('2.0.0', 'archived', 'staging')).toEqual({ ok: true, transition: 'candidate->staging' });
    expect(stageMove('2.0.0', 'staging', 'production')).toEqual({ ok: true, transition: 'staging->production' });
    const skip = stageMove('2.0.0', 'candidate', 'production');
    expect(skip.ok).toBe(false);
    expect(skip.ok ? '' : skip.why).toMatch(/Promote it to staging first/);
    expect(stageMove('1.0.0', 'production', 'production').ok).toBe(false);
    expect(stageMove('1.0.0', 'production', 'staging').ok).toBe(false);
    expect(stageMove('1.1.0', 'staging', 'staging').ok).toBe(false);
  });

  it('defaults the target to the next stage and the version to the newest staging, else candidate', () => {
    expect(defaultTarget('candidate')).toBe('staging');
    expect(defaultTarget('staging')).toBe('production');
    const prod = version({ label: '1.0.0', stage: 'production' });
    const c1 = version({ label: '1.1.0', stage: 'candidate' });
    const c2 = version({ label: '2.0.0', stage: 'candidate' });
    const s1 = version({ label: '1.2.0', stage: 'staging' });
    expect(defaultVersion([prod, c1, c2])?.label).toBe('2.0.0');
    expect(defaultVersion([prod, s1, c1, c2])?.label).toBe('1.2.0');
    expect(defaultVersion([prod])).toBeNull();
  });
});

describe('the rollback target, derived from the history', () => {
  it('has nowhere to go from the first production version', () => {
    const h = [entry('1.0.0', null, 'candidate', 'stage'), entry('1.0.0', 'candidate', 'production', 'stage')];
    expect(rollbackTarget(h, [version({ label: '1.0.0', stage: 'production' })], '1.0.0')).toBeNull();
  });

  it('is the production version before the current one', () => {
    const h = [entry('1.0.0', 'candidate', 'production', 'stage')];
    promoteToProduction(h, '2.0.0', '1.0.0');
    const t = rollbackTarget(h, [version({ label: '1.0.0', stage: 'staging' }), version({ label: '2.0.0', stage: 'production' })], '2.0.0');
    expect(t?.label).toBe('1.0.0');
    expect(t?.current).toBe('2.0.0');
    expect(t?.skipped).toEqual([]);
    // Its newest production span ended when it left production for 2.0.0.
    expect(t?.lastProduction?.until).toBe(h[h.length - 2]?.at);
  });

  it('walks back down the stack: promotions A, B, C then rollbacks give B, then A, then nothing', () => {
    const h: HistoryEntry[] = [entry('A', 'candidate', 'production', 'stage')];
    promoteToProduction(h, 'B', 'A');
    promoteToProduction(h, 'C', 'B');
    const versions = ['A', 'B', 'C'].map((label) => version({ label, stage: 'staging' }));
    expect(productionStack(h)).toEqual(['A', 'B', 'C']);
    expect(rollbackTarget(h, versions, 'C')?.label).toBe('B');
    rollbackTo(h, 'B', 'C');
    expect(productionStack(h)).toEqual(['A', 'B']);
    expect(rollbackTarget(h, versions, 'B')?.label).toBe('A');
    rollbackTo(h, 'A', 'B');
    expect(rollbackTarget(h, versions, 'A')).toBeNull();
  });

  it('skips archived versions', () => {
    const h: HistoryEntry[] = [entry('A', 'candidate', 'production', 'stage')];
    promoteToProduction(h, 'B', 'A');
    promoteToProduction(h, 'C', 'B');
    const versions = [version({ label: 'A', stage: 'staging' }), version({ label: 'B', stage: 'archived' }), version({ label: 'C', stage: 'production' })];
    const t = rollbackTarget(h, versions, 'C');
    expect(t?.label).toBe('A');
    expect(t?.skipped).toEqual(['B']);
  });

  it('knows every span of production', () => {
    const h: HistoryEntry[] = [entry('A', 'candidate', 'production', 'stage')];
    promoteToProduction(h, 'B', 'A');
    rollbackTo(h, 'A', 'B');
    const spans = productionSpans(h);
    expect(spans.map((s) => [s.label, s.until === null])).toEqual([
      ['A', false],
      ['B', false],
      ['A', true],
    ]);
  });

  it('orders the timeline newest first', () => {
    const a = entry('A', null, 'candidate', 'stage');
    const b = entry('B', null, 'candidate', 'stage');
    expect(timelineOrder([a, b]).map((e) => e.label)).toEqual(['B', 'A']);
  });
});

describe('verdicts and the reason an override needs', () => {
  const rules = [rulesFile({ path: '/demo/rules/candidate-to-staging.yaml', hash: 'abc' }), rulesFile({ path: '/demo/rules/staging-to-production.yaml', transition: 'staging->production', hash: 'def' })];
  const suites = [suiteSummary()];
  const facts = { rules, suites, productionRef: `${P}@1.0.0` };

  it('picks the newest verdict for the version and transition', () => {
    const vs = [verdict({ id: 3 }), verdict({ id: 9, transition: 'staging->production' }), verdict({ id: 5 }), verdict({ id: 11, candidate: `${P}@1.1.0` })];
    expect(latestVerdict(vs, `${P}@2.0.0`, 'candidate->staging')?.id).toBe(5);
    expect(latestVerdict(vs, `${P}@2.0.0`, 'staging->production')?.id).toBe(9);
    expect(latestVerdict(vs, `${P}@1.2.0`, 'candidate->staging')).toBeNull();
  });

  it('offers the rules of the transition, the verdict\u2019s file first', () => {
    const more = [...rules, rulesFile({ path: '/x/strict.yaml', name: 'strict.yaml', hash: 'zzz' }), rulesFile({ path: '/x/bad.yaml', error: { code: 'SWY_ERR_CONFIG', message: 'bad' } })];
    expect(rulesForTransition(more, 'candidate->staging').map((r) => r.path)).toEqual(['/demo/rules/candidate-to-staging.yaml', '/x/strict.yaml']);
    expect(rulesForTransition(more, 'candidate->staging', '/x/strict.yaml')[0]?.path).toBe('/x/strict.yaml');
  });

  it('a GO that holds needs no reason', () => {
    const v = verdict();
    const stale = verdictStaleness(v, facts);
    expect(stale).toEqual([]);
    expect(reasonRequired({ verdict: v, stale, refused: false })).toBe(false);
    expect(overrideWhy(v, stale, null)).toBeNull();
    expect(canConfirm(false, '')).toBe(true);
  });

  it('a NO-GO, an INCONCLUSIVE or no verdict needs a reason', () => {
    expect(reasonRequired({ verdict: verdict({ verdict: 'NO-GO' }), stale: [], refused: false })).toBe(true);
    expect(reasonRequired({ verdict: verdict({ verdict: 'INCONCLUSIVE' }), stale: [], refused: false })).toBe(true);
    expect(reasonRequired({ verdict: null, stale: [], refused: false })).toBe(true);
    expect(overrideWhy(verdict({ verdict: 'NO-GO' }), [], null)).toMatch(/NO-GO/);
    expect(overrideWhy(null, [], null)).toMatch(/no verdict/);
  });

  it('a stale GO needs a reason: baseline, rules file or suite changed', () => {
    const movedBaseline = verdictStaleness(verdict(), { ...facts, productionRef: `${P}@1.2.0` });
    expect(movedBaseline.join()).toMatch(/the baseline changed: verdict #7 compared with 1\.0\.0, the baseline now is 1\.2\.0 \(production now\)/);
    expect(reasonRequired({ verdict: verdict(), stale: movedBaseline, refused: false })).toBe(true);

    const editedRules = verdictStaleness(verdict({ rulesHash: 'old' }), facts);
    expect(editedRules.join()).toMatch(/rules file candidate-to-staging\.yaml changed/);

    const goneRules = verdictStaleness(verdict({ rulesFile: '/gone.yaml' }), facts);
    expect(goneRules.join()).toMatch(/no longer among/);

    const newerSuite = verdictStaleness(verdict(), { ...facts, suites: [...suites, suiteSummary({ fingerprint: 'f'.repeat(64), createdAt: '2030-01-01T00:00:00.000Z' })] });
    expect(newerSuite.join()).toMatch(/the suite cartpole-frozen-v1 changed/);
  });

  it('the server\u2019s refusal needs a reason even when the workbench saw a GO', () => {
    expect(reasonRequired({ verdict: verdict(), stale: [], refused: true })).toBe(true);
  });

  it('a blank reason is no reason', () => {
    expect(canConfirm(true, '')).toBe(false);
    expect(canConfirm(true, '   \n')).toBe(false);
    expect(canConfirm(true, 'bench test')).toBe(true);
  });
});

describe('times and errors', () => {
  it('sends a local date-time as UTC and everything else as typed', () => {
    expect(normalizeAtInput(' -2h ')).toBe('-2h');
    expect(normalizeAtInput('now')).toBe('now');
    expect(normalizeAtInput('2026-11-21T10:00:00Z')).toBe('2026-11-21T10:00:00Z');
    expect(normalizeAtInput('2026-11-21')).toBe('2026-11-21');
    expect(normalizeAtInput('2026-11-21 14:03')).toBe(new Date(2026, 10, 21, 14, 3).toISOString());
    expect(normalizeAtInput('2026-11-21T14:03:07')).toBe(new Date(2026, 10, 21, 14, 3, 7).toISOString());
  });

  it('says what to do about a conflict and a protected version', () => {
    expect(hintFor({ code: 'SWY_ERR_CONFLICT', message: 'x' }, 'promote')).toMatch(/someone else changed production since you looked: refresh/i);
    expect(hintFor({ code: 'SWY_ERR_PROTECTED_VERSION', message: 'x' }, 'archive')).toMatch(/Archive an older version/);
    expect(hintFor({ code: 'SWY_ERR_NOT_FOUND', message: 'x' }, 'rollback')).toMatch(/promote another version/);
    expect(hintFor({ code: 'SWY_ERR_INVALID_INPUT', message: 'x' }, 'promote')).toBeNull();
  });
});
