/**
 * Routing decision benchmark (spec §10: "A routing decision: under 2 µs"):
 *
 *   npx tsx bench/routing-bench.ts [--calls 200000] [--repeats 7] [--json out.json]
 *
 * Measures, per call, after a warm-up:
 *   routingBucket            SHA-256 of the key, first 8 bytes big-endian, mod 100 (alone)
 *   route: new episode       Router.route with an episode id it has never seen (hash + LRU insert)
 *   route: new, LRU full     the same once the sticky table (100,000 episodes) is at capacity
 *                            (hash + insert + evict); at most 20,000 calls per batch
 *   route: sticky (full)     an episode routed before, in a full table (LRU hit, no hash)
 *   route: sticky episode    an episode routed before, 1,000 episodes in the table
 *   route: degraded          no episode_id: the request id is hashed, nothing is remembered
 *   route: robot mix         what a server sees: 1 new episode per 100 requests, the rest sticky
 * and, for comparison, reference rows (bench/lib/reference-routing.ts, not Switchyard code) for
 * the suggested changes: the bucket via one-shot `crypto.hash`, and a linked-list LRU next to
 * `LruMap` when the table is full.
 * Each row is the median of `repeats` timed batches of `calls` calls (min and max shown too).
 * Keys are built before timing so string building is not counted.
 */
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { Router, routingBucket, slotForBucket } from '../core/src/domain/routing.js';
import { LruMap } from '../core/src/domain/lru.js';
import { machineCpu, selfCpuMs } from './lib/procstat.js';
import { LinkedLru, routingBucketOneShot } from './lib/reference-routing.js';
import { fmt, markdownTable, median } from './lib/stats.js';

interface Args {
  calls: number;
  repeats: number;
  json: string | null;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { calls: 200_000, repeats: 7, json: null };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i]!;
    const v = argv[++i];
    if (v === undefined) throw new Error(`${k} needs a value`);
    if (k === '--calls') a.calls = Math.max(1000, Math.min(5_000_000, Math.round(Number(v))));
    else if (k === '--repeats') a.repeats = Math.max(1, Math.min(50, Math.round(Number(v))));
    else if (k === '--json') a.json = v;
    else throw new Error(`unknown argument ${k}; usage: routing-bench.ts [--calls 200000] [--repeats 7] [--json out.json]`);
  }
  if (!Number.isFinite(a.calls) || !Number.isFinite(a.repeats)) throw new Error('--calls and --repeats take numbers');
  return a;
}

const STICKY_CAPACITY = 100_000; // the Router's default

let sink = 0; // keeps results alive so the calls are not optimized away

/** Times `n` calls of `body(i)`; returns ns per call. */
function timeBatch(n: number, body: (i: number) => void): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) body(i);
  const t1 = process.hrtime.bigint();
  return Number(t1 - t0) / n;
}

interface Row {
  name: string;
  nsMedian: number;
  nsMin: number;
  nsMax: number;
  callsPerS: number;
}

function measure(name: string, repeats: number, n: number, setup: (rep: number) => (i: number) => void): Row {
  // Warm-up: one untimed batch so the code is optimized before it is timed.
  const warm = setup(-1);
  timeBatch(Math.min(n, 50_000), warm);
  const xs: number[] = [];
  for (let r = 0; r < repeats; r++) xs.push(timeBatch(n, setup(r)));
  const m = median(xs);
  return { name, nsMedian: m, nsMin: Math.min(...xs), nsMax: Math.max(...xs), callsPerS: 1e9 / m };
}

