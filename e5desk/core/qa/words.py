"""What a doubtful translation leaves out or adds: the content words the word alignment
(core/align.py) could not pair, per flagged meaning finding — the check report's
``missing in translation`` / ``added in translation`` columns and the HTML highlights."""

from __future__ import annotations

from collections.abc import Sequence

from e5desk.core.qa.report import Finding


def add_unaligned_words(encoder, findings: Sequence[Finding], limit: int = 500) -> str | None:
    """Fill ``missing``/``added`` on the first ``limit`` flagged meaning findings (most
    doubtful first). ``encoder``: anything with ``token_states`` (Encoder, EncoderProcess,
    api.Model's encoder). Returns a note when the words could not be found."""
    from e5desk.core.align import align_pairs, unaligned_content_words

    meaning = [x for x in findings if x.flagged and x.kind == "meaning"
               and x.entry.source and x.entry.target]
    meaning = sorted(meaning, key=lambda x: -(x.doubt or 0.0))[:limit]
    if not meaning or encoder is None or not hasattr(encoder, "token_states"):
        return None
    try:
        alignments = align_pairs(encoder, [(x.entry.source, x.entry.target) for x in meaning])
    except Exception as exc:  # noqa: BLE001 - the words are an extra; the report stands
        return f"no missing/added words ({exc})"
    for x, a in zip(meaning, alignments, strict=True):
        x.missing, x.added = (list(w) for w in unaligned_content_words(a))
    skipped = sum(x.flagged and x.kind == "meaning" for x in findings) - len(meaning)
    return (f"missing/added words listed for the {len(meaning)} most doubtful pairs "
            f"({skipped} more without)") if skipped > 0 else None
