import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { appendFile, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildDemoPolicy, manifestJson } from '../demo/cartpole-policies.js';
import { createMemoryLogger } from '../platform/logger.js';
import { openDatabase, type Db } from '../store/database.js';
import { Registry } from '../store/registry.js';
import { dumpStore, writeFaultyExport, writeGoodExport } from '../../test-support/fault-fixtures.js';
import { WatchFolder, type WatchEvent, type WatchFolderOptions } from './watch-folder.js';

let root: string;
let inbox: string;
let db: Db;
let registry: Registry;
let watcher: WatchFolder | null;
let events: (WatchEvent & { t: number })[];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'swy-watch-'));
  inbox = join(root, 'inbox');
  await mkdir(inbox);
  db = openDatabase(join(root, 'store.db'));
  registry = new Registry(db, { now: () => Date.now(), monotonicMs: () => performance.now() });
  events = [];
  watcher = null;
});

afterEach(async () => {
  await watcher?.stop();
  db.close();
  await rm(root, { recursive: true, force: true });
});

async function startWatch(extra: Partial<WatchFolderOptions> = {}): Promise<WatchFolder> {
  watcher = new WatchFolder({
    dir: inbox,
    registry,
    settleMs: 300,
    pollMs: 40,
    device: 'cpu',
    runs: 10,
    onEvent: (e) => events.push({ ...e, t: performance.now() }),
    ...extra,
  });
  await watcher.start();
  return watcher;
}

async function waitForEvent(pred: (e: WatchEvent) => boolean, timeoutMs = 15_000): Promise<WatchEvent & { t: number }> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const e = events.find(pred);
    if (e) return e;
    if (Date.now() > until) throw new Error(`no such event within ${timeoutMs} ms; got ${JSON.stringify(events.map((x) => [x.type, x.dir]))}`);
    await sleep(20);
  }
}

const versionsRows = () => JSON.stringify(db.prepare('SELECT * FROM versions ORDER BY id').all());

