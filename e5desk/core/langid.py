"""Language of sentences that come without one, and language codes/names.

Identifier: py3langid (maintained fork of langid.py): 97 languages, a 4.5 MB model read
with numpy (no pickle), ~1 ms per short sentence. On the bundled sample (576 everyday
sentences, 9 languages, 3-10 words) it scored 98.3 % vs 97.6 % for lingua-language-detector,
which also costs 96 MB and 5 s to load. Codes are normalised with langcodes (BCP-47).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from e5desk.core.jobs import CancelCheck, Progress


@lru_cache(maxsize=1)
def _identifier():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def detect(texts: Sequence[str], progress: Progress | None = None,
           cancelled: CancelCheck | None = None) -> tuple[list[str], np.ndarray]:
    """(ISO 639-1 code, confidence 0..1) per text."""
    from e5desk.core.errors import Cancelled

    ident = _identifier()
    codes, conf = [], np.zeros(len(texts), dtype=np.float32)
    for i, text in enumerate(texts):
        if cancelled and i % 1000 == 0 and cancelled():
            raise Cancelled("Language detection cancelled.")
        code, p = ident.classify(text)
        codes.append(code)
        conf[i] = p
        if progress and i % 1000 == 999:
            progress(i + 1, len(texts))
    return codes, conf


def normalize_code(code: str | None) -> str | None:
    """'zh_CN' -> 'zh-CN', 'EN-us' -> 'en-US', 'zh-hans' -> 'zh-Hans'; None stays None."""
    if code is None or not str(code).strip():
        return None
    import langcodes

    try:
        return langcodes.standardize_tag(str(code).strip().replace("_", "-"))
    except (ValueError, langcodes.LanguageTagError):
        return str(code).strip()


def display_name(code: str | None) -> str:
    if not code:
        return "unknown"
    import langcodes

    try:
        return langcodes.Language.get(code).display_name()
    except (ValueError, langcodes.LanguageTagError):
        return code


def fill_languages(sentence_set, min_confidence: float = 0.5,
                   progress: Progress | None = None,
                   cancelled: CancelCheck | None = None) -> int:
    """Detect the language of rows that have none; returns how many were filled."""
    missing = [i for i, x in enumerate(sentence_set.lang) if not x]
    if not missing:
        return 0
    codes, conf = detect([sentence_set.text[i] for i in missing], progress, cancelled)
    filled = 0
    for i, code, p in zip(missing, codes, conf, strict=True):
        if p >= min_confidence:
            sentence_set.lang[i] = code
            filled += 1
    return filled
