/**
 * Open and first draw of a big trace, Switchyard's format against the reference format (FastCrest
 * tether's recorder: `json.dumps(record)` with ", " and ": ", its own key order and fields, the
 * chain over the sorted compact form). Spec §10 / issue 11: 1,000,000 requests in < 10 s and
 * < 1 GB in the server.
 *
 *   npx tsx bench/replay-reference-bench.ts [--requests 1000000] [--dir /tmp/swy-ref-bench] [--regen] [--generate-only]
 *                                           [--chains fast,full] [--threads auto] [--from dist|src]
 *                                           [--byte-loop wasm,js]
 *
 * `--from dist` (the default when `npm run build:core` has run) times the compiled code, as the
 * console runs it; `--from src` the TypeScript through tsx (slower: tsx also runs in each worker).
 *
 * "Open and first draw" is what the Replay page waits for: the summary pass (`summarizeTrace`, chain
 * verified, 8,192-bucket timeline) and the first chart window (`rebin` to 600 points, the first
 * 400 episode rows). Each format is also timed with the chain checked the exact way on every record
 * (`chain: 'full'`), which is what a reference-format trace cost before the text-based check.
 * Peak RSS sampled every 50 ms. The page receives only the bounded results (a summary, 600 points
 * per slot, at most 400 rows), whatever the trace's size.
 */
import { createWriteStream, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { canonicalizeJs } from '../core/src/trace/canonical-json.js';
import { chainHash, GENESIS_HASH } from '../core/src/trace/chain.js';
import { episodesInWindow, rebin } from '../core/src/replay/replay-bins.js';
import { rng, writeSyntheticTrace } from '../core/test-support/replay-fixtures.js';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { markdownTable } from './lib/stats.js';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : dflt;
}
const N = Number(arg('--requests', '1000000'));
const DIR = arg('--dir', '/tmp/swy-ref-bench');
const regen = process.argv.includes('--regen');
const CHAINS = arg('--chains', 'fast,full').split(',') as ('fast' | 'full')[];
const THREADS = arg('--threads', 'auto');
// The byte loop for reference-format lines: wasm (default) and/or js (the JavaScript loop it replaced).
const LOOPS = arg('--byte-loop', 'wasm').split(',') as ('wasm' | 'js')[];
const DIST = join(fileURLToPath(new URL('..', import.meta.url)), 'dist', 'core', 'src', 'replay', 'trace-summary.js');
const FROM = arg('--from', existsSync(DIST) ? 'dist' : 'src');
type SummaryModule = typeof import('../core/src/replay/trace-summary.js');
const { summarizeTrace } = (await import(FROM === 'dist' ? pathToFileURL(DIST).href : '../core/src/replay/trace-summary.js')) as SummaryModule;

