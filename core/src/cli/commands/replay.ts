/**
 * `switchyard replay TRACE [--model REF] [--diff actions|latency|cache|all] [--fail-on MODE]
 * [--output FILE] [--device auto|cpu|cuda] [--json]` (spec §7.6, §8).
 *
 * Without `--model`: one streaming pass over the trace (plain or gzip, Switchyard's or another
 * server's) prints per-slot statistics, the chain's integrity, episodes and shadow divergence.
 * With `--model`: re-runs the trace's requests against that version and prints the comparison.
 *
 * Exit codes: 0 ok; 1 a `--fail-on` condition holds; 2 the trace cannot be read, or a flag is
 * wrong; 3 the trace's hash chain is broken (the recorded answers cannot be trusted; this wins
 * over 1); 130 cancelled (Ctrl-C; a re-run reports what it compared so far).
 */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { CommanderError, Option, type Command } from 'commander';
import { ErrorCodes, SwitchyardError, toErrorShape } from '../../contract/index.js';
import { createProgress, type ProgressLine } from '../../eval/progress.js';
import { parseDiff, parseFailOn, type DiffAspect, type FailCondition } from '../../replay/fail-on.js';
import type { ChainIntegrity, ChainMode } from '../../replay/fast-chain.js';
import { isAbortError } from '../../trace/line-source.js';
import { rerunAgainstExport, type RerunAggregate, type RerunResult } from '../../replay/rerun.js';
import { summarizeTrace, type TraceSummary } from '../../replay/trace-summary.js';
import { readExport } from '../../runtime/export.js';
import type { PolicyExport } from '../../runtime/types.js';
import { intIn, storeOption, withEngine } from '../common.js';
import { formatBytes, formatTable } from '../table.js';

export const REPLAY_EXIT = { ok: 0, failOn: 1, error: 2, chainBroken: 3, cancelled: 130 } as const;

export interface ReplayFlags {
  model?: string;
  diff?: string;
  failOn?: string;
  output?: string;
  device: 'auto' | 'cpu' | 'cuda';
  concurrency?: number;
  limit?: number;
  chain: ChainMode;
  threads?: number;
  store: string;
  json?: boolean;
}

// ---------------------------------------------------------------------------------------------
// Formatting

const int = (n: number) => n.toLocaleString('en-US');
const ms = (v: number | null | undefined) => (v === null || v === undefined ? '—' : v < 1 ? v.toFixed(3) : v < 100 ? v.toFixed(2) : v.toFixed(0));
const pct = (v: number | null | undefined, digits = 1) => (v === null || v === undefined ? '—' : `${(v * 100).toFixed(digits)}%`);
const num = (v: number | null | undefined) => (v === null || v === undefined ? '—' : Number.isNaN(v) ? 'NaN' : v === 0 ? '0' : Math.abs(v) < 1e-3 || Math.abs(v) >= 1e4 ? v.toExponential(2) : v.toFixed(4));
const ratio = (v: number | null | undefined) => (v === null || v === undefined ? '—' : `${v.toFixed(2)}x`);

