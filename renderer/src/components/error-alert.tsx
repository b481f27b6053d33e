import type { SwitchyardErrorShape } from '@contract';

interface Props {
  error: SwitchyardErrorShape;
  /** What the workbench was doing, e.g. "Could not load the versions". */
  title?: string;
  /** What to do about it, when the message itself does not say. */
  hint?: string | null;
  onRetry?: () => void;
  onDismiss?: () => void;
}

/** A contract error, readable: what happened, its stable code, and where. Never a stack trace. */
export function ErrorAlert({ error, title, hint, onRetry, onDismiss }: Props) {
  return (
    <div role="alert" className="alert alert-error">
      <div className="alert-body">
        {title !== undefined && <p className="alert-title">{title}</p>}
        <p className="alert-message">{error.message}</p>
        {hint && <p className="alert-hint">{hint}</p>}
        <p className="alert-meta">
          <code>{error.code}</code>
          {error.where !== undefined && (
            <span>
              {' '}
              at <code>{error.where}</code>
            </span>
          )}
        </p>
      </div>
      <div className="alert-actions">
        {onRetry && (
          <button type="button" className="button" onClick={onRetry}>
            Retry
          </button>
        )}
        {onDismiss && (
          <button type="button" className="button button-quiet" onClick={onDismiss}>
            Dismiss
          </button>
        )}
      </div>
    </div>
  );
}
