"""Convert an official AHN checkpoint into an AHN block GGUF (docs/ahn-gguf.md).

    ~/.cache/seahorse/venv-tools/bin/python tools/ahn_convert.py CHECKPOINT_DIR --out BLOCK.gguf \\
        [--window W] [--sinks S] [--base BASE.gguf]

The same as ``python -m ahn_ref.convert`` run from ``tools/``; this wrapper works from any
directory. Everything is in ``ahn_ref/convert.py``.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ahn_ref.convert import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
