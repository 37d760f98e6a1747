import { useCallback, useEffect, useReducer, useRef, useState } from "react";
import { api, errorText, onReading, type LibraryOverview, type ReadingEvent, type JobInfo } from "../ipc";
import { emptyReading, fromOverview, readingReducer, type ReadingState } from "../lib/progress";

type Action = { type: "overview"; jobs: JobInfo[]; reading: boolean } | { type: "event"; event: ReadingEvent };

function reducer(state: ReadingState, action: Action): ReadingState {
  return action.type === "overview" ? fromOverview(state, action.jobs, action.reading) : readingReducer(state, action.event);
}

/** The library overview, kept fresh: reading events update progress live, and each event that
 * changes the document list triggers a refresh of the overview. */
export function useLibrary(onError: (message: string) => void) {
  const [overview, setOverview] = useState<LibraryOverview | null>(null);
  const [reading, dispatch] = useReducer(reducer, emptyReading);
  const errorRef = useRef(onError);
  errorRef.current = onError;
  const pending = useRef<ReturnType<typeof setTimeout> | null>(null);

  const refresh = useCallback(async () => {
    try {
      const o = await api.libraryOverview();
      setOverview(o);
      dispatch({ type: "overview", jobs: o.jobs, reading: o.reading });
    } catch (e) {
      errorRef.current(errorText(e));
    }
  }, []);

  useEffect(() => {
    let unlisten: (() => void) | null = null;
    let gone = false;
    onReading((event) => dispatch({ type: "event", event }))
      .then((u) => {
        if (gone) u();
        else unlisten = u;
      })
      .catch((e) => errorRef.current(errorText(e)));
    void refresh();
    return () => {
      gone = true;
      unlisten?.();
      if (pending.current) clearTimeout(pending.current);
    };
  }, [refresh]);

  // Events that change the document list: refresh soon (coalescing bursts).
  useEffect(() => {
    if (reading.changes === 0) return;
    if (pending.current) clearTimeout(pending.current);
    pending.current = setTimeout(() => {
      pending.current = null;
      void refresh();
    }, 150);
  }, [reading.changes, refresh]);

  return { overview, reading, refresh };
}
