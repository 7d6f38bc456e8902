"""Look inside a pair: word alignment of (source, target) pairs and each word's share of a
query–passage score. The one entry for `e5desk align` / `e5desk explain`, `e5desk.align` /
`e5desk.explain`, `POST /v1/align` / `/v1/explain` and the window's pair view; the maths is
``core/align.py`` and ``core/explain.py``. Input problems are :class:`InputError` naming
the field, so the service can answer 400 with it and the CLI prints the message."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from e5desk.core.align import DEFAULT_METHOD, METHODS, Side, WordAlignment, align_pairs
from e5desk.core.align import default_layers as _default_layers
from e5desk.core.align import prepare as _prepare
from e5desk.core.embedder import Embedder
from e5desk.core.errors import E5DeskError
from e5desk.core.explain import MAX_WORDS, ScoreExplanation, explain_pair, segment
from e5desk.core.jobs import CancelCheck, Progress
from e5desk.core.prefix_rules import prefix_rule


class InputError(E5DeskError):
    """A request the workflow refuses before the model runs; ``field`` names the input."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass
class AlignSettings:
    method: str | None = None  # None: the measured default
    layer: int | None = None  # None: the default layers, scaled to the model's depth

    def checked_method(self) -> str:
        method = self.method or DEFAULT_METHOD
        if method not in METHODS:
            raise InputError(f"unknown method {method!r}: expected one of "
                             f"{', '.join(METHODS)}", "method")
        return method

    def checked_layer(self, encoder: Embedder) -> int | None:
        """The chosen layer, if the model has it (0 = the embeddings)."""
        depth = getattr(getattr(encoder, "source", None), "layers", None)
        if self.layer is not None and depth and not 0 <= self.layer <= depth:
            raise InputError(f"layer {self.layer}: this model has layers 0 to {depth} "
                             "(0 = the embeddings)", "layer")
        return self.layer


@dataclass
class Alignment:
    pairs: list[WordAlignment]
    method: str
    layers: list[int]  # the hidden layers whose states were compared


def check_pairs(pairs: Sequence[tuple[Side, Side]]) -> None:
    """Words and empty sides checked before the model runs (errors name the pair)."""
    if not pairs:
        raise InputError("pairs is empty: give at least one [source, target]", "pairs")
    try:
        _prepare(pairs)
    except E5DeskError as exc:
        raise InputError(str(exc), "pairs") from None


def align(encoder: Embedder, pairs: Sequence[tuple[Side, Side]],
          settings: AlignSettings | None = None, *, progress: Progress | None = None,
          cancelled: CancelCheck | None = None) -> Alignment:
    settings = settings or AlignSettings()
    method = settings.checked_method()
    settings.checked_layer(encoder)
    found = align_pairs(encoder, pairs, method=method, layer=settings.layer,
                        progress=progress, cancelled=cancelled)
    layers = list(_default_layers(encoder)) if settings.layer is None else [settings.layer]
    return Alignment(found, method, layers)


@dataclass
class ExplainSettings:
    rule: str = "retrieval"
    task: str | None = None  # the instruction, for instruct models
    normalise: bool = False  # rescale each side's shares to add up to the side's effect


def check_side(text: str, name: str) -> None:
    """A side to explain: words, and not more than the explanation takes."""
    if not text.strip():
        raise InputError(f"{name} is empty", name)
    if len(segment(text)) > MAX_WORDS:
        raise InputError(f"{name} has more than {MAX_WORDS} words", name)


def explain(encoder: Embedder, query: str, passage: str, settings: ExplainSettings | None = None, *,
            progress: Progress | None = None,
            cancelled: CancelCheck | None = None) -> ScoreExplanation:
    settings = settings or ExplainSettings()
    try:
        rule = prefix_rule(settings.rule).name
    except E5DeskError as exc:
        raise InputError(str(exc), "rule") from None
    return explain_pair(encoder, query, passage, rule, settings.task,
                        normalise=settings.normalise, progress=progress, cancelled=cancelled)