function duration(msv: number | null): string {
  if (msv === null || !Number.isFinite(msv)) return '—';
  if (msv < 1000) return `${Math.round(msv)} ms`;
  const s = msv / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${Math.round(s - m * 60)}s`;
  return `${Math.floor(m / 60)}h ${m % 60}m`;
}

/** Text from the file (ids, reasons) may hold control characters: never send them to a terminal raw. */
function printable(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}

export function formatChain(c: ChainIntegrity, records: number): string[] {
  if (c.status === 'unchecked') return ['Chain     not checked (--chain off)'];
  if (records === 0 && c.status === 'verified') return ['Chain     nothing to verify (no records)'];
  if (c.status === 'verified') {
    const how = c.mode === 'full' ? 'each parsed and canonicalized' : `${int(c.fastPath)} by their text as written, ${int(c.exactPath)} re-canonicalized, ${int(c.audited)} audited`;
    return [`Chain     OK: all ${int(c.checked)} records verify (${how})${c.checked < records ? `; ${int(records - c.checked)} not checked` : ''}`];
  }
  const b = c.firstBroken!;
  return [
    `Chain     BROKEN at record ${b.index} (0-based), line ${b.line}: ${b.kind}`,
    `          ${b.reason}`,
    '          Records before it verify; this record and everything after it cannot be trusted.',
  ];
}

export function formatSummary(s: TraceSummary): string {
  const out: string[] = [];
  const kinds = Object.entries(s.kinds)
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${int(n)} ${k}`)
    .join(', ');
  out.push(`Trace     ${s.path}${s.gzip ? ' (gzip)' : ''}, ${formatBytes(s.fileBytes)}${s.gzip ? ` (${formatBytes(s.bytes)} of JSONL)` : ''}`);
  out.push(`Records   ${int(s.records)}${kinds ? ` (${kinds})` : ''}`);
  const h = s.header;
  if (h) {
    out.push(`Session   ${h.sessionId ?? '—'}, started ${h.startedAt ?? '—'}${s.footer?.endedAt ? `, ended ${s.footer.endedAt}` : ''}${h.switchyardVersion ? `, switchyard ${h.switchyardVersion}` : ''}`);
    const models = h.policies.length > 0 ? h.policies.map((p) => `${p.slot} ${p.modelId ?? '?'}@${p.modelHash ?? '?'}`).join(', ') : (h.modelHash ?? '—');
    out.push(`Models    ${models}${h.split !== null ? `; split ${h.split}% to a` : ''}`);
  }
  if (s.time.first) out.push(`Requests  ${s.time.first} to ${s.time.last} (${duration(s.time.durationMs)}); seq ${s.seq.min ?? '—'}..${s.seq.max ?? '—'}${s.seq.missing ? `, ${int(s.seq.missing)} missing` : ''}`);
  out.push(...formatChain(s.chain, s.records));
  out.push('');
  const rows = [...s.slots, s.overall].map((x) => [
    x.slot,
    int(x.requests),
    int(x.errors),
    pct(x.errorRate, 2),
    pct(x.cache.hitRate),
    ms(x.latencyMs.p50),
    ms(x.latencyMs.p90),
    ms(x.latencyMs.p99),
    ms(x.latencyMs.max),
    int(x.episodes),
  ]);
  out.push(formatTable(['slot', 'requests', 'errors', 'error %', 'cache hit', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'episodes'], rows).trimEnd());
  out.push('');
  const e = s.episodes;
  const perSlot = Object.entries(e.perSlot)
    .map(([k, n]) => `${k} ${int(n)}`)
    .join(', ');
  out.push(
    `Episodes  ${e.approximate ? '~' : ''}${int(e.count)}${perSlot ? ` (${perSlot})` : ''}${e.multiSlot ? `; ${int(e.multiSlot)} served by more than one slot` : ''}${e.withoutEpisode ? `; ${int(e.withoutEpisode)} requests without episode_id` : ''}`,
  );
  if (e.top.length > 0) out.push(`          most requests: ${e.top.slice(0, 5).map((t) => `${t.episodeId} ${int(t.requests)} (${t.slots.join('+')})`).join(', ')}`);
  const sh = s.shadow;
  if (sh.count > 0) {
    const d = sh.divergence;
    out.push(`Shadow    ${int(sh.count)} results, ${int(sh.errors)} errors; divergence (max abs) max ${num(d.max)}, p99 ${num(d.p99)}, mean ${num(d.mean)}; min cosine ${num(d.minCosine)}; latency p50 ${ms(sh.latencyMs.p50)} ms, p99 ${ms(sh.latencyMs.p99)} ms`);
    const e = (x: number) => x.toExponential(0);
    const bars = d.histogram.filter((b) => b.count > 0).map((b) => `${b.hi === 0 ? '0' : b.hi === null ? `>=${e(b.lo)}` : b.lo === 0 ? `<${e(b.hi)}` : `[${e(b.lo)},${e(b.hi)})`}: ${int(b.count)}`);
    if (bars.length > 0) out.push(`          ${bars.join(' · ')}`);
  } else out.push('Shadow    no shadow results');
  const t = s.timeline;
  if (t.buckets > 0) out.push(`Timeline  ${int(t.buckets)} buckets of ${duration(t.bucketMs)} (--json has the series for charts)`);
  for (const w of s.warnings) out.push(`Note      ${w}`);
  out.push(`Read in ${duration(s.elapsedMs)} (${int(Math.round(s.records / Math.max(1e-3, s.elapsedMs / 1000)))} records/s${s.threads ? `, ${s.threads} worker threads` : ''})`);
  return out.join('\n').split('\n').map(printable).join('\n') + '\n';
}

function rerunRow(a: RerunAggregate): string[] {
  const ac = a.actions;
  const la = a.latency;
  const ca = a.cache;
  return [
    a.slot,
    int(a.requests),
    int(a.errors),
    ...(ac ? [int(ac.compared), num(ac.max), num(ac.mean), num(ac.p99), num(ac.minCosine)] : []),
    ...(la ? [`${ms(la.recordedMs.p50)} / ${ms(la.rerunMs.p50)}`, `${ms(la.recordedMs.p99)} / ${ms(la.rerunMs.p99)}`, ratio(la.p99Ratio)] : []),
    ...(ca ? [ca.compared ? `${pct(1 - (ca.mismatchRate ?? 0))} (${int(ca.mismatches)} differ)` : '—'] : []),
  ];
}

