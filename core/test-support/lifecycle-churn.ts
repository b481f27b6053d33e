/**
 * A child process for the kill-loop test (lifecycle/kill-loop.test.ts): promotes and rolls back
 * in a tight loop on a real store file, printing one `ack` line after each change the store
 * acknowledged (the call returned: its transaction committed), until it is killed.
 *
 *   node --import tsx core/test-support/lifecycle-churn.ts STORE POLICY SEED
 *
 * Lines: `ready`, then `ack <action> <version id> <stage> <history ids, comma-separated>`.
 */
import { writeSync } from 'node:fs';
import { LifecycleService } from '../src/lifecycle/lifecycle-service.js';
import { systemClock } from '../src/platform/clock.js';
import { openDatabase } from '../src/store/database.js';
import { EvalStore } from '../src/store/eval-store.js';
import { Registry } from '../src/store/registry.js';

const [store, policy, seedText] = process.argv.slice(2);
if (!store || !policy) {
  process.stderr.write('usage: lifecycle-churn.ts STORE POLICY SEED\n');
  process.exit(2);
}
let seed = Number(seedText ?? 1) >>> 0 || 1;
const rand = () => {
  // xorshift32: the same sequence for the same seed.
  seed ^= seed << 13;
  seed >>>= 0;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  seed >>>= 0;
  return seed / 0x1_0000_0000;
};
// Unbuffered: a line is out before the next change starts, whatever kills the process.
const say = (line: string) => writeSync(1, line + '\n');

const db = openDatabase(store);
const registry = new Registry(db, systemClock);
const svc = new LifecycleService({ db, registry, evalStore: new EvalStore(db, systemClock), clock: systemClock });
say('ready');

for (;;) {
  const versions = registry.listPolicies().find((p) => p.name === policy)!.versions;
  const prod = versions.find((v) => v.stage === 'production');
  const staging = versions.filter((v) => v.stage === 'staging');
  const candidates = versions.filter((v) => v.stage === 'candidate');
  const r = rand();
  try {
    if (r < 0.45 && staging.length > 0) {
      const v = staging[Math.floor(rand() * staging.length)]!;
      const res = await svc.promote({ version: `${policy}@${v.label}`, to: 'production', actor: 'churn', force: true, reason: 'churn', expectedProduction: prod?.label ?? null });
      say(`ack promote ${registry.getVersion(policy, v.label).id} production ${res.historyIds.join(',')}`);
    } else if (r < 0.9) {
      const res = svc.rollback({ policy, actor: 'churn', reason: 'churn' });
      say(`ack rollback ${registry.getVersion(policy, res.restored.label).id} production ${res.historyIds.join(',')}`);
    } else if (candidates.length > 0) {
      const v = candidates[0]!;
      const res = await svc.promote({ version: `${policy}@${v.label}`, to: 'staging', actor: 'churn', force: true, reason: 'churn' });
      say(`ack promote ${registry.getVersion(policy, v.label).id} staging ${res.historyIds.join(',')}`);
    }
  } catch (e) {
    // Nowhere to roll back to: promote next time round.
    if ((e as { code?: string }).code !== 'SWY_ERR_NOT_FOUND') throw e;
  }
}
