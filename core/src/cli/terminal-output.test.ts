/**
 * What a person sees on a terminal against what a pipe gets (issue 18): the CLI is run under a
 * pseudo-terminal (util-linux `script`) and through a pipe, and the two outputs compared.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PolicySummary } from '../contract/index.js';
import { hasScript, runCli, runCliTty, startCli, startCliTty } from '../../test-support/cli-process.js';
import { chooseDefaultPolicy } from './commands/serve.js';

const noScript = !hasScript();
if (noScript) console.log('terminal-output tests skipped: util-linux `script` is not installed, so no pseudo-terminal can be made');
// On a machine with a GPU the device line differs; the comparison itself still runs.
const noGpu = spawnSync('nvidia-smi', ['-L'], { encoding: 'utf8' }).status !== 0;

let dir: string;
let store: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'swy-tty-'));
  store = join(dir, 'store.db');
  if (noScript) return;
  const demo = runCli(['demo', '--store', store, '--json']);
  expect(demo.status, demo.stderr).toBe(0);
}, 90_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const PRETTY = /^\d\d:\d\d:\d\d\.\d{3} (?:\u001b\[\d+m)?(INFO|WARN|ERROR|DEBUG)\s*(?:\u001b\[0m)? (\S+)/;

/** The messages of pretty lines, in order. */
function prettyMessages(text: string): string[] {
  return text.split(/\r?\n/).flatMap((l) => {
    const m = PRETTY.exec(l);
    return m ? [`${m[1]!.toLowerCase()} ${m[2]}`] : [];
  });
}

/** The messages of pino JSON lines, in order. */
function jsonMessages(text: string): string[] {
  const names: Record<number, string> = { 20: 'debug', 30: 'info', 40: 'warn', 50: 'error' };
  return text.split(/\r?\n/).flatMap((l) => {
    if (!l.startsWith('{"level"')) return [];
    const o = JSON.parse(l) as { level: number; msg: string };
    return [`${names[o.level]} ${o.msg.split(' ')[0]}`];
  });
}

