// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { StaggerQueue } from './stagger';

function manual() {
  const tasks: Array<() => void> = [];
  const queue = new StaggerQueue((run) => tasks.push(run));
  const runTask = (): void => {
    const task = tasks.shift();
    if (!task) throw new Error('no task scheduled');
    task();
  };
  return { queue, tasks, runTask };
}

describe('StaggerQueue', () => {
  it('runs one job per task, in order', () => {
    const { queue, tasks, runTask } = manual();
    const ran: string[] = [];
    const [a, b, c] = [{}, {}, {}];
    queue.enqueue(a, () => ran.push('a'));
    queue.enqueue(b, () => ran.push('b'));
    queue.enqueue(c, () => ran.push('c'));
    expect(tasks).toHaveLength(1);
    runTask();
    expect(ran).toEqual(['a']);
    runTask();
    runTask();
    expect(ran).toEqual(['a', 'b', 'c']);
    expect(tasks).toHaveLength(0);
    expect(queue.pending).toBe(0);
  });

  it('runs a job queued again before its turn once, with the newest work, in its first place', () => {
    const { queue, runTask } = manual();
    const ran: string[] = [];
    const [a, b] = [{}, {}];
    queue.enqueue(a, () => ran.push('a1'));
    queue.enqueue(b, () => ran.push('b1'));
    queue.enqueue(a, () => ran.push('a2'));
    runTask();
    runTask();
    expect(ran).toEqual(['a2', 'b1']);
  });

  it('drops a cancelled job and keeps going after a job that throws', () => {
    const { queue, runTask, tasks } = manual();
    const ran: string[] = [];
    const [a, b, c] = [{}, {}, {}];
    queue.enqueue(a, () => {
      throw new Error('boom');
    });
    queue.enqueue(b, () => ran.push('b'));
    queue.enqueue(c, () => ran.push('c'));
    queue.cancel(b);
    expect(() => runTask()).toThrow('boom');
    runTask();
    expect(ran).toEqual(['c']);
    expect(tasks).toHaveLength(0);
  });
});
