import { useCallback, useEffect, useState, useSyncExternalStore } from 'react';
import type { AppInfo } from '@contract';
import { useServing, useStores } from '../stores/context';
import type { ConnectionStatus } from '../api/connection';
import { hrefFor } from '../router';
import type { PageEntry } from '../pages/page-routes';

const STATUS_TEXT: Record<ConnectionStatus, string> = {
  idle: 'Live updates off',
  connecting: 'Connecting…',
  open: 'Live',
  reconnecting: 'Reconnecting…',
};

export function Sidebar({ pages, activeId }: { pages: readonly PageEntry[]; activeId: string }) {
  const { client, connection, serverLabel } = useStores();
  const subscribe = useCallback((onChange: () => void) => connection.onStatus(onChange), [connection]);
  const getStatus = useCallback(() => connection.getStatus(), [connection]);
  const status = useSyncExternalStore(subscribe, getStatus);
  const [info, setInfo] = useState<AppInfo | null>(null);
  const drain = useServing((s) => s.state?.drain ?? 'none');
  useEffect(() => {
    let live = true;
    void client.invoke('app.info', {}).then((r) => {
      if (live && r.ok) setInfo(r.value);
    });
    return () => {
      live = false;
    };
  }, [client]);

  return (
    <nav className="sidebar" aria-label="Workbench">
      <div className="sidebar-inner">
        <div className="brand">
          <span className="brand-mark" aria-hidden="true" />
          <span className="brand-name">Switchyard</span>
        </div>
        <ul className="nav-list">
          {pages.map((page) => (
            <li key={page.id}>
              <a
                className="nav-link"
                href={hrefFor(page.path)}
                aria-current={page.id === activeId ? 'page' : undefined}
                aria-describedby={drain !== 'none' && (page.id === 'traffic' || page.id === 'live') ? `nav-drain-${page.id}` : undefined}
              >
                <span className="nav-icon" aria-hidden="true">
                  {page.icon}
                </span>
                {page.title}
                {drain !== 'none' && (page.id === 'traffic' || page.id === 'live') && (
                  // Hidden from the link's name (which stays the page's name) and given as its description.
                  <span className="nav-alert" id={`nav-drain-${page.id}`} aria-hidden="true" title={drain === 'degraded' ? 'every slot is drained' : `slot ${drain.slice(-1).toUpperCase()} is drained`}>
                    {drain === 'degraded' ? 'degraded' : `${drain.slice(-1).toUpperCase()} drained`}
                  </span>
                )}
              </a>
            </li>
          ))}
        </ul>
        <div className="sidebar-footer">
          <p className={`conn conn-${status}`}>
            <span className="conn-dot" aria-hidden="true" />
            {STATUS_TEXT[status]}
          </p>
          <p className="sidebar-meta" title={info?.storePath}>
            {serverLabel}
          </p>
          {info && (
            <p className="sidebar-meta">
              v{info.version}
              {info.demoWorkspace ? ' · demo workspace' : ''}
            </p>
          )}
        </div>
      </div>
    </nav>
  );
}
