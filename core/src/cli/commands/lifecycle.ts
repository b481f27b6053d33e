/**
 * `switchyard promote`, `rollback`, `history`, `archive` and `canary` (spec §6, §8).
 *
 * promote, rollback and archive change the store directly, or, with `--server URL` (or
 * SWITCHYARD_SERVER), ask that running server to do it, so that its traffic moves at once (a
 * server serving `POLICY@production` keeps the previous production version warm). `canary` always
 * talks to a server. Every command prints one JSON object with `--json`; exit 0 on success, 1
 * on any refusal or error (the JSON error carries the SWY_ERR_* code).
 */
import { Option, type Command } from 'commander';
import { resolve } from 'node:path';
import {
  ErrorCodes,
  SwitchyardError,
  type ApiClient,
  type CanaryStatus,
  type HistoryResult,
  type PromotionResult,
  type RollbackResult,
  type Stage,
  type TrafficMove,
} from '../../contract/index.js';
import { parseTimeArg } from '../../domain/lifecycle.js';
import type { Engine } from '../../engine.js';
import { engineClient, reportFailure, withEngine } from '../common.js';
import { defaultStorePath } from '../../platform/paths.js';
import { serverClient } from '../server-client.js';
import { printTable } from '../table.js';
import { progressDisplay } from './eval.js';

interface CommonFlags {
  store: string;
  server?: string;
  token?: string;
  json?: boolean;
}

const actor = () => process.env.USER ?? process.env.USERNAME ?? 'cli';
const out = (s: string) => void process.stdout.write(s);

function common(cmd: Command, remote: 'optional' | 'required'): Command {
  return cmd
    .option('--store <path>', 'SQLite store (when no --server is given)', defaultStorePath())
    .option('--server <url>', remote === 'required' ? 'the running server' : 'ask this running server instead of changing the store, so its traffic moves at once', process.env.SWITCHYARD_SERVER)
    .option('--token <token>', "the server's token (default: $SWITCHYARD_TOKEN, else read from the server's runtime file)")
    .option('--json', 'print machine-readable JSON');
}

