/**
 * `--cpu-affinity`: pins the whole server process (every thread: the HTTP thread, the policy
 * workers, the trace and the runtime's helper threads) to a set of CPUs.
 *
 * Why: on a robot bench the control stack and the policy server compete for cores, and the
 * usual remedy is to give each its own (often `isolcpus` cores). And on a machine where waking a
 * thread on another CPU is expensive (a nested virtual machine, where the wake is an IPI through
 * two hypervisors), keeping the server's threads on one CPU turns the `/act` hop's wake-ups into
 * local ones: see the README's `/act` benchmark for what it changes there.
 *
 * Node has no thread-affinity API, so this runs `taskset -a -p -c LIST PID` (util-linux, on
 * every Debian and Ubuntu): `-a` re-pins the threads that exist already; threads started later
 * (policy workers) inherit the main thread's mask. The result is read back from /proc for every
 * thread, so a mask that did not take is an error, not a silent no-op.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { ErrorCodes, SwitchyardError } from '../contract/errors.js';

const FLAG = '--cpu-affinity';

/** What applying a mask needs from the machine; tests hand in their own `exec` only where the real one cannot fail. */
export interface AffinityHost {
  platform: NodeJS.Platform;
  pid: number;
  /**
   * CPUs a mask may name, ascending: the machine's online CPUs (a mask may widen the one the
   * process inherited, e.g. from `taskset -c 0 switchyard ...`); the current mask where /sys
   * does not say. A cgroup that forbids some of them makes taskset fail, and its message is shown.
   */
  allowedCpus(): number[];
  /** Runs a program; `error` set when it could not be started at all (e.g. not installed). */
  exec(file: string, args: string[]): { status: number | null; stdout: string; stderr: string; error?: Error };
  /** Every thread's mask, as /proc writes it (`0-1,4`). */
  threadMasks(): string[];
}

export const realAffinityHost = (pid = process.pid): AffinityHost => ({
  platform: process.platform,
  pid,
  allowedCpus: () => {
    const online = readText('/sys/devices/system/cpu/online');
    return expandCpuList(online ?? statusField(`/proc/${pid}/status`, 'Cpus_allowed_list') ?? '');
  },
  exec: (file, args) => {
    const r = spawnSync(file, args, { encoding: 'utf8', timeout: 10_000 });
    return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '', ...(r.error ? { error: r.error } : {}) };
  },
  threadMasks: () => {
    const out: string[] = [];
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const m = statusField(`/proc/${pid}/task/${tid}/status`, 'Cpus_allowed_list');
      if (m !== null) out.push(m);
    }
    return out;
  },
});

function readText(file: string): string | null {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return null;
  }
}

function statusField(file: string, field: string): string | null {
  try {
    const line = readFileSync(file, 'utf8').split('\n').find((l) => l.startsWith(`${field}:`));
    return line === undefined ? null : line.slice(field.length + 1).trim();
  } catch {
    // A thread that ended between readdir and read.
    return null;
  }
}

/** `0-2,5` → [0, 1, 2, 5]; empty or malformed text → []. For masks read from /proc. */
export function expandCpuList(text: string): number[] {
  const out = new Set<number>();
  for (const part of text.split(',')) {
    const m = /^\s*(\d+)(?:-(\d+))?\s*$/.exec(part);
    if (!m) continue;
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    for (let c = lo; c <= hi && c - lo < 4096; c++) out.add(c);
  }
  return [...out].sort((a, b) => a - b);
}

/** [0, 1, 2, 5] → `0-2,5`, the form /proc and taskset print. */
export function formatCpuList(cpus: readonly number[]): string {
  const s = [...new Set(cpus)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < s.length; ) {
    let j = i;
    while (j + 1 < s.length && s[j + 1] === s[j]! + 1) j++;
    parts.push(j === i ? String(s[i]) : `${s[i]}-${s[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

const config = (message: string): SwitchyardError => new SwitchyardError(ErrorCodes.SWY_ERR_CONFIG, message, FLAG);

/**
 * Parses the flag's value (`1`, `2-3`, `0,2-3`) against the machine's CPUs. Every
 * mistake names the flag, the part that is wrong, and what this machine offers.
 */
export function parseCpuAffinity(text: string, allowed: readonly number[]): number[] {
  const offer = allowed.length > 0 ? formatCpuList(allowed) : 'unknown';
  const wanted = new Set<number>();
  const trimmed = text.trim();
  if (trimmed === '') throw config(`${FLAG} needs CPU numbers, e.g. ${FLAG} 1 or ${FLAG} 2-3 (this machine's CPUs: ${offer}).`);
  for (const part of trimmed.split(',')) {
    const m = /^(\d{1,4})(?:-(\d{1,4}))?$/.exec(part.trim());
    if (!m) throw config(`${FLAG} ${text}: '${part}' is not a CPU number or a range like 2-3 (this machine's CPUs: ${offer}).`);
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo) throw config(`${FLAG} ${text}: the range '${part}' runs backwards; write ${hi}-${lo}.`);
    for (let c = lo; c <= hi; c++) wanted.add(c);
  }
  const missing = [...wanted].filter((c) => !allowed.includes(c));
  if (allowed.length > 0 && missing.length > 0) {
    throw config(`${FLAG} ${text}: CPU ${formatCpuList(missing)} ${missing.length === 1 ? 'is' : 'are'} not on this machine; its CPUs are ${offer}.`);
  }
  return [...wanted].sort((a, b) => a - b);
}

export interface AffinityResult {
  cpus: string;
  /** Threads re-pinned (all the process had when the mask was applied). */
  threads: number;
}

/** Pins every thread of the process to `text`'s CPUs; throws SWY_ERR_CONFIG saying why when it cannot. */
export function applyCpuAffinity(text: string, host: AffinityHost = realAffinityHost()): AffinityResult {
  if (host.platform !== 'linux') {
    throw config(`${FLAG} works on Linux only (it uses taskset and /proc); on ${host.platform}, pin the process with the system's own tool, or drop the flag.`);
  }
  const cpus = formatCpuList(parseCpuAffinity(text, host.allowedCpus()));
  const r = host.exec('taskset', ['-a', '-p', '-c', cpus, String(host.pid)]);
  if (r.error !== undefined) {
    const notFound = (r.error as NodeJS.ErrnoException).code === 'ENOENT';
    throw config(
      notFound
        ? `${FLAG} needs taskset, which is not on PATH: install util-linux (apt-get install util-linux), or drop the flag.`
        : `${FLAG}: taskset could not be started (${r.error.message}).`,
    );
  }
  if (r.status !== 0) throw config(`${FLAG} ${cpus}: taskset failed (exit ${r.status}): ${r.stderr.trim() || r.stdout.trim()}`);
  const masks = host.threadMasks();
  const off = masks.filter((m) => formatCpuList(expandCpuList(m)) !== cpus);
  if (masks.length === 0 || off.length > 0) {
    throw config(`${FLAG} ${cpus}: after taskset, ${off.length} of ${masks.length} threads still run on other CPUs (${[...new Set(off)].join('; ')}).`);
  }
  return { cpus, threads: masks.length };
}
