import { useState } from "react";
import { api, dialogs, errorText, type FetchProgress, type ModelEntry } from "../ipc";
import { formatBytes } from "../lib/format";
import { fetchFraction, fetchText } from "../lib/progress";
import { ProgressBar } from "./Progress";

/**
 * First run: the active model is not on disk. Fetch the recommended one (checked against its
 * pinned checksum by the backend), or use a Qwen2 GGUF the person has, optionally with an AHN
 * block (a block GGUF, or an official checkpoint folder converted here).
 */
export function Welcome(props: { models: ModelEntry[]; onReady: () => void }) {
  const recommended = props.models.find((m) => m.active && !m.added) ?? props.models.find((m) => !m.added) ?? null;
  const [progress, setProgress] = useState<FetchProgress | null>(null);
  const [busy, setBusy] = useState<"fetch" | "local" | "block" | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [added, setAdded] = useState<ModelEntry | null>(null);
  const [block, setBlock] = useState<string | null>(null);

  const fetchModel = async () => {
    if (!recommended) return;
    setBusy("fetch");
    setError(null);
    setProgress(null);
    try {
      await api.fetchModel(recommended.id, setProgress);
      props.onReady();
    } catch (e) {
      setError(errorText(e));
      setBusy(null);
    }
  };

  const useLocal = async () => {
    setError(null);
    try {
      const path = await dialogs.gguf();
      if (!path) return;
      setBusy("local");
      setAdded(await api.addModel(path));
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(null);
    }
  };

  const addBlock = async (kind: "file" | "folder") => {
    setError(null);
    try {
      const path = kind === "file" ? await dialogs.gguf("Choose an AHN block GGUF") : await dialogs.checkpointFolder();
      if (!path) return;
      setBusy("block");
      setBlock(await api.addBlock(path, added?.id ?? null));
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(null);
    }
  };

  const fraction = fetchFraction(progress);

  return (
    <main className="welcome" aria-labelledby="welcome-title">
      <div className="welcome-card">
        <h1 id="welcome-title">Welcome to Seahorse</h1>
        <p className="lead">
          Seahorse reads whole books with a language model that runs on this computer, keeps a memory of each one, and answers
          your questions with the pages the answer comes from.
        </p>
        <p>First it needs a model.</p>

        <section className="welcome-option" aria-labelledby="fetch-heading">
          <h2 id="fetch-heading">Download the recommended model</h2>
          {recommended ? (
            <>
              <p>
                <strong>{recommended.id}</strong> — {recommended.description}. {formatBytes(recommended.size)}, checked against its
                published checksum{recommended.shipped_block ? ", with Seahorse’s memory block for it" : ""}.
              </p>
              {busy === "fetch" ? (
                <div className="fetch-progress" aria-live="polite">
                  <ProgressBar value={fraction} label="Downloading the model" />
                  <p>{fetchText(progress)}</p>
                </div>
              ) : (
                <button type="button" className="primary" onClick={fetchModel} disabled={busy !== null}>
                  Download {formatBytes(recommended.size)}
                </button>
              )}
            </>
          ) : (
            <p className="muted">No model in the catalogue.</p>
          )}
        </section>

        <section className="welcome-option" aria-labelledby="local-heading">
          <h2 id="local-heading">Or use a model you already have</h2>
          <p>Any Qwen2 or Qwen2.5 model as a GGUF file. The file stays where it is.</p>
          {added ? (
            <div className="added">
              <p role="status">
                Added <strong>{added.id}</strong>.
              </p>
              <p>
                Optionally add an AHN memory block for it: a block GGUF, or an official AHN checkpoint folder (
                <code>config.json</code> + <code>model.safetensors</code>), converted here. Without one, Seahorse reads with the
                sliding window and attention sinks only.
              </p>
              <div className="button-row">
                <button type="button" className="secondary" onClick={() => addBlock("file")} disabled={busy !== null}>
                  Choose block file…
                </button>
                <button type="button" className="secondary" onClick={() => addBlock("folder")} disabled={busy !== null}>
                  Choose checkpoint folder…
                </button>
              </div>
              {busy === "block" ? <p aria-live="polite">Checking the block against the model…</p> : null}
              {block ? <p role="status">Memory block ready: {block}</p> : null}
              <button type="button" className="primary" onClick={props.onReady} disabled={busy !== null}>
                Continue
              </button>
            </div>
          ) : (
            <button type="button" className="secondary" onClick={useLocal} disabled={busy !== null}>
              {busy === "local" ? "Checking the model…" : "Choose a GGUF file…"}
            </button>
          )}
        </section>

        {error ? (
          <p className="error-box" role="alert">
            {error}
          </p>
        ) : null}

        <p className="privacy">
          Everything stays on this computer. After the model download, Seahorse makes no network connections and sends no
          telemetry. You can remove any document and its memory at any time.
        </p>
      </div>
    </main>
  );
}
