// Small building blocks shared by every page.
import { useEffect, useId, useLayoutEffect, useRef, useState, type KeyboardEvent as ReactKeyboardEvent, type ReactNode } from 'react';
import { createPortal } from 'react-dom';
import { useRouteError } from 'react-router';
import { ApiError, errorMessage } from '../api/client';

/** What Tab can reach inside `root`, in order: enabled controls, links and tab stops that are shown. */
export function tabbables(root: HTMLElement): HTMLElement[] {
  const all = root.querySelectorAll<HTMLElement>(
    'a[href], button:not([disabled]), input:not([disabled]):not([type="hidden"]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"]), [contenteditable="true"]',
  );
  return [...all].filter(
    (el) => el.tabIndex >= 0 && !el.closest('[inert], [hidden]') && (typeof el.checkVisibility !== 'function' || el.checkVisibility({ visibilityProperty: true })),
  );
}

/** Open dialogs, innermost last: only the innermost one answers Escape and keeps Tab. */
const openDialogs: HTMLElement[] = [];

/**
 * A modal dialog. It takes focus when it opens (its `autoFocus` field, else its first
 * field, else itself), keeps Tab and Shift+Tab inside while open, closes on Escape or a
 * click outside, and gives focus back to what had it (the button that opened it) when it
 * closes. With `onSubmit` its content and footer are one form: Enter in a field submits,
 * as the footer's submit button does.
 */
export function Dialog({
  title,
  onClose,
  children,
  footer,
  wide,
  onSubmit,
  formTestId,
}: {
  title: string;
  onClose: () => void;
  children: ReactNode;
  footer?: ReactNode;
  wide?: boolean;
  onSubmit?: () => void;
  formTestId?: string;
}) {
  const id = useId();
  const ref = useRef<HTMLDivElement>(null);
  // Read while rendering, before a field's autoFocus moves focus into the dialog.
  const [opener] = useState(() => (typeof document === 'undefined' ? null : (document.activeElement as HTMLElement | null)));
  const closeRef = useRef(onClose);
  closeRef.current = onClose;
  useEffect(() => {
    const dialog = ref.current!;
    openDialogs.push(dialog);
    if (!dialog.contains(document.activeElement)) {
      const content = dialog.querySelector<HTMLElement>('.content');
      (tabbables(content ?? dialog)[0] ?? dialog).focus();
    }
    const onKey = (e: KeyboardEvent) => {
      // The innermost: opened last, and holding no other open dialog.
      const innermost = openDialogs.filter((d) => !openDialogs.some((o) => o !== d && d.contains(o))).at(-1);
      if (innermost !== dialog || e.defaultPrevented) return;
      if (e.key === 'Escape') {
        e.preventDefault();
        closeRef.current();
      } else if (e.key === 'Tab') {
        const stops = tabbables(dialog);
        const first = stops[0];
        const last = stops.at(-1);
        const active = document.activeElement as HTMLElement | null;
        if (!first || !last) {
          e.preventDefault();
          dialog.focus();
        } else if (!active || !dialog.contains(active) || active === dialog) {
          e.preventDefault();
          (e.shiftKey ? last : first).focus();
        } else if (e.shiftKey && active === first) {
          e.preventDefault();
          last.focus();
        } else if (!e.shiftKey && active === last) {
          e.preventDefault();
          first.focus();
        }
      }
    };
    document.addEventListener('keydown', onKey);
    return () => {
      document.removeEventListener('keydown', onKey);
      openDialogs.splice(openDialogs.indexOf(dialog), 1);
      // A dialog still on the page was not closed (a development re-run of effects).
      if (dialog.isConnected) return;
      // Back to the opener if it is still on the page and nothing else took focus since.
      const active = document.activeElement;
      if (opener?.isConnected && (!active || active === document.body || !active.isConnected)) opener.focus();
    };
  }, [opener]);
  const body = (
    <>
      <div className="content">{children}</div>
      {footer && <footer>{footer}</footer>}
    </>
  );
  return (
    <div className="backdrop" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <div ref={ref} className={'dialog' + (wide ? ' wide' : '')} role="dialog" aria-modal="true" aria-labelledby={id} tabIndex={-1}>
        <header id={id}>{title}</header>
        {onSubmit ? (
          <form
            noValidate
            data-testid={formTestId}
            onSubmit={(e) => {
              e.preventDefault();
              onSubmit();
            }}
          >
            {body}
          </form>
        ) : (
          body
        )}
      </div>
    </div>
  );
}

