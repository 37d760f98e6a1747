import { useCallback, useEffect, useState } from "react";
import { api, errorText, type ModelEntry, type Settings } from "./ipc";
import { Welcome } from "./components/Welcome";
import { Workspace } from "./components/Workspace";

type Boot = { models: ModelEntry[]; settings: Settings };

/** Loads the models and settings; first run (the active model not on disk) shows the welcome screen. */
export function App() {
  const [boot, setBoot] = useState<Boot | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [welcomeDone, setWelcomeDone] = useState(false);

  const load = useCallback(async () => {
    try {
      const [models, settings] = await Promise.all([api.models(), api.settings()]);
      setBoot({ models, settings });
      setError(null);
    } catch (e) {
      setError(errorText(e));
    }
  }, []);

  useEffect(() => {
    void load();
  }, [load]);

  if (error) {
    return (
      <main className="splash" aria-labelledby="splash-title">
        <h1 id="splash-title">Seahorse cannot start</h1>
        <p className="error-box" role="alert">
          {error}
        </p>
        <button type="button" className="primary" onClick={() => void load()}>
          Try again
        </button>
      </main>
    );
  }
  if (!boot) {
    return (
      <main className="splash" aria-busy="true" aria-labelledby="splash-title">
        <h1 id="splash-title" className="muted">
          Opening the library…
        </h1>
      </main>
    );
  }
  const active = boot.models.find((m) => m.id === boot.settings.model) ?? boot.models.find((m) => m.active);
  if (!welcomeDone && (!active || !active.path)) {
    return (
      <Welcome
        models={boot.models}
        onReady={() => {
          setWelcomeDone(true);
          void load();
        }}
      />
    );
  }
  return (
    <Workspace
      settings={boot.settings}
      models={boot.models}
      onSettings={(settings) => {
        setBoot((b) => (b ? { ...b, settings } : b));
        void api.models().then((models) => setBoot((b) => (b ? { ...b, models } : b)));
      }}
    />
  );
}
