import { spawnSync } from 'node:child_process';

/**
 * Whether `python3` can be run here, asked once. Tests that cross-check against Python use
 * `it.skipIf(!python3.available)` and print `python3.reason`, so a machine without Python reports
 * them skipped, never passed.
 */
export const python3: { available: boolean; reason: string } = (() => {
  const r = spawnSync('python3', ['-c', 'import json, hashlib, sys; print(sys.version_info[0])'], { encoding: 'utf8' });
  if (r.error) return { available: false, reason: `python3 is not available here (${r.error.message})` };
  if (r.status !== 0 || r.stdout.trim() !== '3') return { available: false, reason: `python3 did not run (${(r.stderr || r.stdout).trim().split('\n')[0] ?? `exit ${r.status}`})` };
  return { available: true, reason: '' };
})();

/** Prints, once per test file, why its Python cross-checks are skipped. */
export function notePythonSkips(what: string): void {
  if (!python3.available) console.log(`${what} skipped: ${python3.reason}`);
}
