import { useEffect, useId, useState } from "react";
import { api, dialogs, errorText, type FetchProgress, type MemoryEstimate, type ModelEntry, type ModelRecommendation, type Settings } from "../ipc";
import { formatBytes } from "../lib/format";
import { fetchFraction, fetchText } from "../lib/progress";
import { Modal } from "./Modal";
import { ProgressBar } from "./Progress";

const ALL_LAYERS = 4294967295; // u32::MAX: every layer on the GPU

/**
 * Model, AHN block, W, S, threads and GPU layers, with the memory the choice needs shown
 * before anything is applied.
 */
export function SettingsDialog(props: { settings: Settings; models: ModelEntry[]; onClose: () => void; onSaved: (s: Settings) => void }) {
  const [draft, setDraft] = useState<Settings>(props.settings);
  const [models, setModels] = useState<ModelEntry[]>(props.models);
  const [estimate, setEstimate] = useState<MemoryEstimate | null>(null);
  const [estimateError, setEstimateError] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [fetching, setFetching] = useState<FetchProgress | null>(null);
  const [blockFile, setBlockFile] = useState<string | null>(props.settings.block.kind === "file" ? props.settings.block.path : null);
  const [recommendation, setRecommendation] = useState<ModelRecommendation | null>(null);
  const ids = { model: useId(), window: useId(), sinks: useId(), threads: useId(), gpu: useId(), estimate: useId() };
  const model = models.find((m) => m.id === draft.model);
  const w = draft.reading.window;
  const s = draft.reading.sinks;
  const valid = Number.isInteger(w) && w >= 1 && Number.isInteger(s) && s >= 0 && (draft.reading.threads === null || draft.reading.threads >= 1);

  useEffect(() => {
    if (!valid) {
      setEstimate(null);
      return;
    }
    let gone = false;
    const t = setTimeout(() => {
      api
        .memoryEstimate(draft.model, w, s)
        .then((e) => {
          if (!gone) {
            setEstimate(e);
            setEstimateError(null);
          }
        })
        .catch((e) => !gone && (setEstimate(null), setEstimateError(errorText(e))));
    }, 250);
    return () => {
      gone = true;
      clearTimeout(t);
    };
  }, [draft.model, w, s, valid]);

  useEffect(() => {
    let gone = false;
    api
      .modelRecommendation()
      .then((r) => !gone && setRecommendation(r))
      .catch(() => {}); // without it the dialog works as before
    return () => {
      gone = true;
    };
  }, []);

  const setReading = (change: Partial<Settings["reading"]>) => setDraft((d) => ({ ...d, reading: { ...d.reading, ...change } }));
  const num = (v: string) => (v.trim() === "" ? NaN : Number(v));

  const addGguf = async () => {
    setError(null);
    try {
      const path = await dialogs.gguf();
      if (!path) return;
      setBusy("Checking the model…");
      const entry = await api.addModel(path);
      setModels(await api.models());
      setDraft((d) => ({ ...d, model: entry.id, block: d.block.kind === "file" ? { kind: "shipped" } : d.block }));
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
      setBusy(kind === "file" ? "Checking the block…" : "Converting the checkpoint…");
      const block = await api.addBlock(path, draft.model);
      setBlockFile(block);
      setDraft((d) => ({ ...d, block: { kind: "file", path: block } }));
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(null);
    }
  };

  const download = async () => {
    if (!model) return;
    setError(null);
    setBusy("Downloading…");
    try {
      await api.fetchModel(model.id, setFetching);
      setModels(await api.models());
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(null);
      setFetching(null);
    }
  };

  const apply = async () => {
    setError(null);
    try {
      const saved = await api.updateSettings(draft);
      props.onSaved(saved);
      props.onClose();
    } catch (e) {
      setError(errorText(e));
    }
  };

  const changedMemory =
    draft.model !== props.settings.model ||
    JSON.stringify(draft.block) !== JSON.stringify(props.settings.block) ||
    w !== props.settings.reading.window ||
    s !== props.settings.reading.sinks;

  return (
    <Modal
      title="Settings"
      wide
      onClose={props.onClose}
      footer={
        <>
          <button type="button" className="secondary" onClick={props.onClose}>
            Cancel
          </button>
          <button type="button" className="primary" onClick={apply} disabled={!valid || busy !== null}>
            Apply
          </button>
        </>
      }
    >
      <div className="settings-grid">
        <fieldset>
          <legend>Model</legend>
          <label htmlFor={ids.model}>Model that reads and answers</label>
          <select id={ids.model} value={draft.model} onChange={(e) => setDraft((d) => ({ ...d, model: e.target.value }))}>
            {models.map((m) => (
              <option key={m.id} value={m.id}>
                {m.id} — {m.added ? "your GGUF" : m.description} ({m.path ? formatBytes(m.size) : `not downloaded, ${formatBytes(m.size)}`})
              </option>
            ))}
          </select>
          {model && !model.path && !model.added ? (
            <div className="note">
              <p>This model is not on disk yet ({formatBytes(model.size)}).</p>
              {fetching ? (
                <>
                  <ProgressBar value={fetchFraction(fetching)} label="Downloading the model" />
                  <p aria-live="polite">{fetchText(fetching)}</p>
                </>
              ) : (
                <button type="button" className="small" onClick={download} disabled={busy !== null}>
                  Download now
                </button>
              )}
            </div>
          ) : null}
          {model && model.added && !model.path ? <p className="doc-error">Its file is gone; add it again from where it is now.</p> : null}
          {recommendation ? (
            <div className="note" aria-label="Model for this machine">
              <p>Recommended: {recommendation.reason}</p>
              {draft.model !== recommendation.model ? (
                <button type="button" className="small" onClick={() => setDraft((d) => ({ ...d, model: recommendation.model }))}>
                  Use {recommendation.model}
                </button>
              ) : null}
            </div>
          ) : null}
          <button type="button" className="small secondary" onClick={addGguf} disabled={busy !== null}>
            Add a Qwen2 GGUF…
          </button>
        </fieldset>

        <fieldset>
          <legend>Memory block (AHN)</legend>
          <div className="radio">
            <input
              type="radio"
              id="block-shipped"
              name="block"
              checked={draft.block.kind === "shipped"}
              onChange={() => setDraft((d) => ({ ...d, block: { kind: "shipped" } }))}
            />
            <label htmlFor="block-shipped">
              The block shipped for this model{model && !model.shipped_block ? " (none for this model: window only)" : ""}
            </label>
          </div>
          <div className="radio">
            <input type="radio" id="block-none" name="block" checked={draft.block.kind === "none"} onChange={() => setDraft((d) => ({ ...d, block: { kind: "none" } }))} />
            <label htmlFor="block-none">None: sliding window and attention sinks only</label>
          </div>
          <div className="radio">
            <input
              type="radio"
              id="block-file"
              name="block"
              checked={draft.block.kind === "file"}
              disabled={blockFile === null}
              onChange={() => blockFile && setDraft((d) => ({ ...d, block: { kind: "file", path: blockFile } }))}
            />
            <label htmlFor="block-file">{blockFile ? `This file: ${blockFile}` : "A block file (add one below)"}</label>
          </div>
          <div className="button-row">
            <button type="button" className="small secondary" onClick={() => addBlock("file")} disabled={busy !== null}>
              Add block file…
            </button>
            <button type="button" className="small secondary" onClick={() => addBlock("folder")} disabled={busy !== null}>
              Convert official checkpoint…
            </button>
          </div>
        </fieldset>

        <fieldset>
          <legend>Reading</legend>
          <div className="field-row">
            <label htmlFor={ids.window}>Window W (tokens)</label>
            <input id={ids.window} type="number" min={1} step={1} value={Number.isNaN(w) ? "" : w} onChange={(e) => setReading({ window: num(e.target.value) })} aria-describedby={ids.estimate} />
          </div>
          <div className="field-row">
            <label htmlFor={ids.sinks}>Attention sinks S (tokens)</label>
            <input id={ids.sinks} type="number" min={0} step={1} value={Number.isNaN(s) ? "" : s} onChange={(e) => setReading({ sinks: num(e.target.value) })} aria-describedby={ids.estimate} />
          </div>
          <div className="field-row">
            <label htmlFor={ids.threads}>CPU threads (empty: all cores)</label>
            <input
              id={ids.threads}
              type="number"
              min={1}
              step={1}
              value={draft.reading.threads ?? ""}
              onChange={(e) => setReading({ threads: e.target.value.trim() === "" ? null : num(e.target.value) })}
            />
          </div>
          <div className="field-row">
            <label htmlFor={ids.gpu}>GPU layers (empty: all; 0: CPU only)</label>
            <input
              id={ids.gpu}
              type="number"
              min={0}
              step={1}
              value={draft.gpu_layers >= ALL_LAYERS ? "" : draft.gpu_layers}
              onChange={(e) => setDraft((d) => ({ ...d, gpu_layers: e.target.value.trim() === "" ? ALL_LAYERS : Math.max(0, num(e.target.value) || 0) }))}
            />
          </div>
        </fieldset>
      </div>

      <div id={ids.estimate} className="estimate" aria-live="polite">
        {!valid ? (
          <p className="doc-error">W must be at least 1, S at least 0, threads at least 1.</p>
        ) : estimate && !estimate.model_present ? (
          <p>
            The model file takes <strong>{formatBytes(estimate.model_bytes)}</strong>; the window’s cache can be estimated once the
            model is downloaded.
          </p>
        ) : estimate ? (
          <p>
            Reading with these settings needs about <strong>{formatBytes(estimate.total_bytes)}</strong> of memory: the model{" "}
            {formatBytes(estimate.model_bytes)} + the window’s cache {formatBytes(estimate.cache_bytes)}.
          </p>
        ) : estimateError ? (
          <p className="doc-error">{estimateError}</p>
        ) : (
          <p className="muted">Estimating the memory needed…</p>
        )}
      </div>
      {changedMemory ? (
        <p className="note">
          Documents read with other settings keep their memory, shown as “read with another model”; questions about them use
          the model that read them while it is here. Read them again to use the new settings.
        </p>
      ) : null}
      {busy ? <p aria-live="polite">{busy}</p> : null}
      {error ? (
        <p className="error-box" role="alert">
          {error}
        </p>
      ) : null}
    </Modal>
  );
}
