/**
 * What an open workbench costs a server, for the `/act` bench (issue 15: "the console open with
 * live charts subscribed"). The Live page keeps one WebSocket on `/api/events` (the server pushes
 * `serving.stats` every second and `serving.state` on changes) and reads `serving.getState` and
 * `serving.history` when it opens and when the state changes. This does the same over real HTTP,
 * with the control token the bench handed the server.
 */
import WebSocket from 'ws';

export interface ConsoleSubscriber {
  /** Events received so far, by name. */
  readonly counts: Record<string, number>;
  /** Calls made and how many failed. */
  readonly calls: { made: number; failed: number };
  close(): Promise<void>;
}

async function call(base: string, token: string, method: string, input: unknown): Promise<boolean> {
  try {
    const r = await fetch(`${base}/api/${method}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(input),
      signal: AbortSignal.timeout(10_000),
    });
    const j = (await r.json()) as { ok?: boolean };
    return j.ok === true;
  } catch {
    return false;
  }
}

/** Opens the event stream and the page's first reads; resolves once the socket is open. */
export async function openConsole(base: string, token: string): Promise<ConsoleSubscriber> {
  const counts: Record<string, number> = {};
  const calls = { made: 0, failed: 0 };
  const read = (): void => {
    for (const [m, input] of [['serving.getState', {}], ['serving.history', {}]] as const) {
      calls.made++;
      void call(base, token, m, input).then((ok) => {
        if (!ok) calls.failed++;
      });
    }
  };
  const ws = new WebSocket(`${base.replace(/^http/, 'ws')}/api/events`, { headers: { authorization: `Bearer ${token}` } });
  ws.on('message', (data) => {
    try {
      const m = JSON.parse(String(data)) as { event?: string };
      const e = m.event ?? '?';
      counts[e] = (counts[e] ?? 0) + 1;
      // The page re-reads the state and its history when the state changes.
      if (e === 'serving.state') read();
    } catch {
      counts['unparsed'] = (counts['unparsed'] ?? 0) + 1;
    }
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  read();
  return {
    counts,
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        if (ws.readyState === WebSocket.CLOSED) return resolve();
        ws.once('close', () => resolve());
        ws.close();
        setTimeout(resolve, 2_000).unref();
      }),
  };
}
