/**
 * The inference core that runs inside a policy worker: an ONNX Runtime session checked against
 * the manifest, the per-slot episode cache (warm starts for `iterative`, RTC carry-over) and the
 * act / batch paths. Kept free of worker plumbing so it can be tested in-process too.
 */
import ort from 'onnxruntime-node';
import type { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-node';
import { ErrorCodes, SwitchyardError } from '../contract/errors.js';
import { LruMap } from '../domain/lru.js';
import { PolicyLoadError, type LoadPhase } from './load-error.js';
import type { Manifest } from './types.js';

export interface InferenceOptions {
  modelPath: string;
  manifest: Manifest;
  device: 'auto' | 'cpu' | 'cuda';
  episodeCacheSize?: number;
  rtc?: boolean;
  intraOpThreads?: number;
}

export interface InferenceActResult {
  /** `[chunk * action_dim]`, row-major; a fresh array the caller may transfer. */
  actions: Float32Array;
  cache: 'hit' | 'miss' | 'none';
  denoiseSteps: number;
  inferMs: number;
}

interface EpisodeEntry {
  /** The model's last chunk (for warm starts). */
  raw: Float32Array;
  /** What was returned last (for RTC blending). */
  emitted: Float32Array;
}

/**
 * A bounded least-recently-used map from episode id to its last chunk: the shared O(1) LRU, since
 * evicting through `Map.keys()` slows down once the map has seen many deletes.
 */
export class EpisodeCache extends LruMap<string, EpisodeEntry> {
  /** Removes `id` when it still maps to `e`. */
  deleteIf(id: string, e: EpisodeEntry): void {
    if (this.peek(id) === e) this.delete(id);
  }
}

const NO_CHUNK = new Float32Array(0);

function loadError(message: string, where?: string): SwitchyardError {
  return new SwitchyardError(ErrorCodes.SWY_ERR_MODEL_LOAD, message, where);
}

/** The same error, tagged with the loading step it happened in. */
function withPhase(e: unknown, phase: LoadPhase, provider?: string): PolicyLoadError {
  if (e instanceof PolicyLoadError) return e;
  if (e instanceof SwitchyardError) return new PolicyLoadError(e.code, e.message, e.where, phase, provider);
  const msg = e instanceof Error ? e.message : String(e);
  return new PolicyLoadError(ErrorCodes.SWY_ERR_MODEL_LOAD, `Loading the model failed: ${msg}`, MODEL_FILE, phase, provider);
}

function firstNonFinite(a: Float32Array): number {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i]!)) return i;
  return -1;
}

function fmtShape(shape: ReadonlyArray<number | string>): string {
  return `[${shape.map((d) => (typeof d === 'string' ? d || '?' : String(d))).join(', ')}]`;
}

const MODEL_FILE = 'policy.onnx';

// Keep ONNX Runtime's own console logging to fatal problems (a failed CUDA probe under
// --device auto would print an error otherwise); errors reach callers as exceptions.
ort.env.logLevel = 'fatal';

/** Deterministic pseudo-random numbers in [-1, 1) for warm-up inputs. */
function fillRandom(a: Float32Array, seed: number): void {
  let s = seed >>> 0 || 1;
  for (let i = 0; i < a.length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    a[i] = ((s >>> 0) / 4294967296) * 2 - 1;
  }
}

/**
 * Check the graph's inputs and outputs against the manifest. Returns whether the batch axis is
 * dynamic (false: the model takes batch 1 only and batches run row by row).
 */