describe.skipIf(noScript)('switchyard serve on a terminal and through a pipe', () => {
  it('prints sentences on a terminal and pino JSON through a pipe, the same records in both', async () => {
    const tty = startCliTty(['serve', '--store', store, '--port', '0']);
    const pipe = startCli(['serve', '--store', store, '--port', '0']);
    try {
      await Promise.all([tty.waitFor(/policy_runner\.ready[^\n]*\n/), pipe.waitFor(/"msg":"policy_runner\.ready"[^\n]*\n/)]);
      await Promise.all([tty.waitFor(/Serving prod=/), pipe.waitFor(/Serving prod=/)]);
    } finally {
      await tty.stop();
      pipe.child.kill('SIGTERM');
      await pipe.exited;
    }
    const t = tty.output();
    const p = pipe.output();
    // No serving target given and exactly one policy in production: that one, said so.
    for (const out of [t, p]) expect(out).toContain('No policy given: serving cartpole-balance@production, the only policy with a production version.');
    expect(t).not.toContain('{"level"');
    const fromTty = prettyMessages(t).filter((m) => !/stopp/.test(m)); // shutdown lines depend on how each was stopped
    const fromPipe = jsonMessages(p).filter((m) => !/stopp/.test(m));
    expect(fromTty).toContain('info policy_runner.ready');
    expect(fromTty).toEqual(fromPipe);
    expect(t).toMatch(/policy_runner\.ready slot=prod modelVersion=cartpole-lqr@\w+ provider=\w+ /);
    if (noGpu) {
      // The CPU is the expected path with --device auto and no GPU: one info line, no warnings.
      expect(fromTty.filter((m) => m === 'info no')).toHaveLength(1);
      expect(t).toMatch(/INFO\s*(\u001b\[0m)? no GPU found: running on CPU/);
      expect(fromTty.filter((m) => m.startsWith('warn'))).toEqual([]);
    }
  }, 90_000);

  it('--log-format json keeps JSON on a terminal', async () => {
    const tty = startCliTty(['serve', 'cartpole-balance@1.1.0', '--store', store, '--port', '0', '--log-format', 'json']);
    try {
      await tty.waitFor(/"msg":"policy_runner\.ready"/);
    } finally {
      await tty.stop();
    }
    expect(prettyMessages(tty.output())).toEqual([]);
  }, 180_000);
});

describe.skipIf(noScript)('progress on a terminal, plain lines elsewhere', () => {
  it('demo: a bar redrawn in place on a terminal; one plain line per step through a pipe; the same result', async () => {
    const tty = await runCliTty(['demo', '--store', store]);
    const pipe = runCli(['demo', '--store', store]);
    expect(tty.status).toBe(0);
    expect(pipe.status).toBe(0);
    // Terminal: redrawn with \r, finished at 100%, then the table.
    expect(tty.output).toMatch(/\rdemo \[#{24}\] 8\/8 100% [\d.]+s rules\s*\r?\n/);
    // Pipe: whole lines, no carriage returns, ending at 100%.
    expect(pipe.stderr).not.toContain('\r');
    const lines = pipe.stderr.trim().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const l of lines) expect(l).toMatch(/^demo \[[#-]{24}\] \d\/8 +\d+% [\d.]+s /);
    expect(lines.at(-1)).toMatch(/8\/8 100%/);
    const table = (s: string) => s.replace(/\r/g, '').split('\n').filter((l) => l.startsWith('cartpole-balance@')).map((l) => l.trim());
    expect(table(tty.output)).toEqual(table(pipe.stdout));
    expect(table(pipe.stdout)).toHaveLength(4);
    // --json: no progress at all.
    const json = runCli(['demo', '--store', store, '--json']);
    expect(json.stderr).not.toMatch(/demo \[/);
  }, 90_000);
});

describe('switchyard serve with nothing to serve', () => {
  const policy = (name: string, productionLabel: string | null, labels: string[]): PolicySummary =>
    ({ name, productionLabel, versions: labels.map((label) => ({ label })) }) as unknown as PolicySummary;
  const choose = (policies: PolicySummary[]) => chooseDefaultPolicy({ registry: { listPolicies: () => policies } } as never);

  it('serves the production version when exactly one policy has one', () => {
    expect(choose([policy('arm', 'v2', ['v1', 'v2']), policy('gripper', null, ['g1'])])).toBe('arm@production');
  });

  it('refuses an empty store, naming what to pass and `switchyard demo`', () => {
    expect(() => choose([])).toThrow(
      'Nothing to serve: give PATH (an export directory or POLICY@LABEL) or --policy-a and --policy-b. The store has no policies: give an export directory (`switchyard serve path/to/export`), or run `switchyard demo` first. `switchyard policies` lists what is registered.',
    );
  });

  it('refuses when no policy is in production, naming a version to serve', () => {
    expect(() => choose([policy('arm', null, ['v1'])])).toThrow(/No policy has a production version: name a version, e\.g\. `switchyard serve arm@v1`, or promote one first\. `switchyard policies` lists/);
  });

  it('refuses when several are in production, naming them', () => {
    expect(() => choose([policy('arm', 'v1', ['v1']), policy('leg', 'l3', ['l3'])])).toThrow(
      /2 policies have a production version \(arm, leg\): name one, e\.g\. `switchyard serve arm@production`\./,
    );
  });

  it('from the command line: exit 1, the refusal on one line, nothing logged before it', () => {
    const r = runCli(['serve', '--store', join(dir, 'empty.db'), '--port', '0']);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^switchyard: Nothing to serve: give PATH .* `switchyard policies` lists what is registered\. \[PATH\] \(SWY_ERR_CONFIG\)\n$/);
  }, 180_000);
});
