import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VersionSummarySchema } from '../contract/index.js';
import { createEngine, type Engine } from '../engine.js';
import { createMemoryLogger } from '../platform/logger.js';
import { controlTokenOf } from '../serve/auth.js';
import { createHttpServer } from '../serve/http-server.js';
import { runCli, runCliAsync } from '../../test-support/cli-process.js';
import { handClock, labWorkspace, type LabWorkspace } from '../../test-support/lifecycle-fixtures.js';

let dir: string;
let ws: LabWorkspace;
const json = (s: string) => JSON.parse(s.trim().split('\n').at(-1)!) as Record<string, unknown> & { ok: boolean; error?: { code: string; message: string; where?: string } };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'swy-lifecycle-cli-'));
  // Times in the past, so that `--at` relative to the real clock lands after them.
  ws = await labWorkspace(dir, { clock: handClock(Date.UTC(2026, 0, 1, 9)) });
  ws.db.close();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('switchyard promote / rollback / history / archive', () => {
  it('promote refuses without a GO verdict, then gates with --rules and promotes; --force needs --reason', () => {
    const refused = runCli(['promote', 'lab@1.1.0', '--to', 'staging', '--store', ws.storePath]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/^switchyard: Cannot promote lab@1\.1\.0 to staging: it needs a GO verdict for candidate->staging .* lab@1\.1\.0 has no candidate->staging verdict\. Run the gate again .* \(SWY_ERR_VERDICT_REQUIRED\)\n$/);

    const staged = runCli(['promote', 'lab@1.1.0', '--to', 'staging', '--rules', ws.rulesC2S, '--store', ws.storePath, '--json']);
    expect(staged.status).toBe(0);
    const s = json(staged.stdout);
    expect(s).toMatchObject({ ok: true, policy: 'lab', from: 'candidate', to: 'staging', forced: false, replaced: null });
    expect(typeof s.verdictId).toBe('number');

    const noReason = runCli(['promote', 'lab@1.2.0', '--to', 'staging', '--force', '--store', ws.storePath, '--json']);
    expect(noReason.status).toBe(1);
    expect(json(noReason.stdout).error).toMatchObject({ code: 'SWY_ERR_INVALID_INPUT', where: '--reason' });

    const prod = runCli(['promote', 'lab@1.1.0', '--to', 'production', '--rules', ws.rulesS2P, '--store', ws.storePath]);
    expect(prod.status).toBe(0);
    expect(prod.stdout).toMatch(/^Promoted lab@1\.1\.0 \(1\.1\.0@[0-9a-f]{16}\) from staging to production at \S+Z, resting on verdict #\d+\.\n/);
    expect(prod.stdout).toContain('It replaced lab@1.0.0 (1.0.0@');
    expect(prod.stdout).toContain('now staging.');
    expect(prod.stdout).toContain('Changed the store only.');
  });

  it('history lists the changes; --at answers what was production then, and refuses an unreadable time naming --at', () => {
    const h = runCli(['history', 'lab', '--store', ws.storePath, '--json']);
    expect(h.status).toBe(0);
    const entries = json(h.stdout).entries as { label: string; to: string; action: string; verdictId: number | null }[];
    expect(entries.filter((e) => e.action === 'promote').map((e) => [e.label, e.to])).toEqual([
      ['1.1.0', 'staging'],
      ['1.0.0', 'staging'],
      ['1.1.0', 'production'],
    ]);
    expect(entries.at(-1)!.verdictId).toEqual(expect.any(Number));

    const then = runCli(['history', 'lab', '--at', '2026-01-01T09:00:00Z', '--store', ws.storePath]);
    expect(then.stdout).toMatch(/^At 2026-01-01T09:00:00\.000Z the production version of lab was 1\.0\.0 \(1\.0\.0@[0-9a-f]{16}\), production from \S+ until \S+\.\n$/);
    const before = runCli(['history', 'lab', '--at', '2020-05-01', '--store', ws.storePath, '--json']);
    expect(json(before.stdout)).toMatchObject({ ok: true, productionAt: { production: null, message: expect.stringMatching(/^lab had no production version at 2020-05-01T00:00:00\.000Z: its first production version, 1\.0\.0, became production at /) } });
    const bad = runCli(['history', 'lab', '--at', 'the other day', '--store', ws.storePath]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/^switchyard: --at: cannot read "the other day" as a time .* \[--at\] \(SWY_ERR_INVALID_INPUT\)\n$/);
  });

  it('archive refuses the guarded versions and archives the rest; rollback restores the previous production version', () => {
    const guarded = runCli(['archive', 'lab@1.0.0', '--store', ws.storePath]);
    expect(guarded.status).toBe(1);
    expect(guarded.stderr).toContain('lab@1.0.0 cannot be archived: it is one of the last 3 versions that were production');
    expect(guarded.stderr).toContain('(SWY_ERR_PROTECTED_VERSION)');
    const ok = runCli(['archive', 'lab@1.3.0', '--reason', 'superseded', '--store', ws.storePath, '--json']);
    expect(json(ok.stdout)).toMatchObject({ ok: true, from: 'candidate', reason: 'superseded', version: { stage: 'archived' } });
    // Answered through the dispatcher as with --server: the contract's fields, not the store's row.
    expect(Object.keys(json(ok.stdout).version as object)).toEqual(Object.keys(VersionSummarySchema.shape));

    const rb = runCli(['rollback', 'lab', '--reason', 'latency regression', '--store', ws.storePath, '--json']);
    expect(rb.status).toBe(0);
    expect(json(rb.stdout)).toMatchObject({ ok: true, restored: { label: '1.0.0', stage: 'production' }, replaced: { label: '1.1.0', stage: 'staging' }, reason: 'latency regression', traffic: { moved: false } });
    const again = runCli(['rollback', 'lab', '--store', ws.storePath]);
    expect(again.status).toBe(1);
    expect(again.stderr).toContain('lab has no earlier production version to roll back to');
  });

  it('with --server, rollback asks the running server (traffic moves there); an unreachable server is an error, not a silent store change', async () => {
    let engine: Engine | null = null;
    let app: FastifyInstance | null = null;
    try {
      engine = await createEngine({ storePath: ws.storePath, statsIntervalMs: 0, logger: createMemoryLogger() });
      app = await createHttpServer(engine, { host: '127.0.0.1', port: 0 });
      await app.listen({ host: '127.0.0.1', port: 0 });
      const addr = app.server.address();
      const url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
      const withToken = { SWITCHYARD_TOKEN: controlTokenOf(app) };
      const changes: string[] = [];
      engine.events.on('lifecycle.changed', (c) => changes.push(`${c.action} ${c.version}`));
      const fwd = await runCliAsync(['promote', 'lab@1.1.0', '--to', 'production', '--force', '--reason', 'cli test', '--server', url, '--json'], withToken);
      // Production is 1.0.0 again, so the staging->production verdict computed against it holds once more:
      // --force overrides only what needs overriding (here nothing), and says so (forced: false).
      expect(json(fwd.stdout)).toMatchObject({ ok: true, forced: false, verdictId: expect.any(Number), reason: 'cli test', traffic: { moved: false, how: 'not serving' } });
      const rb = await runCliAsync(['rollback', 'lab', '--server', url], withToken);
      expect(rb.status).toBe(0);
      expect(rb.stdout).toContain('Rolled back lab to 1.0.0');
      expect(rb.stdout).toContain('Traffic: not moved (not serving).');
      expect(changes).toEqual(['promote lab@1.1.0', 'rollback lab@1.0.0']);
    } finally {
      await app?.close();
      await engine?.close();
    }
    const down = runCli(['rollback', 'lab', '--server', 'http://127.0.0.1:9', '--json']);
    expect(down.status).toBe(1);
    expect(json(down.stdout).error).toMatchObject({ code: 'SWY_ERR_NOT_SERVING', where: '--server' });
  });

  it('two processes promoting at once against the production they both saw: exactly one wins, the other gets SWY_ERR_CONFLICT', async () => {
    for (const l of ['1.1.0', '1.2.0']) {
      const st = runCli(['promote', `lab@${l}`, '--to', 'staging', '--force', '--reason', 'race setup', '--store', ws.storePath, '--json']);
      if (l === '1.2.0') expect(json(st.stdout)).toMatchObject({ ok: true, to: 'staging' });
    }
    const race = await Promise.all(
      ['1.1.0', '1.2.0'].map((l) => runCliAsync(['promote', `lab@${l}`, '--to', 'production', '--force', '--reason', `race ${l}`, '--expect-production', '1.0.0', '--store', ws.storePath, '--json'])),
    );
    const outcomes = race.map((r) => json(r.stdout));
    expect(race.map((r) => r.status).sort()).toEqual([0, 1]);
    const loser = outcomes.find((o) => !o.ok)!;
    expect(loser.error!.code).toBe('SWY_ERR_CONFLICT');
    expect(loser.error!.message).toMatch(/^The production version of lab (changed while this promote was being decided: it is now|is) 1\.[12]\.0/);
    const h = json(runCli(['history', 'lab', '--store', ws.storePath, '--json']).stdout).entries as { label: string; to: string; reason: string }[];
    expect(h.filter((e) => e.to === 'production' && e.reason.startsWith('race '))).toHaveLength(1);
  });

  it('canary talks to a server: no canary yet, and a start outside two-policy mode says how to serve it', async () => {
    let engine: Engine | null = null;
    let app: FastifyInstance | null = null;
    try {
      engine = await createEngine({ storePath: ws.storePath, statsIntervalMs: 0, logger: createMemoryLogger() });
      app = await createHttpServer(engine, { host: '127.0.0.1', port: 0 });
      await app.listen({ host: '127.0.0.1', port: 0 });
      const addr = app.server.address();
      const url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
      const withToken = { SWITCHYARD_TOKEN: controlTokenOf(app) };
      const [status, start] = await Promise.all([
        runCliAsync(['canary', 'lab', '--status', '--server', url], withToken),
        runCliAsync(['canary', 'lab', '--candidate', 'lab@1.2.0', '--interval', '30s', '--server', url, '--json'], withToken),
      ]);
      expect(status.stdout).toBe('No canary has run on this server.\n');
      expect(start.status).toBe(1);
      const err = json(start.stdout).error!;
      expect(err.code).toBe('SWY_ERR_NOT_SERVING');
      expect(err.message).toContain('A canary needs two-policy mode with production in slot a and the candidate in slot b: serve `switchyard serve --policy-a lab@production --policy-b lab@');
    } finally {
      await app?.close();
      await engine?.close();
    }
    const both = runCli(['canary', 'lab', '--pause', '--abort', '--server', 'http://127.0.0.1:9']);
    expect(both.status).toBe(1);
    expect(both.stderr).toContain('Give either --candidate VERSION (start) or one of --status, --pause, --resume, --abort.');
  });
});
