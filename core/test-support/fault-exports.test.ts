import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GAINS } from '../src/demo/cartpole-policies.js';
import { runDoctor } from '../src/registration/doctor.js';
import { readExport } from '../src/runtime/export.js';
import { PolicyRunner } from '../src/runtime/policy-runner.js';
import { writeSlowExport } from './fault-exports.js';

const dir = mkdtempSync(join(tmpdir(), 'swy-slow-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the slow fixture policy (a gate that can always be cancelled)', () => {
  it('passes doctor and answers exactly what the 1.0.0 LQR controller answers, so every case runs its full length', async () => {
    const exp = await writeSlowExport(join(dir, 'slow'));
    const report = await runDoctor(exp, { device: 'cpu', runs: 5 });
    expect(report.ok, JSON.stringify(report.error)).toBe(true);
    const runner = await PolicyRunner.start({ export: await readExport(exp), slot: 'a', device: 'cpu' });
    try {
      for (const state of [
        [0.1, -0.2, 0.05, 0.3],
        [-1, 0.5, -0.15, -0.4],
        [2, 2, 0.5, 2],
      ]) {
        const lqr = Math.max(-10, Math.min(10, state.reduce((s, v, i) => s + v * GAINS.lqr[i]!, 0)));
        const out = await runner.act({ episodeId: null, state });
        expect(out.actions[0]![0]!).toBeCloseTo(lqr, 4);
      }
    } finally {
      await runner.close();
    }
  }, 180_000);
});

describe('the busy-loop fixture policy (doctor runs that can be watched)', () => {
  it('loads, and answers the 1.0.0 controller\'s action', async () => {
    const { writeBusyExport } = await import('./fault-exports.js');
    const exp = await writeBusyExport(join(dir, 'busy'), { trips: 1000 });
    const runner = await PolicyRunner.start({ export: await readExport(exp), slot: 'a', device: 'cpu' });
    try {
      const state = [0.1, -0.2, 0.05, 0.3];
      const lqr = state.reduce((s, v, i) => s + v * GAINS.lqr[i]!, 0);
      const t0 = performance.now();
      const out = await runner.act({ episodeId: null, state });
      process.stdout.write(`busy-loop model, 1000 trips: ${(performance.now() - t0).toFixed(1)} ms a call\n`);
      expect(out.actions[0]![0]!).toBeCloseTo(lqr, 4);
    } finally {
      await runner.close();
    }
  }, 180_000);
});
