"""Where the bundled data folders (``contexts/``, ``schemas/``) are.

The repository keeps one copy of each at top level. The wheel maps them into the package as
``skillcred/_data/<name>`` (see ``pyproject.toml``); an editable/source checkout reads them
from the repository root. The installed copy wins when both exist.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

_PKG_DIR = Path(__file__).resolve().parent.parent


@cache
def data_dir(name: str) -> Path:
    """Return the folder holding bundled data ``name`` (``"contexts"`` or ``"schemas"``)."""
    installed = _PKG_DIR / "_data" / name
    if installed.is_dir():
        return installed
    source = _PKG_DIR.parent.parent / name  # src/skillcred -> repo root
    if source.is_dir():
        return source
    raise FileNotFoundError(f"skillcred data folder {name!r} is missing from this installation")
