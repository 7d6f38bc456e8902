"""The map pipeline, without Qt: what `e5desk map`, its PNG and the window all call, so the
same input and settings give the same map, clusters, labels and figures everywhere.

    vectors --project(params)--> coords --analyse_map--> clusters, labels, mixing, P@1
                                        --top_clusters / place_labels--> labels to draw
                                        --label_levels--> coarse to fine labels by zoom
    points --draw_order--> a fixed shuffle: no language painted over the others
    row --nearest_per_language--> the closest sentence in every language
    groups --link_pairs--> line segments between translations
    typed text --score_text (core.scoring)--> a score per row --score_scale--> colour levels
    languages, sets, clusters --factorize / cluster_categories--> legend names, codes
    language code --language_colour--> one fixed colour-blind-safe colour
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from e5desk.core.data.sentence_set import UNKNOWN_LANG, lang_key
from e5desk.core.models.families import SYMMETRIC_ROLE
from e5desk.core.projection import MapParams, center_languages, lone_languages

# Clustering and features use the query form (model cards): the symmetric rule.
MAP_RULE = "symmetric"
MAP_ROLE = SYMMETRIC_ROLE
DEFAULT_PARAMS = MapParams(center_languages=True)  # "Separate meaning from language" on
LABELLED_CLUSTERS = 60  # candidates; placement shows those that fit at the zoom
MIXING_K = 10


def min_cluster_size(n_points: int) -> int:
    """HDBSCAN's smallest cluster for a map of ``n_points``: 10, or 1/40 of the map."""
    return max(10, n_points // 40)


@dataclass
class MapAnalysis:
    """Clusters of a map and the figures shown above it."""

    labels: np.ndarray  # cluster id per row, -1 = noise
    clusters: list  # core.clusters.Cluster, in id order
    mixing: float  # share of each point's MIXING_K nearest neighbours in another language
    p_at_1: float | None = None  # cross-lingual P@1 (None: no groups)
    figures: dict = field(default_factory=dict)
    levels: list | None = None  # label_levels of the map, when asked for (the window)

    @property
    def multilingual(self) -> int:
        """Clusters that span more than one language."""
        return sum(1 for c in self.clusters if len(c.languages) > 1)

    def summary(self) -> list[str]:
        """Short figures, as `e5desk map` prints them."""
        out = [f"{len(self.clusters)} clusters ({self.multilingual} across languages)"]
        if np.isfinite(self.mixing):  # one point has no neighbours to mix with
            out.append(f"mixing {self.mixing:.3f}")
        if self.p_at_1 is not None:
            out.append(f"cross-lingual P@1 {self.p_at_1:.3f}")
        return out


def analyse_map(coords: np.ndarray, vectors: np.ndarray | None, texts: Sequence[str],
                langs: Sequence, groups: Sequence | None = None,
                center: bool = DEFAULT_PARAMS.center_languages) -> MapAnalysis:
    """Clusters (HDBSCAN on the map, ``min_cluster_size``), their labels and language mix,
    how much languages mix on the map, and cross-lingual P@1 in embedding space (on the
    language-centred vectors when ``center``)."""
    from e5desk.core import projection_large as large
    from e5desk.core.alignment import cross_lingual_p_at_1, mixing_score
    from e5desk.core.clusters import describe_clusters, hdbscan_labels

    if len(coords) > large.SAMPLED_CLUSTERS:  # HDBSCAN on a sample, the rest assigned
        labels = large.sampled_clusters(coords, min_cluster_size(large.CLUSTER_SAMPLE))
        clusters = large.describe_sampled(labels, texts, langs)
        mixing = large.mixing_sampled(coords, language_names(langs), k=MIXING_K)
    else:
        labels = hdbscan_labels(coords, min_cluster_size=min_cluster_size(len(coords)))
        clusters = describe_clusters(labels, list(texts), list(langs))
        mixing = mixing_score(coords, list(langs), k=MIXING_K)
    p_at_1 = None
    if vectors is not None and groups is not None and any(g is not None for g in groups):
        center = center and not lone_languages(langs)  # as the map itself (no erased rows)
        x = center_languages(vectors, list(langs)) if center else vectors
        p_at_1 = cross_lingual_p_at_1(x, list(langs), list(groups))[0]
        if p_at_1 is not None and not np.isfinite(p_at_1):
            p_at_1 = None  # no group with two languages: nothing to measure
    return MapAnalysis(np.asarray(labels), clusters, mixing, p_at_1)


def top_clusters(clusters: Sequence, n: int = LABELLED_CLUSTERS) -> list:
    """The clusters to label: the ``n`` largest, largest first (ties by id)."""
    return sorted(clusters, key=lambda c: (-c.size, c.id))[:n]


def cluster_centres(coords: np.ndarray, labels: np.ndarray, clusters: Sequence
                    ) -> np.ndarray:
    """(len(clusters), 2): where each cluster's label goes — the member nearest the mean
    (a label on a point of its own cluster, even for curved clusters)."""
    out = np.zeros((len(clusters), 2), dtype=np.float64)
    for i, c in enumerate(clusters):
        xy = coords[labels == c.id]
        if not len(xy):
            continue
        mean = xy.mean(axis=0)
        out[i] = xy[np.argmin(((xy - mean) ** 2).sum(axis=1))]
    return out


LABEL_LEVELS = (5, 15)  # groups of clusters labelled above the clusters themselves
LEVEL_ZOOM = 2.0  # each finer level of labels joins at this much more zoom


@dataclass
class LabelLevel:
    """One level of the label hierarchy: its clusters (core.clusters.Cluster; merged
    groups above the last level) and where each label goes on the map."""

    clusters: list
    anchors: np.ndarray  # (m, 2)


def label_levels(coords: np.ndarray, labels: np.ndarray, clusters: Sequence,
                 texts: Sequence[str], langs: Sequence) -> list[LabelLevel]:
    """Labels by level, coarsest first: the clusters merged into ``LABEL_LEVELS`` groups
    (Ward linkage of the clusters' mean positions on the map; each group is labelled by its
    largest cluster and how many more it holds, as words shared by neighbouring but different
    topics read as noise: "einem · gibt"), then the clusters themselves (the
    ``LABELLED_CLUSTERS`` largest). A level is made only where it has at most two thirds as
    many labels as the next."""
    from scipy.cluster.hierarchy import fcluster, linkage

    from e5desk.core import projection_large as large
    from e5desk.core.clusters import describe_clusters

    labels = np.asarray(labels)
    fine = top_clusters(clusters)
    last = LabelLevel(fine, cluster_centres(coords, labels, fine).reshape(-1, 2))
    if len(clusters) < 3:
        return [last]
    ids = np.array([c.id for c in clusters])
    means = np.array([coords[labels == c].mean(axis=0) for c in ids], dtype=np.float64)
    tree = linkage(means, "ward")
    by_id = {c.id: c for c in clusters}
    levels = []
    for k in LABEL_LEVELS:
        if k * 1.5 > len(clusters):
            continue
        group = fcluster(tree, k, criterion="maxclust") - 1
        lookup = np.full(int(ids.max()) + 2, -1)
        lookup[ids + 1] = group
        merged = lookup[labels + 1]
        if len(merged) > large.SAMPLED_CLUSTERS:
            groups = large.describe_sampled(merged, texts, langs)
        else:
            groups = describe_clusters(merged, list(texts), list(langs), n_keywords=2)
        for g in groups:  # a group reads as its largest cluster, and how many more it holds
            members = [by_id[i] for i in ids[group == g.id]]
            biggest = max(members, key=lambda c: c.size)
            g.label = biggest.label + (f" (+{len(members) - 1})" if len(members) > 1 else "")
            g.keywords = list(biggest.keywords)
        groups = top_clusters(groups)
        levels.append(LabelLevel(groups, cluster_centres(coords, merged, groups)
                                 .reshape(-1, 2)))
    return [*levels, last]


def levels_in_view(zoom: float, n_levels: int) -> int:
    """How many levels of labels (coarsest first) a view shows at ``zoom`` (the map's
    extent over the view's): the first always, one more each ``LEVEL_ZOOM`` times."""
    if zoom <= 0 or not np.isfinite(zoom):
        return 1
    return int(np.clip(1 + np.floor(np.log(zoom * 1.001) / np.log(LEVEL_ZOOM)), 1, n_levels))


def draw_order(n: int, seed: int = 0) -> np.ndarray:
    """The order points are drawn in: a fixed shuffle, so no language (or set) is always
    painted over the others; the same map draws the same way every time."""
    return np.random.default_rng(seed).permutation(n)


@dataclass
class LabelPlacement:
    """Where the labels go: ``centres`` (m, 2) of their boxes, ``shown`` (m,) which are
    drawn, ``leader`` (m,) which sit away from their cluster and get a line to it."""

    centres: np.ndarray
    shown: np.ndarray
    leader: np.ndarray

    def boxes(self, sizes: np.ndarray) -> np.ndarray:
        """(m, 4) x0, y0, x1, y1 of every label box."""
        half = np.asarray(sizes, dtype=np.float64).reshape(-1, 2) / 2
        return np.hstack([self.centres - half, self.centres + half])


# Where a label may go around its anchor, in label heights (dx in half widths + heights):
# on the anchor's top first (as the window always did), then the 8 sides, then further out.
_CANDIDATES = [(0, -1), (0, 1), (1, 0), (-1, 0), (1, -1), (-1, -1), (1, 1), (-1, 1)]
LEADER_RINGS = 5  # rings of candidate positions tried before a label is left out


def _overlaps(box: np.ndarray, boxes: np.ndarray) -> bool:
    if not len(boxes):
        return False
    return bool(np.any((box[0] < boxes[:, 2]) & (box[2] > boxes[:, 0])
                       & (box[1] < boxes[:, 3]) & (box[3] > boxes[:, 1])))


def place_labels(anchors: np.ndarray, sizes: np.ndarray,
                 bounds: tuple[float, float, float, float] | None = None,
                 gap: float = 2.0) -> LabelPlacement:
    """Collision-aware label placement: ``anchors`` (m, 2) points each label belongs to and
    ``sizes`` (m, 2) widths/heights, in one coordinate system with y down (pixels), in
    priority order (largest cluster first). Each label takes the first position around its
    anchor (above it, the sides, then rings further out) whose box, grown by ``gap``,
    overlaps no label placed before it and stays inside ``bounds`` (x0, y0, x1, y1); one
    placed away from its anchor is marked for a leader line; one with no free position is
    not shown (zooming in spreads the anchors apart: more labels fit)."""
    anchors = np.asarray(anchors, dtype=np.float64).reshape(-1, 2)
    sizes = np.asarray(sizes, dtype=np.float64).reshape(-1, 2)
    m = len(anchors)
    centres = anchors.copy()
    shown = np.zeros(m, dtype=bool)
    leader = np.zeros(m, dtype=bool)
    placed = np.zeros((0, 4))
    for i in range(m):
        (x, y), (w, h) = anchors[i], sizes[i]
        if bounds is not None and not (bounds[0] <= x <= bounds[2]
                                       and bounds[1] <= y <= bounds[3]):
            continue  # its cluster is out of view
        for ring in range(1, LEADER_RINGS + 1):
            for dx, dy in _CANDIDATES:
                # Ring 1 touches the anchor; outer rings step out by label heights.
                cx = x + dx * (w / 2 + (ring - 1) * h + (4 if dx else 0))
                cy = y + dy * (h / 2 + 3 + (ring - 1) * h * 1.5)
                box = np.array([cx - w / 2 - gap, cy - h / 2 - gap,
                                cx + w / 2 + gap, cy + h / 2 + gap])
                if bounds is not None and (box[0] < bounds[0] or box[1] < bounds[1]
                                           or box[2] > bounds[2] or box[3] > bounds[3]):
                    continue
                if _overlaps(box, placed):
                    continue
                placed = np.vstack([placed, box])
                centres[i] = (cx, cy)
                shown[i] = True
                leader[i] = ring > 1
                break
            if shown[i]:
                break
    return LabelPlacement(centres, shown, leader)


def link_pairs(coords: np.ndarray, groups: Sequence, shown: np.ndarray | None = None
               ) -> np.ndarray:
    """Line segments between translations: each member of a group to the group's first
    (shown) row, as (2 * segments, 2) points for a "pairs" line item."""
    shown = np.ones(len(coords), dtype=bool) if shown is None else shown
    rows = np.array([i for i, g in enumerate(groups) if g is not None and shown[i]],
                    dtype=np.int64)
    if not len(rows):
        return np.zeros((0, 2))
    _, ids = np.unique(np.array([str(groups[i]) for i in rows]), return_inverse=True)
    order = np.argsort(ids, kind="stable")
    ids, rows = ids[order], rows[order]
    head = np.r_[True, ids[1:] != ids[:-1]]
    first = rows[head][np.cumsum(head) - 1]  # each row's group head
    members = ~head
    pairs = np.empty((2 * int(members.sum()), 2))
    pairs[0::2] = coords[first[members]]
    pairs[1::2] = coords[rows[members]]
    return pairs


def links_of(row: int, coords: np.ndarray, groups: Sequence) -> np.ndarray:
    """Segments from ``row`` to each other member of its group (its translations)."""
    group = groups[row]
    if group is None:
        return np.zeros((0, 2))
    if isinstance(group, (str, int, np.integer)):  # compared in C: 1M rows in ~30 ms
        same = np.asarray(groups, dtype=object) == group
    else:
        same = np.array([g == group for g in groups], dtype=bool)
    members = np.flatnonzero(same)
    members = members[members != row]
    pairs = np.empty((2 * len(members), 2))
    pairs[0::2] = coords[row]
    pairs[1::2] = coords[members]
    return pairs


@dataclass
class Neighbour:
    lang: str
    row: int
    score: float  # cosine x 100
    translation: bool  # same group as the clicked sentence


def nearest_per_language(vectors: np.ndarray, row: int, langs: Sequence,
                         groups: Sequence | None = None,
                         coded: tuple[list[str], np.ndarray] | None = None) -> list[Neighbour]:
    """The closest other sentence to ``row`` in every language (sorted by language).
    ``coded``: ``factorize(language_names(langs))`` when the caller keeps it (a click on a
    map of a million rows then costs one matrix product and a pass per language)."""
    names, codes = coded if coded is not None else factorize(language_names(langs))
    sims = np.asarray(vectors @ vectors[row], dtype=np.float32) * 100
    sims[row] = -np.inf
    out = []
    for code in np.argsort(names, kind="stable"):
        mine = codes == code
        best = int(np.argmax(np.where(mine, sims, -np.inf)))
        if not mine[best] or not np.isfinite(sims[best]):
            continue  # the language has no row but ``row`` itself
        same = groups is not None and groups[best] is not None and groups[best] == groups[row]
        out.append(Neighbour(str(names[code]), best, float(sims[best]), bool(same)))
    return out


def score_text(encoder, text: str, vectors: np.ndarray) -> np.ndarray:
    """Score (cosine x 100) of every row of the map's vectors to a typed text, embedded
    the way the map's vectors were (core.scoring, symmetric rule)."""
    from e5desk.core.scoring import score_against

    return score_against(encoder, text, vectors, rule=MAP_RULE)


def closest_to_text(encoder, text: str, vectors: np.ndarray, k: int = 10) -> np.ndarray:
    """The ``k`` rows scoring highest to a typed text, best first ("Find on the map")."""
    return np.argsort(-score_text(encoder, text, vectors))[:k]


@dataclass
class ScoreScale:
    """Scores cut into colour levels (low to high) and the legend's bands of levels."""

    lo: float
    hi: float
    levels: np.ndarray  # level of each row, 0 .. n_levels - 1
    band_of_level: np.ndarray  # band of each level, 0 = lowest scores
    bands: list[tuple[float, float, int]]  # (from, to, rows) of each band, low to high


def score_scale(scores: np.ndarray, n_levels: int = 64, n_bands: int = 5) -> ScoreScale:
    """Map scores linearly from their minimum to their maximum onto ``n_levels`` levels,
    grouped into ``n_bands`` equal bands for the legend."""
    scores = np.asarray(scores)
    lo, hi = float(scores.min()), float(scores.max())
    span = max(hi - lo, 1e-6)
    levels = np.minimum(((scores - lo) / span * n_levels).astype(np.int64), n_levels - 1)
    band_of_level = np.arange(n_levels) * n_bands // n_levels
    counts = np.bincount(band_of_level[levels], minlength=n_bands)
    width = span / n_bands
    bands = [(lo + b * width, lo + (b + 1) * width, int(counts[b])) for b in range(n_bands)]
    return ScoreScale(lo, hi, levels, band_of_level, bands)


# -- legend categories --------------------------------------------------------------------
def language_names(langs: Sequence) -> np.ndarray:
    """Each row's language as the map names it: its code, or UNKNOWN_LANG when it has
    none."""
    return np.array([lang_key(x) for x in langs], dtype=object)


def factorize(values: Sequence) -> tuple[list[str], np.ndarray]:
    """Sorted distinct names and each value's index among them (None -> UNKNOWN_LANG)."""
    index: dict = {}
    codes = np.fromiter((index.setdefault(v, len(index)) for v in values), dtype=np.int64,
                        count=len(values))
    names = [UNKNOWN_LANG if v is None else str(v) for v in index]
    return _sorted_codes(names, codes)


def language_label(code: str) -> str:
    """A legend's name for a language code: "German (de)"; none is "unknown language"."""
    from e5desk.core.langid import display_name

    if lang_key(code) == UNKNOWN_LANG:
        return "unknown language"
    name = display_name(code)
    return code if name == code else f"{name} ({code})"


def legend_entries(langs: Sequence) -> list[tuple[str, str]]:
    """(code, "German (de) · 64") per language of ``langs``, most sentences first."""
    names, codes = factorize(list(language_names(langs)))
    counts = np.bincount(codes, minlength=len(names)) if len(codes) else np.zeros(len(names))
    order = sorted(range(len(names)), key=lambda i: (-counts[i], names[i]))
    return [(names[i], f"{language_label(names[i])} · {int(counts[i]):,}") for i in order]


def cluster_categories(labels: np.ndarray) -> tuple[list[str], np.ndarray]:
    """Legend names of a map's clusters ("cluster 3", "noise" for -1), sorted by name, and
    each row's index among them."""
    ids, codes = np.unique(labels, return_inverse=True)
    return _sorted_codes([f"cluster {c}" if c >= 0 else "noise" for c in ids], codes)


def _sorted_codes(names: list[str], codes: np.ndarray) -> tuple[list[str], np.ndarray]:
    order = np.argsort(np.array(names, dtype=object), kind="stable")
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    return [names[i] for i in order], rank[codes] if len(codes) else codes


# -- colours ------------------------------------------------------------------------------
# Colour-blind-safe qualitative colours: Paul Tol's "muted" scheme (9) and the Okabe-Ito
# colours not close to them. Each language code keeps its colour across datasets and
# projects: common codes have a fixed slot, the others one picked from their code's CRC.
# Paul Tol's muted scheme plus Okabe-Ito blue, orange and vermillion: colour-blind safe.
# Chosen so that the nine languages of the sample (en de fr es ja zh ru ar hi) get the nine
# colours furthest apart (CIELAB distance >= 34); pt, it and ko the other three.
SAFE_COLOURS = ["#0072b2", "#d55e00", "#117733", "#cc6677", "#332288", "#ddcc77",
                "#88ccee", "#aa4499", "#999933", "#882255", "#e69f00", "#44aa99"]
_FIXED = {code: i for i, code in enumerate(
    ["en", "de", "fr", "es", "ja", "zh", "ru", "ar", "pt", "it", "ko", "hi"])}
_FIXED.update({"nl": 3, "pl": 1, "tr": 4, "sv": 5, "uk": 7, "vi": 8, "id": 9, "cs": 10,
               "fa": 11, "he": 2, "th": 6, "el": 0})
UNKNOWN_COLOUR = "#8c8c8c"


def language_colour(code: str | None) -> str:
    """A fixed colour (hex) for a language code: the same code, the same colour, always."""
    if lang_key(code) == UNKNOWN_LANG:
        return UNKNOWN_COLOUR
    base = str(code).lower().replace("_", "-").split("-")[0]
    slot = _FIXED.get(base)
    if slot is None:
        slot = zlib.crc32(base.encode()) % len(SAFE_COLOURS)
    return SAFE_COLOURS[slot]


def category_colours(n: int) -> list[str]:
    """Colours for ``n`` categories without a fixed meaning (clusters, sets)."""
    if n <= len(SAFE_COLOURS):
        return SAFE_COLOURS[:n]
    import colorsys

    out = []
    for i in range(n):
        r, g, b = colorsys.hls_to_rgb((i * 0.618034) % 1.0, 0.5, 0.6)
        out.append(f"#{int(r * 255):02x}{int(g * 255):02x}{int(b * 255):02x}")
    return out
