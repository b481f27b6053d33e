/**
 * Two processes opening the same fresh store at the same moment must both succeed: the schema
 * version is read and the migrations run inside one BEGIN IMMEDIATE transaction, so the second
 * waits for the first and then finds nothing left to do. Six pairs of real processes, each pair
 * released together by a barrier file.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { LATEST_SCHEMA_VERSION } from './database.js';

const root = join(import.meta.dirname, '..', '..', '..');
const database = join(import.meta.dirname, 'database.ts');
const dir = mkdtempSync(join(tmpdir(), 'swy-race-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Loads the module, says ready, waits for the barrier file, then opens the store.
const script = `
import { existsSync } from 'node:fs';
const { openDatabase } = await import(process.argv[1]);
const [store, go] = process.argv.slice(2);
process.stdout.write('ready\\n');
const deadline = Date.now() + 120000;
while (!existsSync(go)) { if (Date.now() > deadline) { console.error('no barrier'); process.exit(3); } await new Promise((r) => setTimeout(r, 1)); }
try { openDatabase(store).close(); process.stdout.write('opened\\n'); }
catch (e) { console.error(String(e && e.code), String(e && e.message)); process.exit(1); }
`;

function opener(store: string, go: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, database, store, go], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (err += b.toString()));
  const ready = new Promise<void>((resolve, reject) => {
    const t = setInterval(() => {
      if (out.includes('ready')) {
        clearInterval(t);
        resolve();
      }
    }, 5);
    child.on('exit', () => {
      clearInterval(t);
      if (!out.includes('ready')) reject(new Error(`exited before ready: ${err}`));
    });
  });
  const done = new Promise<{ code: number | null; out: string; err: string }>((resolve) => child.on('exit', (code) => resolve({ code, out, err })));
  return { ready, done };
}

describe('store start-up race', () => {
  it('6 pairs of processes opening a fresh store at once all succeed, each store migrated once', async () => {
    const go = join(dir, 'go');
    const stores = Array.from({ length: 6 }, (_, i) => join(dir, `store-${i}.db`));
    const procs = stores.flatMap((s) => [opener(s, go), opener(s, go)]);
    await Promise.all(procs.map((p) => p.ready));
    writeFileSync(go, '');
    const results = await Promise.all(procs.map((p) => p.done));
    for (const r of results) expect(r, r.err).toMatchObject({ code: 0 });
    for (const s of stores) {
      expect(existsSync(s)).toBe(true);
      const db = new Database(s, { readonly: true });
      expect(db.pragma('user_version', { simple: true })).toBe(LATEST_SCHEMA_VERSION);
      expect(db.prepare("SELECT COUNT(*) AS n FROM sqlite_master WHERE name = 'policies'").get()).toEqual({ n: 1 });
      db.close();
    }
  }, 180_000);
});
