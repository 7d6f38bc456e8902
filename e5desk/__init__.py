"""e5desk: an offline desktop explorer for multilingual E5 text embeddings.

The Python API (see README, "From Python"): ``load_model``, ``read_sets``, ``score``,
``rank``, ``map``, ``mine``, ``evaluate`` (defined in ``e5desk.api``). Importing
``e5desk`` stays cheap: the API module, torch and transformers load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from e5desk.core.about import VERSION as __version__

_API = ("Model", "SentenceMap", "evaluate", "load_model", "map", "mine", "rank", "read_sets",
        "score")
_API += ("align",)  # word alignment (issue 25)
_API += ("explain",)  # score explanations (issue 25)
_API += ("check",)  # translation QA (issue 26)
__all__ = ["__version__", *_API]

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs
    from e5desk.api import (  # noqa: F401
        Model,
        SentenceMap,
        align,
        check,
        evaluate,
        explain,
        load_model,
        map,
        mine,
        rank,
        read_sets,
        score,
    )


def __getattr__(name: str):
    if name in _API:
        from e5desk import api

        return getattr(api, name)
    raise AttributeError(f"module 'e5desk' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_API])
