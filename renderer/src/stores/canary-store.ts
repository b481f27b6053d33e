import { createStore, type StoreApi } from 'zustand/vanilla';
import type { CanaryStatus, ContractClient, MethodInput, SwitchyardErrorShape } from '@contract';

export type CanaryAction = 'start' | 'pause' | 'resume' | 'abort';

export interface CanaryStoreState {
  /** The running canary, or the last one of this server; null: none has run yet. */
  canary: CanaryStatus | null;
  loadError: SwitchyardErrorShape | null;
  /** The last refused operator action, with what the operator tried. */
  actionError: { action: CanaryAction; error: SwitchyardErrorShape } | null;
  busy: CanaryAction | null;
  load(): Promise<void>;
  start(input: MethodInput<'canary.start'>): Promise<boolean>;
  pause(): Promise<void>;
  resume(): Promise<void>;
  abort(reason: string): Promise<boolean>;
  dismissActionError(): void;
  /** Subscribes to `canary.progress` and loads; returns the unsubscribe function. */
  listen(): () => void;
}

export type CanaryStore = StoreApi<CanaryStoreState>;

const ACTIVE = new Set<CanaryStatus['state']>(['ramping', 'paused', 'monitoring']);

export function isCanaryActive(c: CanaryStatus | null): boolean {
  return c !== null && ACTIVE.has(c.state);
}

/** Newer wins: a pushed status and a method's answer can cross on the wire. */
function newer(current: CanaryStatus | null, next: CanaryStatus): boolean {
  if (current === null || current.id !== next.id) return true;
  if (next.updatedAt !== current.updatedAt) return next.updatedAt > current.updatedAt;
  return next.looks.length >= current.looks.length;
}

export function createCanaryStore(client: ContractClient): CanaryStore {
  return createStore<CanaryStoreState>()((set, get) => {
    const accept = (next: CanaryStatus): void => {
      // A canary started elsewhere (the command line) replaces the shown one.
      if (newer(get().canary, next)) set({ canary: next });
    };
    const act = async (action: CanaryAction, call: () => ReturnType<ContractClient['invoke']>): Promise<boolean> => {
      set({ busy: action, actionError: null });
      const result = await call();
      set({ busy: null });
      if (!result.ok) {
        set({ actionError: { action, error: result.error } });
        return false;
      }
      accept(result.value as CanaryStatus);
      return true;
    };
    return {
      canary: null,
      loadError: null,
      actionError: null,
      busy: null,
      async load() {
        const result = await client.invoke('canary.status', {});
        if (!result.ok) {
          set({ loadError: result.error });
          return;
        }
        set({ loadError: null });
        if (result.value.canary !== null) accept(result.value.canary);
      },
      start(input) {
        return act('start', () => client.invoke('canary.start', input));
      },
      async pause() {
        await act('pause', () => client.invoke('canary.pause', { actor: 'workbench' }));
      },
      async resume() {
        await act('resume', () => client.invoke('canary.resume', { actor: 'workbench' }));
      },
      abort(reason) {
        return act('abort', () => client.invoke('canary.abort', { reason, actor: 'workbench' }));
      },
      dismissActionError() {
        set({ actionError: null });
      },
      listen() {
        const stop = client.subscribe('canary.progress', accept);
        void get().load();
        return stop;
      },
    };
  });
}

/** The operator's form, as typed; `parseCanaryForm` turns it into `canary.start`'s input. */
export interface CanaryForm {
  steps: string;
  intervalS: string;
  alpha: string;
  errorMargin: string;
  p99MaxRatio: string;
  minRequestsPerLook: string;
  monitorS: string;
  force: boolean;
  reason: string;
}

export const DEFAULT_CANARY_FORM: CanaryForm = {
  steps: '5, 25, 50, 100',
  intervalS: '60',
  alpha: '0.05',
  errorMargin: '0.02',
  p99MaxRatio: '1.5',
  minRequestsPerLook: '1',
  monitorS: '300',
  force: false,
  reason: '',
};

export type ParsedCanaryForm = { ok: true; input: Omit<MethodInput<'canary.start'>, 'policy' | 'candidate'> } | { ok: false; field: keyof CanaryForm; message: string };