export function checkSignature(session: InferenceSession, m: Manifest): { dynamicBatch: boolean } {
  const inputs = new Map<string, InferenceSession.ValueMetadata>(session.inputMetadata.map((x) => [x.name, x]));
  const outputs = new Map<string, InferenceSession.ValueMetadata>(session.outputMetadata.map((x) => [x.name, x]));
  const expectedInputs = m.kind === 'iterative' ? [m.observation.name, 'x', 't'] : [m.observation.name];
  const inputList = [...inputs.keys()].join(', ') || '(none)';
  for (const name of expectedInputs) {
    if (!inputs.has(name)) {
      const hint =
        name === m.observation.name
          ? `switchyard.json observation.name must name the model's observation input`
          : `an iterative policy's graph takes inputs (${m.observation.name}, x, t)`;
      throw loadError(`${MODEL_FILE} has no input named '${name}' (its inputs: ${inputList}); ${hint}.`, `${MODEL_FILE}: inputs`);
    }
  }
  for (const name of inputs.keys()) {
    if (!expectedInputs.includes(name)) {
      throw loadError(
        `${MODEL_FILE} has an input '${name}' that Switchyard does not feed; a ${m.kind} policy takes exactly (${expectedInputs.join(', ')}).`,
        `${MODEL_FILE}: input '${name}'`,
      );
    }
  }
  if (!outputs.has(m.action.name)) {
    throw loadError(
      `${MODEL_FILE} has no output named '${m.action.name}' (its outputs: ${[...outputs.keys()].join(', ') || '(none)'}); switchyard.json action.name must name the model's action output.`,
      `${MODEL_FILE}: outputs`,
    );
  }

  let dynamicBatch = true;
  const checkTensor = (
    meta: InferenceSession.ValueMetadata,
    io: 'input' | 'output',
    expected: (number | null)[][],
    field: string,
  ): void => {
    const where = `${MODEL_FILE}: ${io} '${meta.name}'`;
    if (!meta.isTensor) throw loadError(`${MODEL_FILE} ${io} '${meta.name}' is not a tensor.`, where);
    if (meta.type !== 'float32') {
      throw loadError(`${MODEL_FILE} ${io} '${meta.name}' has type ${meta.type}; Switchyard feeds and reads float32.`, where);
    }
    const shape = meta.shape;
    if (shape.length === 0) return; // shape not recorded in the graph; checked at warm-up
    const fits = expected.some(
      (exp) => exp.length === shape.length && exp.every((d, i) => d === null || typeof shape[i] === 'string' || shape[i] === d),
    );
    if (!fits) {
      const want = expected.map((e) => fmtShape(e.map((d) => (d === null ? 'N' : d)))).join(' or ');
      throw loadError(`${MODEL_FILE} ${io} '${meta.name}' has shape ${fmtShape(shape)} but switchyard.json (${field}) needs ${want}.`, where);
    }
    const batch = shape[0];
    if (typeof batch === 'number') {
      if (batch !== 1) {
        throw loadError(
          `${MODEL_FILE} ${io} '${meta.name}' has a fixed batch dimension ${batch}; export it with a dynamic batch axis (e.g. 'N') or batch 1.`,
          where,
        );
      }
      dynamicBatch = false;
    }
  };
  const { dim: od } = m.observation;
  const { dim: ad, chunk } = m.action;
  checkTensor(inputs.get(m.observation.name)!, 'input', [[null, od]], `observation.dim ${od}`);
  const chunkShapes: (number | null)[][] = chunk === 1 ? [[null, ad], [null, 1, ad]] : [[null, chunk, ad]];
  if (m.kind === 'iterative') {
    checkTensor(inputs.get('x')!, 'input', [[null, chunk, ad]], `action.chunk ${chunk}, action.dim ${ad}`);
    checkTensor(inputs.get('t')!, 'input', [[null, 1]], 'iterative');
    checkTensor(outputs.get(m.action.name)!, 'output', [[null, chunk, ad]], `action.chunk ${chunk}, action.dim ${ad}`);
  } else {
    checkTensor(outputs.get(m.action.name)!, 'output', chunkShapes, `action.chunk ${chunk}, action.dim ${ad}`);
  }
  return { dynamicBatch };
}

