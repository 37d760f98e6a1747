export type Toast = { id: number; kind: "error" | "info"; text: string };

/** Messages at the bottom: errors (role=alert, stay until dismissed) and notes (polite, fade). */
export function Toasts(props: { toasts: Toast[]; onDismiss: (id: number) => void }) {
  return (
    <div className="toasts" aria-label="Messages">
      <div role="alert" className="toast-stack">
        {props.toasts
          .filter((t) => t.kind === "error")
          .map((t) => (
            <div key={t.id} className="toast toast-error">
              <p>{t.text}</p>
              <button type="button" className="icon-button" aria-label="Dismiss message" onClick={() => props.onDismiss(t.id)}>
                <span aria-hidden="true">×</span>
              </button>
            </div>
          ))}
      </div>
      <div role="status" aria-live="polite" className="toast-stack">
        {props.toasts
          .filter((t) => t.kind === "info")
          .map((t) => (
            <div key={t.id} className="toast toast-info">
              <p>{t.text}</p>
              <button type="button" className="icon-button" aria-label="Dismiss message" onClick={() => props.onDismiss(t.id)}>
                <span aria-hidden="true">×</span>
              </button>
            </div>
          ))}
      </div>
    </div>
  );
}
