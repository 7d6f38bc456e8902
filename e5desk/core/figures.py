"""What the figures mean, in words: each figure the window shows (the map's clusters,
language mixing and cross-lingual P@1; the suspect translations' doubt; score columns)
gets a short plain-language line and a tooltip saying how it is computed. Qt-free: the
views only lay the words out."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    headline: str  # "language mixing 0.83"
    plain: str  # what it says about this data, in words
    how: str  # how it is computed (the tooltip)


def _of_ten(share: float) -> int:
    return int(round(share * 10))


def cluster_figure(n_clusters: int, multilingual: int, n_points: int) -> Figure:
    if n_clusters == 0:
        plain = "no groups of close sentences found"
    elif multilingual == n_clusters:
        plain = "each mixes languages: grouped by meaning"
    elif multilingual == 0:
        plain = "each holds one language: grouped by language"
    else:
        plain = f"{multilingual} of {n_clusters} mix languages"
    return Figure(f"{n_clusters} clusters ({multilingual} multilingual)", plain,
                  "Clusters: HDBSCAN on the map's points, smallest cluster "
                  f"max(10, points / 40) = {max(10, n_points // 40)} sentences. "
                  "Multilingual: a cluster holding sentences in more than one language. "
                  "The label is the cluster's most typical words.")


def mixing_figure(mixing: float, k: int = 10) -> Figure:
    if not math.isfinite(mixing):
        return Figure("language mixing: –", "too few points to measure",
                      "Needs at least two points.")
    n = _of_ten(mixing)
    if mixing >= 0.6:
        verdict = "meaning decides"
    elif mixing >= 0.3:
        verdict = "partly mixed"
    else:
        verdict = "languages sit apart"
    return Figure(f"language mixing {mixing:.2f}",
                  f"{n} of 10 nearest neighbours are in another language: {verdict}",
                  f"For every point, the share of its {k} nearest points on the map that are "
                  "in another language, averaged over all points. 0 = each language on its "
                  "own; close to 1 - (share of the largest language) = fully mixed.")


def p_at_1_figure(p_at_1: float) -> Figure:
    n = int(round(p_at_1 * 100))
    return Figure(f"cross-lingual P@1 {p_at_1:.3f}",
                  f"{n} of 100 sentences find their translation nearest",
                  "For each sentence with a translation group and each other language: is "
                  "the nearest sentence of that language (cosine, in the full embedding, "
                  "language-centred when 'Separate meaning from language' is on) its own "
                  "translation? The share of yes over all such pairs. 1.0 = always.")


def map_figures(analysis, n_points: int, k: int = 10) -> list[Figure]:
    """The map's figures (core.mapping.MapAnalysis), clusters first."""
    from e5desk.core.data.sentence_set import UNKNOWN_LANG

    if analysis.clusters and all(set(c.languages) <= {UNKNOWN_LANG}
                                 for c in analysis.clusters):
        # No sentence has a language (vectors from elsewhere, a plain text file): the
        # language figures would say "languages sit apart" of one unknown language.
        clusters = cluster_figure(len(analysis.clusters), 0, n_points)
        return [Figure(clusters.headline, "sentences without a language: grouped by meaning",
                       clusters.how),
                Figure("language mixing: –", "no sentence has a language",
                       "Needs sentences with a language (a lang column, or detected).")]
    out = [cluster_figure(len(analysis.clusters), analysis.multilingual, n_points),
           mixing_figure(analysis.mixing, k)]
    if analysis.p_at_1 is not None:
        out.append(p_at_1_figure(analysis.p_at_1))
    return out


# -- table columns ------------------------------------------------------------------------
COLUMN_HELP = {
    "rank": "Position by score, 1 = closest to the query.",
    "score": "Cosine similarity × 100 (the E5 model cards' scale). Higher = closer in "
             "meaning; E5 scores sit in a high band (about 70–100), so compare, don't read "
             "alone.",
    "cosine": "Cosine similarity of the two embeddings (−1 … 1; higher = closer).",
    "doubt": "How strongly both sides prefer another partner: (best other target − this "
             "pair's score) + (best other source − this pair's score), cos × 100. 0 = each "
             "side's best match is its own translation; higher = more doubtful.",
    "reason": "Why the pair was flagged: the better match of each side, with the scores.",
    "lang": "Language code (given by the file or detected).",
}


def column_help(header: str) -> str | None:
    """A tooltip for a result column's header (by its name, before any "(xx)")."""
    key = header.split(" (")[0].strip().lower()
    return COLUMN_HELP.get(key)


def doubt_summary(flagged: int, total: int, src: str, tgt: str) -> str:
    """The line above the suspect table: what the figures say, in words."""
    if not total:
        return f"No {src}–{tgt} pairs to check."
    if not flagged:
        return (f"All {total:,} {src}–{tgt} pairs look fine: each side's closest match is "
                "its own translation.")
    return (f"{flagged:,} of {total:,} {src}–{tgt} pairs look doubtful: both sides match "
            "another sentence better than each other (doubt = how much better; highest "
            "first).")
