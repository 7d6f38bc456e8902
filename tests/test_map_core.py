"""Projection, clusters and alignment figures on small data with known answers."""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np
import pytest

from e5desk.core.alignment import cross_lingual_p_at_1, mixing_score
from e5desk.core.clusters import default_tokens, describe_clusters, hdbscan_labels
from e5desk.core.errors import Cancelled, E5DeskError
from e5desk.core.projection import (
    MapParams,
    cell_knn,
    center_languages,
    exact_knn,
    knn,
    layout_epochs,
    points_in_polygon,
    points_in_rect,
    project,
    project_in_process,
    umap_2d,
)


def unit(x):
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


@pytest.fixture
def parallel():
    """6 meanings x 3 languages: meaning vector + a strong per-language offset."""
    rng = np.random.default_rng(0)
    meanings = rng.normal(size=(6, 16))
    offsets = rng.normal(size=(3, 16)) * 3
    vectors, langs, groups = [], [], []
    for li, lang in enumerate(["en", "de", "ja"]):
        for m in range(6):
            vectors.append(meanings[m] + offsets[li] + rng.normal(size=16) * 0.05)
            langs.append(lang)
            groups.append(f"g{m}")
    return unit(np.array(vectors)), langs, groups


def test_centering_removes_language_means(parallel):
    vectors, langs, _ = parallel
    centered = center_languages(vectors, langs)
    np.testing.assert_allclose(np.linalg.norm(centered, axis=1), 1, atol=1e-5)
    # After centering, each language's mean is (near) zero before renormalising.
    for lang in set(langs):
        rows = [i for i, x in enumerate(langs) if x == lang]
        assert np.linalg.norm(centered[rows].mean(0)) < 0.35
        assert np.linalg.norm(vectors[rows].mean(0)) > 0.8


def test_p_at_1_by_hand():
    # en0 -> de0 correct; en1 -> de0 wrong; de0 -> en0 correct; de1 -> en1 correct
    v = unit(np.array([[1, 0.0], [0.9, 0.1], [1, 0.05], [0.2, 1]]))
    overall, pairs = cross_lingual_p_at_1(v, ["en", "en", "de", "de"], ["a", "b", "a", "b"])
    assert pairs[("en", "de")] == 0.5 and pairs[("de", "en")] == 1.0
    assert overall == 0.75


def test_centering_raises_cross_lingual_p_at_1(parallel):
    vectors, langs, groups = parallel
    before, _ = cross_lingual_p_at_1(vectors, langs, groups)
    after, _ = cross_lingual_p_at_1(center_languages(vectors, langs), langs, groups)
    assert after == 1.0 and after >= before


def test_mixing_score_by_hand():
    coords = np.array([[0, 0], [0, 0.1], [10, 10], [10, 10.1]], dtype=float)
    assert mixing_score(coords, ["en", "en", "de", "de"], k=1) == 0.0
    assert mixing_score(coords, ["en", "de", "en", "de"], k=1) == 1.0


def test_pca_and_cache_and_determinism(parallel):
    vectors, langs, _ = parallel
    a = project(vectors, MapParams("pca"))
    assert a.shape == (18, 2) and a.dtype == np.float32
    assert project(vectors, MapParams("pca")) is a  # cached
    b = project(vectors, MapParams("pca", center_languages=True), langs)
    assert not np.allclose(a, b)
    with pytest.raises(E5DeskError, match="unknown map method"):
        project(vectors, MapParams("mds"))


def test_exact_knn_and_cancel(parallel):
    vectors, _, _ = parallel
    idx, dist = exact_knn(vectors, 4, block=5)
    assert (idx[:, 0] == np.arange(len(vectors))).all() and (dist[:, 0] == 0).all()
    assert (np.diff(dist, axis=1) >= -1e-6).all()
    with pytest.raises(Cancelled):
        umap_2d(vectors, cancelled=lambda: True)


def clustered(n: int, dim: int = 32, centres: int = 20, noise: float = 0.6, seed: int = 0):
    rng = np.random.default_rng(seed)
    c = rng.normal(size=(centres, dim))
    return unit(c[rng.integers(0, centres, n)] + rng.normal(size=(n, dim)) * noise)


