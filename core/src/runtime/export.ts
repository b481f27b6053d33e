/**
 * Reading and checking a policy export directory (spec §4.1).
 */
import { lineColumn, describeJsonValue as describe, isObject, type JsonRecord } from '../domain/text.js';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ErrorCodes, SwitchyardError } from '../contract/errors.js';
import type { Manifest, PolicyExport } from './types.js';

export const MANIFEST_FILE = 'switchyard.json';
export const MODEL_FILE = 'policy.onnx';

function badExport(message: string, where: string): SwitchyardError {
  return new SwitchyardError(ErrorCodes.SWY_ERR_BAD_EXPORT, message, where);
}

/** The files that make up the model identity: `*.onnx` and `*.bin`, sorted by name (code units). */
export async function listModelFiles(dir: string): Promise<{ name: string; bytes: number }[]> {
  const entries = await readdir(dir);
  const names = entries.filter((n) => n.endsWith('.onnx') || n.endsWith('.bin'));
  // Plain code-unit order, not locale order.
  names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const files: { name: string; bytes: number }[] = [];
  for (const name of names) {
    const st = await stat(join(dir, name));
    if (st.isFile()) files.push({ name, bytes: st.size });
  }
  return files;
}

/**
 * `model_hash` per spec §4.1: SHA-256 over the export's `*.onnx` and `*.bin` files sorted by file
 * name, feeding each file's name (UTF-8) then its bytes; the first 16 hex characters.
 */
export async function computeModelHash(dir: string): Promise<string> {
  return (await hashModelFiles(dir)).modelHash;
}

async function hashModelFiles(dir: string): Promise<{ modelHash: string; sizeBytes: number; files: { name: string; bytes: number }[] }> {
  const files = await listModelFiles(dir);
  const h = createHash('sha256');
  let sizeBytes = 0;
  for (const f of files) {
    h.update(Buffer.from(f.name, 'utf8'));
    const stream = createReadStream(join(dir, f.name));
    for await (const chunk of stream) h.update(chunk as Buffer);
    sizeBytes += f.bytes;
  }
  return { modelHash: h.digest('hex').slice(0, 16), sizeBytes, files };
}

function parseManifestText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    let where = MANIFEST_FILE;
    const lc = /line (\d+) column (\d+)/.exec(msg);
    const pos = /position (\d+)/.exec(msg);
    if (lc) where = `${MANIFEST_FILE}:${lc[1]}:${lc[2]}`;
    else if (pos) {
      const { line, column } = lineColumn(text, Number(pos[1]));
      where = `${MANIFEST_FILE}:${line}:${column}`;
    } else if (/end of JSON input/i.test(msg)) {
      const { line, column } = lineColumn(text, text.length);
      where = `${MANIFEST_FILE}:${line}:${column}`;
    }
    throw badExport(`${MANIFEST_FILE} is not valid JSON (${msg}). Fix the syntax at ${where}.`, where);
  }
}

type Obj = JsonRecord;

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

class ManifestChecker {
  constructor(private readonly root: Obj) {}

  private where(path: string): string {
    return `${MANIFEST_FILE}: ${path}`;
  }

  private get(path: string): unknown {
    let cur: unknown = this.root;
    for (const part of path.split('.')) {
      if (!isObject(cur)) return undefined;
      cur = cur[part];
    }
    return cur;
  }

  object(path: string, hint: string): Obj {
    const v = this.get(path);
    if (v === undefined) throw badExport(`${path} is missing; add ${hint}.`, this.where(path));
    if (!isObject(v)) throw badExport(`${path} must be an object like ${hint}, got ${describe(v)}.`, this.where(path));
    return v;
  }

