import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, test, vi } from "vitest";
import type { ModelEntry, Settings } from "../ipc";
import { installBackend } from "../test/backend";
import { SettingsDialog } from "./SettingsDialog";

const settings: Settings = {
  model: "qwen",
  block: { kind: "shipped" },
  reading: { window: 1024, sinks: 64, chunk_tokens: 512, checkpoint_tokens: 16384, checkpoint_seconds: 120, checkpoints_kept: 8, threads: null },
  gpu_layers: 4294967295,
  local_models: [],
};
const models: ModelEntry[] = [{ id: "qwen", description: "Qwen2.5 0.5B", added: false, path: "/m/q.gguf", size: 500 * 1048576, shipped_block: true, active: true }];

describe("settings", () => {
  test("the memory a choice needs shows before applying; Apply saves the whole settings", async () => {
    const user = userEvent.setup();
    const backend = installBackend({
      memory_estimate: (a) => ({ model_bytes: 500 * 1048576, cache_bytes: Number(a.window) * 1024, total_bytes: 500 * 1048576 + Number(a.window) * 1024, model_present: true }),
      update_settings: (a) => a.settings,
    });
    const onSaved = vi.fn();
    const onClose = vi.fn();
    render(<SettingsDialog settings={settings} models={models} onClose={onClose} onSaved={onSaved} />);
    const dialog = screen.getByRole("dialog", { name: "Settings" });
    expect(await within(dialog).findByText("501 MB")).toBeInTheDocument();
    const w = within(dialog).getByLabelText("Window W (tokens)");
    await user.clear(w);
    await user.type(w, "8192");
    expect(await within(dialog).findByText("508 MB")).toBeInTheDocument();
    expect(backend.called("memory_estimate").at(-1)?.args).toEqual({ model: "qwen", window: 8192, sinks: 64 });
    expect(within(dialog).getByText(/read with another model/)).toBeInTheDocument();
    await user.type(within(dialog).getByLabelText("CPU threads (empty: all cores)"), "4");
    await user.click(within(dialog).getByRole("radio", { name: /None: sliding window/ }));
    await user.click(within(dialog).getByRole("button", { name: "Apply" }));
    await waitFor(() => expect(onSaved).toHaveBeenCalled());
    expect(backend.called("update_settings")[0]?.args.settings).toEqual({
      ...settings,
      block: { kind: "none" },
      reading: { ...settings.reading, window: 8192, threads: 4 },
    });
    expect(onClose).toHaveBeenCalled();
  });

  test("the model for this machine shows with its reason, and one click chooses it", async () => {
    const user = userEvent.setup();
    const big: ModelEntry = { id: "qwen-big", description: "Qwen2.5 1.5B", added: false, path: null, size: 1100 * 1048576, shipped_block: false, active: false };
    const backend = installBackend({
      memory_estimate: () => ({ model_bytes: 1, cache_bytes: 1, total_bytes: 2, model_present: true }),
      model_recommendation: () => ({
        model: "qwen-big",
        reason: "qwen-big for this machine (16 CPU threads, 64.0 GiB of memory, no GPU): With 16 CPU threads the larger model is fast enough.",
        machine: { cores: 16, memory_bytes: 64 * 2 ** 30, gpus: [] },
        facts: [],
      }),
      update_settings: (a) => a.settings,
    });
    render(<SettingsDialog settings={settings} models={[...models, big]} onClose={() => {}} onSaved={() => {}} />);
    const dialog = screen.getByRole("dialog", { name: "Settings" });
    const box = await within(dialog).findByLabelText("Model for this machine");
    expect(within(box).getByText(/With 16 CPU threads the larger model/)).toBeInTheDocument();
    await user.click(within(box).getByRole("button", { name: "Use qwen-big" }));
    expect(within(dialog).getByLabelText("Model that reads and answers")).toHaveValue("qwen-big");
    expect(within(box).queryByRole("button")).toBeNull();
    await user.click(within(dialog).getByRole("button", { name: "Apply" }));
    await waitFor(() => expect(backend.called("update_settings")).toHaveLength(1));
    expect((backend.called("update_settings")[0]?.args.settings as Settings).model).toBe("qwen-big");
  });

  test("invalid values are refused before the backend; its refusal is shown as is", async () => {
    const user = userEvent.setup();
    installBackend({
      memory_estimate: () => ({ model_bytes: 1, cache_bytes: 1, total_bytes: 2, model_present: true }),
      update_settings: () => Promise.reject('unknown model "qwen"'),
    });
    render(<SettingsDialog settings={settings} models={models} onClose={() => {}} onSaved={() => {}} />);
    const dialog = screen.getByRole("dialog", { name: "Settings" });
    const w = within(dialog).getByLabelText("Window W (tokens)");
    await user.clear(w);
    expect(within(dialog).getByText(/W must be at least 1/)).toBeInTheDocument();
    expect(within(dialog).getByRole("button", { name: "Apply" })).toBeDisabled();
    await user.type(w, "512");
    await user.click(within(dialog).getByRole("button", { name: "Apply" }));
    expect(await within(dialog).findByRole("alert")).toHaveTextContent('unknown model "qwen"');
  });
});