def test_exact_knn_matches_brute_force():
    x = clustered(700)
    idx, dist = exact_knn(x, 10, block=128)
    sims = x @ x.T
    np.fill_diagonal(sims, 2.0)
    expected = np.argsort(-sims, axis=1, kind="stable")[:, :10]
    assert (idx == expected).mean() > 0.999  # float ties aside
    np.testing.assert_allclose(dist[:, 1:], 1 - np.take_along_axis(sims, expected, 1)[:, 1:],
                               atol=1e-5)


def test_cell_knn_finds_nearly_all_true_neighbours():
    x = clustered(4000)
    exact, _ = exact_knn(x, 15)
    approx, dist = cell_knn(x, 15, cell_size=100)  # 40 cells, each searches 4
    assert (approx[:, 0] == np.arange(len(x))).all() and (dist[:, 0] == 0).all()
    assert (np.diff(dist, axis=1) >= -1e-6).all()
    recall = np.mean([len(set(a) & set(e)) / 15 for a, e in zip(approx, exact, strict=True)])
    assert recall > 0.95
    again, _ = cell_knn(x, 15, cell_size=100)
    assert np.array_equal(approx, again)  # deterministic
    # Distances are the true cosine distances of the rows found.
    true = 1 - np.einsum("ij,ikj->ik", x, x[approx])
    np.testing.assert_allclose(dist[:, 1:], true[:, 1:], atol=1e-5)


def test_cell_knn_small_cells_still_give_k_neighbours():
    x = clustered(300, centres=3)
    idx, _ = cell_knn(x, 40, probes=1, cell_size=10)  # cells of ~10 rows, k = 40
    assert idx.shape == (300, 40)
    assert all(len(set(row)) == 40 for row in idx)


def test_knn_switches_to_cells_above_the_limit(monkeypatch):
    x = clustered(500)
    monkeypatch.setattr("e5desk.core.projection.EXACT_KNN_MAX", 100)
    assert np.array_equal(knn(x, 5)[0], cell_knn(x, 5)[0])
    monkeypatch.setattr("e5desk.core.projection.EXACT_KNN_MAX", 1000)
    assert np.array_equal(knn(x, 5)[0], exact_knn(x, 5)[0])


def test_points_in_rect_by_hand():
    coords = np.array([[0, 0], [1, 1], [2, 2], [1, 3], [-1, 1]], dtype=np.float32)
    assert points_in_rect(coords, 0, 0, 2, 2).tolist() == [0, 1, 2]  # edges included
    assert points_in_rect(coords, 2, 3, -1, 0.5).tolist() == [1, 2, 3, 4]  # any corner order
    assert points_in_rect(coords, 5, 5, 6, 6).tolist() == []


def inside_brute_force(point, polygon) -> bool:
    """Even-odd rule, one point at a time (the textbook loop)."""
    x, y = point
    inside = False
    for (ax, ay), (bx, by) in zip(polygon, np.roll(polygon, -1, axis=0), strict=True):
        if (ay > y) != (by > y) and x < ax + (y - ay) * (bx - ax) / (by - ay):
            inside = not inside
    return inside


def test_points_in_polygon_matches_brute_force():
    rng = np.random.default_rng(3)
    coords = rng.uniform(-2, 2, size=(3000, 2))
    coords[:50] = np.round(coords[:50] * 2) / 2  # some level with vertices
    angles = np.linspace(0, 2 * np.pi, 11)[:-1]
    star = np.c_[np.cos(angles), np.sin(angles)] * np.where(np.arange(10) % 2, 0.6, 1.8)[:, None]
    lasso = np.c_[np.cos(angles * 3) + rng.normal(0, 0.2, 10), np.sin(angles) * 1.5]
    square = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1], [-1, -1]], dtype=float)
    for polygon in (star, lasso, square):
        expected = [i for i, p in enumerate(coords) if inside_brute_force(p, polygon)]
        assert points_in_polygon(coords, polygon).tolist() == expected
        assert 0 < len(expected) < len(coords)
    assert points_in_polygon(coords, star[:2]).tolist() == []  # not a polygon


