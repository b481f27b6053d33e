/**
 * Faults at the process level, on real `switchyard serve` child processes: a request stuck in
 * native code (an ONNX `Loop` export) at SIGTERM, a second signal, and what `kill -9` loses of a
 * gzip trace.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { constants as zconst, gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCli, type RunningCli } from '../../test-support/cli-process.js';
import { writeFlakyExport, writeHangExport } from '../../test-support/fault-exports.js';

let dir: string;
let hang: string;
let fine: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'swy-shutdown-'));
  hang = await writeHangExport(join(dir, 'hang'));
  fine = await writeFlakyExport(join(dir, 'fine'), { limit: 1e6 });
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function start(args: string[]): Promise<{ srv: RunningCli; act: string; trace: string | null }> {
  const srv = startCli(['serve', ...args, '--port', '0', '--json', '--log-level', 'warn']);
  const [line] = await srv.waitFor(/\{"event":"listening".*\}\n/, 90_000);
  const info = JSON.parse(line) as { act: string; trace: string | null };
  return { srv, act: info.act, trace: info.trace };
}

function post(act: string, state: number[], id?: string): Promise<Response> {
  return fetch(act, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ state, ...(id ? { request_id: id } : {}) }) });
}

/** Resolves once the server reports a request in flight (the hang has reached the worker). */
async function untilInFlight(act: string): Promise<void> {
  const metrics = act.replace(/\/act$/, '/metrics');
  for (let i = 0; i < 200; i++) {
    const text = await (await fetch(metrics)).text();
    if (/switchyard_in_flight_requests\{policy_slot="prod"\} 1/.test(text)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('the hanging request never showed as in flight');
}

function readTrace(path: string): { kind: string; request?: { request_id: string | null } }[] {
  // A killed gzip stream has no trailer: decode up to the last sync-flush point.
  const text = gunzipSync(readFileSync(path), { finishFlush: zconst.Z_SYNC_FLUSH }).toString('utf8');
  const lines = text.split('\n');
  const out: { kind: string }[] = [];
  for (const l of lines) {
    try {
      out.push(JSON.parse(l) as { kind: string });
    } catch {
      // the partial last line of a killed trace
    }
  }
  return out;
}

describe('SIGTERM with a request stuck in native code', () => {
  it('answers the stuck request 503 after --shutdown-grace-ms, writes the footer and ends anyway', async () => {
    const traces = join(dir, 'traces-grace');
    const { srv, act } = await start([hang, '--store', join(dir, 'grace.db'), '--act-timeout-ms', '120000', '--shutdown-grace-ms', '500', '--record', traces]);
    expect((await post(act, [1, 0, 0, 0])).status).toBe(200);
    const stuck = post(act, [3e7, 0, 0, 0], 'stuck');
    await untilInFlight(act);
    srv.child.kill('SIGTERM');
    const res = await stuck;
    expect(res.status).toBe(503);
    // The thread is still inside the Loop and process.exit() would join it forever: the process
    // ends by its own SIGTERM (status 143) once the footer is on disk.
    expect(await srv.exited).toEqual({ code: null, signal: 'SIGTERM' });
    expect(srv.output()).toMatch(/stuck in native code cannot be joined; ending the process by SIGTERM/);
    const [file] = readdirSync(traces);
    const lines = readFileSync(join(traces, file!), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { kind: string; request?: { request_id: string } });
    expect(lines.at(-1)!.kind).toBe('footer');
    expect(lines.some((l) => l.kind === 'request' && l.request?.request_id === 'stuck')).toBe(true);
  }, 120_000);

  it('a second SIGTERM exits at once with 143, a second SIGINT with 130', async () => {
    for (const [signal, code] of [['SIGTERM', 143], ['SIGINT', 130]] as const) {
      const { srv, act } = await start([hang, '--store', join(dir, `second-${signal}.db`), '--act-timeout-ms', '120000', '--shutdown-grace-ms', '120000', '--log-level', 'warn']);
      const stuck = post(act, [3e7, 0, 0, 0]).catch(() => null);
      await untilInFlight(act);
      srv.child.kill(signal);
      await srv.waitFor(/stopping: no new connections/);
      srv.child.kill(signal);
      // With a 120 s grace and a request stuck for minutes, only the second signal can end it.
      // Status 143/130: by exit code, or (a thread still stuck in native code) by the signal itself.
      const exited = await srv.exited;
      expect(exited.code === code || exited.signal === signal, JSON.stringify(exited)).toBe(true);
      expect(srv.output()).toMatch(new RegExp(`second ${signal}: exiting now \\(code ${code}\\)`));
      await stuck;
    }
  }, 180_000);
});

describe('stuck workers piling up', () => {
  it('past --max-abandoned-workers the server says why and ends itself for a supervisor', async () => {
    const { srv, act } = await start([hang, '--store', join(dir, 'pile.db'), '--act-timeout-ms', '300', '--max-abandoned-workers', '1']);
    const readyz = act.replace(/\/act$/, '/readyz');
    for (let k = 0; k < 2; k++) {
      // Each hang (≈3 minutes of Loop) is abandoned after 300 ms and its thread stays alive.
      for (let i = 0; i < 600 && (await fetch(readyz)).status !== 200; i++) await new Promise((r) => setTimeout(r, 100));
      expect((await post(act, [3e7, 0, 0, 0])).status).toBe(504);
    }
    expect(await srv.exited).toEqual({ code: null, signal: 'SIGKILL' });
    expect(srv.output()).toMatch(/exiting \(SIGKILL\): 2 policy workers are stuck past --act-timeout-ms, more than --max-abandoned-workers 1/);
  }, 180_000);
});

describe('kill -9 and a gzip trace', () => {
  it('loses nothing answered before the last periodic flush (250 ms), and reports what the last burst lost', async () => {
    const traces = join(dir, 'traces-gz');
    const { srv, act, trace } = await start([fine, '--store', join(dir, 'gz.db'), '--record', traces, '--record-gzip']);
    expect(trace).toMatch(/\.jsonl\.gz$/);
    for (let i = 0; i < 200; i++) expect((await post(act, [1, 0, 0, i / 100], `settled-${i}`)).status).toBe(200);
    // Idle for longer than the flush interval (250 ms) plus the write delay (50 ms), with room
    // for a loaded machine, yet shorter than the old 1 s interval, which this would catch.
    await new Promise((r) => setTimeout(r, 800));
    let burst = 0;
    for (let i = 0; i < 20; i++) if ((await post(act, [1, 0, 0, 0], `burst-${i}`)).status === 200) burst++;
    srv.child.kill('SIGKILL');
    await srv.exited;
    const records = readTrace(trace!).filter((r) => r.kind === 'request');
    const ids = new Set(records.map((r) => r.request?.request_id));
    const settledKept = [...Array(200).keys()].filter((i) => ids.has(`settled-${i}`)).length;
    const burstKept = [...Array(20).keys()].filter((i) => ids.has(`burst-${i}`)).length;
    console.log(`kill -9 on a gzip trace: ${settledKept}/200 settled records kept, ${burstKept}/${burst} of the last burst (answered within ~0.3 s of the kill) kept`);
    expect(settledKept).toBe(200);
  }, 120_000);
});
