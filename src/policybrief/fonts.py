"""The bundled fonts: the Python packages they are installed from, their folders (which
the renderer may read, fetch.allowed_roots) and their @font-face rules (pdf.py puts
them under every document). How they are subset into a PDF is pdf.py's.
"""

from __future__ import annotations

import importlib
import json
from functools import cache
from pathlib import Path

# Font packages installed as Python dependencies, so output never depends on system fonts.
FONT_PACKAGES = {"serif": "fontpkg_pt_serif", "sans": "fontpkg_pt_sans"}


@cache  # installed packages do not change while we run; a warm worker reads them once
def font_dirs() -> dict[str, Path]:
    """The folder of each bundled font package, by role ("serif", "sans")."""
    return {
        role: Path(importlib.import_module(name).__file__ or "").parent
        for role, name in FONT_PACKAGES.items()
    }


@cache
def font_css() -> str:
    """@font-face rules for the bundled fonts, under their own family names."""
    rules = []
    for folder in font_dirs().values():
        meta = json.loads((folder / "metadata.json").read_text(encoding="utf-8"))
        for font in meta["files"]:
            url = (folder / font["path"]).as_uri()
            weight = font["weight"] or 400
            rules.append(
                f"@font-face {{ font-family: '{meta['family']}'; src: url('{url}'); "
                f"font-style: {font['style']}; font-weight: {weight}; }}"
            )
    return "\n".join(rules)