function main(): void {
  const args = parseArgs(process.argv.slice(2));
  const n = args.calls;
  const R = args.repeats;
  process.stdout.write(`# Routing decision benchmark\n\nnode ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? '?'}; ${fmt(n)} calls per batch, median of ${R} batches after a warm-up\n\n`);

  // Keys shaped like real ones ("ep-<uuid-ish>"), built before timing.
  const keyCount = Math.max(n, STICKY_CAPACITY) * 2 + 100_000;
  const keys: string[] = new Array(keyCount);
  for (let i = 0; i < keyCount; i++) keys[i] = `ep-${(i * 2654435761) >>> 0}-${i.toString(36)}-7f3a`;
  const reqIds: string[] = Array.from({ length: n }, (_, i) => `req-${i.toString(36)}-${(i * 40503) >>> 0}`);

  const rows: Row[] = [];
  const m0 = machineCpu();
  const c0 = selfCpuMs();
  const t0 = performance.now();

  rows.push(
    measure('routingBucket(key) alone', R, n, () => (i) => {
      sink += routingBucket(keys[i]!);
    }),
  );

  // New episodes, sticky table below capacity: a fresh router per batch, distinct keys.
  const belowCap = Math.min(n, STICKY_CAPACITY);
  rows.push(
    measure(`route: new episode (table < ${fmt(STICKY_CAPACITY)})`, R, belowCap, () => {
      const router = new Router({ split: 50 });
      return (i) => {
        sink += router.route(keys[i]!, 'r').slot === 'a' ? 1 : 0;
      };
    }),
  );

  // New episodes with the table full: every insert evicts the oldest entry.
  const full = new Router({ split: 50, stickyCapacity: STICKY_CAPACITY });
  for (let i = 0; i < STICKY_CAPACITY; i++) full.route(keys[i]!, 'r');
  let next = STICKY_CAPACITY;
  // Fewer calls here: eviction can be slow enough that a full batch would take minutes.
  rows.push(
    measure('route: new episode (table full, evicts)', R, Math.min(n, 20_000), () => (_i) => {
      const k = keys[next++ % keyCount]!;
      sink += full.route(k, 'r').slot === 'a' ? 1 : 0;
    }),
  );

  // Sticky hits in a full table (what a long-running server sees): the last 1,000 episodes routed.
  rows.push(
    measure('route: sticky episode (table full)', R, n, () => {
      const recent = Array.from({ length: 1000 }, (_, j) => keys[(next - 1 - j + keyCount) % keyCount]!);
      return (i) => {
        sink += full.route(recent[i % 1000]!, 'r').cached ? 1 : 0;
      };
    }),
  );

  // Sticky: 1,000 live episodes routed before, requests cycle through them.
  const sticky = new Router({ split: 50 });
  const live = keys.slice(0, 1000);
  for (const k of live) sticky.route(k, 'r');
  rows.push(
    measure('route: sticky episode (LRU hit)', R, n, () => (i) => {
      sink += sticky.route(live[i % 1000]!, 'r').cached ? 1 : 0;
    }),
  );

  // Degraded: no episode id, the request id is hashed; the one-time warning fires in the warm-up.
  let warned = 0;
  const degraded = new Router({ split: 50, onFirstDegraded: () => void warned++ });
  rows.push(
    measure('route: degraded (no episode_id)', R, n, () => (i) => {
      sink += degraded.route(undefined, reqIds[i]!).degraded ? 1 : 0;
    }),
  );

  // Robot mix: 8 robots, each episode 100 requests long (1% new episodes).
  rows.push(
    measure('route: robot mix (1% new, 99% sticky)', R, n, (rep) => {
      const router = new Router({ split: 50 });
      const base = (rep + 2) * 1_000_000;
      return (i) => {
        const robot = i & 7;
        const episode = Math.floor(i / 800);
        sink += router.route(`ep-${base + episode * 8 + robot}`, 'r').cached ? 1 : 0;
      };
    }),
  );

  // ---- reference rows (suggested changes; not Switchyard code)
  for (let i = 0; i < 10_000; i++) {
    if (routingBucketOneShot(keys[i]!) !== routingBucket(keys[i]!)) throw new Error(`reference bucket differs for ${keys[i]}`);
  }
  const refRows: Row[] = [];
  refRows.push(
    measure('reference: bucket via crypto.hash(hex)', R, n, () => (i) => {
      sink += routingBucketOneShot(keys[i]!);
    }),
  );
  const fill = <T extends { set(k: string, v: 'a' | 'b'): void }>(lru: T): T => {
    for (let i = 0; i < STICKY_CAPACITY; i++) lru.set(keys[i]!, 'a');
    return lru;
  };
  const lruCur = fill(new LruMap<string, 'a' | 'b'>(STICKY_CAPACITY));
  const lruRef = fill(new LinkedLru<string, 'a' | 'b'>(STICKY_CAPACITY));
  let nextCur = STICKY_CAPACITY;
  let nextRef = STICKY_CAPACITY;
  refRows.push(
    measure('LruMap.set, full (100,000), evicts (current)', R, Math.min(n, 20_000), () => () => {
      lruCur.set(keys[nextCur++ % keyCount]!, 'b');
    }),
  );
  refRows.push(
    measure('reference: linked-list LRU set, full, evicts', R, n, () => () => {
      lruRef.set(keys[nextRef++ % keyCount]!, 'b');
    }),
  );
  refRows.push(
    measure('reference: new episode = crypto.hash + linked LRU', R, n, () => () => {
      const k = keys[nextRef++ % keyCount]!;
      if (lruRef.get(k) === undefined) lruRef.set(k, slotForBucket(routingBucketOneShot(k), 50));
    }),
  );
  const elapsed = performance.now() - t0;
  const other = Math.max(0, (machineCpu().busyMs - m0.busyMs - (selfCpuMs() - c0)) / elapsed);

  const target = 2000;
  process.stdout.write(
    markdownTable(
      ['operation', 'ns/call (median)', 'min–max', 'calls/s', 'target', 'verdict'],
      rows.map((r) => [
        r.name,
        fmt(r.nsMedian),
        `${fmt(r.nsMin)}–${fmt(r.nsMax)}`,
        fmt(r.callsPerS),
        r.name.startsWith('routingBucket') ? '-' : '< 2 µs',
        r.name.startsWith('routingBucket') ? '-' : r.nsMedian < target ? 'PASS' : 'MISS',
      ]),
      ['l', 'r', 'r', 'r', 'r', 'l'],
    ),
  );
  process.stdout.write('\nFor comparison (suggested changes, bench/lib/reference-routing.ts; not Switchyard code):\n\n');
  process.stdout.write(
    markdownTable(
      ['operation', 'ns/call (median)', 'min–max', 'calls/s'],
      refRows.map((r) => [r.name, fmt(r.nsMedian), `${fmt(r.nsMin)}–${fmt(r.nsMax)}`, fmt(r.callsPerS)]),
      ['l', 'r', 'r', 'r'],
    ),
  );
  process.stdout.write(
    `\nother programs used ${other.toFixed(2)} cores on average during this run${other > 0.3 ? ' (a busy machine: expect slower, noisier numbers)' : ''}; ` +
      `the robot-mix row includes building the episode id string; degraded warnings fired: ${warned}; checksum ${sink % 1000}\n`,
  );
  if (args.json) {
    writeFileSync(args.json, JSON.stringify({ node: process.version, calls: n, repeats: R, otherCores: other, rows, reference: refRows }, null, 2) + '\n');
    process.stdout.write(`wrote ${args.json}\n`);
  }
}

main();
