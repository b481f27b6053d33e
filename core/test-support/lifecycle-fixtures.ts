/**
 * A small lifecycle workspace for tests: a real store with external versions of policy `lab`
 * (imported results, so gates run in milliseconds without ONNX), `lab@1.0.0` in production, and
 * rules files for both transitions.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MethodInput, MethodName, MethodOutput, Result } from '../src/contract/index.js';
import { importResults } from '../src/eval/import-results.js';
import type { Clock } from '../src/platform/clock.js';
import { openDatabase, type Db } from '../src/store/database.js';
import { Registry } from '../src/store/registry.js';

export const LAB = 'lab';
export const LAB_SUITE = 'lab-suite';

export const LAB_RULES_C2S = `transition: candidate->staging
suite: ${LAB_SUITE}
baseline: production
min_cases: 30
aggregate: { min_pass_rate: 0.80 }
`;

export const LAB_RULES_S2P = `transition: staging->production
suite: ${LAB_SUITE}
baseline: production
min_cases: 30
aggregate: { min_pass_rate: 0.80, non_inferior: { margin: 0.10 } }
`;

/** A clock the test moves by hand (`t` is epoch ms; monotonic follows it). */
export function handClock(start = Date.UTC(2026, 10, 21, 9, 0, 0)): Clock & { t: number; tick(ms?: number): void } {
  const c = {
    t: start,
    now: () => c.t,
    monotonicMs: () => c.t,
    tick: (ms = 1000) => void (c.t += ms),
  };
  return c;
}

export interface LabWorkspace {
  db: Db;
  storePath: string;
  rulesC2S: string;
  rulesS2P: string;
  registry: Registry;
}

/**
 * Build the workspace in `dir`: versions 1.0.0 (production) and every label in `versions`
 * (candidates), 40 cases each, all passing except those in `failing` (half fail: a NO-GO).
 */
export async function labWorkspace(dir: string, opts: { clock: Clock; versions?: string[]; failing?: string[]; storePath?: string }): Promise<LabWorkspace> {
  mkdirSync(dir, { recursive: true });
  const labels = ['1.0.0', ...(opts.versions ?? ['1.1.0', '1.2.0', '1.3.0'])];
  const lines: string[] = [];
  for (const label of labels) {
    const failing = opts.failing?.includes(label) ?? false;
    for (let i = 0; i < 40; i++) {
      const pass = !(failing && i % 2 === 0);
      lines.push(
        JSON.stringify({ suite: LAB_SUITE, version: `${LAB}@${label}`, case_id: `c-${String(i).padStart(2, '0')}`, slices: [i < 20 ? 'core' : 'edge'], pass, graders: { ok: pass }, score: pass ? 1 : 0, latency_ms: 10, cost: 0 }),
      );
    }
  }
  const results = join(dir, 'lab-results.jsonl');
  writeFileSync(results, lines.join('\n') + '\n');
  const rulesC2S = join(dir, 'c2s.yaml');
  const rulesS2P = join(dir, 's2p.yaml');
  writeFileSync(rulesC2S, LAB_RULES_C2S);
  writeFileSync(rulesS2P, LAB_RULES_S2P);
  const storePath = opts.storePath ?? join(dir, 'store.db');
  const db = openDatabase(storePath);
  await importResults(results, { db, clock: opts.clock, actor: 'fixture' });
  const registry = new Registry(db, opts.clock);
  registry.setStage(LAB, '1.0.0', 'production', { actor: 'fixture', reason: 'first production' });
  return { db, storePath, rulesC2S, rulesS2P, registry };
}

/** `engine.api.call` with the contract's types, for tests that read the answers. */
export function contractCaller(api: { call(method: string, input: unknown): Promise<Result<unknown>> }) {
  return <M extends MethodName>(method: M, input: MethodInput<M>): Promise<Result<MethodOutput<M>>> => api.call(method, input) as Promise<Result<MethodOutput<M>>>;
}
