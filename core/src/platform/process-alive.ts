/**
 * Whether a process with this pid still runs (signal 0 probes without sending anything; EPERM
 * means it runs under another user). Used to tell a live owner from a dead one: an evaluation run
 * left `running` by a crashed process, a server's runtime file left behind.
 */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
