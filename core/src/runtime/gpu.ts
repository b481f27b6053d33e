/**
 * GPU memory and the two-policy VRAM check (spec §5).
 *
 * Before two policies are loaded on a GPU, Switchyard refuses to start when the two models need
 * more than 70% of the GPU's memory (the rest is left for ONNX Runtime's workspace, activations
 * and the CUDA context). Total GPU memory comes from `nvidia-smi`, or from `--gpu-memory-bytes`
 * (tests, and machines where nvidia-smi cannot be run).
 */
import { execFile } from 'node:child_process';
import { ErrorCodes, SwitchyardError } from '../contract/errors.js';
import type { Logger } from '../platform/logger.js';

/** The share of GPU memory the two models may take. */
export const VRAM_FRACTION = 0.7;

const MIB = 1024 * 1024;

/** Bytes as decimal gigabytes (1 GB = 1e9 bytes) with one decimal, as the refusal message prints them. */
export function formatGb(bytes: number): string {
  return (bytes / 1e9).toFixed(1);
}

/**
 * Bytes in the decimal unit that shows them (B, KB, MB, GB; 1 KB = 1000 B), one decimal above
 * bytes: a 40 KB model must not read as "0.0 GB" in a refusal.
 */
export function formatBytes(bytes: number): string {
  const n = Math.max(0, bytes);
  if (n < 1e3) return `${Math.round(n)} B`;
  if (n < 1e6 - 50) return `${(n / 1e3).toFixed(1)} KB`;
  if (n < 1e9 - 5e4) return `${(n / 1e6).toFixed(1)} MB`;
  return `${formatGb(n)} GB`;
}

/**
 * `nvidia-smi --query-gpu=memory.total --format=csv,noheader,nounits`: one line per GPU, MiB.
 * Tolerates a header line and a `MiB` unit (without `nounits`). Lines that are not a number
 * (`[N/A]` on some MIG and vGPU set-ups) are skipped. Returns bytes per GPU, in index order.
 */
export function parseNvidiaSmiCsv(text: string): number[] {
  const out: number[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    const m = /^(\d+(?:\.\d+)?)\s*(MiB)?$/i.exec(line);
    if (m) out.push(Math.round(Number(m[1]) * MIB));
  }
  return out;
}

/**
 * Plain `nvidia-smi -q` (or `-q -d MEMORY`): the `Total` line of each GPU's `FB Memory Usage`
 * block (never the `BAR1 Memory Usage` one). Returns bytes per GPU, in the order printed.
 */
export function parseNvidiaSmiQuery(text: string): number[] {
  const out: number[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    if (!/^\s*FB Memory Usage\s*$/.test(lines[i]!)) continue;
    const indent = /^\s*/.exec(lines[i]!)![0].length;
    for (let j = i + 1; j < lines.length; j++) {
      const line = lines[j]!;
      if (line.trim() === '' || /^\s*/.exec(line)![0].length <= indent) break; // left the block
      const m = /^\s*Total\s*:\s*(\d+(?:\.\d+)?)\s*(MiB|GiB|KiB)\s*$/i.exec(line);
      if (m) {
        const unit = m[2]!.toLowerCase();
        const scale = unit === 'gib' ? 1024 * MIB : unit === 'kib' ? 1024 : MIB;
        out.push(Math.round(Number(m[1]) * scale));
        break;
      }
    }
  }
  return out;
}

/** Either format, recognised by its content. */
export function parseNvidiaSmiOutput(text: string): number[] {
  return /FB Memory Usage/.test(text) ? parseNvidiaSmiQuery(text) : parseNvidiaSmiCsv(text);
}

/**
 * `--gpu-memory-bytes`: a positive whole number of bytes (`16000000000`, `16e9`,
 * `16_000_000_000`). Throws SWY_ERR_CONFIG naming the flag.
 */
export function parseGpuMemoryBytes(value: string | number): number {
  const n = typeof value === 'number' ? value : Number(String(value).trim().replace(/_/g, ''));
  if (!Number.isSafeInteger(n) || n <= 0 || (typeof value === 'string' && String(value).trim() === '')) {
    throw new SwitchyardError(
      ErrorCodes.SWY_ERR_CONFIG,
      `--gpu-memory-bytes must be a positive whole number of bytes (e.g. 16000000000 or 16e9), got ${JSON.stringify(value)}.`,
      '--gpu-memory-bytes',
    );
  }
  return n;
}

export interface ExecResult {
  /** Exit code; null when the program could not be started (see `error`). */
  code: number | null;
  stdout: string;
  stderr: string;
  /** Why the program could not be run (`ENOENT`: not installed). */
  error?: string;
}

/** Runs a program; injected in tests (hand-written outputs), `execFile` otherwise. */
export type ExecFn = (file: string, args: string[]) => Promise<ExecResult>;

