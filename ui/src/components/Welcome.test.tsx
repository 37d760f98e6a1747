import { act, render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, test, vi } from "vitest";
import type { ModelEntry } from "../ipc";
import { deferred, installBackend } from "../test/backend";
import { Welcome } from "./Welcome";

const model: ModelEntry = { id: "qwen2.5-0.5b-instruct", description: "Qwen2.5 0.5B", added: false, path: null, size: 531_068_000, shipped_block: true, active: true };

describe("welcome", () => {
  test("fetching the model shows its progress, then continues", async () => {
    const user = userEvent.setup();
    const done = deferred<string>();
    let channel: unknown = null;
    const backend = installBackend({
      fetch_model: (a) => {
        channel = a.onProgress;
        return done.promise;
      },
    });
    const onReady = vi.fn();
    render(<Welcome models={[model]} onReady={onReady} />);
    await user.click(screen.getByRole("button", { name: "Download 506 MB" }));
    expect(backend.called("fetch_model")[0]?.args.id).toBe("qwen2.5-0.5b-instruct");
    act(() => {
      backend.send(channel, 0, { event: "downloading", parts: 4 });
      backend.send(channel, 1, { event: "assembled", part: 3, parts: 4 });
    });
    expect(await screen.findByText("Downloaded and checked part 3 of 4")).toBeInTheDocument();
    expect(screen.getByRole("progressbar", { name: "Downloading the model" })).toHaveAttribute("aria-valuenow", "75");
    expect(onReady).not.toHaveBeenCalled();
    await act(async () => done.resolve("/m/q.gguf"));
    expect(onReady).toHaveBeenCalledOnce();
  });

  test("a failed fetch shows the backend's message and the choice again", async () => {
    const user = userEvent.setup();
    installBackend({ fetch_model: () => Promise.reject("the download failed: pip exited with status 1 (no network?)") });
    render(<Welcome models={[model]} onReady={() => {}} />);
    await user.click(screen.getByRole("button", { name: "Download 506 MB" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("the download failed: pip exited with status 1 (no network?)");
    expect(screen.getByRole("button", { name: "Download 506 MB" })).toBeEnabled();
  });

  test("a local GGUF, then an AHN checkpoint folder converted for it", async () => {
    const user = userEvent.setup();
    const opened: unknown[] = ["/models/my-qwen.gguf", "/ckpt/ahn-gdn"];
    const backend = installBackend({
      "plugin:dialog|open": () => opened.shift(),
      add_model: (a) => ({ ...model, id: "my-qwen", added: true, path: a.path }),
      add_block: () => "/cache/added-blocks/my-qwen.ahn-gdn.ahn.gguf",
    });
    const onReady = vi.fn();
    render(<Welcome models={[model]} onReady={onReady} />);
    await user.click(screen.getByRole("button", { name: "Choose a GGUF file…" }));
    expect(await screen.findByText("my-qwen")).toBeInTheDocument();
    expect(backend.called("add_model")[0]?.args).toEqual({ path: "/models/my-qwen.gguf" });
    await user.click(screen.getByRole("button", { name: "Choose checkpoint folder…" }));
    expect(await screen.findByText(/Memory block ready/)).toHaveTextContent("/cache/added-blocks/my-qwen.ahn-gdn.ahn.gguf");
    expect(backend.called("add_block")[0]?.args).toEqual({ path: "/ckpt/ahn-gdn", model: "my-qwen" });
    const dialog = backend.called("plugin:dialog|open")[1]?.args.options as { directory: boolean };
    expect(dialog.directory).toBe(true);
    await user.click(screen.getByRole("button", { name: "Continue" }));
    expect(onReady).toHaveBeenCalledOnce();
  });
});
