import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startCli } from '../../test-support/cli-process.js';

let dir: string;
let store: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'swy-cli-'));
  store = join(dir, 'store.db');
  const demo = runCli(['demo', '--store', store, '--json']);
  expect(demo.status, demo.stderr).toBe(0);
}, 180_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('switchyard serve refuses contradictory flags, naming what to change', () => {
  const cases: [string, string[], RegExp][] = [
    ['--policy-a without --policy-b', ['--policy-a', 'cartpole-balance@1.0.0'], /--policy-b is missing/],
    ['two policies without --no-rtc', ['--policy-a', 'cartpole-balance@1.0.0', '--policy-b', 'cartpole-balance@1.1.0'], /needs --no-rtc/],
    ['a shadow with two policies', ['--policy-a', 'cartpole-balance@1.0.0', '--policy-b', 'cartpole-balance@1.1.0', '--no-rtc', '--shadow-policy', 'cartpole-balance@1.2.0'], /--shadow-policy works beside one primary/],
    ['a split above 100', ['cartpole-balance@1.0.0', '--split', '150'], /--split must be a whole number from 0 to 100/],
    ['a public host without a token', ['cartpole-balance@1.0.0', '--host', '0.0.0.0'], /without --token/],
    ['PATH with --policy-a', ['cartpole-balance@1.0.0', '--policy-a', 'x', '--policy-b', 'y', '--no-rtc'], /either PATH/],
    ['two policies that do not fit in 70% of the GPU', ['--policy-a', 'cartpole-balance@1.0.0', '--policy-b', 'cartpole-balance@2.0.0-iter', '--no-rtc', '--port', '0', '--gpu-memory-bytes', '1000'], /2-policy mode requires \d+\.\d KB VRAM but only 700 B \(70% of 1\.0 KB\) is available\. Either pick smaller models, run on a larger GPU, OR drop to single-policy mode\./],
    ['an unknown version', ['cartpole-balance@9.9.9', '--port', '0'], /No version cartpole-balance@9.9.9/],
    ['a CPU the machine does not have', ['cartpole-balance@1.0.0', '--port', '0', '--cpu-affinity', '4095'], /--cpu-affinity 4095: CPU 4095 is not on this machine; its CPUs are \d/],
    ['an answer spin past 10 ms', ['cartpole-balance@1.0.0', '--port', '0', '--answer-spin-us', '20000'], /--answer-spin-us must be a whole number from 0 to 10000, got "20000"/],
    ['a CPU list that is not one', ['cartpole-balance@1.0.0', '--port', '0', '--cpu-affinity', 'fast'], /'fast' is not a CPU number or a range like 2-3/],
  ];
  for (const [name, args, message] of cases) {
    it(name, () => {
      const r = runCli(['serve', '--store', store, ...args]);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(message);
    });
  }
});