/**
 * Checks the form the way the server will (domain/canary.ts), so the operator hears about a typo
 * next to the field instead of after a round trip. The server checks again.
 */
export function parseCanaryForm(f: CanaryForm): ParsedCanaryForm {
  const bad = (field: keyof CanaryForm, message: string): ParsedCanaryForm => ({ ok: false, field, message });
  const parts = f.steps
    .split(/[\s,]+/)
    .filter((s) => s !== '')
    .map((s) => s.replace(/%$/, ''));
  if (parts.length === 0) return bad('steps', 'Give at least one step, e.g. 5, 25, 50, 100.');
  const steps: number[] = [];
  for (const p of parts) {
    const n = Number(p);
    if (!Number.isInteger(n) || n < 1 || n > 100) return bad('steps', `Each step is a whole percent from 1 to 100; “${p}” is not.`);
    if (steps.length > 0 && n <= (steps.at(-1) as number)) return bad('steps', `Steps must increase; ${n} comes after ${steps.at(-1)}.`);
    steps.push(n);
  }
  if (steps.at(-1) !== 100) return bad('steps', 'The last step must be 100: the look there promotes the candidate.');
  if (steps.length > 20) return bad('steps', 'At most 20 steps.');
  const num = (field: keyof CanaryForm, raw: string, check: (n: number) => boolean, what: string): number | ParsedCanaryForm => {
    const n = Number(raw.trim());
    if (raw.trim() === '' || !Number.isFinite(n) || !check(n)) return bad(field, `${what}; got “${raw}”.`);
    return n;
  };
  const interval = num('intervalS', f.intervalS, (n) => n >= 0.01 && n <= 86_400, 'Interval is seconds from 0.01 to 86400');
  if (typeof interval !== 'number') return interval;
  const alpha = num('alpha', f.alpha, (n) => n > 0 && n < 0.5, 'Alpha is between 0 and 0.5');
  if (typeof alpha !== 'number') return alpha;
  const margin = num('errorMargin', f.errorMargin, (n) => n >= 0 && n < 1, 'Error margin is a rate from 0 up to 1');
  if (typeof margin !== 'number') return margin;
  const ratio = num('p99MaxRatio', f.p99MaxRatio, (n) => n >= 1, 'The p99 ratio limit is at least 1');
  if (typeof ratio !== 'number') return ratio;
  const minReq = num('minRequestsPerLook', f.minRequestsPerLook, (n) => Number.isInteger(n) && n >= 1, 'Requests per look is a whole number from 1');
  if (typeof minReq !== 'number') return minReq;
  const monitor = num('monitorS', f.monitorS, (n) => n >= 0 && n <= 604_800, 'The monitor window is seconds from 0 to 604800');
  if (typeof monitor !== 'number') return monitor;
  if (f.force && f.reason.trim() === '') return bad('reason', 'A forced canary (no GO verdict) needs a reason: it is recorded with the promotion.');
  return {
    ok: true,
    input: {
      steps,
      intervalMs: Math.round(interval * 1000),
      alpha,
      errorMargin: margin,
      p99MaxRatio: ratio,
      minRequestsPerLook: minReq,
      monitorWindowMs: Math.round(monitor * 1000),
      ...(f.force ? { force: true, reason: f.reason.trim() } : {}),
      actor: 'workbench',
    },
  };
}

/** What to do about a refused canary action, when the message alone does not say. */
export function canaryHint(error: SwitchyardErrorShape): string | null {
  switch (error.code) {
    case 'SWY_ERR_VERDICT_REQUIRED':
      return 'Run the staging → production gate for this version on the Promote page, or tick “Force” and give a reason (recorded as an override).';
    case 'SWY_ERR_NOT_SERVING':
    case 'SWY_ERR_CONFIG':
      return 'The canary ramps slot B against slot A on this server: restart the console or server with production in slot A and the candidate in slot B.';
    case 'SWY_ERR_INVALID_INPUT':
      return error.where === 'candidate' ? 'Promote the candidate to staging on the Promote page first.' : 'Fix the field named above and start again.';
    case 'SWY_ERR_CONFLICT':
      return 'Another canary or stage change got there first: reload the page to see the current state.';
    case 'SWY_ERR_NOT_FOUND':
      return 'No canary has run on this server yet.';
    default:
      return null;
  }
}
