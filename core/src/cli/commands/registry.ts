import type { Command } from 'commander';
import { readExport } from '../../runtime/export.js';
import { reportFailure, withEngine } from '../common.js';
import { defaultStorePath } from '../paths.js';
import { formatBytes, printTable } from '../table.js';

export function registerRegistryCommands(program: Command): void {
  program
    .command('demo')
    .description('build the demo workspace: cart-pole ONNX policies registered in the store, one in production')
    .option('--store <path>', 'SQLite store', defaultStorePath())
    .option('--json', 'machine-readable output')
    .action(async (flags: { store: string; json?: boolean }) => {
      try {
        const t0 = performance.now();
        const demo = await withEngine({ storePath: flags.store }, (e) => e.buildDemo());
        const ms = performance.now() - t0;
        if (flags.json) process.stdout.write(JSON.stringify({ ok: true, ...demo, ms }) + '\n');
        else {
          printTable(['version', 'model version', 'new'], demo.registered.map((r) => [r.ref, r.modelVersion, r.created ? 'yes' : 'already there']));
          process.stdout.write(`Production: ${demo.production}. Exports in ${demo.dir}. Store ${flags.store}. ${ms.toFixed(0)} ms.\n`);
        }
      } catch (e) {
        reportFailure(e, flags.json);
      }
    });

  program
    .command('register')
    .argument('<PATH>', 'export directory')
    .description('register an export as a new candidate version')
    .option('--store <path>', 'SQLite store', defaultStorePath())
    .option('--json', 'machine-readable output')
    .action(async (path: string, flags: { store: string; json?: boolean }) => {
      try {
        const exp = await readExport(path);
        const r = await withEngine({ storePath: flags.store }, async (e) => e.registry.register(exp, { actor: process.env.USER ?? 'cli' }));
        if (flags.json) process.stdout.write(JSON.stringify({ ok: true, ...r }) + '\n');
        else process.stdout.write(`${r.created ? 'Registered' : 'Already registered'} ${r.version.policy}@${r.version.label} as ${r.version.modelVersion} (${r.version.stage}).\n`);
      } catch (e) {
        reportFailure(e, flags.json);
      }
    });

  program
    .command('policies')
    .description('list policies and their versions')
    .option('--store <path>', 'SQLite store', defaultStorePath())
    .option('--json', 'machine-readable output')
    .action(async (flags: { store: string; json?: boolean }) => {
      try {
        const policies = await withEngine({ storePath: flags.store }, async (e) => e.registry.listPolicies());
        if (flags.json) return void process.stdout.write(JSON.stringify({ ok: true, policies }) + '\n');
        if (!policies.length) return void process.stdout.write('No policies registered. Run `switchyard demo` or `switchyard register PATH`.\n');
        printTable(
          ['policy', 'version', 'stage', 'model version', 'kind', 'size', 'registered'],
          policies.flatMap((p) => p.versions.map((v) => [p.name, v.label, v.stage, v.modelVersion, v.kind, formatBytes(v.sizeBytes), v.registeredAt])),
        );
      } catch (e) {
        reportFailure(e, flags.json);
      }
    });
}
