import { hash } from 'node:crypto';
import { LruMap } from './lru.js';

export type AbSlot = 'a' | 'b';

/**
 * bucket = first 8 bytes of SHA-256(UTF-8 key) as an unsigned big-endian integer, mod 100.
 * Other policy servers use the same formula, so a mixed fleet routes an episode alike.
 */
export function routingBucket(key: string): number {
  // One-shot crypto.hash is about 3x cheaper than createHash().update().digest() for short keys.
  const hex = hash('sha256', key, 'hex');
  // The first 8 bytes as hi * 2^32 + lo, mod 100, without BigInt: 2^32 mod 100 = 96.
  const hi = parseInt(hex.slice(0, 8), 16);
  const lo = parseInt(hex.slice(8, 16), 16);
  return ((hi % 100) * 96 + (lo % 100)) % 100;
}

export function slotForBucket(bucket: number, split: number): AbSlot {
  return bucket < split ? 'a' : 'b';
}

export interface RouteDecision {
  slot: AbSlot;
  routingKey: string;
  /** No episode id: the request id was hashed instead, so the episode cannot stay sticky. */
  degraded: boolean;
  /** The decision came from the sticky table, not from the current split. */
  cached: boolean;
}

export interface RouterOptions {
  split: number;
  /** Episodes whose first decision is remembered. */
  stickyCapacity?: number;
  /** Called once per process for the first degraded request. */
  onFirstDegraded?: (requestId: string) => void;
}

/**
 * Sticky A/B router. The first decision for an episode is remembered, so a split change
 * moves only new episodes: moving an episode mid-flight would lose its episode cache.
 */
export class Router {
  private splitValue: number;
  private readonly sticky: LruMap<string, AbSlot>;
  private warnedDegraded = false;
  private readonly onFirstDegraded: ((requestId: string) => void) | undefined;
  degradedCount = 0;

  constructor(opts: RouterOptions) {
    this.splitValue = Router.checkSplit(opts.split);
    this.sticky = new LruMap(opts.stickyCapacity ?? 100_000);
    this.onFirstDegraded = opts.onFirstDegraded;
  }

  static checkSplit(split: number): number {
    if (!Number.isInteger(split) || split < 0 || split > 100) {
      throw new RangeError(`split must be a whole number from 0 to 100, got ${split}`);
    }
    return split;
  }

  get split(): number {
    return this.splitValue;
  }

  set split(value: number) {
    this.splitValue = Router.checkSplit(value);
  }

  route(episodeId: string | null | undefined, requestId: string): RouteDecision {
    if (episodeId === null || episodeId === undefined || episodeId === '') {
      this.degradedCount++;
      if (!this.warnedDegraded) {
        this.warnedDegraded = true;
        this.onFirstDegraded?.(requestId);
      }
      return { slot: slotForBucket(routingBucket(requestId), this.splitValue), routingKey: requestId, degraded: true, cached: false };
    }
    const known = this.sticky.get(episodeId);
    if (known !== undefined) return { slot: known, routingKey: episodeId, degraded: false, cached: true };
    const slot = slotForBucket(routingBucket(episodeId), this.splitValue);
    this.sticky.set(episodeId, slot);
    return { slot, routingKey: episodeId, degraded: false, cached: false };
  }

  /** Forget every episode's decision: episodes in progress are routed again by the current split. */
  clearSticky(): void {
    this.sticky.clear();
  }

  /** Forget an episode's decision, e.g. when its slot was drained and it moved. */
  forget(episodeId: string): void {
    this.sticky.delete(episodeId);
  }
}