export const defaultExec: ExecFn = (file, args) =>
  new Promise((resolve) => {
    execFile(file, args, { timeout: 10_000, encoding: 'utf8', windowsHide: true }, (err, stdout, stderr) => {
      if (err === null) return resolve({ code: 0, stdout, stderr });
      const e = err as NodeJS.ErrnoException & { code?: string | number };
      if (typeof e.code === 'number') return resolve({ code: e.code, stdout, stderr });
      resolve({ code: null, stdout: stdout ?? '', stderr: stderr ?? '', error: e.code ? `${e.code}: ${e.message}` : e.message });
    });
  });

export interface GpuMemory {
  /** Bytes of GPU memory the policies will be loaded into; null when there is no usable GPU. */
  totalBytes: number | null;
  /** Every GPU nvidia-smi reported, bytes, in its index order. */
  gpus: number[];
  source: 'override' | 'nvidia-smi' | 'none';
  /** Why `totalBytes` is null, or which GPU was chosen and why. */
  note?: string;
}

export interface GpuMemoryOptions {
  /** `--gpu-memory-bytes`: used as is, nvidia-smi is not run. */
  override?: string | number;
  exec?: ExecFn;
  /** For `CUDA_VISIBLE_DEVICES` (default `process.env`). */
  env?: NodeJS.ProcessEnv;
}

function firstLine(r: ExecResult): string {
  return (r.stdout + '\n' + r.stderr).split(/\r?\n/).map((l) => l.trim()).find((l) => l !== '') ?? `exit code ${r.code}`;
}

/**
 * Which of the GPUs ONNX Runtime's CUDA provider will use: device 0, the first GPU CUDA makes
 * visible. With `CUDA_VISIBLE_DEVICES` naming one index, that GPU. Otherwise, when the visible
 * GPUs differ in size, the smallest of them: CUDA orders devices fastest-first by default, which
 * need not be nvidia-smi's PCI-bus order, so the check stays on the safe side.
 */
function chooseGpu(gpus: number[], env: NodeJS.ProcessEnv): { totalBytes: number | null; note?: string } {
  const cvd = env['CUDA_VISIBLE_DEVICES'];
  let visible = gpus.map((_, i) => i);
  if (cvd !== undefined) {
    const parts = cvd.split(',').map((s) => s.trim()).filter((s) => s !== '');
    if (parts.length === 0 || parts[0] === '-1' || parts[0] === 'NoDevFiles') {
      return { totalBytes: null, note: `CUDA_VISIBLE_DEVICES=${JSON.stringify(cvd)} hides every GPU` };
    }
    if (parts.every((p) => /^\d+$/.test(p))) {
      const idx: number[] = [];
      for (const p of parts) {
        const i = Number(p);
        if (i >= gpus.length) break; // CUDA stops at the first invalid index
        idx.push(i);
      }
      if (idx.length === 0) return { totalBytes: null, note: `CUDA_VISIBLE_DEVICES=${cvd} names no GPU nvidia-smi reports (${gpus.length} found)` };
      visible = idx;
      if (idx.length === 1) return { totalBytes: gpus[idx[0]!]!, note: `GPU ${idx[0]} (CUDA_VISIBLE_DEVICES=${cvd})` };
    }
    // UUIDs or MIG names: cannot be mapped to nvidia-smi indices here; use every GPU.
  }
  const sizes = visible.map((i) => gpus[i]!);
  const min = Math.min(...sizes);
  if (sizes.every((s) => s === min)) return { totalBytes: min, ...(sizes.length > 1 ? { note: `${sizes.length} GPUs of the same size` } : { note: 'GPU 0' }) };
  return { totalBytes: min, note: `GPUs of different sizes (${sizes.map((s) => `${formatGb(s)} GB`).join(', ')}): using the smallest, since CUDA's device 0 need not be nvidia-smi's GPU 0` };
}

/**
 * Total memory of the GPU the policies will load into: `override` when given, else
 * `nvidia-smi --query-gpu=memory.total` (falling back to parsing `nvidia-smi -q -d MEMORY`).
 * `totalBytes` is null when there is no usable GPU (no nvidia-smi, "No devices were found", a
 * driver that does not answer), with the reason in `note`. Never throws for a missing GPU.
 */
export async function detectGpuMemory(opts: GpuMemoryOptions = {}): Promise<GpuMemory> {
  if (opts.override !== undefined) {
    const n = parseGpuMemoryBytes(opts.override);
    return { totalBytes: n, gpus: [n], source: 'override', note: '--gpu-memory-bytes' };
  }
  const exec = opts.exec ?? defaultExec;
  const env = opts.env ?? process.env;
  const csv = await exec('nvidia-smi', ['--query-gpu=memory.total', '--format=csv,noheader,nounits']);
  if (csv.code === null) return { totalBytes: null, gpus: [], source: 'none', note: `nvidia-smi could not be run (${csv.error ?? 'unknown error'})` };
  let gpus = csv.code === 0 ? parseNvidiaSmiCsv(csv.stdout) : [];
  if (gpus.length === 0) {
    if (/No devices were found/i.test(csv.stdout + csv.stderr)) return { totalBytes: null, gpus: [], source: 'none', note: 'nvidia-smi: No devices were found' };
    // Older drivers, or a query it does not know: the plain report has the same number.
    const q = await exec('nvidia-smi', ['-q', '-d', 'MEMORY']);
    if (q.code === 0) gpus = parseNvidiaSmiQuery(q.stdout);
    if (gpus.length === 0) {
      const why = csv.code !== 0 ? firstLine(csv) : q.code !== 0 ? firstLine(q) : 'no memory total in its output';
      return { totalBytes: null, gpus: [], source: 'none', note: `nvidia-smi: ${why}` };
    }
  }
  const chosen = chooseGpu(gpus, env);
  return { totalBytes: chosen.totalBytes, gpus, source: chosen.totalBytes === null ? 'none' : 'nvidia-smi', ...(chosen.note ? { note: chosen.note } : {}) };
}

