import { readExport } from '../runtime/export.js';
import type { Registry } from '../store/registry.js';
import { DEMO_PRODUCTION_VERSION, writeDemoExports } from './cartpole-policies.js';

export interface DemoResult {
  dir: string;
  registered: { ref: string; modelVersion: string; created: boolean }[];
  production: string;
}

/**
 * Writes the demo policies as real ONNX exports and registers them; the production version
 * is promoted as the demo's starting point. Running it twice changes nothing.
 */
export async function buildDemoWorkspace(opts: { registry: Registry; dir: string }): Promise<DemoResult> {
  const dirs = await writeDemoExports(opts.dir);
  const registered: DemoResult['registered'] = [];
  for (const d of dirs) {
    const exp = await readExport(d);
    const isProd = exp.manifest.version === DEMO_PRODUCTION_VERSION;
    const r = opts.registry.register(exp, { actor: 'switchyard demo', ...(isProd ? { stage: 'production' as const } : {}) });
    registered.push({ ref: `${exp.manifest.policy}@${exp.manifest.version}`, modelVersion: exp.modelVersion, created: r.created });
  }
  return { dir: opts.dir, registered, production: `cartpole-balance@${DEMO_PRODUCTION_VERSION}` };
}
