import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { ErrorCodes, SwitchyardError } from '../contract/errors.js';
import { createMemoryLogger } from '../platform/logger.js';
import {
  checkTwoPolicyVram,
  detectGpuMemory,
  formatBytes,
  formatGb,
  parseGpuMemoryBytes,
  parseNvidiaSmiCsv,
  parseNvidiaSmiOutput,
  parseNvidiaSmiQuery,
  logDeviceChoice,
  resolveDevice,
  resolveGpuMemoryBytes,
  vramBudget,
  type ExecFn,
  type ExecResult,
} from './gpu.js';

const MIB = 1024 * 1024;
const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

/** An nvidia-smi that answers from hand-written output (fixtures/ is written to match the real tool's formats, not captured from one); notes what it was asked. */
function handWritten(answers: Record<string, ExecResult>): ExecFn & { calls: string[] } {
  const calls: string[] = [];
  const fn = async (file: string, args: string[]) => {
    const key = [file, ...args].join(' ');
    calls.push(key);
    const a = answers[args[0] === '-q' ? 'q' : 'csv'];
    if (a === undefined) throw new Error(`unexpected call ${key}`);
    return a;
  };
  return Object.assign(fn, { calls });
}
const ok = (stdout: string): ExecResult => ({ code: 0, stdout, stderr: '' });

describe('parsing nvidia-smi', () => {
  it('reads memory.total in MiB, one line per GPU', () => {
    expect(parseNvidiaSmiCsv(fixture('nvidia-smi-a100-40gb.csv.txt'))).toEqual([40960 * MIB]);
    expect(parseNvidiaSmiCsv(fixture('nvidia-smi-rtx4090.csv.txt'))).toEqual([24564 * MIB]);
    expect(parseNvidiaSmiCsv(fixture('nvidia-smi-2gpu-3090-2080ti.csv.txt'))).toEqual([24576 * MIB, 11264 * MIB]);
    expect(parseNvidiaSmiCsv(fixture('nvidia-smi-4x-h100.csv.txt'))).toEqual([81559, 81559, 81559, 81559].map((m) => m * MIB));
    expect(parseNvidiaSmiCsv('memory.total [MiB]\r\n16384 MiB\r\n')).toEqual([16384 * MIB]);
    expect(parseNvidiaSmiCsv(fixture('nvidia-smi-mig-na.csv.txt'))).toEqual([]);
    expect(parseNvidiaSmiCsv(fixture('nvidia-smi-no-devices.txt'))).toEqual([]);
  });

  it('reads the FB Memory Usage total of plain `nvidia-smi -q`, never BAR1', () => {
    expect(parseNvidiaSmiQuery(fixture('nvidia-smi-q-v100-16gb.txt'))).toEqual([16384 * MIB]);
    expect(parseNvidiaSmiQuery(fixture('nvidia-smi-q-2gpu-a6000-t4.txt'))).toEqual([49140 * MIB, 15360 * MIB]);
    expect(parseNvidiaSmiOutput(fixture('nvidia-smi-q-2gpu-a6000-t4.txt'))).toEqual([49140 * MIB, 15360 * MIB]);
    expect(parseNvidiaSmiOutput(fixture('nvidia-smi-rtx4090.csv.txt'))).toEqual([24564 * MIB]);
    expect(parseNvidiaSmiQuery(fixture('nvidia-smi-driver-failed.txt'))).toEqual([]);
  });
});