export class PolicyInference {
  readonly manifest: Manifest;
  readonly provider: string;
  readonly fallbackReason: string | undefined;
  readonly loadMs: number;
  warmupMs = 0;
  readonly cache: EpisodeCache;
  private readonly session: InferenceSession;
  private readonly dynamicBatch: boolean;
  private readonly rtc: boolean;
  private readonly obsDim: number;
  private readonly chunkSize: number;
  private readonly actionDim: number;
  private readonly perRow: number;
  private readonly obsName: string;
  private readonly actName: string;
  private readonly fetches: string[];
  private readonly obsDims: number[];
  private readonly xDims: number[];

  private constructor(opts: InferenceOptions, session: InferenceSession, provider: string, fallbackReason: string | undefined, loadMs: number) {
    this.manifest = opts.manifest;
    this.session = session;
    this.provider = provider;
    this.fallbackReason = fallbackReason;
    this.loadMs = loadMs;
    this.cache = new EpisodeCache(Math.max(1, Math.floor(opts.episodeCacheSize ?? 1024)));
    this.rtc = opts.rtc ?? false;
    const m = opts.manifest;
    this.obsDim = m.observation.dim;
    this.chunkSize = m.action.chunk;
    this.actionDim = m.action.dim;
    this.perRow = this.chunkSize * this.actionDim;
    this.obsName = m.observation.name;
    this.actName = m.action.name;
    this.fetches = [this.actName];
    this.obsDims = [1, this.obsDim];
    this.xDims = [1, this.chunkSize, this.actionDim];
    this.dynamicBatch = checkSignature(session, m).dynamicBatch;
  }

  /** Create the session on the requested device, check it against the manifest, warm it up. */
  /**
   * Throws a `PolicyLoadError` whose `phase` says which step failed: `load` (session creation),
   * `io-shapes` (graph vs manifest) or `warmup` (random-input runs, finite outputs).
   */
  static async load(opts: InferenceOptions): Promise<PolicyInference> {
    const t0 = performance.now();
    let created: Awaited<ReturnType<typeof createSession>>;
    try {
      created = await createSession(opts.modelPath, opts.device, opts.intraOpThreads ?? 1);
    } catch (e) {
      throw withPhase(e, 'load');
    }
    const { session, provider, fallbackReason } = created;
    let engine: PolicyInference;
    let phase: LoadPhase = 'io-shapes';
    try {
      engine = new PolicyInference(opts, session, provider, fallbackReason, performance.now() - t0);
      phase = 'warmup';
      const t1 = performance.now();
      await engine.warmUp();
      engine.warmupMs = performance.now() - t1;
    } catch (e) {
      await session.release().catch(() => undefined);
      throw withPhase(e, phase, provider);
    }
    return engine;
  }

  private async warmUp(): Promise<void> {
    const sizes = this.dynamicBatch ? [1, 3] : [1];
    for (const n of sizes) {
      const obs = new Float32Array(n * this.obsDim);
      fillRandom(obs, 12345 + n);
      let out: Float32Array;
      try {
        out = await this.infer(obs, n, this.manifest.iterative?.steps ?? 1, 0, null);
      } catch (e) {
        throw loadError(`${MODEL_FILE} failed its warm-up run (batch ${n}): ${(e as Error).message}`, MODEL_FILE);
      }
      if (out.length !== n * this.perRow) {
        throw loadError(
          `${MODEL_FILE} output '${this.actName}' has ${out.length / n} values per observation at warm-up but switchyard.json declares action.chunk ${this.chunkSize} × action.dim ${this.actionDim} = ${this.perRow}.`,
          `${MODEL_FILE}: output '${this.actName}'`,
        );
      }
      const bad = firstNonFinite(out);
      if (bad >= 0) {
        throw loadError(
          `${MODEL_FILE} produced a non-finite action (${out[bad]} at index ${bad}) when warmed up on random observations (batch ${n}); the model is broken. Check its weights and export.`,
          MODEL_FILE,
        );
      }
    }
  }

