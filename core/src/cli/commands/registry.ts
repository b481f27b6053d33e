import { Option, type Command } from 'commander';
import { toErrorShape } from '../../contract/index.js';
import { createProgress } from '../../eval/progress.js';
import { checkForRegistration, commitRegistration, DoctorFailedError } from '../../registration/doctor.js';
import { intIn, reportFailure, withEngine } from '../common.js';
import { defaultStorePath } from '../../platform/paths.js';
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
        const bar = flags.json ? null : createProgress({ label: 'demo' });
        const demo = await withEngine({ storePath: flags.store }, (e) => e.buildDemo(bar ? { onProgress: (p) => bar.update(p.done, p.total, p.step) } : {}));
        bar?.done();
        const ms = performance.now() - t0;
        if (flags.json) process.stdout.write(JSON.stringify({ ok: true, ...demo, ms }) + '\n');
        else {
          printTable(['version', 'model version', 'doctor', 'new'], demo.registered.map((r) => [r.ref, r.modelVersion, r.doctor, r.created ? 'yes' : 'already there']));
          process.stdout.write(`Production: ${demo.production}. Exports in ${demo.dir}. Store ${flags.store}. ${ms.toFixed(0)} ms.\n`);
        }
      } catch (e) {
        reportFailure(e, flags.json);
      }
    });

  program
    .command('register')
    .argument('<PATH>', 'export directory')
    .description('check an export with doctor and register it as a new candidate version with the report; a failing export is refused and nothing is written')
    .option('--store <path>', 'SQLite store', defaultStorePath())
    .addOption(new Option('--device <device>', 'device doctor loads the model on').choices(['auto', 'cpu', 'cuda']).default('auto'))
    .option('--runs <n>', "doctor's timed act() calls", intIn('--runs', 0, 1_000_000), 200)
    .option('--json', 'machine-readable output')
    .action(async (path: string, flags: { store: string; device: 'auto' | 'cpu' | 'cuda'; runs: number; json?: boolean }) => {
      try {
        // Doctor first, before the store is even opened: a broken export writes nothing.
        const bar = flags.json ? null : createProgress({ label: `register ${path}` });
        const checked = await checkForRegistration(path, { device: flags.device, runs: flags.runs, ...(bar ? { onProgress: (p) => bar.update(p.done, p.total, `doctor: ${p.step}`) } : {}) }).finally(() => bar?.done());
        const r = await withEngine({ storePath: flags.store }, (e) => commitRegistration(e.registry, checked, { actor: process.env.USER ?? 'cli' }));
        if (flags.json) process.stdout.write(JSON.stringify({ ok: true, ...r.result, doctor: r.report }) + '\n');
        else {
          const v = r.result.version;
          const lat = r.report.latency ? `, act() p50 ${r.report.latency.p50Ms} ms` : '';
          process.stdout.write(`${r.result.created ? 'Registered' : 'Already registered'} ${v.policy}@${v.label} as ${v.modelVersion} (${v.stage}). Doctor: ok on ${r.report.provider}${lat}.\n`);
        }
      } catch (e) {
        if (flags.json && e instanceof DoctorFailedError) {
          process.stdout.write(JSON.stringify({ ok: false, error: toErrorShape(e), doctor: e.report }) + '\n');
          process.exit(1);
        }
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
          ['policy', 'version', 'stage', 'model version', 'kind', 'size', 'doctor', 'registered'],
          policies.flatMap((p) => p.versions.map((v) => [p.name, v.label, v.stage, v.modelVersion, v.kind, formatBytes(v.sizeBytes), v.doctorStatus, v.registeredAt])),
        );
      } catch (e) {
        reportFailure(e, flags.json);
      }
    });
}
