"""What a workflow needs from a model: the interface ``Encoder`` (this process),
``EncoderProcess`` (the window's child process) and ``e5desk.Model`` (the Python API) share.
Settings travel as named arguments (role, task, batch size), never as ``**kwargs``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:  # pragma: no cover - typing only
    import numpy as np

    from e5desk.core.jobs import CancelCheck, Progress


@runtime_checkable
class Embedder(Protocol):
    """Vectors are float32, rows L2-normalised (a dot product is the cosine)."""

    @property
    def model_id(self) -> str:
        """Identifies the vectors the model makes (cache key, project and batch identity)."""

    @property
    def dim(self) -> int: ...

    @property
    def max_tokens(self) -> int: ...

    def format(self, texts: Sequence[str], role: str = "query",
               task: str | None = None) -> list[str]:
        """The exact strings the model reads for ``texts`` in ``role``."""

    def encode(self, texts: Sequence[str], role: str = "query", task: str | None = None,
               batch_size: int | None = None, progress: Progress | None = None,
               cancelled: CancelCheck | None = None) -> np.ndarray: ...

    def encode_detailed(self, texts: Sequence[str], role: str = "query",
                        task: str | None = None):
        """:meth:`encode` with token counts and the truncated texts (EncodeResult); the
        implementations also take progress and cancel."""

    def token_states(self, texts: Sequence[str], layers: Sequence[int] = (8,),
                     role: str = "raw", task: str | None = None):
        """Per text, the hidden states of ``layers`` for its subword pieces."""