  string(path: string, hint: string, opts: { pattern?: RegExp; patternHint?: string } = {}): string {
    const v = this.get(path);
    if (v === undefined) throw badExport(`${path} is missing; add ${hint}.`, this.where(path));
    if (typeof v !== 'string') throw badExport(`${path} must be a string (${hint}), got ${describe(v)}.`, this.where(path));
    if (v.trim() === '') throw badExport(`${path} must not be empty; set ${hint}.`, this.where(path));
    if (opts.pattern && !opts.pattern.test(v)) {
      throw badExport(`${path} ${JSON.stringify(v)} is not allowed: ${opts.patternHint ?? 'unexpected characters'}.`, this.where(path));
    }
    return v;
  }

  optionalString(path: string): string | undefined {
    const v = this.get(path);
    if (v === undefined) return undefined;
    if (typeof v !== 'string') throw badExport(`${path} must be a string when present, got ${describe(v)}; fix it or remove the field.`, this.where(path));
    return v;
  }

  positiveInt(path: string, hint: string): number {
    const v = this.get(path);
    if (v === undefined) throw badExport(`${path} is missing; add ${hint}.`, this.where(path));
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
      throw badExport(`${path} must be a positive integer (${hint}), got ${describe(v)}.`, this.where(path));
    }
    return v;
  }

  noUnknown(path: string, obj: Obj, allowed: readonly string[]): void {
    for (const k of Object.keys(obj)) {
      if (!allowed.includes(k)) {
        const full = path === '' ? k : `${path}.${k}`;
        throw badExport(
          `${full} is not a manifest field (allowed${path === '' ? '' : ` in ${path}`}: ${allowed.join(', ')}). Fix the spelling or move it under metadata.`,
          this.where(full),
        );
      }
    }
  }
}

const TOP_FIELDS = ['policy', 'version', 'model_id', 'kind', 'observation', 'action', 'iterative', 'notes', 'created_at', 'metadata'] as const;

/** Check a parsed manifest; throws SWY_ERR_BAD_EXPORT naming the field. */
export function validateManifest(raw: unknown): Manifest {
  if (!isObject(raw)) {
    throw badExport(`${MANIFEST_FILE} must hold a JSON object, got ${describe(raw)}.`, MANIFEST_FILE);
  }
  const c = new ManifestChecker(raw);
  c.noUnknown('', raw, TOP_FIELDS);
  const noAt = { pattern: NAME_RE, patternHint: 'use letters, digits, ".", "_" and "-" only, starting with a letter or digit' };
  const policy = c.string('policy', 'the policy line name, e.g. "cartpole-balance"', noAt);
  const version = c.string('version', 'the version label, e.g. "1.3.0"', noAt);
  const modelId = c.string('model_id', 'the model identifier, e.g. "cartpole-lqr"', {
    pattern: /^[^@\s]+$/,
    patternHint: 'no "@" or whitespace (the model version is written <model_id>@<model_hash>)',
  });
  const kind = c.string('kind', '"direct" or "iterative"');
  if (kind !== 'direct' && kind !== 'iterative') {
    throw badExport(`kind must be "direct" or "iterative", got ${JSON.stringify(kind)}.`, `${MANIFEST_FILE}: kind`);
  }
  const obsObj = c.object('observation', '{ "name": "obs", "dim": 4 }');
  c.noUnknown('observation', obsObj, ['name', 'dim']);
  const observation = {
    name: c.string('observation.name', 'the ONNX input name of the observation, e.g. "obs"'),
    dim: c.positiveInt('observation.dim', 'the length of the observation vector'),
  };
  const actObj = c.object('action', '{ "name": "action", "dim": 1, "chunk": 1 }');
  c.noUnknown('action', actObj, ['name', 'dim', 'chunk']);
  const action = {
    name: c.string('action.name', 'the ONNX output name of the actions, e.g. "action"'),
    dim: c.positiveInt('action.dim', 'the length of one action vector'),
    chunk: c.positiveInt('action.chunk', 'how many actions one request returns; 1 for a single action'),
  };
  const manifest: Manifest = { policy, version, model_id: modelId, kind, observation, action };
  if (kind === 'iterative') {
    const itObj = c.object('iterative', '{ "steps": 8, "warm_steps": 2 } (required when kind is "iterative")');
    c.noUnknown('iterative', itObj, ['steps', 'warm_steps']);
    const steps = c.positiveInt('iterative.steps', 'iterations from zeros on a cache miss');
    const warmSteps = c.positiveInt('iterative.warm_steps', 'iterations from a warm start on a cache hit');
    if (warmSteps > steps) {
      throw badExport(`iterative.warm_steps (${warmSteps}) must not exceed iterative.steps (${steps}).`, `${MANIFEST_FILE}: iterative.warm_steps`);
    }
    manifest.iterative = { steps, warm_steps: warmSteps };
  } else if (raw['iterative'] !== undefined) {
    throw badExport('iterative is only allowed when kind is "iterative"; remove it or set kind to "iterative".', `${MANIFEST_FILE}: iterative`);
  }
  const notes = c.optionalString('notes');
  if (notes !== undefined) manifest.notes = notes;
  const createdAt = c.optionalString('created_at');
  if (createdAt !== undefined) {
    if (Number.isNaN(Date.parse(createdAt))) {
      throw badExport(`created_at ${JSON.stringify(createdAt)} is not a date; use ISO 8601, e.g. "2025-01-06T09:00:00Z".`, `${MANIFEST_FILE}: created_at`);
    }
    manifest.created_at = createdAt;
  }
  const metadata = raw['metadata'];
  if (metadata !== undefined) {
    if (!isObject(metadata)) throw badExport(`metadata must be a JSON object when present, got ${describe(metadata)}.`, `${MANIFEST_FILE}: metadata`);
    manifest.metadata = metadata;
  }
  return manifest;
}

