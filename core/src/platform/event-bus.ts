import type { EventName, EventPayload } from '../contract/index.js';

type Handler<E extends EventName> = (payload: EventPayload<E>) => void;

/** Typed fan-out of contract events; a throwing handler never stops the others. */
export class EventBus {
  private readonly handlers = new Map<EventName, Set<(p: never) => void>>();

  constructor(private readonly onHandlerError: (event: EventName, e: unknown) => void = () => {}) {}

  on<E extends EventName>(event: E, handler: Handler<E>): () => void {
    let set = this.handlers.get(event);
    if (!set) this.handlers.set(event, (set = new Set()));
    set.add(handler as (p: never) => void);
    return () => void set.delete(handler as (p: never) => void);
  }

  emit<E extends EventName>(event: E, payload: EventPayload<E>): void {
    const set = this.handlers.get(event);
    if (!set) return;
    for (const h of set) {
      try {
        (h as Handler<E>)(payload);
      } catch (e) {
        this.onHandlerError(event, e);
      }
    }
  }

  listenerCount(event: EventName): number {
    return this.handlers.get(event)?.size ?? 0;
  }
}
