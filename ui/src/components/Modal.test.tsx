import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { useState } from "react";
import { describe, expect, test } from "vitest";
import { ConfirmDialog } from "./Modal";

function Harness() {
  const [open, setOpen] = useState(false);
  const [done, setDone] = useState("");
  return (
    <>
      <button type="button" onClick={() => setOpen(true)}>
        Open
      </button>
      <p>{done}</p>
      {open ? (
        <ConfirmDialog
          title="Delete chat?"
          message="It will be deleted."
          confirm="Delete chat"
          danger
          onCancel={() => setOpen(false)}
          onConfirm={() => {
            setOpen(false);
            setDone("deleted");
          }}
        />
      ) : null}
    </>
  );
}

describe("dialogs", () => {
  test("focus moves in (to Cancel), Tab stays inside, Escape closes and focus returns", async () => {
    const user = userEvent.setup();
    render(<Harness />);
    const opener = screen.getByRole("button", { name: "Open" });
    await user.click(opener);
    const dialog = screen.getByRole("dialog", { name: "Delete chat?" });
    expect(dialog).toHaveAccessibleDescription("It will be deleted.");
    expect(screen.getByRole("button", { name: "Cancel" })).toHaveFocus();
    await user.tab();
    expect(screen.getByRole("button", { name: "Delete chat" })).toHaveFocus();
    await user.tab();
    expect(screen.getByRole("button", { name: "Close" })).toHaveFocus();
    await user.tab({ shift: true });
    expect(screen.getByRole("button", { name: "Delete chat" })).toHaveFocus();
    await user.keyboard("{Escape}");
    expect(screen.queryByRole("dialog")).toBeNull();
    expect(opener).toHaveFocus();
    expect(screen.queryByText("deleted")).toBeNull();
  });

  test("confirming runs the action", async () => {
    const user = userEvent.setup();
    render(<Harness />);
    await user.click(screen.getByRole("button", { name: "Open" }));
    await user.click(screen.getByRole("button", { name: "Delete chat" }));
    expect(screen.getByText("deleted")).toBeInTheDocument();
  });
});