describe('switchyard console checks VRAM in two-policy mode as serve does', () => {
  it('refuses the pair before loading it when both do not fit in 70% of the GPU', () => {
    const r = runCli(['console', '--policy-a', 'cartpole-balance@1.0.0', '--policy-b', 'cartpole-balance@1.1.0', '--no-rtc', '--store', store, '--port', '0', '--no-open', '--gpu-memory-bytes', '100']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/2-policy mode requires \d+ B VRAM but only 70 B \(70% of 100 B\) is available/);
    expect(r.stderr).toContain('SWY_ERR_VRAM');
  });

  it('says why a shadow cannot sit beside two policies', () => {
    const r = runCli(['console', '--policy-a', 'cartpole-balance@1.0.0', '--policy-b', 'cartpole-balance@1.1.0', '--no-rtc', '--shadow-policy', 'cartpole-balance@1.2.0', '--store', store, '--port', '0']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('would mix two baselines');
  });
});

describe('switchyard serve on a GPU budget', () => {
  it('reports the checked VRAM budget in the serving state', async () => {
    const srv = startCli(['serve', '--policy-a', 'cartpole-balance@1.0.0', '--policy-b', 'cartpole-balance@1.1.0', '--no-rtc', '--store', store, '--port', '0', '--json', '--log-level', 'warn', '--gpu-memory-bytes', '16000000000']);
    try {
      const [line] = await srv.waitFor(/\{"event":"listening".*\}\n/);
      const info = JSON.parse(line) as { state: { vram: { totalGpuBytes: number; availableBytes: number; requiredBytes: number; ok: boolean } } };
      expect(info.state.vram).toMatchObject({ totalGpuBytes: 16e9, availableBytes: 11.2e9, ok: true });
      expect(info.state.vram.requiredBytes).toBeGreaterThan(0);
    } finally {
      srv.child.kill('SIGTERM');
      await srv.exited;
    }
  }, 180_000);
});

describe('switchyard serve --cpu-affinity', () => {
  const linux = process.platform === 'linux' && existsSync('/proc/self/task') && ['/usr/bin/taskset', '/bin/taskset'].some((p) => existsSync(p));
  if (!linux) process.stdout.write('serve-command.test: --cpu-affinity on a real server skips: it needs Linux with taskset (util-linux)\n');

  it.skipIf(!linux)('runs every thread, policy workers included, on the CPU it names, and serves /act', async () => {
    const allowed = /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync('/proc/self/status', 'utf8'))![1]!;
    const cpu = allowed.split(/[,-]/).pop()!;
    const srv = startCli(['serve', '--policy-a', 'cartpole-balance@1.0.0', '--policy-b', 'cartpole-balance@1.1.0', '--no-rtc', '--store', store, '--port', '0', '--json', '--log-format', 'json', '--cpu-affinity', cpu]);
    try {
      const [line] = await srv.waitFor(/\{"event":"listening".*\}\n/);
      const info = JSON.parse(line) as { act: string };
      const res = await fetch(info.act, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ episode_id: 'pinned', state: [0.01, 0, 0.02, 0] }) });
      expect(res.status).toBe(200);
      const pid = srv.child.pid!;
      const threads = readdirSync(`/proc/${pid}/task`).map((t) => {
        const status = readFileSync(`/proc/${pid}/task/${t}/status`, 'utf8');
        return { name: /Name:\s*(.*)/.exec(status)?.[1] ?? '', cpus: /Cpus_allowed_list:\s*(\S+)/.exec(status)?.[1] };
      });
      // The HTTP thread, two policy workers and the runtime's helpers, every one on `cpu`.
      expect(threads.length).toBeGreaterThanOrEqual(3);
      expect(threads.filter((t) => t.cpus !== cpu)).toEqual([]);
      expect(srv.output()).toMatch(new RegExp(`pinned to CPU ${cpu} \\(--cpu-affinity`));
    } finally {
      srv.child.kill('SIGTERM');
      await srv.exited;
    }
  }, 180_000);
});

describe('switchyard serve --record', () => {
  it('records requests, and on SIGTERM drains, writes the footer and exits 0; the trace verifies', async () => {
    const traces = join(dir, 'traces');
    const srv = startCli(['serve', 'cartpole-balance@1.0.0', '--store', store, '--port', '0', '--record', traces, '--json', '--log-level', 'warn']);
    const [line] = await srv.waitFor(/\{"event":"listening".*\}\n/);
    const info = JSON.parse(line) as { act: string; trace: string };
    expect(info.trace).toMatch(/\d{8}-\d{6}-[0-9a-f]{16}-[0-9a-f]+\.jsonl$/);
    for (let i = 0; i < 25; i++) {
      const res = await fetch(info.act, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ episode_id: `ep-${i % 3}`, state: [0.01 * i, 0, 0.02, 0] }) });
      expect(res.status).toBe(200);
    }
    srv.child.kill('SIGTERM');
    expect(await srv.exited).toEqual({ code: 0, signal: null });
    const files = readdirSync(traces);
    expect(files).toHaveLength(1);
    const lines = readFileSync(join(traces, files[0]!), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { kind: string; schema_version: number });
    expect(lines[0]!.kind).toBe('header');
    expect(lines.filter((l) => l.kind === 'request')).toHaveLength(25);
    expect(lines.at(-1)!.kind).toBe('footer');
    expect(lines.every((l) => l.schema_version === 1)).toBe(true);
    const verify = runCli(['trace', 'verify', join(traces, files[0]!), '--json']);
    expect(verify.status, verify.stdout + verify.stderr).toBe(0);
    expect(JSON.parse(verify.stdout)).toMatchObject({ ok: true });
  }, 180_000);

  it('after SIGKILL mid-run, the trace still verifies up to its last whole record', async () => {
    const traces = join(dir, 'traces-killed');
    const srv = startCli(['serve', 'cartpole-balance@1.0.0', '--store', store, '--port', '0', '--record', traces, '--json', '--log-level', 'warn']);
    const [line] = await srv.waitFor(/\{"event":"listening".*\}\n/);
    const info = JSON.parse(line) as { act: string };
    const load = (async () => {
      for (let i = 0; i < 2000; i++) {
        const r = await fetch(info.act, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ episode_id: `k-${i}`, state: [0, 0, 0.01, 0] }) }).catch(() => null);
        if (!r) return;
        await r.arrayBuffer();
      }
    })();
    await new Promise((r) => setTimeout(r, 1500));
    srv.child.kill('SIGKILL');
    await srv.exited;
    await load;
    const [file] = readdirSync(traces);
    const verify = runCli(['trace', 'verify', join(traces, file!), '--json']);
    const report = JSON.parse(verify.stdout) as { ok: boolean; records: number; footer: unknown };
    expect(report.ok).toBe(true);
    expect(report.records).toBeGreaterThan(1);
    expect(report.footer ?? null).toBeNull();
  }, 180_000);
});

