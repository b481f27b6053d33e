/** `app.info`, `policies.list`, `versions.get`: what the workbench shows first. */
import { latestVerdictByVersion } from '../../eval/queries.js';
import type { Db } from '../../store/database.js';
import { LATEST_SCHEMA_VERSION } from '../../store/database.js';
import type { VerdictValue } from '../../store/eval-store.js';
import type { Registry } from '../../store/registry.js';
import { SWITCHYARD_VERSION } from '../../version.js';
import type { Handlers } from '../dispatcher.js';

export type AppHandlers = Pick<Handlers, 'app.info' | 'policies.list' | 'versions.get'>;

export interface AppHandlerDeps {
  db: Db;
  registry: Registry;
  /** The store file as opened (`:memory:` in tests). */
  storePath: string;
}

/** The Versions page's `lastVerdict`: the newest verdict of each version (one query). */
function withVerdict<T extends { policy: string; label: string; lastVerdict: unknown }>(v: T, latest: Map<string, VerdictValue>): T {
  return { ...v, lastVerdict: latest.get(`${v.policy}@${v.label}`) ?? null };
}

export function appHandlers({ db, registry, storePath }: AppHandlerDeps): AppHandlers {
  return {
    'app.info': () => ({
      name: 'switchyard' as const,
      version: SWITCHYARD_VERSION,
      storePath,
      schemaVersion: LATEST_SCHEMA_VERSION,
      demoWorkspace: registry.listPolicies().some((p) => p.name === 'cartpole-balance'),
    }),
    'policies.list': () => {
      const latest = latestVerdictByVersion(db);
      return { policies: registry.listPolicies().map((p) => ({ ...p, versions: p.versions.map((v) => withVerdict(v, latest)) })) };
    },
    'versions.get': ({ policy, label }) => withVerdict(registry.getVersion(policy, label), latestVerdictByVersion(db)),
  };
}
