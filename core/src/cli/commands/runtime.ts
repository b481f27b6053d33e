import { Option, type Command } from 'commander';
import type { VersionSummary } from '../../contract/index.js';
import { doctorReason, runDoctor, type DoctorReport } from '../../registration/doctor.js';
import { intIn, reportFailure, withEngine } from '../common.js';
import { defaultStorePath } from '../../platform/paths.js';
import { formatBytes, formatTable } from '../table.js';

function fmtMs(n: number | null | undefined): string {
  if (n === null || n === undefined) return '-';
  return n < 1 ? `${(n * 1000).toFixed(0)} µs` : `${n.toFixed(2)} ms`;
}

/** The doctor report as people read it: a table of checks, then the numbers. */
export function formatDoctorReport(r: DoctorReport): string {
  const rows = r.checks.map((c) => [c.name, c.ok ? 'ok' : c.skipped ? 'skipped' : 'FAILED', c.detail]);
  let out = `Doctor: ${r.dir}\n\n` + formatTable(['check', 'result', 'detail'], rows) + '\n';
  const facts: [string, string][] = [];
  if (r.modelVersion) facts.push(['model version', r.modelVersion]);
  if (r.sizeBytes !== null) facts.push(['size', `${formatBytes(r.sizeBytes)} (${r.sizeBytes} bytes)`]);
  if (r.provider) facts.push(['provider', r.fallbackReason ? `${r.provider} (--device ${r.device} fell back to it; the load check says why)` : r.provider]);
  if (r.loadMs !== null) facts.push(['load / warm-up', `${fmtMs(r.loadMs)} / ${fmtMs(r.warmupMs)}`]);
  if (r.latency) {
    facts.push(['act() latency', `p50 ${fmtMs(r.latency.p50Ms)}, p99 ${fmtMs(r.latency.p99Ms)} over ${r.latency.runs} runs (inside ONNX Runtime: p50 ${fmtMs(r.latency.inferP50Ms)}, p99 ${fmtMs(r.latency.inferP99Ms)})`]);
  }
  const w = Math.max(0, ...facts.map(([k]) => k.length));
  for (const [k, v] of facts) out += `${k.padEnd(w)}  ${v}\n`;
  out += r.ok ? 'OK: this export loads, matches its manifest and returns finite actions.\n' : `FAILED: ${doctorReason(r)}\n`;
  return out;
}

function stageList(vs: VersionSummary[]): string {
  if (vs.length === 0) return '-';
  return vs.map((v) => (v.doctorStatus === 'ok' ? v.label : `${v.label} (doctor ${v.doctorStatus})`)).join(', ');
}

export function registerRuntimeCommands(program: Command): void {
  program
    .command('doctor')
    .argument('<PATH>', 'export directory (switchyard.json + policy.onnx)')
    .description('check an export: manifest, IO shapes against the ONNX graph, warm-up on random input, finite outputs, latency, size and hash; exits 1 on any failure')
    .addOption(new Option('--device <device>', 'inference device').choices(['auto', 'cpu', 'cuda']).default('auto'))
    .option('--runs <n>', 'timed act() calls on random observations', intIn('--runs', 0, 1_000_000), 200)
    .option('--json', 'print the report as JSON')
    .action(async (path: string, flags: { device: 'auto' | 'cpu' | 'cuda'; runs: number; json?: boolean }) => {
      try {
        const report = await runDoctor(path, { device: flags.device, runs: flags.runs });
        if (flags.json) process.stdout.write(JSON.stringify(report) + '\n');
        else process.stdout.write(formatDoctorReport(report));
        if (!report.ok) {
          const e = report.error!;
          if (!flags.json) process.stderr.write(`switchyard: doctor failed: ${doctorReason(report)}${e.where ? ` [${e.where}]` : ''} (${e.code})\n`);
          process.exitCode = 1;
        }
      } catch (e) {
        reportFailure(e, flags.json);
      }
    });

  program
    .command('status')
    .argument('[POLICY]', 'one policy (default: all)')
    .description('the production version of each policy and since when, staging versions, candidates, doctor status')
    .option('--store <path>', 'SQLite store', defaultStorePath())
    .option('--json', 'print machine-readable JSON')
    .action(async (policy: string | undefined, flags: { store: string; json?: boolean }) => {
      try {
        const status = await withEngine({ storePath: flags.store }, async (e) => e.registry.status(policy));
        if (flags.json) return void process.stdout.write(JSON.stringify({ ok: true, policies: status }) + '\n');
        if (status.length === 0) {
          return void process.stdout.write('No policies registered. Run `switchyard demo` or `switchyard register PATH`.\n');
        }
        let out = formatTable(
          ['policy', 'production', 'model version', 'since', 'doctor', 'staging', 'candidates'],
          status.map((s) => [
            s.policy,
            s.production?.label ?? '(none)',
            s.production?.modelVersion ?? '-',
            s.productionSince ?? '-',
            s.production?.doctorStatus ?? '-',
            stageList(s.staging),
            stageList(s.candidates),
          ]),
        );
        if (policy !== undefined) {
          const s = status[0]!;
          const versions = [...(s.production ? [s.production] : []), ...s.staging, ...s.candidates];
          out +=
            '\n' +
            formatTable(
              ['version', 'stage', 'model version', 'doctor', 'size', 'registered'],
              versions.map((v) => [v.label, v.stage, v.modelVersion, v.doctorStatus, formatBytes(v.sizeBytes), v.registeredAt]),
            );
          if (s.archived > 0) out += `(${s.archived} archived)\n`;
        }
        process.stdout.write(out);
        if (status.some((s) => s.production === null)) {
          process.stdout.write(`No production version: ${status.filter((s) => s.production === null).map((s) => s.policy).join(', ')}. Promote one with \`switchyard promote POLICY@LABEL --to production\`.\n`);
        }
      } catch (e) {
        reportFailure(e, flags.json);
      }
    });
}

