import { readFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { expect, test } from '../support/fixtures.js';
import { ENV_DIR, resultsDir } from '../support/server.js';

const P = 'cartpole-balance';

interface Row {
  case_id: string;
  slices_json: string;
  pass: number;
  score: number | null;
  graders_json: string;
}

/** The run's rows straight from the console's SQLite store (read-only; WAL lets it read while the console writes). */
function storeRows(runId: number): Row[] {
  const db = new Database(path.join(process.env[ENV_DIR] as string, 'store.db'), { readonly: true, fileMustExist: true });
  try {
    return db.prepare<[number], Row>('SELECT case_id, slices_json, pass, score, graders_json FROM eval_results WHERE run_id = ? ORDER BY rowid').all(runId);
  } finally {
    db.close();
  }
}

test('Compare exports every case of a run as CSV and JSONL, row for row what the store holds', async ({ workbench, page }) => {
  test.skip(!process.env[ENV_DIR], 'needs the store of the console global-setup.ts started (SWITCHYARD_E2E_URL points at an outside server)');
  test.setTimeout(300_000);
  await workbench.open();
  await workbench.compare();
  await workbench.runComparison({ baseline: `${P}@1.0.0`, candidate: `${P}@2.0.0-iter`, rulesFile: 'candidate-to-staging.yaml', expected: 'GO', timeoutMs: 180_000 });

  const section = page.getByRole('region', { name: 'Per-case results' });
  await section.scrollIntoViewIfNeeded();
  const runText = await section.locator('.run-download').first().textContent();
  const runId = Number(/run #(\d+)/.exec(runText ?? '')?.[1]);
  expect(runId, `a run id in "${runText}"`).toBeGreaterThan(0);
  await page.screenshot({ path: path.join(resultsDir, 'compare-downloads.png'), fullPage: true });

  const rows = storeRows(runId);
  expect(rows.length).toBeGreaterThan(0);

  const [csvDownload] = await Promise.all([page.waitForEvent('download'), section.getByRole('button', { name: 'Download candidate cases as CSV' }).click()]);
  expect(csvDownload.suggestedFilename()).toBe(`run-${runId}-${P}-2.0.0-iter.csv`);
  const csv = readFileSync(await csvDownload.path(), 'utf8').trimEnd().split('\r\n');
  expect(csv[0]).toMatch(/^case_id,slices,pass,score,latency_ms,partial,steps,failure,grader\./);
  const csvRows = csv.slice(1).map((l) => l.split(','));
  expect(csvRows.map((c) => c[0])).toEqual(rows.map((r) => r.case_id));
  expect(csvRows.map((c) => c[2])).toEqual(rows.map((r) => String(r.pass === 1)));

  const [jsonlDownload] = await Promise.all([page.waitForEvent('download'), section.getByRole('button', { name: 'Download candidate cases as JSONL' }).click()]);
  const cases = readFileSync(await jsonlDownload.path(), 'utf8')
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as { id: string; slices: string[]; pass: boolean; score: number | null; graders: unknown });
  expect(cases.map((c) => [c.id, c.slices, c.pass, c.score, c.graders])).toEqual(rows.map((r) => [r.case_id, JSON.parse(r.slices_json), r.pass === 1, r.score, JSON.parse(r.graders_json)]));
});
