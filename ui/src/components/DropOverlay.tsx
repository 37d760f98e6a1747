/** Shown while files are dragged over the window. */
export function DropOverlay(props: { visible: boolean; count: number }) {
  if (!props.visible) return null;
  return (
    <div className="drop-overlay" data-testid="drop-overlay">
      <div className="drop-target">
        <p className="drop-title">Drop to add {props.count > 1 ? `${props.count} items` : "it"} to the library</p>
        <p>Files and whole folders: PDF, EPUB, Word, HTML, Markdown, text. Reading starts right away.</p>
      </div>
    </div>
  );
}
