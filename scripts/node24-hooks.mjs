// Loaded with --import by scripts/node24.sh, in every process and worker thread Node 24 starts
// there. The checkout's better-sqlite3 addon is built for Node 20; this hook hands Node 24 the
// copy built for its own ABI instead (kept in the cache), leaving the Node 20 build in place.
// Only that one file path is redirected: a packaged app's own node_modules is left alone.
// Node does not run --import in `eval: true` workers (the tsx bootstrap startModuleWorker uses for
// .ts sources); those are the policy and summary workers, and neither opens SQLite.
import { registerHooks } from 'node:module';
import { pathToFileURL } from 'node:url';

const from = process.env.SWITCHYARD_SQLITE_ADDON_DEFAULT;
const to = process.env.SWITCHYARD_SQLITE_ADDON_NODE24;

if (from && to) {
  const fromUrl = pathToFileURL(from).href;
  const toUrl = pathToFileURL(to).href;
  registerHooks({
    resolve(specifier, context, nextResolve) {
      const resolved = nextResolve(specifier, context);
      return resolved.url === fromUrl ? { ...resolved, url: toUrl } : resolved;
    },
  });
}