  /** One ONNX run on a batch of observations (direct), or `steps` iterations (iterative). */
  private async infer(obs: Float32Array, n: number, steps: number, tStartStep: number, x0: Float32Array | null): Promise<Float32Array> {
    const obsT = new ort.Tensor('float32', obs, n === 1 ? this.obsDims : [n, this.obsDim]);
    if (this.manifest.kind === 'direct') {
      const out = await this.session.run({ [this.obsName]: obsT }, this.fetches);
      return (out[this.actName] as OrtTensor).data as Float32Array;
    }
    const total = this.manifest.iterative!.steps;
    const xDims = n === 1 ? this.xDims : [n, this.chunkSize, this.actionDim];
    let x = x0 ?? new Float32Array(n * this.perRow);
    const t = new Float32Array(n);
    for (let k = 0; k < steps; k++) {
      t.fill((tStartStep + k) / total);
      const out = await this.session.run(
        { [this.obsName]: obsT, x: new ort.Tensor('float32', x, xDims), t: new ort.Tensor('float32', t, [n, 1]) },
        this.fetches,
      );
      x = (out[this.actName] as OrtTensor).data as Float32Array;
    }
    return x;
  }

  /** Batch inference without episode state: `obs` is `[n * obs_dim]`, the result `[n * chunk * action_dim]`. */
  async batch(obs: Float32Array, n: number): Promise<Float32Array> {
    const steps = this.manifest.iterative?.steps ?? 1;
    let out: Float32Array;
    try {
      if (this.dynamicBatch || n === 1) {
        out = await this.infer(obs, n, steps, 0, null);
      } else {
        out = new Float32Array(n * this.perRow);
        for (let i = 0; i < n; i++) {
          const row = await this.infer(obs.slice(i * this.obsDim, (i + 1) * this.obsDim), 1, steps, 0, null);
          out.set(row, i * this.perRow);
        }
      }
    } catch (e) {
      throw new SwitchyardError(ErrorCodes.SWY_ERR_INFERENCE, `ONNX Runtime failed on a batch of ${n}: ${(e as Error).message}`);
    }
    if (out.length !== n * this.perRow) {
      throw new SwitchyardError(ErrorCodes.SWY_ERR_INFERENCE, `The model returned ${out.length} values for a batch of ${n}; expected ${n * this.perRow}.`);
    }
    const bad = firstNonFinite(out);
    if (bad >= 0) {
      const row = Math.floor(bad / this.perRow);
      throw new SwitchyardError(
        ErrorCodes.SWY_ERR_INFERENCE,
        `The model produced a non-finite action (${out[bad]}) for observation ${row} of the batch.`,
        `observation ${row}`,
      );
    }
    return out.slice();
  }

