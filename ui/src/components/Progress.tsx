import { formatPercent } from "../lib/format";

/** A labelled progress bar (determinate when `value` is a number). */
export function ProgressBar(props: { value: number | null; label: string; small?: boolean }) {
  const pct = props.value === null ? undefined : Math.max(0, Math.min(1, props.value));
  return (
    <div
      className={props.small ? "progress progress-small" : "progress"}
      role="progressbar"
      aria-label={props.label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={pct === undefined ? undefined : Math.floor(pct * 100)}
      aria-valuetext={pct === undefined ? "working" : formatPercent(pct)}
    >
      <div className={pct === undefined ? "progress-fill progress-indeterminate" : "progress-fill"} style={pct === undefined ? undefined : { width: `${pct * 100}%` }} />
    </div>
  );
}
