import { useEffect, useRef } from 'react';
import { PageErrorBoundary } from './components/page-error-boundary';
import { Sidebar } from './components/sidebar';
import { NavigationContext } from './pages/navigation';
import { pageForPath, pages } from './pages/registry';
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

  const Page = page.component;
  return (
    <div className="app">
      <Sidebar pages={pages} activeId={page.id} />
      <main className="content" id="main">
        <NavigationContext.Provider value={{ entered }}>
          <PageErrorBoundary key={page.id} page={page.title}>
            <Page />
          </PageErrorBoundary>
        </NavigationContext.Provider>
      </main>
    </div>
  );
}
