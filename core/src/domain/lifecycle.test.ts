import { describe, expect, it } from 'vitest';
import { ErrorCodes, SwitchyardError } from '../contract/errors.js';
import {
  decidePromotion,
  parseTimeArg,
  planRollback,
  planStageMove,
  productionAt,
  productionStack,
  protectedVersions,
  verdictStaleness,
  type CurrentFacts,
  type HistoryRow,
  type LifecycleAction,
  type VerdictFacts,
} from './lifecycle.js';

/** A history built step by step: each entry one row, a minute apart. */
function timeline(steps: [number, string | null, string, LifecycleAction?][]): HistoryRow[] {
  return steps.map(([versionId, from, to, action], i) => ({
    id: i + 1,
    versionId,
    at: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString(),
    from: from as HistoryRow['from'],
    to: to as HistoryRow['to'],
    action: action ?? 'promote',
  }));
}

function thrown(fn: () => unknown): SwitchyardError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(SwitchyardError);
    return e as SwitchyardError;
  }
  throw new Error('expected a SwitchyardError');
}

describe('stage moves', () => {
  it('maps each move to the verdict it needs', () => {
    expect(planStageMove('p@1', 'candidate', 'staging')).toEqual({ transition: 'candidate->staging', kind: 'gated' });
    expect(planStageMove('p@1', 'archived', 'staging')).toEqual({ transition: 'candidate->staging', kind: 'gated' });
    expect(planStageMove('p@1', 'staging', 'production')).toEqual({ transition: 'staging->production', kind: 'gated' });
    expect(planStageMove('p@1', 'staging', 'archived')).toEqual({ transition: null, kind: 'archive' });
  });

  it('refuses the moves that do not exist, saying what to do', () => {
    expect(thrown(() => planStageMove('p@1', 'candidate', 'production')).message).toContain('promote p@1 --to staging');
    expect(thrown(() => planStageMove('p@1', 'production', 'archived')).code).toBe(ErrorCodes.SWY_ERR_PROTECTED_VERSION);
    expect(thrown(() => planStageMove('p@1', 'staging', 'candidate')).message).toMatch(/never go back to candidate/);
    expect(thrown(() => planStageMove('p@1', 'production', 'production')).code).toBe(ErrorCodes.SWY_ERR_CONFLICT);
  });
});

