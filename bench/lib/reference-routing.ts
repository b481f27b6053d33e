/**
 * Reference implementations for routing-bench.ts's comparison rows: what the suggested changes to
 * core/src/domain (routing.ts, lru.ts) would cost. Not used by Switchyard itself.
 */
import { hash } from 'node:crypto';

/** Same bucket as `routingBucket`, via one-shot `crypto.hash` (Node >= 20.12) and hex digits. */
export function routingBucketOneShot(key: string): number {
  const hex = hash('sha256', key, 'hex');
  const hi = parseInt(hex.slice(0, 8), 16);
  const lo = parseInt(hex.slice(8, 16), 16);
  return ((hi % 100) * 96 + (lo % 100)) % 100;
}

interface Node<K, V> {
  key: K;
  value: V;
  prev: Node<K, V> | null;
  next: Node<K, V> | null;
}

/** A classic LRU: Map for lookup plus a doubly linked list for recency; O(1) eviction. */
export class LinkedLru<K, V> {
  private readonly map = new Map<K, Node<K, V>>();
  private head: Node<K, V> | null = null; // least recently used
  private tail: Node<K, V> | null = null; // most recently used
  constructor(readonly capacity: number) {}
  get size(): number {
    return this.map.size;
  }
  private unlink(n: Node<K, V>): void {
    if (n.prev) n.prev.next = n.next;
    else this.head = n.next;
    if (n.next) n.next.prev = n.prev;
    else this.tail = n.prev;
    n.prev = n.next = null;
  }
  private append(n: Node<K, V>): void {
    n.prev = this.tail;
    n.next = null;
    if (this.tail) this.tail.next = n;
    else this.head = n;
    this.tail = n;
  }
  get(key: K): V | undefined {
    const n = this.map.get(key);
    if (n === undefined) return undefined;
    if (n !== this.tail) {
      this.unlink(n);
      this.append(n);
    }
    return n.value;
  }
  set(key: K, value: V): void {
    const n = this.map.get(key);
    if (n !== undefined) {
      n.value = value;
      if (n !== this.tail) {
        this.unlink(n);
        this.append(n);
      }
      return;
    }
    if (this.map.size >= this.capacity && this.head) {
      const old = this.head;
      this.unlink(old);
      this.map.delete(old.key);
    }
    const fresh: Node<K, V> = { key, value, prev: null, next: null };
    this.map.set(key, fresh);
    this.append(fresh);
  }
}