def test_umap_is_deterministic_and_puts_translations_together(parallel):
    vectors, langs, groups = parallel
    params = MapParams("umap", n_neighbors=5, center_languages=True)
    first = project(vectors, params, langs)
    project.__globals__["_CACHE"].clear()
    again = project(vectors, params, langs)
    np.testing.assert_allclose(first, again, atol=1e-4)
    # each sentence's nearest 2-D neighbour is one of its translations
    d = ((first[:, None] - first[None]) ** 2).sum(-1)
    np.fill_diagonal(d, np.inf)
    assert all(groups[j] == groups[i] for i, j in enumerate(d.argmin(1)))
    assert mixing_score(first, langs, k=2) > 0.9


def test_map_in_a_child_process_is_the_map_of_this_process(parallel):
    """The map tab's path (the child imports umap while this process finds the neighbours)
    draws the same seeded map as project() here, and reports its stages in order."""
    vectors, langs, _ = parallel
    params = MapParams("umap", n_neighbors=5, center_languages=True)
    here = project(vectors, params, langs)
    project.__globals__["_CACHE"].clear()
    seen = []
    there = project_in_process(vectors, params, langs, progress=lambda d, t: seen.append(d))
    np.testing.assert_allclose(there, here, atol=1e-4)
    assert seen[0] == 0 and seen[-1] == 3 and seen == sorted(seen)
    with pytest.raises(Cancelled):  # cancelled while this process still seeks neighbours
        project.__globals__["_CACHE"].clear()
        project_in_process(vectors, params, langs, cancelled=lambda: True)


def test_layout_epochs_fall_with_size():
    assert layout_epochs(500) == 500 and layout_epochs(10_000) == 200
    assert layout_epochs(40_000) == 100 and layout_epochs(100_000) == 60
    assert layout_epochs(1_000_000) == 60


def test_cluster_labels_for_cjk_and_latin():
    texts = ["火车站在哪里", "火车站很远", "火车票多少钱",
             "the weather is sunny", "sunny weather today", "weather will be sunny"]
    labels = np.array([0, 0, 0, 1, 1, 1])
    clusters = describe_clusters(labels, texts, ["zh"] * 3 + ["en"] * 3)
    assert "火车" in clusters[0].keywords and clusters[0].languages == {"zh": 1.0}
    assert {"weather", "sunny"} <= set(clusters[1].keywords)
    assert clusters[1].entropy == 0.0
    assert "火车" in default_tokens("火车站")


def test_hdbscan_finds_blobs():
    rng = np.random.default_rng(1)
    pts = np.concatenate([rng.normal(0, 0.1, (20, 2)), rng.normal(5, 0.1, (20, 2))])
    labels = hdbscan_labels(pts, min_cluster_size=5)
    assert len(set(labels[:20])) == 1 and len(set(labels[20:])) == 1
    assert labels[0] != labels[-1] and (labels >= 0).all()


# -- the map pipeline (core.mapping): what the CLI, the PNG and the window share ----------
def test_analyse_map_clusters_figures_and_cluster_size_rule():
    from e5desk.core.mapping import analyse_map, min_cluster_size

    assert min_cluster_size(100) == 10 and min_cluster_size(4000) == 100
    rng = np.random.default_rng(1)
    centres = np.array([[0, 0], [20, 0], [0, 20]], dtype=float)
    coords = np.concatenate([c + rng.normal(size=(30, 2)) for c in centres])
    langs = ["en", "de", "ja"] * 30
    groups = [f"g{i // 3}" for i in range(90)]
    texts = ["rain tomorrow"] * 30 + ["open the file"] * 30 + ["train station"] * 30
    vectors = unit(np.concatenate([np.tile(c, (30, 1)) for c in np.eye(3)]) +
                   rng.normal(size=(90, 3)) * 0.01)
    a = analyse_map(coords, vectors, texts, langs, groups, center=False)
    assert len(a.clusters) == 3 and a.multilingual == 3
    assert 0.5 < a.mixing <= 1.0 and a.p_at_1 is not None
    assert "3 clusters" in a.summary()[0]
    assert analyse_map(coords, None, texts, langs).p_at_1 is None


