/**
 * The small-acts lane between PolicyRunner and its policy worker: one SharedArrayBuffer per worker
 * holding a single request slot and a single answer slot (the runner never has more than one
 * `acts` batch outstanding, see policy-runner.ts), and a doorbell word the idle worker sleeps on
 * with `Atomics.wait`.
 *
 * Why: a `postMessage` each way costs a structured clone, a MessagePort event on the other
 * thread and, on the worker, a libuv wake of an event loop that has nothing else to do. A worker
 * asleep in `Atomics.wait` is woken by one futex call and reads the request straight out of
 * shared memory; measured on the 2-core VM, a round trip costs about half the CPU of two
 * messages. The main thread waits for the answer with `Atomics.waitAsync`, which does not block
 * its event loop (and does not keep the process alive).
 *
 * Anything that does not fit (more acts, longer episode ids or bigger tensors than the slots
 * hold) and every failed act still travel as messages, which the worker also serves; `stop`,
 * `batch` and `debug` stay messages too, and the runner rings the doorbell after posting one so
 * a sleeping worker picks it up at once.
 */

/** Int32 control words. */
export const CTL = {
  /** Bumped (and notified) by the runner for every reason the worker should look: a request, a message, a stop. */
  WAKE: 0,
  /** Sequence number of the last request written. */
  REQ: 1,
  /** Sequence number of the last request answered (or handed to the message lane). */
  RES: 2,
  /** Acts in the current request. */
  N: 3,
  /** 0: the answer is in the shared slot; 1: it was posted as an `acts-result` message. */
  VIA_MESSAGE: 4,
  /** 1 while the worker sleeps (or is about to) on the doorbell: only then does ringing it cost a futex wake. */
  SLEEPING: 5,
} as const;
const CTL_WORDS = 8;

/** Most acts one shared request carries. */
export const MAX_ACTS = 64;
/** Observation values per request (all acts together). */
export const MAX_STATE_VALUES = 512;
/** UTF-16 code units of all episode ids of one request. */
export const MAX_EPISODE_UNITS = 16 * 1024;
/** Action values per answer (all acts together). */
export const MAX_ACTION_VALUES = 2048;

export interface ActChannelViews {
  sab: SharedArrayBuffer;
  ctl: Int32Array;
  /** Per act: the runner's request id. */
  ids: Int32Array;
  /** Per act: episode id length in code units, -1 for none. */
  epLen: Int32Array;
  epUnits: Uint16Array;
  states: Float32Array;
  actions: Float32Array;
  /** Per act, 3 values: cache code, denoise steps, inference ms. */
  info: Float64Array;
}

const BYTES = {
  ctl: CTL_WORDS * 4,
  ids: MAX_ACTS * 4,
  epLen: MAX_ACTS * 4,
  info: MAX_ACTS * 3 * 8,
  states: MAX_STATE_VALUES * 4,
  actions: MAX_ACTION_VALUES * 4,
  epUnits: MAX_EPISODE_UNITS * 2,
};

export function newActChannel(): SharedArrayBuffer {
  return new SharedArrayBuffer(BYTES.ctl + BYTES.ids + BYTES.epLen + BYTES.info + BYTES.states + BYTES.actions + BYTES.epUnits);
}

export function actChannelViews(sab: SharedArrayBuffer): ActChannelViews {
  let o = 0;
  const take = (n: number): number => {
    const at = o;
    o += n;
    return at;
  };
  const ctl = new Int32Array(sab, take(BYTES.ctl), CTL_WORDS);
  const ids = new Int32Array(sab, take(BYTES.ids), MAX_ACTS);
  const epLen = new Int32Array(sab, take(BYTES.epLen), MAX_ACTS);
  const info = new Float64Array(sab, take(BYTES.info), MAX_ACTS * 3);
  const states = new Float32Array(sab, take(BYTES.states), MAX_STATE_VALUES);
  const actions = new Float32Array(sab, take(BYTES.actions), MAX_ACTION_VALUES);
  const epUnits = new Uint16Array(sab, take(BYTES.epUnits), MAX_EPISODE_UNITS);
  return { sab, ctl, ids, epLen, epUnits, states, actions, info };
}

