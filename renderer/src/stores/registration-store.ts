import { createStore, type StoreApi } from 'zustand/vanilla';
import type { ContractClient, Registrations, RegistrationJob, SwitchyardErrorShape } from '@contract';

/** The Versions page's registrations: the operator's own, and the watched folders' (issue 13). */
export interface RegistrationState {
  status: 'idle' | 'loading' | 'ready' | 'error';
  /** Newest first. */
  jobs: RegistrationJob[];
  folders: Registrations['folders'];
  watching: string[];
  folderDialog: boolean;
  loadError: SwitchyardErrorShape | null;
  /** The last refused `Register` or `Choose folder…` (a path outside the folders, a missing one). */
  actionError: SwitchyardErrorShape | null;
  /** The registration this page started last (its card stays open). */
  mine: string | null;
  busy: 'register' | 'choose' | null;
  load(): Promise<void>;
  register(path: string): Promise<boolean>;
  /** The desktop's folder dialog; resolves with the folder picked (null: dismissed or refused). */
  choose(): Promise<string | null>;
  cancel(jobId: string): Promise<void>;
  dismissError(): void;
  /** Subscribes to `registry.registerProgress` and loads; returns the unsubscribe. */
  listen(): () => void;
}

export type RegistrationStore = StoreApi<RegistrationState>;

/** Adds or replaces a job; a copy older than the one held (lower `seq`) is dropped. Newest first. */
export function mergeJob(jobs: readonly RegistrationJob[], job: RegistrationJob): RegistrationJob[] {
  const i = jobs.findIndex((j) => j.jobId === job.jobId);
  if (i >= 0) {
    if (jobs[i]!.seq > job.seq) return jobs as RegistrationJob[];
    const next = [...jobs];
    next[i] = job;
    return next;
  }
  return [job, ...jobs].sort((a, b) => (a.startedAt < b.startedAt ? 1 : a.startedAt > b.startedAt ? -1 : 0));
}

/** Whether a change from `prev` to `next` put something new in the store (a version, a verdict). */
export function changedStore(prev: RegistrationJob | undefined, next: RegistrationJob): boolean {
  const registered = next.state === 'registered' && prev?.state !== 'registered';
  const judged = next.evaluation?.state === 'done' && prev?.evaluation?.state !== 'done';
  return registered || judged;
}

/** `onStoreChanged`: a version was registered or a verdict stored (the versions table reloads). */
export function createRegistrationStore(client: ContractClient, onStoreChanged: () => void = () => {}): RegistrationStore {
  return createStore<RegistrationState>()((set, get) => {
    const accept = (job: RegistrationJob): void => {
      const prev = get().jobs.find((j) => j.jobId === job.jobId);
      const jobs = mergeJob(get().jobs, job);
      if (jobs === get().jobs) return;
      set({ jobs });
      if (changedStore(prev, job)) onStoreChanged();
    };
    return {
      status: 'idle',
      jobs: [],
      folders: [],
      watching: [],
      folderDialog: false,
      loadError: null,
      actionError: null,
      mine: null,
      busy: null,

      async load() {
        set({ status: 'loading' });
        const r = await client.invoke('registry.registrations', {});
        if (!r.ok) {
          set({ status: 'error', loadError: r.error });
          return;
        }
        let jobs = get().jobs;
        for (const j of r.value.jobs) jobs = mergeJob(jobs, j);
        set({ status: 'ready', loadError: null, jobs, folders: r.value.folders, watching: r.value.watching, folderDialog: r.value.folderDialog });
      },

      async register(path) {
        const trimmed = path.trim();
        if (trimmed === '') {
          set({ actionError: { code: 'SWY_ERR_INVALID_INPUT', message: 'Give the export folder: the directory that holds policy.onnx and switchyard.json.', where: 'path' } });
          return false;
        }
        set({ busy: 'register', actionError: null });
        const r = await client.invoke('registry.registerExport', { path: trimmed });
        set({ busy: null });
        if (!r.ok) {
          set({ actionError: r.error });
          return false;
        }
        accept(r.value);
        set({ mine: r.value.jobId });
        return true;
      },

      async choose() {
        set({ busy: 'choose', actionError: null });
        const r = await client.invoke('registry.chooseExportFolder', {});
        set({ busy: null });
        if (!r.ok) {
          set({ actionError: r.error });
          return null;
        }
        if (r.value.path !== null) void get().load();
        return r.value.path;
      },

      async cancel(jobId) {
        const r = await client.invoke('registry.cancelRegistration', { jobId });
        if (!r.ok) set({ actionError: r.error });
        else accept(r.value);
      },

      dismissError() {
        set({ actionError: null });
      },

      listen() {
        const stop = client.subscribe('registry.registerProgress', accept);
        void get().load();
        return stop;
      },
    };
  });
}
