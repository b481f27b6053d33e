import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCodes, SwitchyardError } from '../contract/errors.js';
import { buildDemoPolicy, manifestJson } from '../demo/cartpole-policies.js';
import { computeModelHash, listModelFiles, readExport, validateManifest } from './export.js';

let root: string;
let n = 0;

const good = () => structuredClone(buildDemoPolicy('1.0.0').manifest) as unknown as Record<string, unknown>;

async function exportDir(manifest: unknown, opts: { raw?: string; onnx?: Uint8Array | null } = {}): Promise<string> {
  const dir = join(root, `e${n++}`);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'switchyard.json'), opts.raw ?? JSON.stringify(manifest, null, 2));
  if (opts.onnx !== null) await writeFile(join(dir, 'policy.onnx'), opts.onnx ?? buildDemoPolicy('1.0.0').onnx);
  return dir;
}

async function badExport(p: Promise<unknown>): Promise<SwitchyardError> {
  const e = await p.then(
    () => {
      throw new Error('expected SWY_ERR_BAD_EXPORT, but readExport succeeded');
    },
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(SwitchyardError);
  expect((e as SwitchyardError).code).toBe(ErrorCodes.SWY_ERR_BAD_EXPORT);
  return e as SwitchyardError;
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'swy-export-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('readExport', () => {
  it('reads a good export', async () => {
    const dir = await exportDir(good());
    const ex = await readExport(dir);
    expect(ex.dir).toBe(dir);
    expect(ex.modelPath).toBe(join(dir, 'policy.onnx'));
    expect(ex.manifest).toEqual(buildDemoPolicy('1.0.0').manifest);
    expect(ex.modelHash).toMatch(/^[0-9a-f]{16}$/);
    expect(ex.modelVersion).toBe(`cartpole-lqr@${ex.modelHash}`);
    const size = (await readFile(join(dir, 'policy.onnx'))).length;
    expect(ex.sizeBytes).toBe(size);
    expect(ex.files).toEqual([{ name: 'policy.onnx', bytes: size }]);
  });

  it.each([
    ['policy', undefined, /policy is missing/],
    ['version', 7, /version must be a string/],
    ['model_id', 'lqr@1', /model_id .* not allowed/],
    ['kind', 'diffusion', /kind must be "direct" or "iterative"/],
    ['observation', [4], /observation must be an object/],
    ['created_at', 'yesterday', /created_at "yesterday" is not a date/],
    ['metadata', 'x', /metadata must be a JSON object/],
    ['notes', 5, /notes must be a string/],
    ['polcy', 'typo', /polcy is not a manifest field/],
  ])('rejects top-level field %s = %j', async (field, value, msg) => {
    const m = good();
    if (value === undefined) delete m[field];
    else m[field] = value;
    const e = await badExport(readExport(await exportDir(m)));
    expect(e.where).toBe(`switchyard.json: ${field}`);
    expect(e.message).toMatch(msg);
  });

  it.each([
    ['action', 'dim', 0, /action.dim must be a positive integer/],
    ['action', 'dim', 1.5, /action.dim must be a positive integer/],
    ['action', 'chunk', '4', /action.chunk must be a positive integer .* got the string "4"/],
    ['action', 'name', '', /action.name must not be empty/],
    ['observation', 'dim', -4, /observation.dim must be a positive integer/],
    ['observation', 'name', undefined, /observation.name is missing/],
    ['observation', 'size', 4, /observation.size is not a manifest field/],
  ])('rejects %s.%s = %j', async (obj, field, value, msg) => {
    const m = good();
    const o = m[obj] as Record<string, unknown>;
    if (value === undefined) delete o[field];
    else o[field] = value;
    const e = await badExport(readExport(await exportDir(m)));
    expect(e.where).toBe(`switchyard.json: ${obj}.${field}`);
    expect(e.message).toMatch(msg);
  });

  it('requires the iterative block for kind iterative, and only then', async () => {
    const it = structuredClone(buildDemoPolicy('2.0.0-iter').manifest) as unknown as Record<string, unknown>;
    expect(validateManifest(it).iterative).toEqual({ steps: 8, warm_steps: 2 });
    delete it['iterative'];
    let e = await badExport(readExport(await exportDir(it)));
    expect(e.where).toBe('switchyard.json: iterative');
    expect(e.message).toMatch(/iterative is missing; add \{ "steps": 8, "warm_steps": 2 \}/);

    it['iterative'] = { steps: 2, warm_steps: 4 };
    e = await badExport(readExport(await exportDir(it)));
    expect(e.where).toBe('switchyard.json: iterative.warm_steps');

    it['iterative'] = { steps: 8 };
    e = await badExport(readExport(await exportDir(it)));
    expect(e.where).toBe('switchyard.json: iterative.warm_steps');

    const direct = good();
    direct['iterative'] = { steps: 8, warm_steps: 2 };
    e = await badExport(readExport(await exportDir(direct)));
    expect(e.message).toMatch(/only allowed when kind is "iterative"/);
  });

  it('reports bad JSON with line and column', async () => {
    const raw = '{\n  "policy": "p",\n  "version": "1",\n}\n';
    const e = await badExport(readExport(await exportDir(null, { raw })));
    expect(e.where).toBe('switchyard.json:4:1');
    expect(e.message).toMatch(/not valid JSON/);
    const e2 = await badExport(readExport(await exportDir(null, { raw: '{ "policy": ' })));
    expect(e2.where).toMatch(/^switchyard\.json(:1:\d+)?$/);
    const e3 = await badExport(readExport(await exportDir(null, { raw: '[1, 2]' })));
    expect(e3.message).toMatch(/must hold a JSON object, got an array/);
  });

  it('reports a missing policy.onnx, a missing manifest, an empty model and a missing directory', async () => {
    let e = await badExport(readExport(await exportDir(good(), { onnx: null })));
    expect(e.where).toBe('policy.onnx');
    expect(e.message).toMatch(/policy\.onnx is missing/);

    const dir = await exportDir(good());
    await unlink(join(dir, 'switchyard.json'));
    e = await badExport(readExport(dir));
    expect(e.where).toBe('switchyard.json');
    expect(e.message).toMatch(/switchyard\.json is missing/);

    e = await badExport(readExport(await exportDir(good(), { onnx: new Uint8Array(0) })));
    expect(e.message).toMatch(/empty/);

    e = await badExport(readExport(join(root, 'nope')));
    expect(e.message).toMatch(/does not exist/);
  });
});

