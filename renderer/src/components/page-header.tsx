import { useEffect, useRef, type ReactNode } from 'react';

/**
 * The page's h1. It takes focus when the page is entered from the side bar, so keyboard and
 * screen-reader users land on the new page, not back at the top of the document.
 */
export function PageHeader({ title, children, focusOnMount }: { title: string; children?: ReactNode; focusOnMount: boolean }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    if (focusOnMount) ref.current?.focus({ preventScroll: true });
  }, [focusOnMount]);
  return (
    <header className="page-header">
      <h1 ref={ref} tabIndex={-1}>
        {title}
      </h1>
      <div className="page-header-tools">{children}</div>
    </header>
  );
}