export function formatRerun(r: RerunResult & { provider?: string }): string {
  const out: string[] = [];
  const m = r.model;
  out.push(`Re-run    ${r.trace} against ${m ? `${m.ref} (${m.modelVersion ?? '?'})` : 'the given runner'}${r.provider ? ` on ${r.provider}` : ''}`);
  out.push(`          ${int(r.requests)} requests in ${duration(r.elapsedMs)} (${int(Math.round(r.requestsPerSecond))}/s)${r.cancelled ? ', CANCELLED' : ''}; compared: ${r.diff.join(', ')}`);
  out.push('');
  const headers = ['slot', 'requests', 'errors'];
  if (r.diff.includes('actions')) headers.push('compared', 'max div', 'mean div', 'p99 div', 'min cos');
  if (r.diff.includes('latency')) headers.push('p50 ms rec/new', 'p99 ms rec/new', 'p99 ratio');
  if (r.diff.includes('cache')) headers.push('cache match');
  out.push(formatTable(headers, [...r.slots, r.overall].map(rerunRow)).trimEnd());
  out.push('');
  if (r.overall.recordedErrors > 0) out.push(`Skipped   ${int(r.overall.recordedErrors)} requests that had failed when recorded`);
  out.push(...formatChain(r.chain, r.chain.checked));
  for (const o of r.failOn.outcomes) out.push(`Fail-on   ${o.condition}: observed ${num(o.observed)} -> ${o.tripped ? 'HOLDS (exit 1)' : 'does not hold'}`);
  for (const w of r.warnings) out.push(`Note      ${w}`);
  if (r.output) out.push(`Report    ${r.output}`);
  return out.join('\n').split('\n').map(printable).join('\n') + '\n';
}

// ---------------------------------------------------------------------------------------------
// Running

function fail(json: boolean | undefined, e: unknown, code: number = REPLAY_EXIT.error): number {
  const shape = toErrorShape(e);
  if (json) process.stdout.write(JSON.stringify({ ok: false, error: shape }) + '\n');
  else process.stderr.write(`switchyard: ${printable(shape.message)}${shape.where ? ` [${shape.where}]` : ''} (${shape.code})\n`);
  return code;
}

/** Ctrl-C aborts (once); a second Ctrl-C exits at once. */
function interruptible(): { signal: AbortSignal; dispose: () => void } {
  const ac = new AbortController();
  let count = 0;
  const handler = () => {
    if (++count === 1) {
      process.stderr.write('\nCancelling (Ctrl-C again to quit at once)…\n');
      ac.abort();
    } else process.exit(REPLAY_EXIT.cancelled);
  };
  process.on('SIGINT', handler);
  return { signal: ac.signal, dispose: () => process.off('SIGINT', handler) };
}

async function resolveModel(ref: string, store: string): Promise<{ ref: string; exp: PolicyExport }> {
  const asPath = resolve(ref);
  if (existsSync(asPath) && statSync(asPath).isDirectory()) return { ref: asPath, exp: await readExport(asPath) };
  if (!ref.includes('@')) {
    throw new SwitchyardError(ErrorCodes.SWY_ERR_NOT_FOUND, `--model "${ref}" is neither an export directory nor a version like cartpole-balance@1.1.0.`, '--model');
  }
  return withEngine({ storePath: store }, (engine) => engine.resolveExport(ref));
}