describe('computeModelHash', () => {
  it('hashes name then bytes of *.onnx and *.bin in code-unit order (known vector)', async () => {
    const dir = join(root, 'hash1');
    await mkdir(dir);
    // Code-unit order puts "B.onnx" (0x42) before "a.bin" (0x61); a locale sort would not.
    await writeFile(join(dir, 'a.bin'), 'hello');
    await writeFile(join(dir, 'B.onnx'), 'world');
    await writeFile(join(dir, 'switchyard.json'), '{}'); // not part of the identity
    await writeFile(join(dir, 'notes.txt'), 'ignored');
    await mkdir(join(dir, 'sub.bin')); // a directory named like a model file is skipped
    // printf 'B.onnxworlda.binhello' | sha256sum
    expect(await computeModelHash(dir)).toBe('b860a0ad9e3492b1');
    expect((await listModelFiles(dir)).map((f) => f.name)).toEqual(['B.onnx', 'a.bin']);
  });

  it('matches an independent one-shot computation and depends on order and names', async () => {
    const dir = join(root, 'hash2');
    await mkdir(dir);
    const onnx = buildDemoPolicy('1.2.0').onnx;
    const weights = Buffer.alloc(300_000);
    for (let i = 0; i < weights.length; i++) weights[i] = (i * 31) & 0xff; // spans several stream chunks
    await writeFile(join(dir, 'policy.onnx'), onnx);
    await writeFile(join(dir, 'policy.onnx.data.bin'), weights);
    const oneShot = createHash('sha256')
      .update(Buffer.concat([Buffer.from('policy.onnx'), Buffer.from(onnx), Buffer.from('policy.onnx.data.bin'), weights]))
      .digest('hex')
      .slice(0, 16);
    expect(await computeModelHash(dir)).toBe(oneShot);
    const swapped = createHash('sha256')
      .update(Buffer.concat([Buffer.from('policy.onnx.data.bin'), weights, Buffer.from('policy.onnx'), Buffer.from(onnx)]))
      .digest('hex')
      .slice(0, 16);
    expect(oneShot).not.toBe(swapped);
    const bytesOnly = createHash('sha256').update(Buffer.concat([Buffer.from(onnx), weights])).digest('hex').slice(0, 16);
    expect(oneShot).not.toBe(bytesOnly);
    const ex = await readExport(await exportDir(good(), { onnx }));
    expect(ex.modelHash).toBe(createHash('sha256').update('policy.onnx').update(onnx).digest('hex').slice(0, 16));
  });

  it('hashes file names as UTF-8', async () => {
    const dir = join(root, 'hash3');
    await mkdir(dir);
    await writeFile(join(dir, 'modèle.onnx'), 'x');
    const expected = createHash('sha256').update(Buffer.from([0x6d, 0x6f, 0x64, 0xc3, 0xa8, 0x6c, 0x65, 0x2e, 0x6f, 0x6e, 0x6e, 0x78, 0x78])).digest('hex');
    expect(await computeModelHash(dir)).toBe(expected.slice(0, 16));
  });

  it('is stable for a manifest serialized by manifestJson', () => {
    const m = buildDemoPolicy('1.0.0').manifest;
    expect(validateManifest(JSON.parse(manifestJson(m)))).toEqual(m);
  });
});