/**
 * A dialog that asks for something and sends it: Cancel, and a submit button that is
 * busy while `onSubmit` runs. What `onSubmit` throws is shown in the dialog: an error the
 * API tied to one of `fields` is for that field's Field (children may be a function of
 * the error, to pass it on), any other under the content. With `form`, the content and
 * the buttons are a form, so Enter in a field submits (buttons inside the content that do
 * not submit are `type="button"`).
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
  return (
    <Dialog
      title={title}
      onClose={onClose}
      wide={wide}
      // Its fields and buttons are one form: Enter submits as the submit button does
      // (and not while that button is disabled).
      onSubmit={form ? () => void (busy || disabled || submit()) : undefined}
      formTestId={formTestId}
      footer={
        <>
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button
            type={form ? 'submit' : 'button'}
            className={submitClass}
            disabled={busy || disabled}
            onClick={form ? undefined : () => void submit()}
          >
            {busy && busyLabel ? busyLabel : submitLabel}
          </button>
        </>
      }
    >
      {typeof children === 'function' ? children(error) : children}
      <ErrorNote error={formError(error, fields)} />
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

/**
 * A button that opens a small menu. By keyboard: Enter, Space or Down opens it with its
 * first item focused, Up and Down (Home, End) move between items, Escape closes it and
 * gives focus back to the button, Tab closes it. A click outside closes it too. Choosing
 * an item (its `close`) puts focus back on the button, so a dialog the item opens returns
 * focus there.
 */
export function Menu({
  label,
  children,
  align = 'right',
  buttonClass = 'icon',
  title,
  tabIndex,
}: {
  label: ReactNode;
  children: (close: () => void) => ReactNode;
  align?: 'left' | 'right';
  buttonClass?: string;
  title?: string;
  /** The button's tab stop: -1 where a composite widget (a tree) moves focus itself. */
  tabIndex?: number;
}) {
  const [open, setOpen] = useState(false);
  const button = useRef<HTMLButtonElement>(null);
  const popup = useRef<HTMLDivElement>(null);
  const menuId = useId();
  const items = () => [...(popup.current?.querySelectorAll<HTMLElement>('[role="menuitem"]:not(:disabled)') ?? [])];
  const inside = (node: Node | null) => !!node && (!!button.current?.contains(node) || !!popup.current?.contains(node));
  // The menu is drawn over the page (a portal), so no scrolling box around the button
  // clips it and no item (a tree item, a row) holds its text: under the button, or over
  // it where the window has no room below.
  useLayoutEffect(() => {
    const menu = popup.current;
    const at = button.current?.getBoundingClientRect();
    if (!open || !menu || !at) return;
    const below = at.bottom + 4 + menu.offsetHeight <= window.innerHeight;
    menu.style.top = below ? `${at.bottom + 4}px` : `${Math.max(4, at.top - 4 - menu.offsetHeight)}px`;
    if (align === 'left') menu.style.left = `${at.left}px`;
    else menu.style.right = `${Math.max(4, document.documentElement.clientWidth - at.right)}px`;
  }, [open, align]);
  useEffect(() => {
    if (!open) return;
    items()[0]?.focus();
    const onDown = (e: MouseEvent) => {
      if (!inside(e.target as Node)) setOpen(false);
    };
    // Where the button goes when the page under it moves, the menu would not follow.
    const onMove = (e: Event) => {
      if (!popup.current?.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener('mousedown', onDown);
    document.addEventListener('scroll', onMove, true);
    window.addEventListener('resize', onMove);
    return () => {
      document.removeEventListener('mousedown', onDown);
      document.removeEventListener('scroll', onMove, true);
      window.removeEventListener('resize', onMove);
    };
  }, [open]);
  const close = () => {
    setOpen(false);
    button.current?.focus();
  };
  const onMenuKey = (e: ReactKeyboardEvent<HTMLDivElement>) => {
    const list = items();
    const at = list.indexOf(document.activeElement as HTMLElement);
    const to = { ArrowDown: at + 1, ArrowUp: at - 1, Home: 0, End: list.length - 1 }[e.key];
    if (to !== undefined) {
      e.preventDefault();
      list[(to + list.length) % list.length]?.focus();
    } else if (e.key === 'Escape') {
      // The menu, not the dialog or page around it.
      e.preventDefault();
      e.stopPropagation();
      close();
    } else if (e.key === 'Tab') {
      // On from the button, as if the menu had not been opened.
      e.preventDefault();
      close();
    }
  };
  return (
    <div
      className="menu-wrap"
      onBlur={(e) => {
        // Focus gone elsewhere (not to another item): the menu closes.
        if (open && e.relatedTarget && !inside(e.relatedTarget as Node)) setOpen(false);
      }}
    >
      <button
        ref={button}
        type="button"
        className={buttonClass + ' more'}
        aria-haspopup="menu"
        aria-expanded={open}
        aria-controls={open ? menuId : undefined}
        aria-label={title}
        title={title}
        tabIndex={tabIndex}
        onClick={(e) => {
          e.stopPropagation();
          setOpen((o) => !o);
        }}
        onKeyDown={(e) => {
          if (e.key === 'ArrowDown' && !open) {
            e.preventDefault();
            e.stopPropagation();
            setOpen(true);
          }
        }}
      >
        {label}
      </button>
      {open &&
        createPortal(
          <div
            ref={popup}
            id={menuId}
            className="menu floating"
            role="menu"
            aria-label={title}
            onClick={(e) => e.stopPropagation()}
            onMouseDown={(e) => e.stopPropagation()}
            onKeyDown={onMenuKey}
          >
            {children(close)}
          </div>,
          document.body,
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