  /**
   * Several control steps at once, as if `act` had been called for each in order: `obs` is
   * `[episodes.length * obs_dim]`, row-major. Returns, per request, its result or the
   * `SwitchyardError` that request alone failed with (a non-finite action for one row fails only
   * that row). With a dynamic batch axis a direct policy answers them all with one ONNX run; an
   * iterative one runs the cache hits (warm start) and the misses (cold start) as one batch
   * each, cutting the batch where an episode repeats so a later step of an episode sees the
   * chunk of the earlier one. A model with a fixed batch of 1 runs them one by one.
   *
   * The episode cache ends up as `act` in order would leave it, with one exception: when the
   * cache is full and an iterative row fails (a non-finite action), its episode's place was
   * taken before the failure was known, so the least recently used episode may have been
   * evicted where `act` would have kept it (that episode's next step is a cold start).
   */
  async actMany(episodes: ReadonlyArray<string | null>, obs: Float32Array): Promise<(InferenceActResult | SwitchyardError)[]> {
    const n = episodes.length;
    const od = this.obsDim;
    if (obs.length !== n * od) {
      const e = new SwitchyardError(ErrorCodes.SWY_ERR_INFERENCE, `actMany got ${obs.length} observation values for ${n} requests; expected ${n * od}.`);
      return episodes.map(() => e);
    }
    const out: (InferenceActResult | SwitchyardError)[] = new Array(n);
    if (n === 1 || !this.dynamicBatch) {
      for (let i = 0; i < n; i++) out[i] = await this.actOne(episodes[i]!, n === 1 ? obs : obs.slice(i * od, (i + 1) * od));
      return out;
    }
    if (this.manifest.kind === 'direct') {
      const t0 = performance.now();
      let raw: Float32Array;
      try {
        raw = await this.infer(obs, n, 1, 0, null);
      } catch {
        // Which row made ONNX Runtime fail (if any one did)? Run them one by one: each gets its own answer.
        for (let i = 0; i < n; i++) out[i] = await this.actOne(episodes[i]!, obs.slice(i * od, (i + 1) * od));
        return out;
      }
      const inferMs = performance.now() - t0;
      const keep = this.rtc && this.chunkSize > 1;
      for (let i = 0; i < n; i++) {
        const ep = episodes[i]!;
        // Looked up in order, so a repeated episode blends with the chunk emitted just before.
        const entry = ep !== null && keep ? this.cache.get(ep) : undefined;
        const remember = ep !== null && keep ? (e: EpisodeEntry) => this.cache.set(ep, e) : null;
        out[i] = this.finishRow(raw, i, n, entry, 'none', 0, inferMs, remember);
      }
      return out;
    }
    // Iterative: segments without a repeated episode, each as (at most) two batched runs.
    const it = this.manifest.iterative!;
    let start = 0;
    while (start < n) {
      const seen = new Set<string>();
      let end = start;
      for (; end < n; end++) {
        const ep = episodes[end]!;
        if (ep === null) continue;
        if (seen.has(ep)) break;
        seen.add(ep);
      }
      // The cache sees the same get, set, get, set... sequence as `act` in order would give it
      // (so the same entries survive a full cache); a placeholder is filled once its row is run.
      const entries: (EpisodeEntry | undefined)[] = [];
      const slots: (EpisodeEntry | null)[] = [];
      const hits: number[] = [];
      const misses: number[] = [];
      for (let i = start; i < end; i++) {
        const ep = episodes[i]!;
        const entry = ep !== null ? this.cache.get(ep) : undefined;
        entries.push(entry);
        let slot: EpisodeEntry | null = null;
        if (ep !== null) {
          slot = { raw: NO_CHUNK, emitted: NO_CHUNK };
          this.cache.set(ep, slot);
        }
        slots.push(slot);
        (entry !== undefined ? hits : misses).push(i);
      }
      // A row that is not answered leaves the cache as `act` would have: the old entry, or none.
      const undo = (i: number): void => {
        const slot = slots[i - start]!;
        const entry = entries[i - start];
        if (slot === null) return;
        if (entry !== undefined) {
          slot.raw = entry.raw;
          slot.emitted = entry.emitted;
        } else this.cache.deleteIf(episodes[i]!, slot);
      };
      const raws = new Map<number, { raw: Float32Array; row: number; rows: number; inferMs: number }>();
      for (const group of [hits, misses]) {
        if (group.length === 0) continue;
        const g = group.length;
        const hit = group === hits;
        const steps = hit ? it.warm_steps : it.steps;
        const gObs = new Float32Array(g * od);
        const x0 = hit ? new Float32Array(g * this.perRow) : null;
        for (let k = 0; k < g; k++) {
          const i = group[k]!;
          gObs.set(obs.subarray(i * od, (i + 1) * od), k * od);
          if (x0 !== null) x0.set(this.shifted(entries[i - start]!.raw), k * this.perRow);
        }
        const t0 = performance.now();
        try {
          const raw = await this.infer(gObs, g, steps, hit ? it.steps - steps : 0, x0);
          const inferMs = performance.now() - t0;
          for (let k = 0; k < g; k++) raws.set(group[k]!, { raw, row: k, rows: g, inferMs });
        } catch {
          // left out of `raws`: these run one by one below
        }
      }
      for (let i = start; i < end; i++) {
        const ep = episodes[i]!;
        const r = raws.get(i);
        if (r === undefined) {
          undo(i);
          out[i] = await this.actOne(ep, obs.slice(i * od, (i + 1) * od));
          continue;
        }
        const entry = entries[i - start];
        const slot = slots[i - start]!;
        const steps = entry !== undefined ? it.warm_steps : it.steps;
        const remember =
          slot === null
            ? null
            : (e: EpisodeEntry) => {
                slot.raw = e.raw;
                slot.emitted = e.emitted;
              };
        const res = this.finishRow(r.raw, r.row, r.rows, entry, entry !== undefined ? 'hit' : 'miss', steps, r.inferMs, remember);
        if (res instanceof SwitchyardError) undo(i);
        out[i] = res;
      }
      start = end;
    }
    return out;
  }