def test_labels_never_overlap_and_links_and_nearest():
    from e5desk.core.mapping import link_pairs, links_of, nearest_per_language, place_labels

    anchors = np.array([[0, 0], [5, 0], [30, 0], [31, 30]], dtype=float)
    placement = place_labels(anchors, np.full((4, 2), [20.0, 10.0]))
    # The second label's own place is taken: it moves beside its anchor, none overlap.
    assert placement.shown.all()
    assert not placement.leader[0] and placement.centres[0].tolist() == [0, -8]
    assert placement.centres[1].tolist() != [5, -8]
    boxes = placement.boxes(np.full((4, 2), [20.0, 10.0]))
    assert not _overlapping(boxes)
    coords = np.arange(10, dtype=float).reshape(5, 2)
    groups = ["a", "b", "a", None, "a"]
    pairs = link_pairs(coords, groups)
    assert pairs.shape == (4, 2) and (pairs[0::2] == coords[0]).all()
    assert len(links_of(3, coords, groups)) == 0 and len(links_of(2, coords, groups)) == 4
    v = unit(np.array([[1, 0.0], [0.9, 0.1], [1, 0.05], [0.2, 1]]))
    near = nearest_per_language(v, 0, ["en", "en", "de", "de"], ["a", "b", "a", "b"])
    assert [(n.lang, n.row, n.translation) for n in near] == [("de", 2, True),
                                                              ("en", 1, False)]


def test_language_colours_fixed_and_distinct():
    from e5desk.core.mapping import SAFE_COLOURS, language_colour

    common = ["en", "de", "fr", "es", "ja", "zh", "ru", "ar", "pt", "it", "ko", "hi"]
    assert len({language_colour(c) for c in common}) == len(common)
    assert language_colour("pt-BR") == language_colour("pt") == language_colour("pt_BR")
    assert language_colour("sw") in SAFE_COLOURS and language_colour("sw") == \
        language_colour("sw")
    assert language_colour(None) == language_colour("?") != language_colour("en")


def _lab(hex_colour: str) -> np.ndarray:
    """sRGB hex -> CIELAB (D65), for perceptual colour distances."""
    c = np.array([int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)])
    c = np.where(c > 0.04045, ((c + 0.055) / 1.055) ** 2.4, c / 12.92)
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722],
                    [0.0193, 0.1192, 0.9505]]) @ c / np.array([0.9505, 1.0, 1.089])
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def test_the_most_common_languages_look_clearly_different():
    """Russian and Arabic, German and French, Japanese and Chinese share maps all the time:
    their colours must not be near-twins (CIELAB distance; ~2 is just noticeable; the old
    palette had 23 between ja and zh and 29 between ru and ar)."""
    from itertools import combinations

    from e5desk.core.mapping import language_colour

    common = ["en", "de", "fr", "es", "ja", "zh", "ru", "ar", "hi"]
    gaps = {(a, b): float(np.linalg.norm(_lab(language_colour(a)) - _lab(language_colour(b))))
            for a, b in combinations(common, 2)}
    assert min(gaps.values()) >= 34, min(gaps.items(), key=lambda kv: kv[1])


def test_score_text_goes_through_core_scoring():
    from e5desk.core.mapping import score_text

    class Encoder:
        roles = []

        def encode(self, texts, role, task=None):
            self.roles.append(role)
            return unit(np.array([[1.0, 0.0]]))

    v = unit(np.array([[1.0, 0.0], [0.0, 1.0]]))
    scores = score_text(Encoder(), "hello", v)
    assert scores.tolist() == [100.0, 0.0] and Encoder.roles == ["query"]