/** `60s`, `5m`, `1h`, `250ms` or a number of milliseconds. */
export function parseDuration(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/i.exec(text.trim());
  if (!m) throw new SwitchyardError(ErrorCodes.SWY_ERR_INVALID_INPUT, `${flag}: "${text}" is not a duration; write e.g. 250ms, 60s, 5m or 1h.`, flag);
  const unit = (m[2] ?? 'ms').toLowerCase();
  return Math.round(Number(m[1]) * ({ ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as Record<string, number>)[unit]!);
}

function trafficLine(t: TrafficMove): string {
  if (t.moved) return `Traffic moved in ${t.ms === null ? '?' : t.ms.toFixed(1)} ms (${t.how}).`;
  return `Traffic: not moved (${t.how}).`;
}

const LOCAL_NOTE = (policy: string) =>
  `Changed the store only. A server serving ${policy}@production picks this up when restarted; pass --server URL to have a running server move its traffic at once.`;

function printPromotion(r: PromotionResult, local: boolean): void {
  const ref = `${r.policy}@${r.version.label}`;
  let s = `Promoted ${ref} (${r.version.modelVersion}) from ${r.from} to ${r.to} at ${r.at}`;
  s += r.verdictId !== null ? `, resting on verdict #${r.verdictId}.\n` : '.\n';
  if (r.forced) s += `FORCED by ${r.actor}: ${r.reason}\n  Overrode: ${r.overridden.join('; ')}\n`;
  if (r.replaced) s += `It replaced ${r.policy}@${r.replaced.label} (${r.replaced.modelVersion}), now ${r.replaced.stage}.\n`;
  if (r.to === 'production') s += local ? `${LOCAL_NOTE(r.policy)}\n` : `${trafficLine(r.traffic)}\n`;
  out(s);
}

function printRollback(r: RollbackResult, local: boolean): void {
  let s = `Rolled back ${r.policy} to ${r.restored.label} (${r.restored.modelVersion}) at ${r.at}.\n`;
  if (r.lastProduction) s += `${r.restored.label} was production from ${r.lastProduction.from} until ${r.lastProduction.until ?? 'now'}.\n`;
  s += `It replaced ${r.replaced.label} (${r.replaced.modelVersion}), now ${r.replaced.stage}.\n`;
  if (r.skipped.length) s += `Skipped archived: ${r.skipped.join(', ')}.\n`;
  s += local ? `${LOCAL_NOTE(r.policy)}\n` : `${trafficLine(r.traffic)}\n`;
  out(s);
}

function printHistory(h: HistoryResult): void {
  if (h.productionAt) {
    out(`${h.productionAt.message}\n`);
    return;
  }
  printTable(
    ['time', 'version', 'from', 'to', 'action', 'actor', 'verdict', 'forced', 'reason'],
    h.entries.map((e) => [e.at, e.label, e.from ?? '-', e.to, e.action, e.actor, e.verdictId === null ? '-' : `#${e.verdictId}`, e.forced ? 'FORCED' : '', e.reason]),
  );
}

function printCanary(s: CanaryStatus): void {
  const last = s.looks.at(-1);
  out(
    `Canary ${s.candidate} vs ${s.baseline}: ${s.state}${s.pausedFrom ? ` (from ${s.pausedFrom})` : ''}, ${s.percent}% of new episodes on the candidate, ` +
      `step ${s.stepIndex + 1}/${s.config.steps.length}, ${s.looks.length}/${s.plannedLooks} looks${s.nextLookAt ? `, next look at ${s.nextLookAt}` : ''}.\n`,
  );
  if (last) out(`  look ${last.index} (${last.phase}, ${last.percent}%): ${last.pass ? 'pass' : 'FAIL'}; ${last.checks.map((c) => `${c.id} ${c.pass ? 'ok' : 'FAIL'}`).join(', ')}\n`);
  if (s.outcome) out(`  ${s.outcome}\n`);
}

/**
 * One contract call, to the running server with --server (so its traffic moves), else to an engine
 * on the store in this process (`engine` is then given, for its events).
 */
async function serverOrStore<T>(flags: CommonFlags, call: (client: ApiClient, engine: Engine | null) => Promise<T>): Promise<{ value: T; local: boolean }> {
  if (flags.server) return { value: await call(serverClient({ server: flags.server, ...(flags.token ? { token: flags.token } : {}) }), null), local: false };
  return { value: await withEngine({ storePath: flags.store }, (e) => call(engineClient(e), e)), local: true };
}

const STAGES = ['staging', 'production', 'archived'];

export function registerLifecycleCommands(program: Command): void {
  common(
    program
      .command('promote')
      .argument('<VERSION>', 'policy@label')
      .description('move a version to a stage: only with a GO verdict for the transition on the current suite, rules and baseline (or --force with --reason)')
      .addOption(new Option('--to <stage>', 'the stage').choices(STAGES).makeOptionMandatory())
      .option('--rules <FILE>', 'run the gate with this rules file first, and promote on its verdict')
      .option('--force', 'override a missing, NO-GO or stale verdict (recorded, with --reason)')
      .option('--reason <text>', 'why (required with --force; recorded in the stage history)')
      .option('--expect-production <label>', 'refuse unless this is still the production version (what you looked at)'),
    'optional',
  ).action(async (version: string, flags: CommonFlags & { to: Stage; rules?: string; force?: boolean; reason?: string; expectProduction?: string }) => {
    try {
      const input = {
        version,
        to: flags.to,
        actor: actor(),
        ...(flags.force ? { force: true } : {}),
        ...(flags.reason !== undefined ? { reason: flags.reason } : {}),
        ...(flags.rules !== undefined ? { rulesPath: resolve(flags.rules) } : {}),
        ...(flags.expectProduction !== undefined ? { expectedProduction: flags.expectProduction } : {}),
      };
      const { value, local } = await serverOrStore(flags, async (client, e) => {
        // --rules may evaluate what the gate is missing here: the same progress lines as `eval`.
        const display = e && flags.rules !== undefined ? progressDisplay(flags.json) : null;
        const off = e && display ? e.events.on('eval.progress', display.onProgress) : () => {};
        return client.call('lifecycle.promote', input).finally(() => (off(), display?.finish()));
      });
      if (flags.json) out(JSON.stringify({ ok: true, ...value }) + '\n');
      else printPromotion(value, local);
    } catch (e) {
      reportFailure(e, flags.json);
    }
  });

  common(
    program
      .command('rollback')
      .argument('<POLICY>', 'the policy')
      .description('make the previous production version production again (repeat to walk further back); with --server, traffic moves at once')
      .option('--reason <text>', 'why (recorded in the stage history)')
      .option('--expect-production <label>', 'refuse unless this is still the production version'),
    'optional',
  ).action(async (policy: string, flags: CommonFlags & { reason?: string; expectProduction?: string }) => {
    try {
      const input = { policy, actor: actor(), ...(flags.reason !== undefined ? { reason: flags.reason } : {}), ...(flags.expectProduction !== undefined ? { expectedProduction: flags.expectProduction } : {}) };
      const { value, local } = await serverOrStore(flags, (client) => client.call('lifecycle.rollback', input));
      if (flags.json) out(JSON.stringify({ ok: true, ...value }) + '\n');
      else printRollback(value, local);
    } catch (e) {
      reportFailure(e, flags.json);
    }
  });

  program
    .command('history')
    .argument('<POLICY>', 'the policy')
    .description('every stage change (time, from, to, actor, reason, verdict, forced); with --at, what was production at that time')
    .option('--at <time>', 'an ISO time (2026-11-21T10:00:00Z), a date, "now", or relative (-2h, "3 days ago")')
    .option('--store <path>', 'SQLite store', defaultStorePath())
    .option('--json', 'print machine-readable JSON')
    .action(async (policy: string, flags: { at?: string; store: string; json?: boolean }) => {
      try {
        // Read the time first: a bad --at is refused before the store is opened, naming the flag.
        if (flags.at !== undefined) parseTimeArg(flags.at, Date.now(), '--at');
        const h: HistoryResult = await withEngine({ storePath: flags.store }, (e) =>
          engineClient(e).call('lifecycle.history', { policy, ...(flags.at !== undefined ? { at: flags.at } : {}) }),
        );
        if (flags.json) out(JSON.stringify({ ok: true, ...h }) + '\n');
        else printHistory(h);
      } catch (e) {
        reportFailure(e, flags.json);
      }
    });

  common(
    program
      .command('archive')
      .argument('<VERSION>', 'policy@label')
      .description('archive a version; refused for the production version and the last 3 versions that were production')
      .option('--reason <text>', 'why (recorded in the stage history)'),
    'optional',
  ).action(async (version: string, flags: CommonFlags & { reason?: string }) => {
    try {
      const input = { version, actor: actor(), ...(flags.reason !== undefined ? { reason: flags.reason } : {}) };
      const { value } = await serverOrStore(flags, (client) => client.call('lifecycle.archive', input));
      if (flags.json) out(JSON.stringify({ ok: true, ...value }) + '\n');
      else out(`Archived ${value.policy}@${value.version.label} (was ${value.from}) at ${value.at}.\n`);
    } catch (e) {
      reportFailure(e, flags.json);
    }
  });

  program
    .command('canary')
    .argument('<POLICY>', 'the policy')
    .description('ramp a staging candidate against production on a running two-policy server (a = production, b = candidate), or control the running canary')
    .option('--candidate <VERSION>', 'start a canary of this staging version')
    .option('--steps <list>', 'percent of new episodes on the candidate at each step', '5,25,50,100')
    .option('--interval <duration>', 'time at each step before its look (and between monitor looks)', '60s')
    .option('--monitor <duration>', 'after promotion, keep looking for this long (0 = no monitor)', '5m')
    .option('--alpha <p>', 'family-wise significance level, split over every planned look', '0.05')
    .option('--error-margin <rate>', 'how much worse the candidate error rate may be (absolute)', '0.02')
    .option('--p99-max-ratio <x>', 'largest p99 latency ratio candidate / production', '1.5')
    .option('--p99-min-delta-ms <ms>', 'p99 differences under this never fail', '1')
    .option('--min-requests <n>', 'new candidate requests a look needs', '1')
    .option('--look-timeout <duration>', 'a metrics read slower than this fails the look', '5s')
    .option('--force', 'start without a fresh GO staging->production verdict (recorded, with --reason)')
    .option('--reason <text>', 'why (required with --force; with --abort, recorded)')
    .option('--status', 'print the canary status')
    .option('--pause', 'pause the running canary')
    .option('--resume', 'resume the paused canary')
    .option('--abort', 'abort: every request back on production')
    .option('--detach', 'start and return, instead of following the canary until it ends')
    .option('--server <url>', 'the running server (default: $SWITCHYARD_SERVER, else the one this account runs, else http://127.0.0.1:8000)')
    .option('--token <token>', "the server's token (default: $SWITCHYARD_TOKEN, else read from the server's runtime file)")
    .option('--json', 'print machine-readable JSON (one object per status line when following)')
    .action(async (policy: string, flags: Record<string, string | boolean | undefined>) => {
      const json = Boolean(flags.json);
      try {
        const server = serverClient({ ...(typeof flags.server === 'string' ? { server: flags.server } : {}), ...(typeof flags.token === 'string' ? { token: flags.token } : {}) });
        const control = (['status', 'pause', 'resume', 'abort'] as const).filter((k) => flags[k]);
        if (control.length > 1 || (control.length === 1 && flags.candidate)) {
          throw new SwitchyardError(ErrorCodes.SWY_ERR_INVALID_INPUT, 'Give either --candidate VERSION (start) or one of --status, --pause, --resume, --abort.', '--candidate');
        }
        const show = (s: CanaryStatus | null) => (json ? out(JSON.stringify({ ok: true, canary: s }) + '\n') : s ? printCanary(s) : out('No canary has run on this server.\n'));
        if (control.length === 1) {
          const who = { actor: actor() };
          const c = control[0]!;
          if (c === 'status') return show((await server.call('canary.status', {})).canary);
          if (c === 'abort') return show(await server.call('canary.abort', { ...who, ...(typeof flags.reason === 'string' ? { reason: flags.reason } : {}) }));
          return show(await server.call(c === 'pause' ? 'canary.pause' : 'canary.resume', who));
        }
        if (typeof flags.candidate !== 'string') throw new SwitchyardError(ErrorCodes.SWY_ERR_INVALID_INPUT, 'canary needs --candidate VERSION to start, or --status/--pause/--resume/--abort.', '--candidate');
        const num = (k: string, flag: string) => {
          const n = Number(flags[k]);
          if (!Number.isFinite(n)) throw new SwitchyardError(ErrorCodes.SWY_ERR_INVALID_INPUT, `${flag}: "${String(flags[k])}" is not a number.`, flag);
          return n;
        };
        const steps = String(flags.steps).split(',').map((x) => Number(x.trim()));
        const started = await server.call('canary.start', {
          policy,
          candidate: flags.candidate,
          steps,
          intervalMs: parseDuration(String(flags.interval), '--interval'),
          monitorWindowMs: parseDuration(String(flags.monitor), '--monitor'),
          lookTimeoutMs: parseDuration(String(flags.lookTimeout), '--look-timeout'),
          alpha: num('alpha', '--alpha'),
          errorMargin: num('errorMargin', '--error-margin'),
          p99MaxRatio: num('p99MaxRatio', '--p99-max-ratio'),
          p99MinDeltaMs: num('p99MinDeltaMs', '--p99-min-delta-ms'),
          minRequestsPerLook: num('minRequests', '--min-requests'),
          actor: actor(),
          ...(flags.force ? { force: true } : {}),
          ...(typeof flags.reason === 'string' ? { reason: flags.reason } : {}),
        });
        show(started);
        if (flags.detach) return;
        // Follow until it ends, printing each change; the exit code says how it ended.
        let last = JSON.stringify([started.state, started.looks.length, started.percent]);
        let s = started;
        // Bounded: every planned look, each with its interval and read timeout, plus a minute; a pause is not waited out.
        const c = started.config;
        const deadline = Date.now() + started.plannedLooks * (c.intervalMs + c.lookTimeoutMs) + 60_000;
        while (s.state === 'ramping' || s.state === 'paused' || s.state === 'monitoring') {
          if (Date.now() > deadline) {
            throw new SwitchyardError(ErrorCodes.SWY_ERR_CONFLICT, `The canary is still ${s.state} past its planned end; it keeps running on the server. Follow it with \`switchyard canary ${policy} --status\`.`);
          }
          await new Promise((r) => setTimeout(r, 1000));
          s = (await server.call('canary.status', {})).canary ?? s;
          const key = JSON.stringify([s.state, s.looks.length, s.percent]);
          if (key !== last) show(s);
          last = key;
        }
        process.exitCode = s.state === 'completed' ? 0 : 1;
      } catch (e) {
        reportFailure(e, json);
      }
    });
}
