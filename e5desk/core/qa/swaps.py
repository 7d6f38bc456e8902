"""Two translations exchanged: the clearest meaning error, and one the suspect rule
(core.evaluate.suspect_translations) can miss on short strings ("Labels" <-> "Calendar"),
where E5 scores sit close together.

For entries i and j of one language pair, the swap gain is how much the two pairs would
score together if their translations were exchanged:
``G(i, j) = s(src_i, tgt_j) + s(src_j, tgt_i) - s(src_i, tgt_i) - s(src_j, tgt_j)``
(cos x 100). A pair that is each other's best partner with ``G >= SWAP_GAIN`` is flagged.
Measured with multilingual-e5-small on seven clean catalogues (tests/data/real es, ja, ru,
ar, de; the rehearsal's fr and zh_CN, benchmarks/qa_rehearsal.py): the largest gain of any
entry with its best partner was 7.3 (ja "Tue"/"Fri", abbreviations), 5.0 without
abbreviations; 22 injected swaps in fr and zh_CN scored 7.7 to 31.0."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

SWAP_GAIN = 8.0
BLOCK = 1024  # rows at a time: two (BLOCK x n) products, not an n x n matrix


def swapped_pairs(vectors: np.ndarray, texts: Sequence[str], pairs: Sequence[tuple[int, int]],
                  usable: Sequence[bool], min_gain: float = SWAP_GAIN
                  ) -> dict[int, tuple[int, float]]:
    """``pairs``: (source row, translation row) of each entry; ``usable``: entries that may
    take part (with words on both sides). Returns {entry: (partner entry, gain)} for the
    entries that form a mutual best swap of at least ``min_gain``."""
    n = len(pairs)
    if n < 2:
        return {}
    src = np.asarray([p[0] for p in pairs])
    tgt = np.asarray([p[1] for p in pairs])
    s, t = vectors[src].astype(np.float32), vectors[tgt].astype(np.float32)
    own = np.einsum("ij,ij->i", s, t) * 100
    # entries sharing a source or a translation text are no swap of each other
    src_id = _ids([texts[i] for i in src])
    tgt_id = _ids([texts[j] for j in tgt])
    ok = np.asarray(usable, dtype=bool)
    best = np.full(n, -1)
    gain = np.full(n, -np.inf)
    for start in range(0, n, BLOCK):
        rows = slice(start, min(n, start + BLOCK))
        g = (s[rows] @ t.T + (s @ t[rows].T).T) * 100
        g -= own[rows, None] + own[None, :]
        g[(src_id[rows, None] == src_id[None, :]) | (tgt_id[rows, None] == tgt_id[None, :])
          | ~ok[None, :]] = -np.inf
        best[rows] = g.argmax(axis=1)
        gain[rows] = g[np.arange(g.shape[0]), best[rows]]
    out = {}
    for i in range(n):
        j = int(best[i])
        if ok[i] and gain[i] >= min_gain and best[j] == i:
            out[i] = (j, float(gain[i]))
    return out


def _ids(values: Sequence[str]) -> np.ndarray:
    seen: dict[str, int] = {}
    return np.asarray([seen.setdefault(v, len(seen)) for v in values])
