import { useEffect, useRef } from 'react';
import { OfflineBanner } from './components/offline-banner';
import { PageErrorBoundary } from './components/page-error-boundary';
import { Sidebar } from './components/sidebar';
import { useOffline } from './stores/context';
import { NavigationContext } from './pages/navigation';
import { navPages, pageForPath } from './pages/page-routes';
import { usePath } from './router';

export function App() {
  const path = usePath();
  const page = pageForPath(path);
  // Once the operator has moved between pages, each newly shown page takes focus on its heading.
  const firstPath = useRef(path);
  const navigated = useRef(false);
  if (path !== firstPath.current) navigated.current = true;
  const entered = navigated.current;

  useEffect(() => {
    document.title = `${page.heading ?? page.title} · Switchyard`;
  }, [page.heading, page.title]);

  const offline = useOffline((s) => s.offline);
  const Page = page.component;
  return (
    <div className="app">
      <a className="skip-link" href="#main" onClick={skipToMain}>
        Skip to content
      </a>
      <Sidebar pages={navPages} activeId={page.id} />
      <main className={offline ? 'content is-offline' : 'content'} id="main" tabIndex={-1}>
        <OfflineBanner />
        {/* While offline every control of the page is disabled at once; what it shows is greyed as stale. */}
        <fieldset className="page-fieldset" disabled={offline} aria-busy={offline}>
          <NavigationContext.Provider value={{ entered }}>
            <PageErrorBoundary key={page.id} page={page.title}>
              <Page />
            </PageErrorBoundary>
          </NavigationContext.Provider>
        </fieldset>
      </main>
    </div>
  );
}

/** Hash routing owns the fragment: move focus to the content instead of navigating to `#main`. */
function skipToMain(e: { preventDefault(): void }): void {
  e.preventDefault();
  document.getElementById('main')?.focus();
}