/**
 * Read an export directory: check the manifest and the model file, compute the model hash.
 * Throws SwitchyardError SWY_ERR_BAD_EXPORT with `where` naming the file (and field).
 * Whether the ONNX bytes load is checked later, by the worker (SWY_ERR_MODEL_LOAD).
 */
export async function readExport(dirIn: string): Promise<PolicyExport> {
  const dir = resolve(dirIn);
  let st;
  try {
    st = await stat(dir);
  } catch {
    throw badExport(`Export directory ${dir} does not exist. Pass the directory that holds ${MANIFEST_FILE} and ${MODEL_FILE}.`, dir);
  }
  if (!st.isDirectory()) {
    throw badExport(`${dir} is not a directory. An export is a directory holding ${MANIFEST_FILE} and ${MODEL_FILE}.`, dir);
  }
  let text: string;
  try {
    text = await readFile(join(dir, MANIFEST_FILE), 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw badExport(`${MANIFEST_FILE} is missing in ${dir}. Write the manifest (policy, version, model_id, kind, observation, action) beside ${MODEL_FILE}.`, MANIFEST_FILE);
    }
    throw badExport(`Cannot read ${join(dir, MANIFEST_FILE)}: ${(e as Error).message}.`, MANIFEST_FILE);
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const manifest = validateManifest(parseManifestText(text));

  const modelPath = join(dir, MODEL_FILE);
  let modelStat;
  try {
    modelStat = await stat(modelPath);
  } catch {
    throw badExport(`${MODEL_FILE} is missing in ${dir}. Export the model as ${MODEL_FILE} beside ${MANIFEST_FILE}.`, MODEL_FILE);
  }
  if (!modelStat.isFile()) throw badExport(`${MODEL_FILE} in ${dir} is not a file.`, MODEL_FILE);
  if (modelStat.size === 0) throw badExport(`${MODEL_FILE} in ${dir} is empty (0 bytes). Export the model again.`, MODEL_FILE);

  const { modelHash, sizeBytes, files } = await hashModelFiles(dir);
  return {
    dir,
    manifest,
    modelHash,
    modelVersion: `${manifest.model_id}@${modelHash}`,
    sizeBytes,
    files,
    modelPath,
  };
}
