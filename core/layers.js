/**
 * The layers of `core/src`, written once. ESLint (eslint.config.js, rule `layers/allowed-imports`)
 * and the cycle test (core/src/layers.test.ts) both read this table.
 *
 * Bottom to top; a folder imports only the folders listed for it in `below` (and itself), so
 * folders on the same level (domain and platform; runtime, store and trace; ...) never import
 * each other:
 *
 *   contract       the one map of methods, events, schemas and error codes (zod only)
 *   shared         pure modules the workbench runs too (`@shared`): no Node module, no I/O
 *   domain         pure functions and plain types: no Node module, no package, no I/O
 *   platform       Node services passed in from outside: clock, timers, logger, rng, workers,
 *                  event bus, paths, the per-call caller context
 *   runtime        ONNX Runtime: reading an export, policy workers, the act path, GPU probing
 *   store          SQLite: migrations, registry, lifecycle records, evaluation results, audit
 *   trace          JSONL traces: canonical JSON, hash chain, writer, reader, verify
 *   eval           environments, suites, graders, evaluator, gate, rules files, imported results
 *   replay         trace summaries, episodes, re-running a trace against an export
 *   lifecycle      stages, gates, canary and rollback: decides, then asks serving through a port
 *   registration   bringing an export in: doctor checks, watched folders, register + evaluate
 *   serve          fastify: /act, /api/<method>, events, metrics, health; slots and shadow
 *   demo           the embedded demo workspace, its ONNX files, suite, rules and traffic
 *   api            the dispatcher every transport calls and the handlers per area
 *   (composition)  engine.ts (`createEngine`) and console-session.ts wire everything
 *   cli            the `switchyard` command
 *
 * A new feature goes in the lowest folder that can hold it: a pure rule in domain, a table in
 * store, a method's handler in api/handlers/<area>.ts with its logic in the area's folder.
 * Test files (`*.test.ts`) may import any layer; test-only helpers live in core/test-support/
 * and no file under core/src may import them (they stay out of dist and out of the package).
 * `version.ts` is a leaf every layer may read.
 */
import { dirname, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CORE_SRC = resolve(dirname(fileURLToPath(import.meta.url)), 'src');
export const TEST_SUPPORT = resolve(dirname(fileURLToPath(import.meta.url)), 'test-support');

const below = {
  contract: [],
  shared: ['contract'],
  domain: ['contract', 'shared'],
  platform: ['contract', 'shared'],
  runtime: ['contract', 'shared', 'domain', 'platform'],
  store: ['contract', 'shared', 'domain', 'platform'],
  trace: ['contract', 'shared', 'domain', 'platform'],
  eval: ['contract', 'shared', 'domain', 'platform', 'runtime', 'store'],
  replay: ['contract', 'shared', 'domain', 'platform', 'runtime', 'trace'],
  lifecycle: ['contract', 'shared', 'domain', 'platform', 'runtime', 'store', 'trace', 'eval'],
  registration: ['contract', 'shared', 'domain', 'platform', 'runtime', 'store', 'eval'],
  serve: ['contract', 'shared', 'domain', 'platform', 'runtime', 'store', 'trace', 'lifecycle'],
  demo: ['contract', 'shared', 'domain', 'platform', 'runtime', 'store', 'eval', 'registration'],
  api: ['contract', 'shared', 'domain', 'platform', 'runtime', 'store', 'trace', 'eval', 'replay', 'lifecycle', 'registration', 'serve', 'demo'],
  composition: ['contract', 'shared', 'domain', 'platform', 'runtime', 'store', 'trace', 'eval', 'replay', 'lifecycle', 'registration', 'serve', 'demo', 'api'],
  cli: ['contract', 'shared', 'domain', 'platform', 'runtime', 'store', 'trace', 'eval', 'replay', 'lifecycle', 'registration', 'serve', 'demo', 'api', 'composition'],
};

/** Folder (or root-file group) -> the layers it may import. `version` is open to all. */
export const LAYERS = Object.fromEntries(Object.entries(below).map(([k, v]) => [k, [...v, 'version']]));
LAYERS.version = [];

/** Files at the top of core/src and the layer each belongs to. */
export const ROOT_FILES = { 'engine.ts': 'composition', 'console-session.ts': 'composition', 'version.ts': 'version' };

/**
 * Imports that run against the order today and are being removed by another engineer's branch
 * (issue 16). Each entry is one file importing one layer (or, for a file cycle, one file). The
 * lead deletes an entry when the branch that removes it lands; the cycle test fails on an entry
 * whose import is gone.
 */
export const EXCEPTIONS = [];

/** The layer of a file under core/src (absolute or relative path), or undefined outside it. */
export function layerOf(file) {
  const rel = relative(CORE_SRC, resolve(CORE_SRC, file));
  if (rel.startsWith('..') || rel === '') return undefined;
  const parts = rel.split(sep);
  // Import specifiers name the compiled `.js`; the table names the `.ts` source.
  if (parts.length === 1) return ROOT_FILES[parts[0].replace(/\.js$/, '.ts')] ?? `(unplaced root file ${parts[0]})`;
  return parts[0];
}

/** Why `file` may not import the file `target` resolves to; undefined when it may. */
export function violation(file, target) {
  const from = layerOf(file);
  if (from === undefined) return undefined;
  if (target.startsWith(TEST_SUPPORT + sep)) return 'core/src never imports core/test-support (test-only code stays out of dist and the package)';
  const to = layerOf(target);
  if (to === undefined || to === from) return undefined;
  const allowed = LAYERS[from];
  if (!allowed) return `folder \`${from}\` has no place in the layer order: add it to core/layers.js`;
  if (allowed.includes(to)) return undefined;
  const rel = relative(CORE_SRC, resolve(CORE_SRC, file)).split(sep).join('/');
  if (EXCEPTIONS.some((e) => e.file === rel && e.imports === to)) return undefined;
  return `\`${from}\` may not import \`${to}\` (core/layers.js: ${from} imports only ${allowed.join(', ') || 'nothing'})`;
}

function check(context, node, spec) {
  if (typeof spec !== 'string' || !spec.startsWith('.')) return;
  const file = context.filename ?? context.getFilename();
  const why = violation(file, resolve(dirname(file), spec));
  if (why) context.report({ node, message: `${spec}: ${why}.` });
}

/** ESLint plugin: `layers/allowed-imports` enforces the table above on every relative import. */
export const layersPlugin = {
  rules: {
    'allowed-imports': {
      meta: { type: 'problem', schema: [], docs: { description: 'core/src imports follow the layer order in core/layers.js' } },
      create(context) {
        const fromSource = (node) => node.source && check(context, node.source, node.source.value);
        return {
          ImportDeclaration: fromSource,
          ExportNamedDeclaration: fromSource,
          ExportAllDeclaration: fromSource,
          ImportExpression: (node) => node.source.type === 'Literal' && check(context, node.source, node.source.value),
          TSImportType: (node) => {
            const lit = node.argument?.literal ?? node.argument;
            if (lit?.type === 'Literal') check(context, lit, lit.value);
          },
        };
      },
    },
  },
};