describe('verdict freshness', () => {
  const verdict: VerdictFacts = {
    id: 7,
    verdict: 'GO',
    transition: 'staging->production',
    candidateVersionId: 3,
    baselineVersionId: 1,
    suiteFingerprint: 'a'.repeat(64),
    rulesHash: 'b'.repeat(64),
    rulesFile: '/rules/s2p.yaml',
    summary: 'GO: all 5 rules passed',
    createdAt: '2026-01-01T00:00:00.000Z',
  };
  const now: CurrentFacts = {
    transition: 'staging->production',
    candidateVersionId: 3,
    baselineVersionId: 1,
    baselineLabel: 'p@1.0.0 (production now)',
    verdictBaselineLabel: 'p@1.0.0',
    suiteFingerprint: 'a'.repeat(64),
    rulesHash: 'b'.repeat(64),
  };
  const decide = (v: VerdictFacts | null, c: CurrentFacts | null, force = false, reason: string | null = null) =>
    decidePromotion({ ref: 'p@1.2.0', to: 'production', transition: 'staging->production', verdict: v, current: c, force, reason, gateHint: 'GATE' });

  it('a GO verdict on the current suite, rules and baseline holds', () => {
    expect(verdictStaleness(verdict, now)).toEqual([]);
    expect(decide(verdict, now)).toEqual({ verdictId: 7, forced: false, overridden: [] });
  });

  it('names each way a verdict goes stale', () => {
    const stale = verdictStaleness(verdict, {
      ...now,
      baselineVersionId: 2,
      baselineLabel: 'p@1.1.0 (production now)',
      suiteFingerprint: 'c'.repeat(64),
      rulesHash: 'd'.repeat(64),
    });
    expect(stale).toEqual([
      'the baseline changed: verdict #7 compared with p@1.0.0, the baseline now is p@1.1.0 (production now)',
      `the rules file /rules/s2p.yaml changed since verdict #7 (hash bbbbbbbbbbbb then, dddddddddddd now)`,
      `the suite changed since verdict #7 (fingerprint aaaaaaaaaaaa then, cccccccccccc now)`,
    ]);
    expect(verdictStaleness(verdict, { ...now, rulesHash: null, rulesProblem: 'the file is gone' })).toEqual(['the rules file /rules/s2p.yaml cannot be read (the file is gone)']);
  });

  it('refuses a missing, NO-GO or stale verdict with SWY_ERR_VERDICT_REQUIRED and what to run', () => {
    const none = thrown(() => decide(null, null));
    expect(none.code).toBe(ErrorCodes.SWY_ERR_VERDICT_REQUIRED);
    expect(none.message).toBe(
      'Cannot promote p@1.2.0 to production: it needs a GO verdict for staging->production computed on the current suite, rules and baseline, and p@1.2.0 has no staging->production verdict. Run the gate again (GATE), or override with --force --reason "...".',
    );
    const nogo = thrown(() => decide({ ...verdict, verdict: 'NO-GO', summary: 'NO-GO: safety failed' }, now));
    expect(nogo.message).toContain('is NO-GO: NO-GO: safety failed');
    const stale = thrown(() => decide(verdict, { ...now, baselineVersionId: 2, baselineLabel: 'p@1.1.0 (production now)' }));
    expect(stale.message).toContain('verdict #7 is stale: the baseline changed');
  });

  it('--force needs a reason, and records what it overrode and the verdict it rested on', () => {
    expect(thrown(() => decide(null, null, true, '  ')).where).toBe('--reason');
    expect(decide(null, null, true, 'hotfix')).toEqual({ verdictId: null, forced: true, overridden: ['p@1.2.0 has no staging->production verdict'] });
    const d = decide({ ...verdict, verdict: 'INCONCLUSIVE', summary: 'INCONCLUSIVE: too few cases' }, now, true, 'hotfix');
    expect(d.verdictId).toBe(7);
    expect(d.forced).toBe(true);
    expect(d.overridden[0]).toContain('INCONCLUSIVE');
  });
});

