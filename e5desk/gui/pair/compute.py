"""The pair view's background job, Qt-free: align the words, explain the score and place it
among the loaded set's own pairs, on the window's encoder (an EncoderProcess: the model
runs in its child process). Runs on a JobRunner thread, never on the GUI thread."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from e5desk.core.errors import Cancelled, E5DeskError
from e5desk.gui.pair.state import PairRequest, PairResult

# At most this many sentences are embedded for the band when the set has no vectors for the
# rule yet (whole translation groups, a seeded sample; embedded once, then cached).
EMBED_FOR_BAND = 5000


@dataclass
class Reference:
    """The loaded set and its vectors in the rule's passage role, for the calibrated band
    (``passage_vectors`` None: not embedded in that role yet; the job embeds them)."""

    texts: list[str]
    langs: list
    groups: list
    passage_vectors: np.ndarray | None = None


def _sampled(reference: Reference, limit: int = EMBED_FOR_BAND, seed: int = 0) -> Reference:
    """At most ``limit`` rows of a set without vectors, whole translation groups kept
    together (so the band's translations stay), drawn in a seeded order: the same rows,
    hence the same cached calibration, every time."""
    n = len(reference.texts)
    if n <= limit:
        return reference
    keys = [("row", i) if g is None else ("group", g) for i, g in enumerate(reference.groups)]
    members: dict = {}
    for i, k in enumerate(keys):
        members.setdefault(k, []).append(i)
    order = np.random.default_rng(seed).permutation(len(members))
    groups = list(members.values())
    rows: list[int] = []
    for k in order:
        if len(rows) + len(groups[k]) > limit:
            continue
        rows += groups[k]
    rows.sort()
    return Reference([reference.texts[i] for i in rows], [reference.langs[i] for i in rows],
                     [reference.groups[i] for i in rows])


def compute_pair(encoder, request: PairRequest, reference: Reference | None = None,
                 progress=None, cancelled=None) -> PairResult:
    """Alignment, explanation and band of one pair. A part that fails leaves a note and the
    others stand; only when nothing could be computed is the error raised."""
    from e5desk.workflows.pair import ExplainSettings, align, explain

    result = PairResult()
    errors: list[str] = []
    try:
        result.alignment = align(encoder, [(request.left, request.right)],
                                 cancelled=cancelled).pairs[0]
    except Cancelled:
        raise
    except E5DeskError as exc:
        errors.append(f"word links: {exc}")
    if cancelled is not None and cancelled():
        raise Cancelled("pair view cancelled")
    try:
        e = explain(encoder, request.left, request.right,
                    ExplainSettings(request.rule, request.task), cancelled=cancelled)
        result.explanation, result.score = e, e.score
    except Cancelled:
        raise
    except E5DeskError as exc:
        errors.append(f"score shares: {exc}")
    if result.alignment is None and result.explanation is None:
        raise E5DeskError("; ".join(errors))
    result.notes += errors
    if result.score is not None:
        _band(encoder, request, reference, result, progress, cancelled)
    return result


def _band(encoder, request: PairRequest, reference: Reference | None, result: PairResult,
          progress=None, cancelled=None) -> None:
    if reference is None or len(reference.texts) < 2:
        result.notes.append("no calibrated band: load a sentence set to see where this "
                            "score stands among its pairs")
        return
    sampled = 0
    if reference.passage_vectors is None:  # embedded here once, then the cache answers
        reference, sampled = _sampled(reference), len(reference.texts)
    try:
        from e5desk.core.calibration import calibrate

        calibration = calibrate(encoder, reference.texts, request.rule, reference.langs,
                                reference.groups, passage_vectors=reference.passage_vectors,
                                task=request.task, progress=progress, cancelled=cancelled)
    except Cancelled:
        raise
    except (E5DeskError, ImportError) as exc:
        result.notes.append(f"no calibrated band: {exc}")
        return
    result.band = calibration.phrase(result.score)
    result.band_tip = calibration.tooltip()
    if sampled and sampled > len(reference.texts):
        result.band_tip += (f"\n(from {len(reference.texts):,} of the {sampled:,} loaded "
                            "sentences: the set is not embedded with this rule yet)")