/** Python's `json.dumps(record)`; a number prints as the canonical form prints it under its key (floats stay floats). */
function pyDumps(v: unknown, key = ''): string {
  if (Array.isArray(v)) return '[' + v.map((x) => pyDumps(x, key)).join(', ') + ']';
  if (v !== null && typeof v === 'object') return '{' + Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}: ${pyDumps(x, k)}`).join(', ') + '}';
  if (typeof v !== 'number') return canonicalizeJs(v);
  const wrapped = canonicalizeJs({ [key]: v });
  return wrapped.slice(JSON.stringify(key).length + 2, -1);
}

/** A reference-format trace of `n` requests, about 2 KB a record (8x7 action chunks, an evidence block). */
async function writeReferenceTrace(path: string, n: number): Promise<void> {
  const out = createWriteStream(path);
  const r = rng(5);
  let prev = GENESIS_HASH;
  const t0 = Date.UTC(2026, 11, 1, 22, 0, 0) / 1000;
  const write = async (rec: Record<string, unknown>) => {
    const hash = chainHash(prev, canonicalizeJs(rec));
    const line = pyDumps({ ...rec, prev_record_hash: prev, record_hash: hash }) + '\n';
    prev = hash;
    if (!out.write(line)) await once(out, 'drain');
  };
  await write({ kind: 'header', schema_version: 1, session_id: 'ref-bench', started_at: new Date(t0 * 1000).toISOString(), model_hash: '7a8b3c1d9f2e4a55', config_hash: 'e12f44c7b1a93802', model_type: 'pi0.5', export_kind: 'monolithic', embodiment: 'franka', hardware: { gpu: 'NVIDIA A10G', cuda: '12.6', ort: '1.20.1' }, providers: ['CUDAExecutionProvider'], sample_rate: 1.0, redaction: { image: 'hash_only', instruction: 'full' }, notes: '', tether_version: '0.9.0' });
  for (let i = 0; i < n; i++) {
    const ep = `ep-${Math.floor(i / 400)}-${i % 4}`;
    const actions = Array.from({ length: 8 }, () => Array.from({ length: 7 }, () => Math.round((r() - 0.5) * 2e6) / 1e6 + 0.0001));
    const total = 8 + r() * 12;
    await write({
      kind: 'request',
      schema_version: 1,
      seq: i + 1,
      timestamp: t0 + i * 0.005,
      request: { episode_id: ep, request_id: `req-${i}`, instruction: 'pick up the red block and place it in the bin', state: Array.from({ length: 14 }, () => Math.round((r() - 0.5) * 2e6) / 1e6 + 0.0001), image_sha256: 'ab12cd34ef56ab78' },
      response: { actions, num_actions: 8, action_dim: 7 },
      latency: { total_ms: total, stages: { preprocess_ms: 0.5, infer_ms: total - 1.25, postprocess_ms: 0.75 }, rolling_p95_ms: 18.5, rolling_p99_ms: 19.75 },
      cache: { status: r() < 0.8 ? 'hit' : 'miss' },
      routing: { slot: i % 5 === 0 ? 'b' : 'a', policy: i % 5 === 0 ? 'pi05-v2' : 'pi05-v1' },
      evidence: { kind: 'tether.rollout_evidence', schema_version: 1, action: { num_actions: 8, action_dim: 7, raw_present: false, guarded_sha256: '0123456789abcdef' }, outcome: { status: 'success', error_slug: null } },
    });
  }
  await write({ kind: 'footer', ended_at: new Date((t0 + n * 0.005) * 1000).toISOString(), totals: { requests: n, errors: 0 } });
  out.end();
  await once(out, 'close');
}

async function measure(label: string, path: string, chain: 'fast' | 'full', byteLoop: 'wasm' | 'js'): Promise<Record<string, string | number>> {
  global.gc?.();
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const res = await summarizeTrace(path, { chain, timelineBuckets: 8192, threads: THREADS === 'auto' ? 'auto' : Number(THREADS), byteLoop });
  const tSummary = performance.now() - t0;
  const bins = rebin(res.summary.timeline, { bins: 600 });
  const rows = episodesInWindow(res.episodeSpans, { limit: 400 });
  const tDraw = performance.now() - t0;
  clearInterval(timer);
  peak = Math.max(peak, process.memoryUsage().rss);
  const c = res.summary.chain;
  return {
    trace: label,
    chain,
    'byte loop': res.byteLoop ?? '?',
    requests: res.summary.overall.requests,
    'MiB JSONL': Math.round(res.summary.bytes / 2 ** 20),
    'summary s': (tSummary / 1000).toFixed(2),
    'open + first draw s': (tDraw / 1000).toFixed(2),
    'peak RSS MiB': Math.round(peak / 2 ** 20),
    // Worker threads' time included: what the pass cost the machine, whatever else ran on it.
    'CPU s': ((process.cpuUsage(cpu0).user + process.cpuUsage(cpu0).system) / 1e6).toFixed(2),
    status: c.status,
    'text path': c.fastPath,
    'parsed': c.exactPath,
    'points/rows': `${bins.slots.length}x${bins.slots[0]?.requests.length ?? 0} / ${rows.episodes.length}`,
    threads: res.summary.threads,
  };
}

mkdirSync(DIR, { recursive: true });
const refPath = join(DIR, `reference-${N}.jsonl`);
const ownDir = join(DIR, `switchyard-${N}`);
if (regen) {
  rmSync(refPath, { force: true });
  rmSync(ownDir, { recursive: true, force: true });
}
if (!existsSync(refPath)) await writeReferenceTrace(refPath, N);
if (!existsSync(ownDir) || readdirSync(ownDir).length === 0) {
  mkdirSync(ownDir, { recursive: true });
  await writeSyntheticTrace({ dir: ownDir, requests: N, episodes: Math.max(1, Math.floor(N / 400)), gzip: false, stepMs: 5 });
}
const ownPath = join(ownDir, readdirSync(ownDir).find((f) => f.endsWith('.jsonl'))!);
if (process.argv.includes('--generate-only')) {
  console.log(`${refPath}\n${ownPath}`);
  process.exit(0);
}
const rows = [];
for (const [label, path] of [['switchyard', ownPath], ['reference', refPath]] as const) {
  for (const chain of CHAINS) for (const loop of label === 'reference' ? LOOPS : LOOPS.slice(0, 1)) rows.push(await measure(label, path, chain, loop));
}
console.log(`\nReplay open + first draw (${FROM}): ${cpus().length} CPUs, load average ${loadavg().map((x) => x.toFixed(1)).join(' ')} (at the end)\n`);
const cols = Object.keys(rows[0] ?? {});
console.log(markdownTable(cols, rows.map((r) => cols.map((c) => String(r[c])))));
