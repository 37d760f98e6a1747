#!/usr/bin/env python3
"""A file manager's part in the end-to-end test: a small GTK window at a fixed place on the
X display that offers the files named on its command line as a drag of `text/uri-list`, the
way Nautilus or Thunar offers dropped files. e2e/app.test.mjs presses the mouse on it and
moves it onto the app with xdotool, so the app gets a real XDND drop from another client.

    drag-source.py X Y FILE...

Prints "ready" once the window is mapped, "sent N" when the drop target took the data, and
"drag-end" when the drag is over. Uses the system's GTK bindings (Debian python3-gi,
gir1.2-gtk-3.0).
"""

import sys
from pathlib import Path

import gi

gi.require_version("Gtk", "3.0")
gi.require_version("Gdk", "3.0")
from gi.repository import Gdk, GLib, Gtk  # noqa: E402


def main():
    x, y = int(sys.argv[1]), int(sys.argv[2])
    uris = [Path(p).resolve().as_uri() for p in sys.argv[3:]]
    win = Gtk.Window(title="seahorse-e2e-drag-source")
    win.set_decorated(False)
    win.set_default_size(120, 60)
    win.move(x, y)
    box = Gtk.EventBox()
    box.add(Gtk.Label(label="drag me"))
    win.add(box)
    box.drag_source_set(Gdk.ModifierType.BUTTON1_MASK, [], Gdk.DragAction.COPY)
    box.drag_source_add_uri_targets()

    def data_get(_widget, _context, data, _info, _time):
        data.set_uris(uris)
        print(f"sent {len(uris)}", flush=True)

    box.connect("drag-data-get", data_get)
    box.connect("drag-end", lambda *_: print("drag-end", flush=True))
    win.connect("destroy", Gtk.main_quit)
    win.connect("map-event", lambda *_: GLib.idle_add(lambda: print("ready", flush=True)))
    win.show_all()
    Gtk.main()


if __name__ == "__main__":
    main()
