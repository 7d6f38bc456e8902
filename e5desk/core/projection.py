"""2-D maps of embeddings: an instant PCA preview, UMAP (umap-learn, cosine), and t-SNE.

Language-identity switch: E5 vectors carry a per-language offset; subtracting each
language's mean vector (then re-normalising) before projecting lets meaning dominate, so
translations land together. UMAP gets its k nearest neighbours from us: exact (blocked
matrix products) up to ``EXACT_KNN_MAX`` rows, above that from cells of a spherical k-means
(each cell searches its nearest cells exactly), which is many times cheaper than the
quadratic search and than pynndescent on two cores; numba's compiled code is cached in the
user cache directory. Larger maps start from PCA instead of UMAP's spectral layout, use fewer
layout epochs (see ``layout_epochs``), and above ``PARALLEL_LAYOUT`` rows every core.

Also here: which map points lie in a rectangle or a lasso polygon (selection on the map).
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from e5desk.core.data.sentence_set import UNKNOWN_LANG, lang_key, lang_keys
from e5desk.core.errors import Cancelled, E5DeskError
from e5desk.core.jobs import CancelCheck, Progress
from e5desk.core.similarity import top_k_rows

log = logging.getLogger(__name__)
METHODS = ("pca", "umap", "tsne")
EXACT_KNN_MAX = 20_000  # rows; above this, kNN from k-means cells (see cell_knn)
LARGE_MAP = 5_000  # rows; above this, UMAP starts from PCA and lays out in 200 epochs or fewer
PARALLEL_LAYOUT = 20_000  # rows; above this, the layout runs on every core (not seeded)
_CACHE: dict[str, np.ndarray] = {}
_CACHE_MAX = 16


@dataclass(frozen=True)
class MapParams:
    method: str = "umap"
    n_neighbors: int = 15
    min_dist: float = 0.1
    seed: int = 42
    center_languages: bool = False
    n_epochs: int | None = None  # None: layout_epochs(rows) (UMAP only)


def center_languages(vectors: np.ndarray, langs: Sequence) -> np.ndarray:
    """Subtract each language's mean vector, then L2-normalise each row again."""
    out = np.array(vectors, dtype=np.float32, copy=True)
    langs = lang_keys(langs)
    for lang in np.unique(langs):
        rows = langs == lang
        out[rows] -= out[rows].mean(axis=0)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return out / np.maximum(norms, 1e-12)


MIN_TSNE_ROWS = 5  # below this, a "t-SNE" map is the PCA map (its perplexity needs rows)


def _language_counts(langs: Sequence | None) -> dict[str, int]:
    counts: dict[str, int] = {}
    for x in langs if langs is not None else ():
        counts[lang_key(x)] = counts.get(lang_key(x), 0) + 1
    return counts


def lone_languages(langs: Sequence | None) -> list[str]:
    """Languages with a single sentence: centring by language would erase it (its own mean
    is itself), so a map with any of them is not centred."""
    return sorted(k for k, v in _language_counts(langs).items() if v < 2)


def effective_params(n: int, params: MapParams, langs: Sequence | None = None
                     ) -> tuple[MapParams, list[str]]:
    """The parameters a map of ``n`` rows really runs with, and a note for each change: too
    few rows for the method fall back to PCA; centring is left out when no sentence has a
    language or a language has one sentence. Never a map of NaN or of points all at (0, 0)
    from that."""
    from dataclasses import replace

    notes = []
    counts = _language_counts(langs) if params.center_languages and n else {}
    lone = sorted(k for k, v in counts.items() if v < 2)
    if counts and set(counts) == {UNKNOWN_LANG}:
        # One "unknown" group: centring would only subtract the mean of everything, which
        # separates no language and merged a 1M map's topic islands (HDBSCAN: 2 clusters)
        params = replace(params, center_languages=False)
        notes.append("not centred by language: no sentence has a language")
    elif lone:
        params = replace(params, center_languages=False)
        notes.append("not centred by language: " + ", ".join(lone[:8])
                     + (" has" if len(lone) == 1 else " have") + " a single sentence")
    least = {"umap": MIN_UMAP_ROWS, "tsne": MIN_TSNE_ROWS}.get(params.method, 0)
    if n < least:
        notes.append(f"{params.method} needs at least {least} sentences: PCA map of {n}")
        params = replace(params, method="pca")
    return params, notes


