import type {
  ContractClient,
  EventName,
  EventPayload,
  MethodInput,
  MethodName,
  MethodOutput,
  Result,
} from '@contract';

type Handler<M extends MethodName> = (input: MethodInput<M>) => Result<MethodOutput<M>> | Promise<Result<MethodOutput<M>>>;

interface Call {
  method: MethodName;
  input: unknown;
}

/**
 * A ContractClient for store tests: methods answer from handlers the test installs; events are
 * pushed with `emit`. `hold()` makes calls wait until the test releases them, to test ordering.
 */
export class FakeClient implements ContractClient {
  readonly calls: Call[] = [];
  private readonly handlers = new Map<MethodName, Handler<MethodName>>();
  private readonly listeners = new Map<EventName, Set<(payload: unknown) => void>>();
  private holding = false;
  private readonly held: Array<() => void> = [];

  on<M extends MethodName>(method: M, handler: Handler<M>): this {
    this.handlers.set(method, handler as unknown as Handler<MethodName>);
    return this;
  }

  hold(): void {
    this.holding = true;
  }

  /** Lets the oldest held call answer; resolves after its answer has been delivered. */
  async releaseOne(): Promise<void> {
    const next = this.held.shift();
    if (!next) throw new Error('no held call to release');
    next();
    await flush();
  }

  get heldCount(): number {
    return this.held.length;
  }

  async invoke<M extends MethodName>(method: M, input: MethodInput<M>): Promise<Result<MethodOutput<M>>> {
    this.calls.push({ method, input });
    if (this.holding) await new Promise<void>((resolve) => this.held.push(resolve));
    const handler = this.handlers.get(method) as Handler<M> | undefined;
    if (!handler) return { ok: false, error: { code: 'SWY_ERR_UNKNOWN_METHOD', message: `fake: no handler for ${method}` } };
    return handler(input);
  }

  subscribe<E extends EventName>(event: E, handler: (payload: EventPayload<E>) => void): () => void {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    const wrapped = (payload: unknown): void => handler(payload as EventPayload<E>);
    set.add(wrapped);
    return () => set.delete(wrapped);
  }

  emit<E extends EventName>(event: E, payload: EventPayload<E>): void {
    for (const listener of this.listeners.get(event) ?? []) listener(payload);
  }

  subscriberCount(event: EventName): number {
    return this.listeners.get(event)?.size ?? 0;
  }

  callsOf(method: MethodName): unknown[] {
    return this.calls.filter((c) => c.method === method).map((c) => c.input);
  }
}

/** Lets pending promise callbacks run. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 5; i += 1) await Promise.resolve();
}