  private async actOne(episodeId: string | null, state: Float32Array): Promise<InferenceActResult | SwitchyardError> {
    try {
      return await this.act(episodeId, state);
    } catch (e) {
      return e instanceof SwitchyardError ? e : new SwitchyardError(ErrorCodes.SWY_ERR_INFERENCE, `Inference failed: ${(e as Error).message}`);
    }
  }

  /**
   * Row `row` of a batched run of `rows` observations, checked and blended like `act` does;
   * `remember` (when given) gets the episode's new cache entry.
   */
  private finishRow(
    raw: Float32Array,
    row: number,
    rows: number,
    entry: EpisodeEntry | undefined,
    cache: 'hit' | 'miss' | 'none',
    steps: number,
    inferMs: number,
    remember: ((e: EpisodeEntry) => void) | null,
  ): InferenceActResult | SwitchyardError {
    const per = this.perRow;
    if (raw.length !== rows * per) {
      return new SwitchyardError(
        ErrorCodes.SWY_ERR_INFERENCE,
        `The model returned ${raw.length} values for a batch of ${rows}; expected ${rows * per} (chunk × action_dim per observation).`,
      );
    }
    const actions = raw.slice(row * per, (row + 1) * per);
    const bad = firstNonFinite(actions);
    if (bad >= 0) {
      return new SwitchyardError(
        ErrorCodes.SWY_ERR_INFERENCE,
        `The model produced a non-finite action (${actions[bad]} at action ${Math.floor(bad / this.actionDim)}) for this observation; no actions were returned.`,
      );
    }
    const rawRow = remember !== null ? actions.slice() : actions;
    if (this.rtc && entry !== undefined && this.chunkSize > 1) this.blend(actions, entry.emitted);
    if (remember !== null) remember({ raw: rawRow, emitted: actions.slice() });
    return { actions, cache, denoiseSteps: steps, inferMs };
  }

  /** One control step for one episode. `state` is `[obs_dim]`. */
  async act(episodeId: string | null, state: Float32Array): Promise<InferenceActResult> {
    const iterative = this.manifest.kind === 'iterative';
    const keep = iterative || (this.rtc && this.chunkSize > 1);
    const entry = episodeId !== null && keep ? this.cache.get(episodeId) : undefined;
    let steps = 0;
    let cache: 'hit' | 'miss' | 'none' = 'none';
    let raw: Float32Array;
    const t0 = performance.now();
    try {
      if (!iterative) {
        raw = await this.infer(state, 1, 1, 0, null);
      } else {
        const it = this.manifest.iterative!;
        if (entry !== undefined) {
          cache = 'hit';
          steps = it.warm_steps;
          raw = await this.infer(state, 1, steps, it.steps - steps, this.shifted(entry.raw));
        } else {
          cache = 'miss';
          steps = it.steps;
          raw = await this.infer(state, 1, steps, 0, null);
        }
      }
    } catch (e) {
      throw new SwitchyardError(ErrorCodes.SWY_ERR_INFERENCE, `ONNX Runtime failed: ${(e as Error).message}`);
    }
    const inferMs = performance.now() - t0;
    if (raw.length !== this.perRow) {
      throw new SwitchyardError(ErrorCodes.SWY_ERR_INFERENCE, `The model returned ${raw.length} values; expected ${this.perRow} (chunk × action_dim).`);
    }
    const bad = firstNonFinite(raw);
    if (bad >= 0) {
      throw new SwitchyardError(
        ErrorCodes.SWY_ERR_INFERENCE,
        `The model produced a non-finite action (${raw[bad]} at action ${Math.floor(bad / this.actionDim)}) for this observation; no actions were returned.`,
      );
    }
    const actions = new Float32Array(this.perRow);
    actions.set(raw);
    if (this.rtc && entry !== undefined && this.chunkSize > 1) this.blend(actions, entry.emitted);
    if (episodeId !== null && keep) {
      this.cache.set(episodeId, { raw: raw.slice(), emitted: actions.slice() });
    }
    return { actions, cache, denoiseSteps: steps, inferMs };
  }

