import { useCallback, useEffect, useId, useState } from 'react';
import type { DemoTrafficStatus, SwitchyardErrorShape } from '@contract';
import { useStores } from '../stores/context';
import { ErrorAlert } from './error-alert';

/**
 * Simulated cart-pole robots against this server's `/act` (off by default): a newcomer turns
 * them on to watch Live move, and later replays the recording.
 */
export function DemoTrafficToggle() {
  const { client } = useStores();
  const [status, setStatus] = useState<DemoTrafficStatus | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<SwitchyardErrorShape | null>(null);
  const [robots, setRobots] = useState(4);
  const id = useId();
  const load = useCallback(async () => {
    const r = await client.invoke('demo.traffic.get', {});
    if (r.ok) setStatus(r.value);
  }, [client]);
  useEffect(() => {
    void load();
    const t = setInterval(() => void load(), 2000);
    return () => clearInterval(t);
  }, [load]);
  const set = async (on: boolean) => {
    setBusy(true);
    setError(null);
    const r = await client.invoke('demo.traffic.set', on ? { on, robots } : { on });
    setBusy(false);
    if (r.ok) setStatus(r.value);
    else setError(r.error);
  };
  const on = status?.running ?? false;
  return (
    <section className="card" aria-labelledby={id}>
      <div className="card-header">
        <h2 id={id}>Demo traffic</h2>
      </div>
      <div className="demo-traffic-toggle">
        <label>
          <input type="checkbox" role="switch" checked={on} disabled={busy || status === null} onChange={(e) => void set(e.currentTarget.checked)} /> Simulated robots
        </label>
        <label>
          Robots{' '}
          <input type="number" min={1} max={64} value={robots} disabled={on || busy} onChange={(e) => setRobots(Math.max(1, Math.min(64, Number(e.currentTarget.value) || 1)))} style={{ width: 56 }} />
        </label>
        <span className="muted" role="status">
          {on && status
            ? `${status.robots} cart-pole robots at ${status.hz} Hz: ${status.requests.toLocaleString('en-US')} requests, ${status.episodes} episodes${status.errors ? `, ${status.errors} errors (${status.lastError ?? ''})` : ''}; recording to ${status.trace ?? '—'}`
            : 'Off. Turn on to drive /act with cart-pole robots in closed loop, recorded for the Replay page.'}
        </span>
      </div>
      {error && <ErrorAlert error={error} title="Could not change demo traffic" onDismiss={() => setError(null)} />}
    </section>
  );
}