def test_cluster_labels_on_real_catalogues_are_words_a_person_reads():
    """Five real-shaped gettext catalogues (Django-like: %(limit_value)s, {min}, dates),
    clusters of ten meanings each across their languages: every label word is a real word."""
    import re
    from pathlib import Path

    from e5desk.core.clusters import RUN, STOP
    from e5desk.core.data import concat_sets, load_sentence_set

    paths = sorted(Path("tests/data/real/catalogues").glob("*.po"))
    combined = concat_sets([load_sentence_set(p).sentence_set for p in paths])
    groups = [str(g) for g in combined.group]
    order = {g: i for i, g in enumerate(dict.fromkeys(groups))}
    labels = np.array([order[g] // 10 for g in groups])
    texts, langs = list(combined.text), list(combined.lang)
    assert any("%(" in t for t in texts)
    clusters = describe_clusters(labels, texts, langs)
    words = [w for c in clusters for w in c.keywords]
    assert len(words) >= 2 * len(clusters)
    for w in words:
        assert not re.search(r"[%{}()_<>\d]", w), w
        assert not RUN.search(w) and w not in STOP, w
    # Labels read across languages: most name words of two or more languages.
    lang_of = {}
    for t, lang in zip(texts, langs, strict=True):
        for w in default_tokens(t):
            lang_of.setdefault(w, set()).add(lang)
    across = sum(1 for c in clusters if len({min(lang_of[w]) for w in c.keywords}) >= 2)
    assert across >= len(clusters) // 2


def test_tokens_drop_placeholders_identifiers_runs_and_stop_words():
    text = ("Ensure this value has at least {min} characters %(limit_value)d, %s, %1$s, "
            "${name}, <b>bold</b> uuuuuu limitValue www.example.com a@b.org the password")
    assert default_tokens(text) == ["ensure", "value", "least", "characters", "bold",
                                    "password"]
    assert default_tokens("パスワードを変更しました") == ["パスワード", "変更"]


def test_legend_categories_by_hand():
    from e5desk.core.mapping import cluster_categories, factorize, language_names

    assert language_names(["en", None, "", "de"]).tolist() == ["en", "?", "?", "de"]
    names, codes = factorize(["fr", "de", None, "fr"])
    assert names == ["?", "de", "fr"] and codes.tolist() == [2, 1, 0, 2]
    names, codes = factorize([])
    assert names == [] and len(codes) == 0
    # Sorted by name, not by id: "cluster 10" before "cluster 2"; noise is named.
    names, codes = cluster_categories(np.array([2, -1, 10, 2]))
    assert names == ["cluster 10", "cluster 2", "noise"] and codes.tolist() == [1, 2, 0, 1]


def test_score_scale_levels_and_bands_by_hand():
    from e5desk.core.mapping import score_scale

    s = score_scale(np.array([70.0, 80.0, 90.0, 75.0]), n_levels=4, n_bands=2)
    assert (s.lo, s.hi) == (70.0, 90.0)
    assert s.levels.tolist() == [0, 2, 3, 1]  # the maximum lands in the top level
    assert s.band_of_level.tolist() == [0, 0, 1, 1]
    assert s.bands == [(70.0, 80.0, 2), (80.0, 90.0, 2)]
    flat = score_scale(np.full(3, 50.0), n_levels=64, n_bands=5)
    assert flat.levels.tolist() == [0, 0, 0] and sum(b[2] for b in flat.bands) == 3


def test_closest_to_text_best_first():
    from e5desk.core.mapping import closest_to_text

    class Encoder:
        def encode(self, texts, role, task=None):
            return unit(np.array([[1.0, 0.2]]))

    v = unit(np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 0.3], [-1.0, 0.0]]))
    assert closest_to_text(Encoder(), "hello", v, k=2).tolist() == [2, 1]
    assert closest_to_text(Encoder(), "hello", v).tolist() == [2, 1, 0, 3]


def _overlapping(boxes: np.ndarray) -> list[tuple[int, int]]:
    return [(i, j) for i in range(len(boxes)) for j in range(i + 1, len(boxes))
            if boxes[i, 0] < boxes[j, 2] and boxes[j, 0] < boxes[i, 2]
            and boxes[i, 1] < boxes[j, 3] and boxes[j, 1] < boxes[i, 3]]