describe('WatchFolder', () => {
  it('waits until an export copied in piece by piece stops changing, then checks and registers it as a candidate', async () => {
    // Driven step by step: no poll timer, no fs events, a clock that moves only when told to,
    // so "120 ms between pieces against a 300 ms settle" holds however slow this machine is.
    let mono = 0;
    const clock = { now: () => Date.UTC(2026, 0, 1) + mono, monotonicMs: () => mono };
    const w = await startWatch({ clock, useFsWatch: false, pollMs: 3_600_000 });
    const { manifest, onnx } = buildDemoPolicy('1.2.0');
    const dir = join(inbox, 'cartpole-balance-1.2.0');
    await mkdir(dir);
    await writeFile(join(dir, 'switchyard.json'), manifestJson(manifest));
    // The model arrives in four pieces, 120 ms apart: less than settleMs each time.
    const piece = Math.ceil(onnx.length / 4);
    for (let i = 0; i < 4; i++) {
      await appendFile(join(dir, 'policy.onnx'), onnx.subarray(i * piece, (i + 1) * piece));
      await w.scanNow();
      mono += 120;
      await w.scanNow();
      expect(events.filter((e) => e.type === 'checking'), `after piece ${i + 1}`).toEqual([]);
    }
    // Quiet for 299 ms of the 300: still waiting. One more millisecond: checked, once.
    mono += 299 - 120;
    await w.scanNow();
    expect(events.filter((e) => e.type === 'checking')).toEqual([]);
    mono += 1;
    await w.scanNow();
    expect(events.filter((e) => e.type === 'checking').map((e) => e.dir)).toEqual([dir]);
    const reg = await waitForEvent((e) => e.type === 'registered');
    expect(reg).toMatchObject({ dir, ref: 'cartpole-balance@1.2.0', created: true });
    expect(events.filter((e) => e.type === 'checking')).toHaveLength(1); // never looked at half-written
    expect(events[0]).toMatchObject({ type: 'detected', dir });
    const v = registry.find('cartpole-balance', '1.2.0')!;
    expect(v).toMatchObject({ stage: 'candidate', doctorStatus: 'ok', exportPath: dir });
    expect(v.modelVersion).toBe((reg as { modelVersion: string }).modelVersion);
    expect(registry.getDoctorReport('cartpole-balance', '1.2.0')).toMatchObject({ ok: true, provider: 'cpu', latency: { runs: 10 } });
    await watcher!.whenIdle();
    expect(watcher!.pending).toEqual([]);
  });

  it('records a truncated export as rejected with the reason, creates no version, and registers it once fixed', async () => {
    const logger = createMemoryLogger();
    await startWatch({ logger });
    const before = versionsRows();
    const dir = await writeFaultyExport(join(inbox, 'broken'), 'truncated');
    const rej = await waitForEvent((e) => e.type === 'rejected');
    expect(rej).toMatchObject({ dir, code: 'SWY_ERR_MODEL_LOAD', check: 'load', recorded: true });
    expect((rej as { reason: string }).reason).toMatch(/Not registered: .* failed doctor: load check failed: .*truncated or not ONNX/);
    expect(versionsRows()).toBe(before);
    expect(registry.listPolicies()).toEqual([]);
    const recorded = registry.rejectedExports(dir);
    expect(recorded).toHaveLength(1);
    expect(recorded[0]).toMatchObject({ actor: 'watch-folder', check: 'load', code: 'SWY_ERR_MODEL_LOAD' });
    expect(logger.lines.some((l) => l.msg === 'watch_folder.rejected')).toBe(true);
    // The same files are not looked at again (however many scans see them)...
    await watcher!.scanNow();
    await watcher!.scanNow();
    expect(events.filter((e) => e.type === 'checking')).toHaveLength(1);
    // ...but a fixed copy is.
    await writeFile(join(dir, 'policy.onnx'), buildDemoPolicy('1.0.0').onnx);
    const reg = await waitForEvent((e) => e.type === 'registered');
    expect(reg).toMatchObject({ dir, ref: 'cartpole-balance@9.0.0-truncated', created: true });
    expect(registry.rejectedExports(dir)).toHaveLength(1);
  });

  it('checks exports already there at start, skips hidden and .tmp directories until renamed, and records a conflicting label', async () => {
    await writeGoodExport(join(inbox, 'a'), '1.0.0');
    await writeGoodExport(join(inbox, '.hidden'), '1.1.0');
    await writeGoodExport(join(inbox, 'b.tmp'), '1.1.0');
    await writeFile(join(inbox, 'stray-file.txt'), 'not an export');
    await startWatch();
    await waitForEvent((e) => e.type === 'registered' && e.dir === join(inbox, 'a'));
    await watcher!.scanNow();
    await watcher!.scanNow();
    expect(registry.find('cartpole-balance', '1.1.0')).toBeNull();
    expect(events.filter((e) => e.type === 'detected').map((e) => e.dir)).toEqual([join(inbox, 'a')]);
    await rename(join(inbox, 'b.tmp'), join(inbox, 'b'));
    await waitForEvent((e) => e.type === 'registered' && e.dir === join(inbox, 'b'));
    expect(registry.find('cartpole-balance', '1.1.0')?.doctorStatus).toBe('ok');
    // Another model under label 1.0.0: refused, recorded, nothing registered.
    const before = versionsRows();
    await writeGoodExport(join(inbox, 'c'), '1.2.0', (m) => (m.version = '1.0.0'));
    const rej = await waitForEvent((e) => e.type === 'rejected');
    expect(rej).toMatchObject({ dir: join(inbox, 'c'), code: 'SWY_ERR_CONFLICT', check: null, recorded: true });
    expect(versionsRows()).toBe(before);
  });

  it('works by polling alone, registers identical files once, and stops cleanly', async () => {
    const w = await startWatch({ useFsWatch: false });
    await writeGoodExport(join(inbox, 'one'), '2.0.0-iter');
    await waitForEvent((e) => e.type === 'registered');
    // A copy of the same export in a second directory: already registered, nothing new.
    await mkdir(join(inbox, 'copy'));
    for (const f of ['switchyard.json', 'policy.onnx']) await writeFile(join(inbox, 'copy', f), await readFile(join(inbox, 'one', f)));
    const again = await waitForEvent((e) => e.type === 'registered' && e.dir === join(inbox, 'copy'));
    expect(again).toMatchObject({ ref: 'cartpole-balance@2.0.0-iter', created: false });
    expect(registry.listPolicies()[0]!.versions).toHaveLength(1);
    await w.stop();
    const n = events.length;
    const dump = dumpStore(db);
    await writeGoodExport(join(inbox, 'late'), '1.1.0');
    await sleep(500);
    expect(events).toHaveLength(n);
    expect(dumpStore(db)).toBe(dump);
  });

  it('refuses a watch folder that does not exist', async () => {
    const w = new WatchFolder({ dir: join(root, 'nope'), registry });
    await expect(w.start()).rejects.toThrow(/The watch folder .*nope cannot be read/);
  });
});
