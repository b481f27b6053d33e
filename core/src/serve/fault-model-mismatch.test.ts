/**
 * Fault: serving bytes other than the registered ones. Real demo exports on a real store; the
 * files are changed after registration, and a folder named like a version sits in the working
 * directory.
 */
import { appendFileSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SwitchyardError } from '../contract/index.js';
import { createDemoEngine } from '../../test-support/demo-engine.js';
import { writeFlakyExport } from '../../test-support/fault-exports.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function engineWith() {
  const ctx = await createDemoEngine();
  cleanups.push(ctx.cleanup);
  return ctx.engine;
}

async function failure(p: Promise<unknown>): Promise<SwitchyardError> {
  try {
    await p;
  } catch (e) {
    return e as SwitchyardError;
  }
  throw new Error('expected a rejection');
}

describe('model_hash checked at load', () => {
  it('refuses to serve a registered version whose files changed, naming both hashes', async () => {
    const engine = await engineWith();
    const v = engine.registry.resolve('cartpole-balance@1.1.0');
    appendFileSync(join(v.exportPath!, 'policy.onnx'), Buffer.from([0]));
    const e = await failure(engine.startServing({ single: 'cartpole-balance@1.1.0' }));
    expect(e.code).toBe('SWY_ERR_MODEL_MISMATCH');
    expect(e.message).toContain(`registered with model_hash ${v.modelHash}`);
    expect(e.message).toMatch(/now hash to [0-9a-f]{16}/);
    expect(engine.serving.state().mode).toBe('off');
  }, 180_000);

  it('refuses it where promote, rollback and the canary load a slot (engine.resolveExport)', async () => {
    const engine = await engineWith();
    await engine.startServing({ single: 'cartpole-balance@production' });
    const prod = engine.registry.resolve('cartpole-balance@production');
    const other = engine.registry.resolve('cartpole-balance@2.0.0-iter');
    expect(other.id).not.toBe(prod.id);
    appendFileSync(join(other.exportPath!, 'policy.onnx'), Buffer.from([0]));
    const e = await failure(engine.resolveExport('cartpole-balance@2.0.0-iter'));
    expect(e.code).toBe('SWY_ERR_MODEL_MISMATCH');
  }, 180_000);
});

describe('a folder named like a version', () => {
  it('never shadows the registered version; a path with a slash is still a path', async () => {
    const engine = await engineWith();
    const name = 'cartpole-balance@1.1.0';
    const decoy = join(process.cwd(), name);
    expect(existsSync(decoy)).toBe(false);
    await writeFlakyExport(decoy);
    cleanups.push(() => rmSync(decoy, { recursive: true, force: true }));
    const registered = engine.registry.resolve(name);
    const byRef = await engine.resolveExport(name);
    expect(byRef.ref).toBe(name);
    expect(byRef.exp.modelHash).toBe(registered.modelHash);
    const byPath = await engine.resolveExport(`./${name}`);
    expect(byPath.exp.manifest.policy).toBe('flaky');
  }, 180_000);
});
