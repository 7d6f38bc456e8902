"""The pair view's background job, Qt-free: align the words, explain the score and place it
among the loaded set's own pairs, on the window's encoder (an EncoderProcess: the model
runs in its child process). Runs on a JobRunner thread, never on the GUI thread."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from e5desk.core.errors import Cancelled, E5DeskError
from e5desk.gui.pair.state import PairRequest, PairResult


@dataclass
class Reference:
    """The loaded set and its vectors in the rule's passage role, for the calibrated band."""

    texts: list[str]
    langs: list
    groups: list
    passage_vectors: np.ndarray


def compute_pair(encoder, request: PairRequest, reference: Reference | None = None,
                 progress=None, cancelled=None) -> PairResult:
    """Alignment, explanation and band of one pair. A part that fails leaves a note and the
    others stand; only when nothing could be computed is the error raised."""
    from e5desk.core.align import align_pairs
    from e5desk.core.explain import explain_pair

    result = PairResult()
    errors: list[str] = []
    try:
        result.alignment = align_pairs(encoder, [(request.left, request.right)],
                                       cancelled=cancelled)[0]
    except Cancelled:
        raise
    except E5DeskError as exc:
        errors.append(f"word links: {exc}")
    if cancelled is not None and cancelled():
        raise Cancelled("pair view cancelled")
    try:
        e = explain_pair(encoder, request.left, request.right, request.rule, request.task,
                         cancelled=cancelled)
        result.explanation, result.score = e, e.score
    except Cancelled:
        raise
    except E5DeskError as exc:
        errors.append(f"score shares: {exc}")
    if result.alignment is None and result.explanation is None:
        raise E5DeskError("; ".join(errors))
    result.notes += errors
    if result.score is not None:
        _band(encoder, request, reference, result, cancelled)
    return result


def _band(encoder, request: PairRequest, reference: Reference | None, result: PairResult,
          cancelled) -> None:
    if reference is None:
        result.notes.append(f"no calibrated band yet: score or check the loaded sentences "
                            f"once with the {request.rule} rule to see where this score "
                            "stands among their pairs")
        return
    try:
        from e5desk.core.calibration import calibrate

        calibration = calibrate(encoder, reference.texts, request.rule, reference.langs,
                                reference.groups, passage_vectors=reference.passage_vectors,
                                task=request.task, cancelled=cancelled)
    except Cancelled:
        raise
    except (E5DeskError, ImportError) as exc:
        result.notes.append(f"no calibrated band: {exc}")
        return
    result.band = calibration.phrase(result.score)
    result.band_tip = calibration.tooltip()
