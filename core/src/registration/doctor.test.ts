import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEMO_VERSIONS } from '../demo/cartpole-policies.js';
import { DOCTOR_CHECKS, doctorReason, runDoctor, type DoctorReport } from './doctor.js';
import { readExport } from '../runtime/export.js';
import { externalDataModel, FAULT_NAMES, FAULTS, writeFaultyExport, writeGoodExport, type FaultName } from '../../test-support/fault-fixtures.js';

let root: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'swy-doctor-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Run `fn` over `items`, at most `n` at a time (2 cores: keep the worker count small). */
async function pool<T, R>(items: readonly T[], n: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!);
      }
    }),
  );
  return out;
}

describe('doctor on good exports', () => {
  it('passes every demo policy and reports hash, size, provider, load, warm-up and latency', async () => {
    const reports = await pool(DEMO_VERSIONS, 2, async (v) => {
      const dir = await writeGoodExport(join(root, `good-${v}`), v);
      return { v, dir, report: await runDoctor(dir, { device: 'cpu', runs: 30 }) };
    });
    for (const { v, dir, report } of reports) {
      const exp = await readExport(dir);
      expect(report.ok, doctorReason(report)).toBe(true);
      expect(report.error).toBeUndefined();
      expect(report.checks.map((c) => c.name)).toEqual([...DOCTOR_CHECKS]);
      expect(report.checks.every((c) => c.ok && !c.skipped)).toBe(true);
      expect(report.dir).toBe(dir);
      expect(report.manifest?.version).toBe(v);
      expect(report.modelHash).toBe(exp.modelHash);
      expect(report.modelVersion).toBe(exp.modelVersion);
      expect(report.sizeBytes).toBe(exp.sizeBytes);
      expect(report.provider).toBe('cpu');
      expect(report.device).toBe('cpu');
      expect(report.loadMs).toBeGreaterThan(0);
      expect(report.warmupMs).toBeGreaterThan(0);
      expect(report.latency?.runs).toBe(30);
      expect(report.latency!.p50Ms).toBeGreaterThan(0);
      expect(report.latency!.p99Ms).toBeGreaterThanOrEqual(report.latency!.p50Ms);
      expect(report.latency!.inferP50Ms).toBeLessThanOrEqual(report.latency!.p50Ms);
      expect(report.checks.find((c) => c.name === 'files')!.detail).toContain(exp.modelVersion);
      expect(doctorReason(report)).toBe('');
      // The report is plain JSON: it goes into the store as is.
      expect(JSON.parse(JSON.stringify(report))).toEqual(report);
    }
    const iter = reports.find((r) => r.v === '2.0.0-iter')!.report;
    expect(iter.checks[0]!.detail).toMatch(/iterative \(8 steps, 2 warm\)/);
  });

  it('loads a model whose weights are in an external .bin file, and hashes that file too', async () => {
    const dir = await writeGoodExport(join(root, 'external'), '1.0.0');
    const { onnx, bin } = externalDataModel();
    await writeFile(join(dir, 'policy.onnx'), onnx);
    await writeFile(join(dir, 'weights.bin'), bin);
    const report = await runDoctor(dir, { device: 'cpu', runs: 5 });
    expect(report.ok, doctorReason(report)).toBe(true);
    expect(report.files?.map((f) => f.name)).toEqual(['policy.onnx', 'weights.bin']);
    expect(report.sizeBytes).toBe(onnx.length + bin.length);
  });

  it('skips timing with runs 0 and refuses a negative count', async () => {
    const dir = await writeGoodExport(join(root, 'zero-runs'), '1.1.0');
    const report = await runDoctor(dir, { device: 'cpu', runs: 0 });
    expect(report.ok).toBe(true);
    expect(report.latency).toBeNull();
    await expect(runDoctor(dir, { runs: -1 })).rejects.toThrow(/runs must be a whole number/);
  });
});

describe('doctor on broken exports', () => {
  it('names the failing check and the reason for every fault, and skips the checks after it', async () => {
    const results = await pool(FAULT_NAMES, 2, async (fault: FaultName) => {
      const dir = await writeFaultyExport(join(root, `fault-${fault}`), fault);
      return { fault, report: await runDoctor(dir, { device: 'cpu', runs: 200 }) };
    });
    for (const { fault, report } of results) {
      const want = FAULTS[fault];
      const at = DOCTOR_CHECKS.indexOf(want.check as (typeof DOCTOR_CHECKS)[number]);
      expect(report.ok, fault).toBe(false);
      expect(report.error?.check, fault).toBe(want.check);
      expect(report.error?.message, fault).toMatch(want.message);
      expect(doctorReason(report), fault).toMatch(new RegExp(`^${want.check} check failed: `));
      expect(report.checks.map((c) => c.name), fault).toEqual([...DOCTOR_CHECKS]);
      report.checks.forEach((c, i) => {
        expect(c.ok, `${fault}: ${c.name}`).toBe(i < at);
        expect(Boolean(c.skipped), `${fault}: ${c.name}`).toBe(i > at);
      });
      expect(report.checks[at]!.detail).toBe(report.error!.message);
      // What was learnt before the failure is kept.
      if (at >= 2) expect(report.modelHash, fault).toMatch(/^[0-9a-f]{16}$/);
      else expect(report.modelHash, fault).toBeNull();
      if (at >= 3) expect(report.provider, fault).toBe('cpu');
      else expect(report.provider, fault).toBeNull();
      expect(report.latency, fault).toBeNull();
    }
  });

  it('reports a directory that does not exist, and a file given instead of a directory', async () => {
    let r: DoctorReport = await runDoctor(join(root, 'nope'));
    expect([r.ok, r.error?.check, r.error?.code]).toEqual([false, 'manifest', 'SWY_ERR_BAD_EXPORT']);
    expect(r.error?.message).toMatch(/does not exist/);
    const file = join(root, 'a-file');
    await writeFile(file, 'x');
    r = await runDoctor(file);
    expect(r.error?.message).toMatch(/is not a directory/);
  });
});
