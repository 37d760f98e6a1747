import { useEffect, useId, useRef, type ReactNode } from "react";

const FOCUSABLE =
  'a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

/**
 * A modal dialog: labelled by its title, focus moved in (to `initialFocus` or the first
 * control) and kept in (Tab wraps), Escape closes, focus returns to where it was.
 */
export function Modal(props: {
  title: string;
  onClose: () => void;
  children: ReactNode;
  footer?: ReactNode;
  wide?: boolean;
  describedBy?: string;
  initialFocus?: string;
}) {
  const { title, onClose, children, footer, wide, describedBy, initialFocus } = props;
  const ref = useRef<HTMLDivElement>(null);
  const titleId = useId();
  const close = useRef(onClose);
  close.current = onClose;

  useEffect(() => {
    const before = document.activeElement as HTMLElement | null;
    const root = ref.current;
    if (root) {
      const first =
        (initialFocus ? root.querySelector<HTMLElement>(initialFocus) : null) ??
        root.querySelector<HTMLElement>(`.modal-body ${FOCUSABLE}`) ??
        root.querySelector<HTMLElement>(FOCUSABLE);
      (first ?? root).focus();
    }
    return () => {
      if (before && document.contains(before)) before.focus();
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  const onKeyDown = (e: React.KeyboardEvent) => {
    if (e.key === "Escape") {
      e.stopPropagation();
      e.preventDefault();
      close.current();
      return;
    }
    if (e.key !== "Tab" || !ref.current) return;
    const items = Array.from(ref.current.querySelectorAll<HTMLElement>(FOCUSABLE)).filter((el) => !el.hasAttribute("hidden"));
    if (items.length === 0) return;
    const first = items[0] as HTMLElement;
    const last = items[items.length - 1] as HTMLElement;
    if (e.shiftKey && document.activeElement === first) {
      e.preventDefault();
      last.focus();
    } else if (!e.shiftKey && document.activeElement === last) {
      e.preventDefault();
      first.focus();
    }
  };

  return (
    <div className="modal-backdrop" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <div
        ref={ref}
        className={wide ? "modal modal-wide" : "modal"}
        role="dialog"
        aria-modal="true"
        aria-labelledby={titleId}
        aria-describedby={describedBy}
        tabIndex={-1}
        onKeyDown={onKeyDown}
      >
        <header className="modal-header">
          <h2 id={titleId}>{title}</h2>
          <button type="button" className="icon-button" aria-label="Close" onClick={onClose}>
            <span aria-hidden="true">×</span>
          </button>
        </header>
        <div className="modal-body">{children}</div>
        {footer ? <footer className="modal-footer">{footer}</footer> : null}
      </div>
    </div>
  );
}

/** "Are you sure?" with the consequence spelled out. */
export function ConfirmDialog(props: {
  title: string;
  message: ReactNode;
  confirm: string;
  danger?: boolean;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  const messageId = useId();
  return (
    <Modal
      title={props.title}
      onClose={props.onCancel}
      describedBy={messageId}
      initialFocus=".modal-footer .secondary"
      footer={
        <>
          <button type="button" className="secondary" onClick={props.onCancel}>
            Cancel
          </button>
          <button type="button" className={props.danger ? "danger" : "primary"} onClick={props.onConfirm}>
            {props.confirm}
          </button>
        </>
      }
    >
      <div id={messageId}>{props.message}</div>
    </Modal>
  );
}

/** A one-field form in a dialog (rename, new collection). */
export function PromptDialog(props: {
  title: string;
  label: string;
  initial: string;
  submit: string;
  suggestions?: string[];
  onSubmit: (value: string) => void;
  onCancel: () => void;
}) {
  const inputId = useId();
  const listId = useId();
  const ref = useRef<HTMLInputElement>(null);
  return (
    <Modal title={props.title} onClose={props.onCancel}>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          const v = ref.current?.value.trim() ?? "";
          if (v) props.onSubmit(v);
        }}
      >
        <label htmlFor={inputId}>{props.label}</label>
        <input
          id={inputId}
          ref={ref}
          defaultValue={props.initial}
          list={props.suggestions?.length ? listId : undefined}
          required
          autoComplete="off"
        />
        {props.suggestions?.length ? (
          <datalist id={listId}>
            {props.suggestions.map((s) => (
              <option key={s} value={s} />
            ))}
          </datalist>
        ) : null}
        <div className="form-actions">
          <button type="button" className="secondary" onClick={props.onCancel}>
            Cancel
          </button>
          <button type="submit" className="primary">
            {props.submit}
          </button>
        </div>
      </form>
    </Modal>
  );
}
