"""Where shipped graphs and weightless model folders are found (no torch, no runtime).

A shipped root (the app bundle's ``engines/``, or the folders ``E5DESK_GRAPHS`` names) holds
one folder per graph (``graph.py``). Beside each graph lies the model folder it was made from
without its weight files; the folder's marker names the graph by its digest.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

SHIPPED_ENV = "E5DESK_GRAPHS"  # extra shipped roots (os.pathsep-separated)
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth")
MARKER_FILE = "e5desk_model.json"  # a converted or shipped model folder's marker
GRAPH_ONLY_KEY = "graph_digest"  # in a weightless model folder's marker: its graph's digest


def shipped_roots() -> list[Path]:
    roots = [Path(p) for p in os.environ.get(SHIPPED_ENV, "").split(os.pathsep) if p]
    if getattr(sys, "frozen", False):  # the app bundle (PyInstaller)
        roots.append(Path(getattr(sys, "_MEIPASS", Path(sys.executable).parent)) / "engines")
    return [r for r in roots if r.is_dir()]


def graph_only_digest(folder: Path) -> str | None:
    """The graph digest a weightless model folder (shipped beside its graph) names, or None
    for a folder with weights or without such a marker."""
    folder = Path(folder)
    try:
        if any(p.suffix in WEIGHT_SUFFIXES for p in folder.iterdir()):
            return None
        marker = json.loads((folder / MARKER_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    digest = marker.get(GRAPH_ONLY_KEY) if isinstance(marker, dict) else None
    return digest if isinstance(digest, str) and digest else None