describe('the runtime file: CLI commands find the token of the server they talk to', () => {
  it('two servers at once, each with its own 0600 file; split/canary reach each without a typed token; the files go on exit', async () => {
    const home = join(dir, 'home');
    const chosen = 'chosen-token-0123456789abcdef';
    const one = startCli(['serve', '--store', store, '--port', '0', '--json', '--log-level', 'warn'], { SWITCHYARD_HOME: home });
    const two = startCli(['serve', '--store', store, '--port', '0', '--json', '--log-level', 'warn', '--token', chosen], { SWITCHYARD_HOME: home, SWITCHYARD_TOKEN: '' });
    try {
      const infos = await Promise.all([one, two].map(async (s) => JSON.parse((await s.waitFor(/\{"event":"listening".*\}\n/))[0]) as { url: string; runtimeFile: string }));
      const files = infos.map((i) => i.runtimeFile);
      expect(files[0]).not.toBe(files[1]);
      const contents = files.map((f) => JSON.parse(readFileSync(f, 'utf8')) as { url: string; pid: number; token: string; port: number });
      for (const [i, f] of files.entries()) {
        expect(statSync(f).mode & 0o777).toBe(0o600);
        expect(f).toBe(join(home, 'runtime', `server-${contents[i]!.port}.json`));
        expect(infos[i]!.url).toContain(`?token=${contents[i]!.token}`);
      }
      expect(contents[0]!.token).not.toBe(contents[1]!.token);
      expect(Buffer.from(contents[0]!.token, 'base64url').length).toBeGreaterThanOrEqual(16);
      expect(contents[1]!.token).toBe(chosen);
      // --token works, and warns once that ps shows it.
      expect(two.output().match(/visible to every user/g)).toHaveLength(1);

      for (const c of contents) {
        const base = `http://127.0.0.1:${c.port}`;
        const status = runCli(['canary', 'cartpole-balance', '--status', '--server', base, '--json'], { SWITCHYARD_HOME: home, SWITCHYARD_TOKEN: '' });
        expect(status.status, status.stdout + status.stderr).toBe(0);
        expect(JSON.parse(status.stdout)).toEqual({ ok: true, canary: null });
        const split = runCli(['split', '30', '--server', base, '--json'], { SWITCHYARD_HOME: home, SWITCHYARD_TOKEN: '' });
        // Authenticated: the server answers that it serves nothing, not that the caller lacks a token.
        expect(JSON.parse(split.stdout).error.code).toBe('SWY_ERR_NOT_SERVING');
      }
      // Another account (another data folder) has no runtime file: refused, never a silent success.
      const stranger = runCli(['split', '30', '--server', `http://127.0.0.1:${contents[0]!.port}`, '--json'], { SWITCHYARD_HOME: join(dir, 'elsewhere'), SWITCHYARD_TOKEN: '' });
      expect(stranger.status).toBe(1);
      expect(JSON.parse(stranger.stdout).error.code).toBe('SWY_ERR_UNAUTHORIZED');
    } finally {
      for (const s of [one, two]) s.child.kill('SIGTERM');
      await Promise.all([one.exited, two.exited]);
    }
    expect(existsSync(join(home, 'runtime')) ? readdirSync(join(home, 'runtime')) : []).toEqual([]);
  }, 240_000);
});
