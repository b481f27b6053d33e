/**
 * Trace recording benchmark (spec §4.3, §10): `npx tsx bench/trace-bench.ts [records]`.
 * Prints, for plain and gzip traces: records/s written end to end (target >= 50,000/s), the
 * caller's cost per write() call (what `/act` pays), file size per record, and the speed of
 * `verifyTrace` on the result.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../core/src/platform/logger.js';
import { sampleRequest, steppingClock } from '../core/test-support/trace-fixtures.js';
import { verifyTrace } from '../core/src/trace/trace-reader.js';
import { TraceWriter } from '../core/src/trace/trace-writer.js';

const N = Number(process.argv[2] ?? 50_000);
const dir = mkdtempSync(join(tmpdir(), 'swy-trace-bench-'));

interface Row {
  mode: string;
  recordsPerS: number;
  writeUs: number;
  writeP99Us: number;
  bytesPerRecord: number;
  verifyPerS: number;
}

async function run(gzip: boolean): Promise<Row> {
  const inputs = Array.from({ length: 1000 }, (_, i) => sampleRequest(i));
  let dropped = 0;
  const w = new TraceWriter({
    dir,
    modelHash: 'abcdef0123456789',
    gzip,
    clock: steppingClock(),
    logger: silentLogger,
    droppedCounter: { inc: (n = 1) => void (dropped += n) },
    maxQueue: N + 10,
  });
  // Caller side: time each write() (what a request pays), in bursts like a busy server.
  const perCall: number[] = [];
  const t0 = performance.now();
  for (let i = 0; i < N; i++) {
    const a = performance.now();
    w.writeRequest(inputs[i % inputs.length]!);
    perCall.push(performance.now() - a);
    if (i % 1000 === 999) await new Promise((r) => setImmediate(r));
  }
  await w.close();
  const t1 = performance.now();
  if (dropped > 0) throw new Error(`${dropped} records dropped`);
  const size = statSync(w.path).size;
  const v0 = performance.now();
  const v = await verifyTrace(w.path);
  const v1 = performance.now();
  if (!v.ok) throw new Error(`the benchmark's trace does not verify: ${v.reason}`);
  perCall.sort((a, b) => a - b);
  const mean = perCall.reduce((s, x) => s + x, 0) / perCall.length;
  return {
    mode: gzip ? 'jsonl.gz' : 'jsonl',
    recordsPerS: (N / (t1 - t0)) * 1000,
    writeUs: mean * 1000,
    writeP99Us: perCall[Math.floor(perCall.length * 0.99)]! * 1000,
    bytesPerRecord: size / v.records,
    verifyPerS: (v.records / (v1 - v0)) * 1000,
  };
}

try {
  await run(false); // warm-up
  const rows = [await run(false), await run(true)];
  const header = ['trace', 'records/s written', 'write() mean µs', 'write() p99 µs', 'bytes/record', 'verify records/s'];
  const table = rows.map((r) => [r.mode, r.recordsPerS.toFixed(0), r.writeUs.toFixed(2), r.writeP99Us.toFixed(2), r.bytesPerRecord.toFixed(0), r.verifyPerS.toFixed(0)]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(`trace recording, ${N} request records (8x2 actions, 4 state floats), node ${process.version}`);
  console.log(line(header));
  for (const row of table) console.log(line(row));
  const worst = Math.min(...rows.map((r) => r.recordsPerS));
  console.log(worst >= 50_000 ? 'target met: >= 50,000 records/s' : `target MISSED: ${worst.toFixed(0)} < 50,000 records/s`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
