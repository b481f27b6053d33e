/**
 * CPU accounting from /proc (Linux; NaN elsewhere): how much CPU a process used (all its threads),
 * and how busy the whole machine was, so a run can say how much of the machine something else
 * (another build, a test run) took while it was measured.
 */
import { readFileSync } from 'node:fs';

const TICK_MS = 10; // USER_HZ is 100 on every Linux we run on

/** utime + stime from a `/proc/.../stat` file, in ms; NaN when unreadable. */
function statCpuMs(file: string): number {
  try {
    const s = readFileSync(file, 'utf8');
    // Fields after the command name, which is in parentheses and may contain spaces.
    const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
    // rest[0] is field 3 (state); utime is field 14, stime field 15.
    return (Number(rest[11]) + Number(rest[12])) * TICK_MS;
  } catch {
    return Number.NaN;
  }
}

/** utime + stime of a process (all threads), in ms; NaN when unreadable. */
export function processCpuMs(pid: number): number {
  return statCpuMs(`/proc/${pid}/stat`);
}

/**
 * utime + stime of a process's main thread alone (its tid is its pid), in ms; NaN when
 * unreadable. The main thread is where a Node server's HTTP, routing and trace work runs, so it
 * is the one that saturates first.
 */
export function mainThreadCpuMs(pid: number): number {
  return statCpuMs(`/proc/${pid}/task/${pid}/stat`);
}

export interface MachineCpu {
  /** Busy time over all cores (user, nice, system, irq, softirq, steal), ms. */
  busyMs: number;
  /** Steal time (the hypervisor ran someone else), ms. */
  stealMs: number;
}

export function machineCpu(): MachineCpu {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = f;
    return { busyMs: (user + nice + system + irq + softirq + steal) * TICK_MS, stealMs: steal * TICK_MS };
  } catch {
    return { busyMs: Number.NaN, stealMs: Number.NaN };
  }
}

/** The client's own CPU (this process, all threads), ms. */
export function selfCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}
