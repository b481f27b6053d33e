import { useEffect, useState } from 'react';
import { useOffline, useStores } from '../stores/context';
import { formatClockZone } from '../serving-view';

/**
 * Shown on every page while the server cannot be reached: what is shown is as of then (greyed),
 * actions are off, and the workbench keeps trying and reloads everything when it is back.
 */
export function OfflineBanner() {
  const { serverLabel } = useStores();
  const offline = useOffline((s) => s.offline);
  const since = useOffline((s) => s.since);
  const reconnectedAt = useOffline((s) => s.reconnectedAt);
  const [showBack, setShowBack] = useState(false);
  useEffect(() => {
    if (reconnectedAt === null) return;
    setShowBack(true);
    const t = setTimeout(() => setShowBack(false), 6_000);
    return () => clearTimeout(t);
  }, [reconnectedAt]);

  if (offline) {
    const when = since === null ? '' : ` since ${formatClockZone(new Date(since).toISOString())}`;
    return (
      <div className="offline-banner" role="alert" aria-label="Offline">
        <strong>Offline: the server at {serverLabel} is not answering{when}.</strong>{' '}
        Everything shown is as of then (greyed out), and actions are off until it is back. Reconnecting by itself…
      </div>
    );
  }
  if (showBack) {
    return (
      <div className="online-banner" role="status" aria-label="Reconnected">
        Reconnected to {serverLabel}: every page was reloaded from the server.
      </div>
    );
  }
  return null;
}