/**
 * Wakes the worker if it sleeps on the doorbell. `Atomics.notify` is a system call and, in the
 * profile under load, the main thread's most expensive line; a worker that is awake sees the
 * bumped WAKE word by itself. Seq-cst order makes this safe: either this load sees SLEEPING = 1,
 * or the worker's store of it comes later and its `Atomics.wait(WAKE, old)` returns at once.
 */
export function ringDoorbell(v: ActChannelViews): void {
  Atomics.add(v.ctl, CTL.WAKE, 1);
  if (Atomics.load(v.ctl, CTL.SLEEPING) === 1) Atomics.notify(v.ctl, CTL.WAKE, 1);
}

/**
 * Worker side: sleeps until the doorbell moves past `wake`, at most `sleepMs`; false on a timeout.
 * (Spinning a few tens of µs first, to catch the next batch awake, cost more CPU per act than the
 * wake it saved on the 2-core machine: the runner's next batch rarely came that fast.)
 */
export function waitDoorbell(v: ActChannelViews, wake: number, sleepMs: number): boolean {
  Atomics.store(v.ctl, CTL.SLEEPING, 1);
  const r = Atomics.wait(v.ctl, CTL.WAKE, wake, sleepMs);
  Atomics.store(v.ctl, CTL.SLEEPING, 0);
  return r !== 'timed-out';
}

/**
 * Runner side: writes one request into the slot, or returns false when it does not fit (the
 * caller sends it as a message). The slot must be free (no request outstanding).
 */
export function writeRequest(v: ActChannelViews, seq: number, ids: readonly number[], episodes: readonly (string | null)[], states: readonly number[], actionValues: number): boolean {
  const n = ids.length;
  if (n > MAX_ACTS || states.length > MAX_STATE_VALUES || actionValues > MAX_ACTION_VALUES) return false;
  let units = 0;
  for (let i = 0; i < n; i++) units += episodes[i]?.length ?? 0;
  if (units > MAX_EPISODE_UNITS) return false;
  let u = 0;
  const ep = v.epUnits;
  for (let i = 0; i < n; i++) {
    v.ids[i] = ids[i]!;
    const e = episodes[i];
    if (e === null || e === undefined) {
      v.epLen[i] = -1;
      continue;
    }
    v.epLen[i] = e.length;
    for (let k = 0; k < e.length; k++) ep[u++] = e.charCodeAt(k);
  }
  v.states.set(states);
  Atomics.store(v.ctl, CTL.N, n);
  // Seq-cst store after the plain writes: the worker that loads this seq sees them.
  Atomics.store(v.ctl, CTL.REQ, seq);
  ringDoorbell(v);
  return true;
}

/** Worker side: the request in the slot. */
export function readRequest(v: ActChannelViews, obsDim: number): { ids: number[]; episodes: (string | null)[]; states: Float32Array } {
  const n = Atomics.load(v.ctl, CTL.N);
  const ids: number[] = [];
  const episodes: (string | null)[] = [];
  let u = 0;
  for (let i = 0; i < n; i++) {
    ids.push(v.ids[i]!);
    const len = v.epLen[i]!;
    if (len < 0) {
      episodes.push(null);
      continue;
    }
    episodes.push(decodeUnits(v.epUnits, u, len));
    u += len;
  }
  return { ids, episodes, states: v.states.slice(0, n * obsDim) };
}

function decodeUnits(a: Uint16Array, from: number, len: number): string {
  // TextDecoder cannot read shared memory; ids are short, so fromCharCode in runs of 1,024.
  let s = '';
  for (let i = 0; i < len; i += 1024) s += String.fromCharCode.apply(null, a.subarray(from + i, from + Math.min(len, i + 1024)) as unknown as number[]);
  return s;
}

/** Worker side: the answer is in the slot (or, `viaMessage`, posted as a message): wake the runner. */
export function answer(v: ActChannelViews, seq: number, viaMessage: boolean): void {
  Atomics.store(v.ctl, CTL.VIA_MESSAGE, viaMessage ? 1 : 0);
  Atomics.store(v.ctl, CTL.RES, seq);
  Atomics.notify(v.ctl, CTL.RES);
}