def pca_2d(vectors: np.ndarray) -> np.ndarray:
    from e5desk.core.projection_large import PCA_SAMPLE, pca_large

    if len(vectors) > PCA_SAMPLE:  # components from a sample, no centred copy
        return pca_large(vectors)
    x = vectors - vectors.mean(axis=0)
    if len(x) < 2:
        return np.zeros((len(x), 2), dtype=np.float32)
    # The two leading right singular vectors, from the small (dim x dim) covariance.
    cov = x.T @ x
    _, eigvecs = np.linalg.eigh(cov)
    comps = eigvecs[:, ::-1][:, :2]
    comps *= np.sign(comps[np.abs(comps).argmax(axis=0), range(2)])  # deterministic sign
    return (x @ comps).astype(np.float32)


def exact_knn(vectors: np.ndarray, k: int, block: int | None = None,
              cancelled: CancelCheck | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(indices, cosine distances) of each row's k nearest rows, itself first."""
    n = len(vectors)
    k = min(k, n)
    if block is None:  # about 32M similarities (128 MB) per block
        block = int(np.clip(32_000_000 // max(n, 1), 64, 4096))
    idx = np.empty((n, k), dtype=np.int32)
    dist = np.empty((n, k), dtype=np.float32)
    for start in range(0, n, block):
        if cancelled and cancelled():
            raise Cancelled("Map cancelled.")
        sims = vectors[start : start + block] @ vectors.T
        rows = np.arange(sims.shape[0])
        sims[rows, start + rows] = 2.0  # itself first, whatever ties exist
        top, values = top_k_rows(sims, k)
        idx[start : start + block] = top
        d = 1.0 - values
        d[:, 0] = 0.0
        dist[start : start + block] = np.maximum(d, 0.0)
    return idx, dist


def _spherical_kmeans(x: np.ndarray, n_cells: int, rng: np.random.Generator,
                      rounds: int = 5, sample: int = 50_000) -> np.ndarray:
    """Unit-length cell centres from a few rounds of spherical k-means on a sample."""
    train = x if len(x) <= sample else x[rng.choice(len(x), sample, replace=False)]
    centres = train[rng.choice(len(train), n_cells, replace=False)].astype(np.float32)
    for _ in range(rounds):
        assign = _nearest_centre(train, centres)
        order = np.argsort(assign, kind="stable")
        cells, starts = np.unique(assign[order], return_index=True)
        sums = np.zeros_like(centres)
        sums[cells] = np.add.reduceat(train[order], starts, axis=0)
        norms = np.linalg.norm(sums, axis=1, keepdims=True)
        empty = norms[:, 0] < 1e-12
        centres = np.where(empty[:, None], centres, sums / np.maximum(norms, 1e-12))
        if empty.any():  # restart empty cells on random rows
            centres[empty] = train[rng.choice(len(train), int(empty.sum()), replace=False)]
    return centres


def _nearest_centre(x: np.ndarray, centres: np.ndarray, block: int = 8192) -> np.ndarray:
    out = np.empty(len(x), dtype=np.int64)
    for start in range(0, len(x), block):
        out[start : start + block] = np.argmax(x[start : start + block] @ centres.T, axis=1)
    return out


def cell_knn(vectors: np.ndarray, k: int, probes: int = 4, cell_size: int = 512,
             seed: int = 0, cancelled: CancelCheck | None = None, max_cells: int = 1024
             ) -> tuple[np.ndarray, np.ndarray]:
    """Approximate (indices, cosine distances) of each row's k nearest rows, itself first.

    Rows are put in cells (spherical k-means, about ``cell_size`` rows each); a cell's rows
    are compared exactly with the rows of the ``probes`` cells whose centres are nearest its
    own (more cells if those hold fewer than k rows). Deterministic for a given seed. On
    clustered sentence embeddings nearly every true neighbour is found (see tests)."""
    x = np.ascontiguousarray(vectors, dtype=np.float32)
    n = len(x)
    k = min(k, n)
    n_cells = int(np.clip(n // cell_size, 1, max_cells))
    rng = np.random.default_rng(seed)
    centres = _spherical_kmeans(x, n_cells, rng)
    if cancelled and cancelled():
        raise Cancelled("Map cancelled.")
    assign = _nearest_centre(x, centres)
    order = np.argsort(assign, kind="stable")
    starts = np.searchsorted(assign[order], np.arange(n_cells + 1))
    sizes = np.diff(starts)
    near = centres @ centres.T
    np.fill_diagonal(near, 3.0)  # a cell always searches itself first
    near = np.argsort(-near, axis=1, kind="stable")
    idx = np.empty((n, k), dtype=np.int32)
    dist = np.empty((n, k), dtype=np.float32)
    for cell in range(n_cells):
        own = order[starts[cell] : starts[cell + 1]]
        if not len(own):
            continue
        if cancelled and cancelled():
            raise Cancelled("Map cancelled.")
        taken = np.cumsum(sizes[near[cell]])
        count = max(probes, int(np.searchsorted(taken, k)) + 1)
        cand = np.concatenate([order[starts[c] : starts[c + 1]] for c in near[cell][:count]])
        cand_x = x[cand]
        for lo in range(0, len(own), 1024):  # own rows lead cand: row j is column j
            rows = own[lo : lo + 1024]
            sims = x[rows] @ cand_x.T
            j = np.arange(len(rows))
            sims[j, lo + j] = 2.0
            top, values = top_k_rows(sims, k)
            idx[rows] = cand[top]
            d = 1.0 - values
            d[:, 0] = 0.0
            dist[rows] = np.maximum(d, 0.0)
    return idx, dist


def knn(vectors: np.ndarray, k: int, cancelled: CancelCheck | None = None
        ) -> tuple[np.ndarray, np.ndarray]:
    """Exact kNN for up to ``EXACT_KNN_MAX`` rows, cell-based above."""
    if len(vectors) <= EXACT_KNN_MAX:
        return exact_knn(vectors, k, cancelled=cancelled)
    return cell_knn(vectors, k, cancelled=cancelled)


def _numba_cache() -> None:
    if "NUMBA_CACHE_DIR" not in os.environ:
        from e5desk.core.paths import user_cache_dir

        os.environ["NUMBA_CACHE_DIR"] = str(user_cache_dir() / "numba")


_UMAP_CACHED = False
MIN_UMAP_ROWS = 4  # below this, a "UMAP" map is the PCA map


def _umap_k(n: int, n_neighbors: int) -> int:
    """The neighbours UMAP uses for n rows (``knn`` must be asked for the same k)."""
    return max(2, min(n_neighbors, n - 1))


def layout_epochs(n: int) -> int:
    """UMAP layout epochs for n rows: 500 up to ``LARGE_MAP``, 200 up to ``PARALLEL_LAYOUT``,
    then falling as 1/n to 60 (from 67k rows). Each epoch costs time in proportion to n while
    the map gains little from the later ones (benchmarks/map_umap.py, 100k rows: 200 epochs
    keep 79.8 % of the 10 nearest neighbours, 60 epochs 78.0 %, in a third of the time)."""
    if n <= LARGE_MAP:
        return 500
    return int(np.clip(200 * PARALLEL_LAYOUT // n, 60, 200))


def _cache_umap_numba() -> None:
    """Let numba cache the functions umap-learn compiles anew in every process (its layout
    epoch and fuzzy-set helpers: about 7 s of every map in a fresh process on two cores).

    The parallel layout gets a twin function under its own name: numba's cache key ignores
    the ``parallel`` flag, so two variants of one function must not share a cache entry
    (the seeded single-threaded layout would otherwise load the parallel code). Anything
    unexpected (another umap-learn version) leaves umap as it is."""
    global _UMAP_CACHED
    if _UMAP_CACHED:
        return
    _UMAP_CACHED = True
    try:
        import types

        import numba
        from numba.core.caching import NullCache
        from umap import layouts, umap_, utils

        for module, name in ((utils, "tau_rand_int"), (utils, "tau_rand"), (layouts, "clip"),
                             (layouts, "_nb_optimize_layout_euclidean_single_epoch"),
                             (umap_, "smooth_knn_dist"),
                             (umap_, "compute_membership_strengths")):
            fn = getattr(module, name, None)
            if isinstance(getattr(fn, "_cache", None), NullCache) and not fn.overloads:
                fn.enable_caching()
        parallel = getattr(layouts, "_nb_optimize_layout_euclidean_single_epoch_parallel",
                           None)
        if parallel is not None and not parallel.overloads:
            f = layouts._optimize_layout_euclidean_single_epoch
            twin = types.FunctionType(f.__code__, f.__globals__, f.__name__ + "_parallel",
                                      f.__defaults__, f.__closure__)
            twin.__qualname__ = f.__qualname__ + "_parallel"
            layouts._nb_optimize_layout_euclidean_single_epoch_parallel = numba.njit(
                twin, fastmath=True, parallel=True, cache=True)
    except Exception:  # noqa: BLE001 - only a speed-up
        log.debug("numba caching for umap not enabled", exc_info=True)


def umap_2d(vectors: np.ndarray, n_neighbors: int = 15, min_dist: float = 0.1,
            seed: int = 42, progress: Progress | None = None,
            cancelled: CancelCheck | None = None, n_epochs: int | None = None,
            start: str | None = None, parallel: bool | None = None,
            neighbours: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """UMAP with the cosine metric. Progress in stages (kNN, layout); cancel between them.

    Up to ``PARALLEL_LAYOUT`` rows the layout is seeded and single-threaded (the same map
    every time); above, it uses every core (UMAP cannot be both), so a recomputed large map
    differs slightly; projects save the coordinates, so a reopened map never does.
    ``neighbours``: the (indices, distances) of ``knn(vectors, k)``, when already found."""
    n = len(vectors)
    if n < MIN_UMAP_ROWS:
        return pca_2d(vectors)
    k = _umap_k(n, n_neighbors)
    if progress:
        progress(0, 3)
    _numba_cache()
    # Not overlapped with the kNN in a thread: importing numba beside BLAS work in another
    # thread deadlocked (seen here, when a cancelled map left the import running).
    idx, dist = neighbours if neighbours is not None else knn(vectors, k, cancelled=cancelled)
    if progress:
        progress(1, 3)
    if cancelled and cancelled():
        raise Cancelled("Map cancelled.")
    import warnings

    import umap

    _cache_umap_numba()
    if parallel is None:
        parallel = n > PARALLEL_LAYOUT
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # n_jobs/random_state notices
        reducer = umap.UMAP(n_neighbors=k, min_dist=min_dist, metric="cosine",
                            random_state=None if parallel else seed,
                            n_jobs=-1 if parallel else 1, precomputed_knn=(idx, dist, None),
                            init=start or _layout_start(n, k),
                            n_epochs=n_epochs or layout_epochs(n))
        if progress:
            progress(2, 3)
        out = reducer.fit_transform(vectors)
    if progress:
        progress(3, 3)
    return np.asarray(out, dtype=np.float32)


def _layout_start(n: int, k: int) -> str:
    """UMAP's spectral start on small maps; PCA above ``LARGE_MAP`` rows. Sentence sets in
    many languages make kNN graphs of tight translation groups joined by few edges, on which
    the spectral solver crawls (100k rows: 250 s before the layout began, PCA under 1 s) for
    a map no better (same kNN preservation and trustworthiness at 10k and 100k)."""
    if n <= k + 1:
        return "random"
    return "spectral" if n <= LARGE_MAP else "pca"


def tsne_2d(vectors: np.ndarray, seed: int = 42) -> np.ndarray:
    from sklearn.manifold import TSNE

    perplexity = float(min(30, max(2, (len(vectors) - 1) / 3)))
    return TSNE(n_components=2, metric="cosine", init="pca", random_state=seed,
                perplexity=perplexity).fit_transform(vectors).astype(np.float32)


def _key(vectors: np.ndarray, langs: Sequence | None, params: MapParams) -> str:
    from e5desk.core.projection_large import fingerprint

    h = hashlib.blake2b(fingerprint(vectors), digest_size=16)
    h.update(repr(params).encode())
    if params.center_languages and langs is not None:
        h.update("\x00".join(str(x) for x in langs).encode())
    return h.hexdigest()


def _map_input(vectors: np.ndarray, params: MapParams, langs: Sequence | None) -> np.ndarray:
    if not params.center_languages:
        return vectors
    if langs is None:
        raise E5DeskError("centering by language needs the language of every sentence")
    return center_languages(vectors, langs)


def _remember(key: str, out: np.ndarray) -> np.ndarray:
    if len(_CACHE) >= _CACHE_MAX:
        _CACHE.pop(next(iter(_CACHE)))
    _CACHE[key] = out
    return out


def _check_method(params: MapParams) -> None:
    if params.method not in METHODS:
        raise E5DeskError(f"unknown map method {params.method!r}: expected pca, umap or tsne")


def project(vectors: np.ndarray, params: MapParams = MapParams(), langs: Sequence | None = None,
            progress: Progress | None = None, cancelled: CancelCheck | None = None) -> np.ndarray:
    """(n, 2) map coordinates; remembered per (vectors, parameters) for this process."""
    _check_method(params)
    if len(vectors) == 0:
        return np.zeros((0, 2), dtype=np.float32)
    params = effective_params(len(vectors), params, langs)[0]
    key = _key(vectors, langs, params)
    if key in _CACHE:
        return _CACHE[key]
    x = _map_input(vectors, params, langs)
    if params.method == "pca":
        out = pca_2d(x)
    elif params.method == "umap":
        from e5desk.core import projection_large as large

        if len(x) > large.SAMPLED_MAP:  # a sample laid out, the other rows placed
            out = large.sampled_umap(x, params.n_neighbors, params.min_dist, params.seed,
                                     progress, cancelled, params.n_epochs)
        else:
            out = umap_2d(x, params.n_neighbors, params.min_dist, params.seed, progress,
                          cancelled, params.n_epochs)
    else:
        out = tsne_2d(x, params.seed)
    return _remember(key, out)


def project_in_process(vectors: np.ndarray, params: MapParams = MapParams(),
                       langs: Sequence | None = None, progress: Progress | None = None,
                       cancelled: CancelCheck | None = None) -> np.ndarray:
    """``project`` in a child process (keeps this process responsive; cancel stops it at
    once). For UMAP the child imports umap (2-3 s) while this process finds the nearest
    neighbours, which the child then uses: a first map sooner by the shorter of the two."""
    from e5desk.core.process_job import ChildProcess

    _check_method(params)
    params = effective_params(len(vectors), params, langs)[0]
    key = _key(vectors, langs, params)
    if key in _CACHE:
        return _CACHE[key]
    n = len(vectors)
    from e5desk.core.projection_large import SAMPLED_MAP

    if params.method != "umap" or n < MIN_UMAP_ROWS or n > SAMPLED_MAP:
        with ChildProcess() as child:
            out = child.run(project, vectors, params, langs, progress=progress,
                            cancelled=cancelled)
        return _remember(key, out)
    with ChildProcess(preload=("umap",)) as child:
        if progress:
            progress(0, 3)
        x = _map_input(vectors, params, langs)
        neighbours = knn(x, _umap_k(n, params.n_neighbors), cancelled=cancelled)
        # the child lays out the map input itself: no second centering or cache key there
        out = child.run(umap_2d, x, params.n_neighbors, params.min_dist, params.seed,
                        progress=progress, cancelled=cancelled, n_epochs=params.n_epochs,
                        neighbours=neighbours)
    return _remember(key, out)


def warm_up() -> None:
    """Compile (or load from numba's cache) the code of every kind of UMAP map (spectral or
    PCA start, seeded or parallel layout) on tiny inputs; the set-up runs it once, so the
    first real map on a fresh install compiles nothing."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 8)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    for start, parallel in (("spectral", False), ("pca", False), ("pca", True)):
        umap_2d(x, n_neighbors=5, start=start, parallel=parallel, n_epochs=10)


# -- selection on the map -----------------------------------------------------------------
def points_in_rect(coords: np.ndarray, x0: float, y0: float, x1: float, y1: float
                   ) -> np.ndarray:
    """Rows of ``coords`` (n, 2) inside the rectangle (edges included), ascending."""
    (x0, x1), (y0, y1) = sorted((x0, x1)), sorted((y0, y1))
    x, y = coords[:, 0], coords[:, 1]
    return np.flatnonzero((x >= x0) & (x <= x1) & (y >= y0) & (y <= y1))


def points_in_polygon(coords: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """Rows of ``coords`` (n, 2) inside the closed polygon (m, 2) by the even-odd rule,
    ascending. Points sorted by y once, each edge only tests the points level with it, so
    the cost is about n log n plus n times the edges a horizontal line crosses."""
    poly = np.asarray(polygon, dtype=np.float64)
    if len(poly) < 3 or not len(coords):
        return np.zeros(0, dtype=np.int64)
    (xmin, ymin), (xmax, ymax) = poly.min(axis=0), poly.max(axis=0)
    x, y = coords[:, 0], coords[:, 1]
    cand = np.flatnonzero((x >= xmin) & (x <= xmax) & (y >= ymin) & (y <= ymax))
    cand = cand[np.argsort(y[cand], kind="stable")]
    xs, ys = x[cand], y[cand]
    inside = np.zeros(len(cand), dtype=bool)
    for (ax, ay), (bx, by) in zip(poly, np.roll(poly, -1, axis=0), strict=True):
        if ay == by:
            continue
        lo, hi = (ay, by) if ay < by else (by, ay)  # half-open [lo, hi): vertices once
        a, b = np.searchsorted(ys, lo, "left"), np.searchsorted(ys, hi, "left")
        if a == b:
            continue
        cross = ax + (ys[a:b] - ay) * ((bx - ax) / (by - ay))
        inside[a:b] ^= xs[a:b] < cross
    return np.sort(cand[inside])