describe('the production timeline', () => {
  const archived = (ids: number[]) => (id: number) => ids.includes(id);

  it('repeated rollbacks walk back through history, and stop at the first production version', () => {
    // 1 registered as production; 2, 3, 4 promoted.
    const rows = timeline([
      [1, 'candidate', 'production', 'stage'],
      [1, 'production', 'staging'],
      [2, 'staging', 'production'],
      [2, 'production', 'staging'],
      [3, 'staging', 'production'],
      [3, 'production', 'staging'],
      [4, 'staging', 'production'],
    ]);
    expect(productionStack(rows)).toEqual([1, 2, 3, 4]);
    expect(planRollback(rows, 4, archived([]))).toEqual({ target: 3, skipped: [] });
    // Roll back to 3: the next rollback goes to 2, not back to 4.
    const r1 = [...rows, ...timeline([[4, 'production', 'staging', 'rollback'], [3, 'staging', 'production', 'rollback']]).map((r, i) => ({ ...r, id: 100 + i }))];
    expect(productionStack(r1)).toEqual([1, 2, 3]);
    expect(planRollback(r1, 3, archived([]))).toEqual({ target: 2, skipped: [] });
    const r2 = [...r1, ...timeline([[3, 'production', 'staging', 'rollback'], [2, 'staging', 'production', 'rollback']]).map((r, i) => ({ ...r, id: 200 + i }))];
    expect(planRollback(r2, 2, archived([]))).toEqual({ target: 1, skipped: [] });
    const r3 = [...r2, ...timeline([[2, 'production', 'staging', 'rollback'], [1, 'staging', 'production', 'rollback']]).map((r, i) => ({ ...r, id: 300 + i }))];
    expect(planRollback(r3, 1, archived([]))).toBeNull();
    // A promotion after rollbacks starts a new branch from where production is.
    const r4 = [...r3, ...timeline([[1, 'production', 'staging'], [4, 'staging', 'production']]).map((r, i) => ({ ...r, id: 400 + i }))];
    expect(productionStack(r4)).toEqual([1, 4]);
    expect(planRollback(r4, 4, archived([]))).toEqual({ target: 1, skipped: [] });
  });

  it('skips archived versions', () => {
    const rows = timeline([
      [1, null, 'production'],
      [2, 'staging', 'production'],
      [3, 'staging', 'production'],
    ]);
    expect(planRollback(rows, 3, archived([2]))).toEqual({ target: 1, skipped: [2] });
    expect(planRollback(rows, 3, archived([1, 2]))).toBeNull();
  });

  it('answers what was production at any time, none before the first', () => {
    const rows = timeline([
      [1, 'candidate', 'production', 'stage'], // 00:00
      [1, 'production', 'staging'], // 00:01
      [2, 'staging', 'production'], // 00:01 (same transaction in practice)
      [2, 'production', 'staging', 'rollback'], // 00:03
      [1, 'staging', 'production', 'rollback'], // 00:04
    ]);
    const at = (m: number, s = 0) => productionAt(rows, Date.UTC(2026, 0, 1, 0, m, s))?.versionId ?? null;
    expect(productionAt(rows, Date.UTC(2025, 11, 31))).toBeNull();
    expect(at(0)).toBe(1);
    expect(at(0, 59)).toBe(1);
    expect(at(2)).toBe(2);
    expect(at(3, 30)).toBeNull(); // between the two rollback rows, nothing was production
    expect(at(4)).toBe(1);
    expect(at(60 * 24 * 365)).toBe(1);
  });

  it('protects production and the last 3 versions that were production, naming the rule', () => {
    const rows = timeline([
      [1, null, 'production'],
      [1, 'production', 'staging'],
      [2, 'staging', 'production'],
      [2, 'production', 'staging'],
      [3, 'staging', 'production'],
      [3, 'production', 'staging'],
      [4, 'staging', 'production'],
      [4, 'production', 'staging'],
      [5, 'staging', 'production'],
    ]);
    const p = protectedVersions(rows, 5);
    expect([...p.keys()]).toEqual([5, 4, 3, 2]);
    expect(p.get(5)).toBe('production is protected');
    expect(p.get(4)).toMatch(/^one of the last 3 versions that were production \(#1 most recent, production until /);
    expect(p.has(1)).toBe(false);
  });
});

describe('--at times', () => {
  const now = Date.UTC(2026, 10, 21, 12, 0, 0);
  it('reads ISO times, dates, now and relative forms', () => {
    expect(parseTimeArg('2026-11-21T10:00:00Z', now)).toBe(Date.UTC(2026, 10, 21, 10));
    expect(parseTimeArg('2026-11-21T12:00:00+02:00', now)).toBe(Date.UTC(2026, 10, 21, 10));
    expect(parseTimeArg('2026-11-21T10:00:00.250Z', now)).toBe(Date.UTC(2026, 10, 21, 10, 0, 0, 250));
    expect(parseTimeArg('2026-11-21', now)).toBe(Date.UTC(2026, 10, 21));
    expect(parseTimeArg('now', now)).toBe(now);
    expect(parseTimeArg('-2h', now)).toBe(now - 2 * 3_600_000);
    expect(parseTimeArg('90m ago', now)).toBe(now - 90 * 60_000);
    expect(parseTimeArg('3 days ago', now)).toBe(now - 3 * 86_400_000);
  });

  it('refuses what it cannot read, naming the flag', () => {
    for (const bad of ['yesterday-ish', '2026-11-21T10:00:00', '2026-02-30', '2026-13-01', '-3 fortnights', '']) {
      const e = thrown(() => parseTimeArg(bad, now));
      expect(e.code).toBe(ErrorCodes.SWY_ERR_INVALID_INPUT);
      expect(e.where).toBe('--at');
      expect(e.message).toMatch(/^--at: cannot read/);
    }
    expect(thrown(() => parseTimeArg('2026-11-21T10:00:00', now)).message).toContain('no time zone');
  });
});