/** `detectGpuMemory(...).totalBytes`: bytes of GPU memory, or null when there is no GPU. */
export async function resolveGpuMemoryBytes(opts: GpuMemoryOptions = {}): Promise<number | null> {
  return (await detectGpuMemory(opts)).totalBytes;
}

export interface VramBudget {
  ok: boolean;
  /** What the two models need: the sum of their sizes. */
  requiredBytes: number;
  /** 70% of the GPU. */
  availableBytes: number;
  totalGpuBytes: number;
  fraction: number;
  /** The refusal, in the spec's words, when `ok` is false. */
  message?: string;
}

/**
 * The two-policy VRAM budget. The spec writes the rule as 2 × model_size_bytes > 0.7 × total GPU
 * bytes, for two copies of one size; with two different models the need is the SUM of their two
 * sizes (which is 2 × size when they are equal). Equal to the budget is allowed.
 */
export function vramBudget(input: { modelBytes: readonly [number, number]; totalGpuBytes: number }): VramBudget {
  const [a, b] = input.modelBytes;
  for (const [name, v] of [['modelBytes[0]', a], ['modelBytes[1]', b]] as const) {
    if (!Number.isFinite(v) || v < 0) throw new SwitchyardError(ErrorCodes.SWY_ERR_INVALID_INPUT, `${name} must be a size in bytes, got ${v}.`, name);
  }
  const total = input.totalGpuBytes;
  if (!Number.isFinite(total) || total <= 0) {
    throw new SwitchyardError(ErrorCodes.SWY_ERR_INVALID_INPUT, `totalGpuBytes must be a positive number of bytes, got ${total}.`, 'totalGpuBytes');
  }
  const requiredBytes = a + b;
  const availableBytes = VRAM_FRACTION * total;
  const budget: VramBudget = { ok: requiredBytes <= availableBytes, requiredBytes, availableBytes, totalGpuBytes: total, fraction: VRAM_FRACTION };
  if (!budget.ok) {
    budget.message =
      `2-policy mode requires ${formatBytes(requiredBytes)} VRAM but only ${formatBytes(availableBytes)} ` +
      `(${Math.round(VRAM_FRACTION * 100)}% of ${formatBytes(total)}) is available. ` +
      'Either pick smaller models, run on a larger GPU, OR drop to single-policy mode.';
  }
  return budget;
}

/**
 * Refuses two-policy mode on a GPU too small for both models: throws SWY_ERR_VRAM with the
 * spec's message, numbers filled in. Returns the budget (for the console's VRAM bar) otherwise.
 */
export function checkTwoPolicyVram(input: { modelBytes: readonly [number, number]; totalGpuBytes: number }): VramBudget {
  const budget = vramBudget(input);
  if (!budget.ok) throw new SwitchyardError(ErrorCodes.SWY_ERR_VRAM, budget.message!, 'vram');
  return budget;
}

/**
 * `--device auto` on a machine with no usable GPU is the ordinary CPU path, not a failure: it is
 * said once at info (`logDeviceChoice`) and the policies run on the CPU, so none even tries the
 * CUDA provider (which would log a fallback warning per slot). With a GPU present, `auto` stays
 * `auto`, and a CUDA provider that then fails is worth the runner's warning. `cpu` and `cuda`
 * are returned unchanged, without asking nvidia-smi.
 */
export async function resolveDevice(
  device: 'auto' | 'cpu' | 'cuda',
  opts: { detect?: () => Promise<GpuMemory> } = {},
): Promise<{ device: 'auto' | 'cpu' | 'cuda'; noGpu?: string }> {
  if (device !== 'auto') return { device };
  const gpu = await (opts.detect ?? (() => detectGpuMemory()))();
  if (gpu.gpus.length > 0 && gpu.totalBytes !== null) return { device: 'auto' };
  return { device: 'cpu', noGpu: gpu.note ?? 'no GPU reported' };
}

/** The one line `resolveDevice`'s choice deserves: "no GPU found: running on CPU", or nothing. */
export function logDeviceChoice(logger: Logger, choice: { noGpu?: string }): void {
  if (choice.noGpu !== undefined) logger.info({ device: 'auto', why: choice.noGpu }, 'no GPU found: running on CPU');
}
