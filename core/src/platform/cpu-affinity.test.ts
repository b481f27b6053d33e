import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { applyCpuAffinity, expandCpuList, formatCpuList, parseCpuAffinity, realAffinityHost, type AffinityHost } from './cpu-affinity.js';

const onLinuxWithTaskset = process.platform === 'linux' && existsSync('/proc/self/status') && ['/usr/bin/taskset', '/bin/taskset'].some((p) => existsSync(p));
if (!onLinuxWithTaskset) process.stdout.write('cpu-affinity.test: the real-process cases skip: they need Linux with taskset (util-linux)\n');

describe('CPU lists', () => {
  it('expands and formats the forms /proc and taskset print', () => {
    expect(expandCpuList('0-2,5')).toEqual([0, 1, 2, 5]);
    expect(expandCpuList('3')).toEqual([3]);
    expect(expandCpuList('')).toEqual([]);
    expect(formatCpuList([5, 0, 1, 2, 2])).toEqual('0-2,5');
    expect(formatCpuList([1, 3, 4, 7])).toEqual('1,3-4,7');
  });

  it('parses the flag against the machine CPUs', () => {
    expect(parseCpuAffinity('1', [0, 1])).toEqual([1]);
    expect(parseCpuAffinity(' 0-1 ', [0, 1])).toEqual([0, 1]);
    expect(parseCpuAffinity('2,0-1,2', [0, 1, 2, 3])).toEqual([0, 1, 2]);
  });

  it.each([
    ['', /needs CPU numbers, e\.g\. --cpu-affinity 1 .*this machine's CPUs: 0-1/],
    ['x', /'x' is not a CPU number or a range like 2-3 \(this machine's CPUs: 0-1\)/],
    ['1,,2', /'' is not a CPU number/],
    ['1-0', /the range '1-0' runs backwards; write 0-1/],
    ['-1', /'-1' is not a CPU number/],
    ['7', /CPU 7 is not on this machine; its CPUs are 0-1/],
    ['0-5', /CPU 2-5 are not on this machine/],
  ])('refuses %j, saying what is wrong and what this machine offers', (text, message) => {
    try {
      parseCpuAffinity(text, [0, 1]);
      expect.unreachable('should have thrown');
    } catch (e) {
      expect((e as Error).message).toMatch(message);
      expect(e).toMatchObject({ code: 'SWY_ERR_CONFIG', where: '--cpu-affinity' });
    }
  });
});

describe('applyCpuAffinity', () => {
  // Fakes for the two machines this one is not: another OS, and one without util-linux.
  const fakeHost = (over: Partial<AffinityHost>): AffinityHost => ({
    platform: 'linux',
    pid: 1,
    allowedCpus: () => [0, 1],
    exec: () => ({ status: 0, stdout: '', stderr: '' }),
    threadMasks: () => ['1'],
    ...over,
  });

  it('says it is Linux-only elsewhere (fake host: darwin)', () => {
    expect(() => applyCpuAffinity('1', fakeHost({ platform: 'darwin' }))).toThrow(/works on Linux only .* on darwin/);
  });

  it('says to install util-linux when taskset is missing (fake host: exec fails with ENOENT)', () => {
    const enoent = Object.assign(new Error('spawnSync taskset ENOENT'), { code: 'ENOENT' });
    expect(() => applyCpuAffinity('1', fakeHost({ exec: () => ({ status: null, stdout: '', stderr: '', error: enoent }) }))).toThrow(/needs taskset, which is not on PATH: install util-linux/);
  });

  it('refuses a mask that did not take on every thread (fake host: one thread left on 0-1)', () => {
    expect(() => applyCpuAffinity('1', fakeHost({ threadMasks: () => ['1', '0-1'] }))).toThrow(/1 of 2 threads still run on other CPUs \(0-1\)/);
  });

  it.skipIf(!onLinuxWithTaskset)('pins every thread of a real process, and threads it starts later inherit the mask', async () => {
    // A process with a worker thread, which starts a second worker when told to on stdin.
    const child = spawn(
      process.execPath,
      [
        '-e',
        `const { Worker } = require('node:worker_threads');
         const keep = 'setInterval(() => {}, 1000)';
         new Worker(keep, { eval: true });
         process.stdin.on('data', () => { new Worker(keep, { eval: true }).on('online', () => process.stdout.write('second\\n')); });
         process.stdout.write('ready\\n');`,
      ],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    try {
      const line = (want: string) =>
        new Promise<void>((resolve) => {
          const on = (d: Buffer) => {
            if (d.toString().includes(want)) {
              child.stdout!.off('data', on);
              resolve();
            }
          };
          child.stdout!.on('data', on);
        });
      await line('ready');
      const host = realAffinityHost(child.pid!);
      const allowed = host.allowedCpus();
      expect(allowed.length).toBeGreaterThan(0);
      const target = String(allowed[allowed.length - 1]);
      const r = applyCpuAffinity(target, host);
      expect(r.cpus).toBe(target);
      const before = r.threads;
      expect(before).toBeGreaterThanOrEqual(2);
      const second = line('second');
      child.stdin!.write('go\n');
      await second;
      const masks = readdirSync(`/proc/${child.pid}/task`).map((t) => /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync(`/proc/${child.pid}/task/${t}/status`, 'utf8'))?.[1]);
      expect(masks.length).toBeGreaterThan(before);
      expect(new Set(masks)).toEqual(new Set([target]));
    } finally {
      child.kill('SIGKILL');
    }
  }, 30_000);
});
