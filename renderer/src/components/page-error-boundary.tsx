import { Component, type ErrorInfo, type ReactNode } from 'react';

interface Props {
  /** The page's name, for the message ("The Traffic page failed to draw"). */
  page: string;
  children: ReactNode;
}

interface State {
  error: Error | null;
  componentStack: string | null;
  /** Bumped by "Reload page": a new key mounts the page afresh. */
  generation: number;
}

/**
 * One per page: a render error in a page replaces that page with what broke and a `Reload page`
 * button. The side bar, the other pages, the stores and their live subscriptions keep running,
 * because nothing above this boundary is unmounted.
 */
export class PageErrorBoundary extends Component<Props, State> {
  override state: State = { error: null, componentStack: null, generation: 0 };

  static getDerivedStateFromError(error: unknown): Partial<State> {
    return { error: error instanceof Error ? error : new Error(String(error)) };
  }

  override componentDidCatch(_error: unknown, info: ErrorInfo): void {
    this.setState({ componentStack: info.componentStack ?? null });
  }

  private reload = (): void => {
    this.setState((s) => ({ error: null, componentStack: null, generation: s.generation + 1 }));
  };

  override render(): ReactNode {
    const { error, componentStack, generation } = this.state;
    if (error === null) return <PageFrame key={generation} page={this.props.page}>
          {this.props.children}
        </PageFrame>;
    return (
      <div className="page">
        <div role="alert" className="alert alert-error page-error" aria-label="Page error">
          <div className="alert-body">
            <p className="alert-title">The {this.props.page} page failed to draw</p>
            <p className="alert-message">
              {error.name}: {error.message}
            </p>
            <p className="alert-hint">
              The rest of the console keeps running: serving, the other pages and their live data are not affected. Reload this page to try again; if it keeps failing,
              copy the details below into a bug report.
            </p>
            {componentStack && (
              <details className="page-error-details">
                <summary>Details</summary>
                <pre className="mono">{componentStack.trim()}</pre>
              </details>
            )}
          </div>
          <div className="alert-actions">
            <button type="button" className="button button-primary" onClick={this.reload}>
              Reload page
            </button>
          </div>
        </div>
      </div>
    );
  }
}

/** Storage key of the fault switch the end-to-end tests use to make a page throw while drawing. */
export const RENDER_FAULT_KEY = 'switchyard.fault.render';

function PageFrame({ page, children }: { page: string; children: ReactNode }) {
  return (
    <>
      <RenderFault page={page} />
      {children}
    </>
  );
}

/**
 * A named fault injector: while sessionStorage holds RENDER_FAULT_KEY = the page's name, it throws as it
 * draws, so the boundary can be checked in a real browser against a real build. It reads only
 * this tab's storage; nothing the server sends can set it.
 */
function RenderFault({ page }: { page: string }): null {
  let fault: string | null = null;
  try {
    fault = window.sessionStorage.getItem(RENDER_FAULT_KEY);
  } catch {
    fault = null;
  }
  if (fault === page) throw new Error(`forced render error (${RENDER_FAULT_KEY}=${fault})`);
  return null;
}