def _label_sizes(labels: list[str]) -> np.ndarray:
    """Pixel sizes of bold 13 px labels, wide for CJK (as the window measures them)."""
    def width(text: str) -> float:
        return sum(14 if ord(ch) > 0x2E80 else 8 for ch in text) + 10
    return np.array([[width(t), 20.0] for t in labels]).reshape(-1, 2)


def _real_shaped(texts, langs, groups, topics, seed=0):
    """Map coordinates shaped like a real map: one blob per topic, translations of one
    group close together, languages mixed; clusters and labels from the real texts."""
    from e5desk.core.mapping import analyse_map

    rng = np.random.default_rng(seed)
    names = sorted(set(topics))
    # topics on a jittered grid: apart enough to be clusters, near enough to crowd labels
    side = int(np.ceil(np.sqrt(len(names))))
    centres = {t: np.array([i % side, i // side]) * 5.0 + rng.normal(size=2)
               for i, t in enumerate(names)}
    group_at = {g: rng.normal(size=2) * 0.8 for g in sorted(set(groups))}  # hash-seed free
    coords = np.array([centres[t] + group_at[g] + rng.normal(size=2) * 0.15
                       for t, g in zip(topics, groups, strict=True)])
    return coords, analyse_map(coords, None, texts, langs, groups, center=False)


def _placed_without_overlap(coords, analysis, scale, near=True):
    from e5desk.core.mapping import cluster_centres, place_labels, top_clusters

    chosen = top_clusters(analysis.clusters)
    mid = (coords.min(axis=0) + coords.max(axis=0)) / 2
    anchors = (cluster_centres(coords, analysis.labels, chosen) - mid) * scale + 500
    sizes = _label_sizes([c.label for c in chosen])
    placement = place_labels(anchors, sizes, bounds=(0, 0, 1000, 1000))
    naive = np.hstack([anchors - sizes / 2, anchors + sizes / 2])
    placement.crowded = bool(_overlapping(naive))  # labels on their anchors would collide
    assert not _overlapping(placement.boxes(sizes)[placement.shown])
    # Labels moved aside get a leader line; none is further than a few heights away.
    far = np.abs(placement.centres - anchors)[placement.shown]
    assert not near or (far[:, 1] <= 4 * sizes[placement.shown, 1] + 10).all()
    return placement


def test_labels_on_real_shaped_sets_never_overlap_and_more_show_when_zoomed():
    """The bundled sample (10 languages x 64 groups, 8 topics) and a set shaped like five
    catalogues (tests/data/real: one source + 5 languages per message, many messages)."""
    import csv

    from e5desk.core.resources import resource_path

    with open(resource_path("samples", "phrases.csv"), encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    langs_cols = [k for k in rows[0] if k not in ("group", "topic")]
    texts, langs, groups, topics = [], [], [], []
    for r in rows:
        for lang in langs_cols:
            texts.append(r[lang])
            langs.append(lang)
            groups.append(r["group"])
            topics.append(r["topic"])
    sets = [(texts, langs, groups, topics)]

    from e5desk.core.data import load_many

    catalogues = sorted((Path(__file__).parent / "data" / "real" / "catalogues").glob("*.po"))
    po = [r.sentence_set for r in load_many(catalogues[:5])]
    ptexts = [t for s in po for t in s.text]
    plangs = [x for s in po for x in s.lang]
    pgroups = [str(g) for s in po for g in s.group]
    # 40 "topics": messages sharing a group stay together, groups spread over topics.
    ptopics = [str(zlib.crc32(g.encode()) % 40) for g in pgroups]
    sets.append((ptexts, plangs, pgroups, ptopics))
    crowded = []
    for texts, langs, groups, topics in sets:
        coords, analysis = _real_shaped(texts, langs, groups, topics)
        assert len(analysis.clusters) >= 5
        span = np.ptp(coords, axis=0).max()
        wide = _placed_without_overlap(coords, analysis, 600 / span)
        crowded.append(wide.crowded)
        # Every cluster gets its label in the whole-map view.
        assert wide.shown.all(), (wide.shown.sum(), len(wide.shown))
        # Zoomed in 3x on the middle: what is in view is labelled, still without overlap.
        zoomed = _placed_without_overlap(coords, analysis, 3 * 600 / span)
        assert zoomed.shown.sum() >= 1
        # Zoomed out to half: labels on their anchors collide, placed ones still do not.
        tight = _placed_without_overlap(coords, analysis, 0.5 * 600 / span, near=False)
        crowded.append(tight.crowded)
        assert tight.shown.sum() >= 1
    assert any(crowded)  # the placement had work to do: on their anchors they collide


def test_map_workflow_stages_preview_first_and_levels_for_the_window(parallel):
    """The window runs the workflow's steps: a PCA preview before any slower map (none when
    the PCA map is asked for), the same coordinates as the CLI's map_vectors, and the
    analysis with its labels by level."""
    from e5desk.core.mapping import label_levels
    from e5desk.workflows.map import analyse, map_vectors, project_vectors, stages

    umap = MapParams("umap", center_languages=True)
    assert stages(umap) == [MapParams("pca", center_languages=True), umap]
    pca = MapParams("pca")
    assert stages(pca) == [pca]
    vectors, langs, groups = parallel
    texts = [f"sentence {g}" for g in groups]
    cli = map_vectors(vectors, texts, langs, groups, pca)
    assert np.array_equal(project_vectors(vectors, langs, pca), cli.coords)
    assert cli.analysis.levels is None
    with pytest.raises(E5DeskError, match="language for every"):
        map_vectors(vectors, texts, [None] * 18, groups, MapParams("pca", center_languages=True))
    rng = np.random.default_rng(1)  # three blobs of 30: clusters, so levels to compare
    coords = np.concatenate([c + rng.normal(size=(30, 2)) for c in ([0, 0], [20, 0], [0, 20])])
    texts = ["rain tomorrow"] * 30 + ["open the file"] * 30 + ["train station"] * 30
    langs = ["en", "de", "ja"] * 30
    window = analyse(coords, None, texts, langs, None, False, levels=True)
    assert len(window.clusters) == 3
    levels = label_levels(coords, window.labels, window.clusters, texts, langs)
    assert [len(x.clusters) for x in window.levels] == [len(x.clusters) for x in levels] != []


def test_a_set_without_languages_is_not_centred_by_language():
    """Centring one "unknown" group is only subtracting the mean of everything: the window
    (whose switch is on by default) maps such a set as the CLI does, uncentred, and says so."""
    from e5desk.core.projection import MapParams, effective_params

    wanted = MapParams("umap", center_languages=True)
    params, notes = effective_params(500, wanted, [None] * 500)
    assert params.center_languages is False and params.method == "umap"
    assert notes == ["not centred by language: no sentence has a language"]
    params, notes = effective_params(500, wanted, ["en"] * 250 + [None] * 250)
    assert params.center_languages is True and not notes  # some languages: centred as before
    params, _ = effective_params(3, wanted, [None] * 3)
    assert (params.center_languages, params.method) == (False, "pca")  # both rules apply


def test_figures_of_a_map_without_languages_do_not_speak_of_languages():
    """Vectors opened from elsewhere with a plain text file: one unknown language. The
    figures said "each holds one language: grouped by language" and "languages sit apart"."""
    from e5desk.core.figures import map_figures
    from e5desk.core.mapping import analyse_map

    rng = np.random.default_rng(0)
    coords = np.concatenate([rng.normal(c, 0.3, size=(60, 2)) for c in (0, 8, 16)])
    texts = [f"topic {i // 60} row {i}" for i in range(len(coords))]
    figures = map_figures(analyse_map(coords, None, texts, [None] * len(coords)), len(coords))
    words = " ".join(f.headline + " " + f.plain for f in figures)
    assert figures[0].headline.startswith("3 clusters")
    assert "grouped by language" not in words and "sit apart" not in words
    assert "no sentence has a language" in words
    known = map_figures(analyse_map(coords, None, texts, ["en"] * len(coords)), len(coords))
    assert "grouped by language" in known[0].plain  # with a language: as before