describe('resolveGpuMemoryBytes', () => {
  it('uses the override and does not run nvidia-smi', async () => {
    const exec = handWritten({});
    expect(await resolveGpuMemoryBytes({ override: '16e9', exec })).toBe(16e9);
    expect(await resolveGpuMemoryBytes({ override: 24_000_000_000, exec })).toBe(24e9);
    expect(exec.calls).toEqual([]);
  });

  it('refuses a bad --gpu-memory-bytes, naming the flag', () => {
    for (const v of ['', 'lots', '-5', '0', '1.5', '16GB']) {
      expect(() => parseGpuMemoryBytes(v), v).toThrow(expect.objectContaining({ code: ErrorCodes.SWY_ERR_CONFIG, where: '--gpu-memory-bytes' }));
    }
    expect(parseGpuMemoryBytes('16_000_000_000')).toBe(16e9);
  });

  it('reads one GPU from hand-written output', async () => {
    const exec = handWritten({ csv: ok(fixture('nvidia-smi-a100-40gb.csv.txt')) });
    expect(await resolveGpuMemoryBytes({ exec, env: {} })).toBe(40960 * MIB);
    expect(exec.calls).toEqual(['nvidia-smi --query-gpu=memory.total --format=csv,noheader,nounits']);
  });

  it('on a box of several GPUs: device 0 when all are alike, the smallest when they differ, the one CUDA_VISIBLE_DEVICES names', async () => {
    const h100 = handWritten({ csv: ok(fixture('nvidia-smi-4x-h100.csv.txt')) });
    expect(await detectGpuMemory({ exec: h100, env: {} })).toMatchObject({ totalBytes: 81559 * MIB, source: 'nvidia-smi', note: '4 GPUs of the same size' });
    const mixed = handWritten({ csv: ok(fixture('nvidia-smi-2gpu-3090-2080ti.csv.txt')) });
    const r = await detectGpuMemory({ exec: mixed, env: {} });
    expect(r.totalBytes).toBe(11264 * MIB);
    expect(r.gpus).toEqual([24576 * MIB, 11264 * MIB]);
    expect(r.note).toMatch(/using the smallest/);
    expect(await resolveGpuMemoryBytes({ exec: mixed, env: { CUDA_VISIBLE_DEVICES: '0' } })).toBe(24576 * MIB);
    expect(await resolveGpuMemoryBytes({ exec: mixed, env: { CUDA_VISIBLE_DEVICES: '1,0' } })).toBe(11264 * MIB);
    expect(await resolveGpuMemoryBytes({ exec: mixed, env: { CUDA_VISIBLE_DEVICES: 'GPU-4c1a3a26' } })).toBe(11264 * MIB);
    expect(await detectGpuMemory({ exec: mixed, env: { CUDA_VISIBLE_DEVICES: '' } })).toMatchObject({ totalBytes: null, source: 'none', note: expect.stringMatching(/hides every GPU/) });
    expect(await detectGpuMemory({ exec: mixed, env: { CUDA_VISIBLE_DEVICES: '7' } })).toMatchObject({ totalBytes: null, note: expect.stringMatching(/names no GPU/) });
  });

  it('returns null with the reason when there is no GPU', async () => {
    const none = handWritten({ csv: { code: 6, stdout: fixture('nvidia-smi-no-devices.txt'), stderr: '' } });
    expect(await detectGpuMemory({ exec: none, env: {} })).toEqual({ totalBytes: null, gpus: [], source: 'none', note: 'nvidia-smi: No devices were found' });
    const missing = handWritten({ csv: { code: null, stdout: '', stderr: '', error: 'ENOENT: spawn nvidia-smi ENOENT' } });
    expect(await detectGpuMemory({ exec: missing, env: {} })).toMatchObject({ totalBytes: null, note: expect.stringMatching(/could not be run \(ENOENT/) });
    const driver = handWritten({ csv: { code: 9, stdout: fixture('nvidia-smi-driver-failed.txt'), stderr: '' }, q: { code: 9, stdout: fixture('nvidia-smi-driver-failed.txt'), stderr: '' } });
    expect(await detectGpuMemory({ exec: driver, env: {} })).toMatchObject({ totalBytes: null, note: expect.stringMatching(/couldn't communicate with the NVIDIA driver/) });
  });

  it('falls back to `nvidia-smi -q -d MEMORY` when the query gives no number', async () => {
    const exec = handWritten({ csv: ok(fixture('nvidia-smi-mig-na.csv.txt')), q: ok(fixture('nvidia-smi-q-v100-16gb.txt')) });
    expect(await resolveGpuMemoryBytes({ exec, env: {} })).toBe(16384 * MIB);
    expect(exec.calls[1]).toBe('nvidia-smi -q -d MEMORY');
  });

  it('runs the real nvidia-smi: a number on a GPU machine, null with a reason elsewhere', async () => {
    const r = await detectGpuMemory({ env: {} });
    if (r.source === 'none') {
      expect(r.totalBytes).toBeNull();
      expect(r.note).toMatch(/nvidia-smi/);
    } else {
      expect(r.totalBytes).toBeGreaterThan(0);
    }
  });
});

describe('checkTwoPolicyVram', () => {
  it("refuses with exactly the spec's message, numbers filled in", () => {
    let e: unknown;
    try {
      checkTwoPolicyVram({ modelBytes: [8e9, 8e9], totalGpuBytes: 16e9 });
    } catch (err) {
      e = err;
    }
    expect(e).toBeInstanceOf(SwitchyardError);
    expect((e as SwitchyardError).code).toBe(ErrorCodes.SWY_ERR_VRAM);
    expect((e as SwitchyardError).message).toBe(
      '2-policy mode requires 16.0 GB VRAM but only 11.2 GB (70% of 16.0 GB) is available. Either pick smaller models, run on a larger GPU, OR drop to single-policy mode.',
    );
  });

  it('adds the two model sizes and compares with 70% of the GPU read from nvidia-smi', async () => {
    const total = (await resolveGpuMemoryBytes({ exec: handWritten({ csv: ok(fixture('nvidia-smi-rtx4090.csv.txt')) }), env: {} }))!;
    // RTX 4090: 24564 MiB = 25.76 GB; 70% = 18.03 GB.
    expect(() => checkTwoPolicyVram({ modelBytes: [12e9, 7e9], totalGpuBytes: total })).toThrow(
      '2-policy mode requires 19.0 GB VRAM but only 18.0 GB (70% of 25.8 GB) is available.',
    );
    const fits = checkTwoPolicyVram({ modelBytes: [9e9, 9e9], totalGpuBytes: total });
    expect(fits).toMatchObject({ ok: true, requiredBytes: 18e9, totalGpuBytes: total, fraction: 0.7 });
    expect(fits.availableBytes).toBeCloseTo(0.7 * total, 0);
  });

  it('allows exactly 70%, refuses one byte more, and checks its inputs', () => {
    expect(vramBudget({ modelBytes: [3.5e9, 3.5e9], totalGpuBytes: 10e9 }).ok).toBe(true);
    expect(vramBudget({ modelBytes: [3.5e9, 3.5e9 + 1], totalGpuBytes: 10e9 }).ok).toBe(false);
    expect(vramBudget({ modelBytes: [1, 2], totalGpuBytes: 10 }).message).toBeUndefined();
    expect(() => checkTwoPolicyVram({ modelBytes: [-1, 1], totalGpuBytes: 1e9 })).toThrow(/modelBytes\[0\] must be a size in bytes/);
    expect(() => checkTwoPolicyVram({ modelBytes: [1, 1], totalGpuBytes: 0 })).toThrow(/totalGpuBytes must be a positive number/);
    expect(formatGb(11.2e9)).toBe('11.2');
    expect(formatGb(0)).toBe('0.0');
  });
});

describe('sizes in the unit that shows them', () => {
  it('prints B, KB, MB or GB, keeping the refusal sentence', () => {
    expect(['0', '999', '1000', '40960', '999999', '1500000', '999999999', '16e9'].map((v) => formatBytes(Number(v)))).toEqual([
      '0 B',
      '999 B',
      '1.0 KB',
      '41.0 KB',
      '1.0 MB',
      '1.5 MB',
      '1.0 GB',
      '16.0 GB',
    ]);
    expect(() => checkTwoPolicyVram({ modelBytes: [20_480, 20_480], totalGpuBytes: 1000 })).toThrow(
      '2-policy mode requires 41.0 KB VRAM but only 700 B (70% of 1.0 KB) is available. Either pick smaller models, run on a larger GPU, OR drop to single-policy mode.',
    );
    expect(() => checkTwoPolicyVram({ modelBytes: [300e6, 300e6], totalGpuBytes: 800e6 })).toThrow('requires 600.0 MB VRAM but only 560.0 MB (70% of 800.0 MB)');
  });
});

describe('resolveDevice', () => {
  const none = async () => ({ totalBytes: null, gpus: [], source: 'none' as const, note: 'nvidia-smi could not be run (ENOENT)' });
  const one = async () => ({ totalBytes: 16e9, gpus: [16e9], source: 'nvidia-smi' as const, note: 'GPU 0' });

  it('auto without a GPU: the CPU, and one info line', async () => {
    const choice = await resolveDevice('auto', { detect: none });
    expect(choice).toEqual({ device: 'cpu', noGpu: 'nvidia-smi could not be run (ENOENT)' });
    const log = createMemoryLogger();
    logDeviceChoice(log, choice);
    expect(log.lines).toEqual([{ level: 'info', msg: 'no GPU found: running on CPU', obj: { device: 'auto', why: 'nvidia-smi could not be run (ENOENT)' } }]);
  });

  it('auto with a GPU stays auto (a failing provider then warns); cpu and cuda are left alone, unasked', async () => {
    let asked = 0;
    const counted = async () => (asked++, one());
    const choices = [await resolveDevice('auto', { detect: counted }), await resolveDevice('cuda', { detect: counted }), await resolveDevice('cpu', { detect: counted })];
    expect(choices).toEqual([{ device: 'auto' }, { device: 'cuda' }, { device: 'cpu' }]);
    expect(asked).toBe(1);
    const log = createMemoryLogger();
    for (const c of choices) logDeviceChoice(log, c);
    expect(log.lines).toEqual([]);
  });
});
