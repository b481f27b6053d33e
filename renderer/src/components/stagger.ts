import { useEffect, useRef, useState } from 'react';
import { flushSync } from 'react-dom';

type Schedule = (run: () => void) => void;

/** A macrotask: input events that arrived meanwhile are handled before the next job. */
const nextTask: Schedule = (run) => {
  globalThis.setTimeout(run, 0);
};

/**
 * Runs jobs one per task, in order. A job queued again under the same key before it ran keeps its
 * place and runs once, with the newest work. The Live page's charts take their new data through
 * one queue, so six charts never redraw in one long task: input gets in between any two.
 */
export class StaggerQueue {
  private readonly jobs = new Map<object, () => void>();
  private scheduled = false;

  constructor(private readonly schedule: Schedule = nextTask) {}

  get pending(): number {
    return this.jobs.size;
  }

  enqueue(key: object, job: () => void): void {
    this.jobs.set(key, job);
    this.kick();
  }

  cancel(key: object): void {
    this.jobs.delete(key);
  }

  private kick(): void {
    if (this.scheduled || this.jobs.size === 0) return;
    this.scheduled = true;
    this.schedule(() => {
      this.scheduled = false;
      const first = this.jobs.entries().next();
      if (!first.done) {
        const [key, job] = first.value;
        this.jobs.delete(key);
        try {
          job();
        } finally {
          this.kick();
        }
      }
    });
  }
}

/** The queue the Live page's charts share. */
export const chartQueue = new StaggerQueue();

/**
 * `value`, shown once its turn in `queue` comes (the first value at once). The component then
 * re-renders on its own, in a task of its own.
 */
export function useStaggered<T>(value: T, queue: StaggerQueue = chartQueue): T {
  const [shown, setShown] = useState(value);
  const key = useRef<object>({}).current;
  useEffect(() => {
    if (Object.is(value, shown)) {
      queue.cancel(key);
      return;
    }
    queue.enqueue(key, () => flushSync(() => setShown(value)));
  }, [value, shown, queue, key]);
  useEffect(() => () => queue.cancel(key), [queue, key]);
  return shown;
}
