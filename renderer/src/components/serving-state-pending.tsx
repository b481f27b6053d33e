import type { ReactNode } from 'react';
import type { SwitchyardErrorShape } from '@contract';
import { errorHint } from '../error-hints';
import { ErrorAlert } from './error-alert';

/**
 * What the Live and Traffic pages show before the first serving state has arrived: the page's
 * header, the error that kept it away (with Retry), or that it is loading.
 */
export function ServingStatePending({ header, error, loading, onRetry }: { header: ReactNode; error: SwitchyardErrorShape | null; loading: boolean; onRetry: () => void }) {
  return (
    <div className="page">
      {header}
      {error && <ErrorAlert title="Could not read the serving state" error={error} hint={errorHint(error)} onRetry={onRetry} />}
      {loading && <p className="muted">Loading the serving state…</p>}
    </div>
  );
}
