import { useEffect, useId, useRef, type FormEvent, type ReactNode } from 'react';

interface Props {
  /** The dialog's name, e.g. "Confirm promotion". */
  title: string;
  /** What the dialog asks, under the title. */
  subtitle?: ReactNode;
  children: ReactNode;
  /** The confirm button's text: it names the action ("Promote 2.0.0 to staging"). */
  confirmLabel: string;
  confirmDisabled: boolean;
  busy: boolean;
  busyLabel: string;
  tone?: 'primary' | 'danger';
  onConfirm: () => void;
  onCancel: () => void;
}

/**
 * A modal confirmation on the native <dialog>: it traps focus, makes the page behind it inert,
 * closes on Escape (unless busy) and hands focus back to what opened it.
 */
export function ConfirmDialog({ title, subtitle, children, confirmLabel, confirmDisabled, busy, busyLabel, tone = 'primary', onConfirm, onCancel }: Props) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const dialog = ref.current;
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    if (dialog && !dialog.open) dialog.showModal();
    return () => {
      if (dialog?.open) dialog.close();
      opener?.focus({ preventScroll: true });
    };
  }, []);

  const submit = (e: FormEvent): void => {
    e.preventDefault();
    if (!confirmDisabled && !busy) onConfirm();
  };

  return (
    <dialog
      ref={ref}
      className="dialog"
      aria-labelledby={titleId}
      onCancel={(e) => {
        e.preventDefault();
        if (!busy) onCancel();
      }}
    >
      <form className="dialog-form" onSubmit={submit}>
        <header className="dialog-header">
          <h2 id={titleId}>{title}</h2>
          {subtitle !== undefined && <p className="dialog-subtitle">{subtitle}</p>}
        </header>
        <div className="dialog-body">{children}</div>
        <footer className="dialog-actions">
          <button type="button" className="button" onClick={onCancel} disabled={busy}>
            Cancel
          </button>
          <button type="submit" className={tone === 'danger' ? 'button button-danger' : 'button button-primary'} disabled={confirmDisabled || busy}>
            {busy ? busyLabel : confirmLabel}
          </button>
        </footer>
      </form>
    </dialog>
  );
}