  /** The previous chunk advanced by one action; the last action repeated. */
  private shifted(prev: Float32Array): Float32Array {
    const x = new Float32Array(this.perRow);
    const ad = this.actionDim;
    x.set(prev.subarray(ad));
    x.set(prev.subarray(this.perRow - ad), this.perRow - ad);
    return x;
  }

  /**
   * RTC carry-over: action i of the new chunk (i < chunk − 1) becomes
   * w_i · prev[i + 1] + (1 − w_i) · new[i], w_i = (chunk − 1 − i) / chunk, linear from mostly
   * the previous chunk's remaining actions to only the new chunk.
   */
  private blend(actions: Float32Array, prev: Float32Array): void {
    const c = this.chunkSize;
    const ad = this.actionDim;
    for (let i = 0; i < c - 1; i++) {
      const w = (c - 1 - i) / c;
      for (let d = 0; d < ad; d++) {
        const j = i * ad + d;
        actions[j] = w * prev[j + ad]! + (1 - w) * actions[j]!;
      }
    }
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}

async function tryCreate(modelPath: string, provider: 'cpu' | 'cuda', threads: number): Promise<InferenceSession> {
  return ort.InferenceSession.create(modelPath, {
    executionProviders: [provider],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
  });
}

function isModelProblem(msg: string): boolean {
  return /protobuf parsing failed|ParseFromString|Load model from .* failed|No such file|External data/i.test(msg);
}

function describeLoadFailure(modelPath: string, e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  const missing = /External data path does not exist: "?([^"\n]+)"?/.exec(msg);
  if (missing) {
    const file = missing[1]!.split(/[\\/]/).pop();
    return `${MODEL_FILE} keeps weights in the external data file ${file}, which is missing from the export directory. Copy ${file} beside ${MODEL_FILE}. (${modelPath})`;
  }
  if (/protobuf parsing failed|ParseFromString/i.test(msg)) {
    return `${MODEL_FILE} is not a readable ONNX model (${msg}). The file is truncated or not ONNX; export it again. (${modelPath})`;
  }
  return `ONNX Runtime could not load ${MODEL_FILE}: ${msg} (${modelPath})`;
}

async function createSession(
  modelPath: string,
  device: 'auto' | 'cpu' | 'cuda',
  threads: number,
): Promise<{ session: InferenceSession; provider: string; fallbackReason: string | undefined }> {
  if (device === 'cuda' || device === 'auto') {
    try {
      return { session: await tryCreate(modelPath, 'cuda', threads), provider: 'cuda', fallbackReason: undefined };
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      if (isModelProblem(msg)) throw loadError(describeLoadFailure(modelPath, e), MODEL_FILE);
      if (device === 'cuda') {
        throw loadError(
          `--device cuda was requested but the CUDA execution provider could not start (${msg}). Install the CUDA build of ONNX Runtime and a matching driver, or use --device auto or --device cpu.`,
          'device',
        );
      }
      try {
        return { session: await tryCreate(modelPath, 'cpu', threads), provider: 'cpu', fallbackReason: `CUDA unavailable: ${msg}` };
      } catch (e2) {
        throw loadError(describeLoadFailure(modelPath, e2), MODEL_FILE);
      }
    }
  }
  try {
    return { session: await tryCreate(modelPath, 'cpu', threads), provider: 'cpu', fallbackReason: undefined };
  } catch (e) {
    throw loadError(describeLoadFailure(modelPath, e), MODEL_FILE);
  }
}