export async function runReplay(trace: string, flags: ReplayFlags): Promise<number> {
  const json = flags.json;
  const progress = (label: string): ProgressLine | null => (json ? null : createProgress({ label }));
  if (!flags.model) {
    const extra = (['diff', 'failOn', 'output', 'limit', 'concurrency'] as const).filter((k) => flags[k] !== undefined);
    if (extra.length > 0) {
      const names = extra.map((k) => ({ diff: '--diff', failOn: '--fail-on', output: '--output', limit: '--limit', concurrency: '--concurrency' })[k]);
      return fail(json, new SwitchyardError(ErrorCodes.SWY_ERR_INVALID_INPUT, `${names.join(', ')} ${names.length === 1 ? 'applies' : 'apply'} to a re-run: add --model PATH|POLICY@LABEL.`, names[0]));
    }
  }
  let diff: DiffAspect[];
  let failOn: FailCondition[];
  try {
    diff = parseDiff(flags.diff);
    failOn = parseFailOn(flags.failOn, diff);
  } catch (e) {
    return fail(json, e);
  }
  const sig = interruptible();
  try {
    if (!flags.model) {
      const bar = progress('replay: reading');
      let summary: TraceSummary;
      try {
        ({ summary } = await summarizeTrace(trace, {
          chain: flags.chain,
          signal: sig.signal,
          ...(flags.threads !== undefined ? { threads: flags.threads } : {}),
          ...(bar ? { onProgress: (p) => bar.update(Math.round(p.fraction * 1000), 1000, `${int(p.records)} records`, p.fraction) } : {}),
        }));
      } finally {
        bar?.done();
      }
      if (summary.records > 0 && summary.badLines.count >= summary.records) {
        return fail(json, new SwitchyardError(ErrorCodes.SWY_ERR_INVALID_INPUT, `${trace} is not a trace: none of its ${summary.records} lines is a JSON object (first: line ${summary.badLines.first[0]?.line}, ${summary.badLines.first[0]?.reason}).`, trace));
      }
      if (json) process.stdout.write(JSON.stringify({ ok: true, summary }) + '\n');
      else process.stdout.write(formatSummary(summary));
      return summary.chain.status === 'broken' ? REPLAY_EXIT.chainBroken : REPLAY_EXIT.ok;
    }

    const { ref, exp } = await resolveModel(flags.model, flags.store);
    const bar = progress(`replay: re-running against ${ref}`);
    let result: RerunResult & { provider: string };
    try {
      result = await rerunAgainstExport({
        trace,
        export: exp,
        ref,
        device: flags.device,
        diff,
        failOn,
        chain: flags.chain,
        signal: sig.signal,
        ...(flags.output ? { output: flags.output } : {}),
        ...(flags.concurrency !== undefined ? { concurrency: flags.concurrency } : {}),
        ...(flags.limit !== undefined ? { limit: flags.limit } : {}),
        ...(bar
          ? {
              onProgress: (p) =>
                bar.update(Math.round(p.fraction * 1000), 1000, `${int(p.records)} requests${p.maxDivergence !== null && p.maxDivergence !== undefined ? `, max divergence ${num(p.maxDivergence)}` : ''}`, p.fraction),
            }
          : {}),
      });
    } finally {
      bar?.done();
    }
    if (json) process.stdout.write(JSON.stringify({ ok: true, rerun: result }) + '\n');
    else process.stdout.write(formatRerun(result));
    if (result.cancelled) return REPLAY_EXIT.cancelled;
    if (result.chain.status === 'broken') return REPLAY_EXIT.chainBroken;
    return result.failOn.tripped ? REPLAY_EXIT.failOn : REPLAY_EXIT.ok;
  } catch (e) {
    if (isAbortError(e)) {
      if (!json) process.stderr.write('Cancelled.\n');
      return REPLAY_EXIT.cancelled;
    }
    return fail(json, e);
  } finally {
    sig.dispose();
  }
}

export function registerReplayCommand(program: Command): void {
  const cmd = program
    .command('replay')
    .argument('<TRACE>', "a recorded trace, .jsonl or .jsonl.gz (Switchyard's or another server's)")
    .description('summarize a recorded trace (per-slot latency, cache, errors, episodes, shadow divergence, chain integrity), or re-run its requests against another version (--model) and compare')
    .option('--model <REF>', 're-run the requests against this version: an export directory or POLICY@LABEL')
    .option('--diff <WHAT>', 'what a re-run compares: actions, latency, cache or all (a comma list works too; default all)')
    .option('--fail-on <MODE>', 'exit 1 when a condition holds: divergence>0.1, mean-divergence>X, p99-divergence>X, cosine<0.99, p50-latency-ratio>X, p99-latency-ratio>1.5, cache-mismatch>5%, error-rate>X, errors>N, error (comma list: any)')
    .option('--output <FILE>', 'write a JSONL report: one line per re-run request (seq, divergence, latency, cache), then a summary line')
    .addOption(new Option('--device <device>', 'inference device for --model').choices(['auto', 'cpu', 'cuda']).default('auto'))
    .option('--concurrency <n>', 're-run requests in flight at once (default 1 when latency is compared, else 8; one episode is always in order)', intIn('--concurrency', 1, 256))
    .option('--limit <n>', 're-run only the first N requests', intIn('--limit', 1, Number.MAX_SAFE_INTEGER))
    .addOption(new Option('--chain <mode>', 'hash-chain check: fast (text as written, exact for anything else), full (every record canonicalized), off').choices(['fast', 'full', 'off']).default('fast'))
    .option('--threads <n>', 'worker threads for the summary pass (default: one per CPU for big traces)', intIn('--threads', 0, 16))
    .option('--json', 'print machine-readable JSON')
    .addHelpText('after', '\nExit codes: 0 ok, 1 a --fail-on condition holds, 2 unreadable trace or bad flags, 3 the hash chain is broken (wins over 1), 130 cancelled.')
    .exitOverride((err: CommanderError) => {
      process.exit(err.exitCode === 0 ? 0 : REPLAY_EXIT.error);
    });
  storeOption(cmd).action(async (trace: string, flags: ReplayFlags) => {
    process.exitCode = await runReplay(trace, flags);
  });
}
