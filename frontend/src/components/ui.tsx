// Small building blocks shared by every page.
import { useEffect, useId, useRef, useState, type ReactNode } from 'react';
import { useRouteError } from 'react-router';
import { ApiError, errorMessage } from '../api/client';

export function Dialog({
  title,
  onClose,
  children,
  footer,
  wide,
}: {
  title: string;
  onClose: () => void;
  children: ReactNode;
  footer?: ReactNode;
  wide?: boolean;
}) {
  const id = useId();
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => e.key === 'Escape' && onClose();
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [onClose]);
  return (
    <div className="backdrop" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <div className={'dialog' + (wide ? ' wide' : '')} role="dialog" aria-modal="true" aria-labelledby={id}>
        <header id={id}>{title}</header>
        <div className="content">{children}</div>
        {footer && <footer>{footer}</footer>}
      </div>
    </div>
  );
}

/**
 * A dialog that asks for something and sends it: Cancel, and a submit button that is
 * busy while `onSubmit` runs. What `onSubmit` throws is shown in the dialog: an error the
 * API tied to one of `fields` is for that field's Field (children may be a function of
 * the error, to pass it on), any other under the content. With `form`, the content is a
 * form, so Enter in a field submits.
 */
export function FormDialog({
  title,
  onClose,
  onSubmit,
  submitLabel,
  busyLabel,
  submitClass = 'primary',
  disabled = false,
  fields = [],
  form = false,
  formTestId,
  wide,
  children,
}: {
  title: string;
  onClose: () => void;
  /** Sends the form; throws to keep the dialog open with the error. Closing is up to it. */
  onSubmit: () => Promise<void>;
  submitLabel: string;
  /** The submit button's text while busy (it keeps `submitLabel` otherwise). */
  busyLabel?: string;
  submitClass?: string;
  /** True while what is typed cannot be sent yet. */
  disabled?: boolean;
  fields?: string[];
  form?: boolean;
  formTestId?: string;
  wide?: boolean;
  children: ReactNode | ((error: unknown) => ReactNode);
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const submit = async () => {
    setBusy(true);
    setError(undefined);
    try {
      await onSubmit();
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  };
  const content = (
    <>
      {typeof children === 'function' ? children(error) : children}
      <ErrorNote error={formError(error, fields)} />
    </>
  );
  return (
    <Dialog
      title={title}
      onClose={onClose}
      wide={wide}
      footer={
        <>
          <button onClick={onClose}>Cancel</button>
          <button className={submitClass} disabled={busy || disabled} onClick={() => void submit()}>
            {busy && busyLabel ? busyLabel : submitLabel}
          </button>
        </>
      }
    >
      {form ? (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void submit();
          }}
          data-testid={formTestId}
        >
          {content}
        </form>
      ) : (
        content
      )}
    </Dialog>
  );
}

/** Asks before something that cannot be undone; shows the API's refusal in place. */
export function ConfirmDialog({
  title,
  message,
  confirmLabel,
  onConfirm,
  onClose,
}: {
  title: string;
  message: ReactNode;
  confirmLabel: string;
  onConfirm: () => Promise<void>;
  onClose: () => void;
}) {
  return (
    <FormDialog
      title={title}
      onClose={onClose}
      submitLabel={confirmLabel}
      busyLabel="Working…"
      submitClass="danger solid"
      onSubmit={async () => {
        await onConfirm();
        onClose();
      }}
    >
      <div>{message}</div>
    </FormDialog>
  );
}

/** A page- or form-level error, in words. */
export function ErrorNote({ error }: { error: unknown }) {
  if (!error) return null;
  return (
    <div className="alert error" role="alert">
      {errorMessage(error)}
    </div>
  );
}

/** The error for one form field, if the API named that field. */
export function fieldError(error: unknown, field: string): string | undefined {
  if (error instanceof ApiError && error.field === field) return error.detail.message;
  return undefined;
}

/** An error not tied to any of `fields` (so it shows once at the form level). */
export function formError(error: unknown, fields: string[]): unknown {
  if (error instanceof ApiError && error.field && fields.includes(error.field)) return undefined;
  return error;
}

export function Field({
  label,
  error,
  hint,
  children,
}: {
  label: string;
  error?: string;
  hint?: ReactNode;
  children: (props: { id: string; 'aria-invalid': boolean; 'aria-describedby'?: string }) => ReactNode;
}) {
  const id = useId();
  const errId = id + '-error';
  return (
    <div className="field" style={{ marginBottom: 12 }}>
      <label className="label" htmlFor={id}>
        {label}
      </label>
      {children({ id, 'aria-invalid': !!error, 'aria-describedby': error ? errId : undefined })}
      {error && (
        <div className="field-error" id={errId} role="alert">
          {error}
        </div>
      )}
      {hint && !error && <div className="field-hint">{hint}</div>}
    </div>
  );
}

export function Badge({ value, title }: { value: string; title?: string }) {
  return (
    <span className={'badge ' + value.toLowerCase()} title={title} data-testid="badge">
      {value}
    </span>
  );
}

export function Spinner({ label }: { label: string }) {
  return (
    <span className="progress" role="status">
      <span className="spinner" aria-hidden="true" />
      {label}
    </span>
  );
}

export function LoadMore({ hasMore, loading, onMore }: { hasMore: boolean; loading: boolean; onMore: () => void }) {
  if (!hasMore) return null;
  return (
    <div className="pager">
      <button onClick={onMore} disabled={loading}>
        {loading ? 'Loading…' : 'Load more'}
      </button>
    </div>
  );
}

/** A button that opens a small menu; closes on outside click. */
export function Menu({
  label,
  children,
  align = 'right',
  buttonClass = 'icon',
  title,
}: {
  label: ReactNode;
  children: (close: () => void) => ReactNode;
  align?: 'left' | 'right';
  buttonClass?: string;
  title?: string;
}) {
  const [open, setOpen] = useState(false);
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!open) return;
    const onDown = (e: MouseEvent) => {
      if (ref.current && !ref.current.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener('mousedown', onDown);
    return () => document.removeEventListener('mousedown', onDown);
  }, [open]);
  return (
    <div className="menu-wrap" ref={ref}>
      <button
        className={buttonClass + ' more'}
        aria-haspopup="menu"
        aria-expanded={open}
        aria-label={title}
        title={title}
        onClick={(e) => {
          e.stopPropagation();
          setOpen((o) => !o);
        }}
      >
        {label}
      </button>
      {open && (
        <div className={'menu ' + align} role="menu" onClick={(e) => e.stopPropagation()}>
          {children(() => setOpen(false))}
        </div>
      )}
    </div>
  );
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

export function NotAvailable({ title }: { title: string }) {
  return (
    <div className="page">
      <h1>{title}</h1>
      <div className="card muted">{title} is not available in the console yet. The API has it: see /api/docs.</div>
    </div>
  );
}

/**
 * A page that failed to render or load. The usual cause after a release is a tab still
 * running the old console asking for a page file that no longer exists: reloading fixes it.
 */
export function RouteError() {
  const error = useRouteError();
  const stale = error instanceof TypeError && /dynamically imported module|Importing a module script failed/i.test(error.message);
  return (
    <div className="page">
      <h1>{stale ? 'The console was updated' : 'This page failed'}</h1>
      <div className="alert error">{stale ? 'A newer version of the console is available.' : errorMessage(error)}</div>
      <button className="primary" onClick={() => window.location.reload()}>
        Reload
      </button>
    </div>
  );
}
