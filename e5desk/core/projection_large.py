"""Maps of millions of rows: PCA from a sample's covariance, UMAP of a sample with the
other rows placed by their nearest sampled neighbours, clusters of a sample assigned to all.

- ``pca_large``: the two leading components from the covariance of at most ``PCA_SAMPLE``
  rows (the components of 1M sentence vectors barely move past 100k rows), then one
  (n, dim) x (dim, 2) product over every row in float32: no centred copy of the input.
- ``sampled_umap``: UMAP (core.projection.umap_2d) lays out ``sample_size(n)`` rows chosen
  at random; every other row goes to the weighted mean of the 2-D positions of its
  ``PLACE_K`` nearest sampled rows (cosine), found exactly within cells of a spherical
  k-means over the sample (each cell's rows are compared with the sampled rows of the
  ``PLACE_PROBES`` nearest cells: a few matrix products per cell, no index library);
  then ``refine``: a few UMAP epochs over the kNN graph of every row, from that start.
- ``sampled_clusters``: HDBSCAN on the 2-D map of a sample, each other row taking the
  cluster of its nearest sampled point on the map (a k-d tree).

Used by core.projection.project above ``SAMPLED_MAP`` rows, so the window, ``e5desk map``
and ``e5desk.map`` get the same maps (benchmarks/big_map.py measures time and quality).
"""

from __future__ import annotations

import numpy as np

from e5desk.core.data.sentence_set import lang_key
from e5desk.core.errors import Cancelled
from e5desk.core.jobs import CancelCheck, Progress

SAMPLED_MAP = 200_000  # rows; above this, UMAP lays out a sample and places the rest
SAMPLE_ROWS = 100_000  # the most rows UMAP lays out in a sampled map (measured)
PCA_SAMPLE = 100_000  # rows whose covariance gives the PCA components
SAMPLED_CLUSTERS = 100_000  # rows; above this, HDBSCAN runs on a sample of the map
CLUSTER_SAMPLE = 20_000  # HDBSCAN of 50k map points took 46 s (min_samples = 1,250)
PLACE_K = 10
PLACE_PROBES = 3
REFINE_EPOCHS = 20  # layout epochs of the refinement (measured: 10 / 20 / 30, see refine)
REFINE_PROBES, REFINE_CELL = 2, 256  # its kNN: smaller cells, fewer probed than a UMAP's
REFINE_K = 10  # neighbours per row in the refinement graph (10: 0.687, 15: 0.715 at 200k)
CELL_ROWS = 256  # sampled rows per cell of the placement search
BLOCK = 4096


def sample_size(n: int) -> int:
    """Rows UMAP lays out in a sampled map of n rows: half of them, at most SAMPLE_ROWS."""
    return int(min(SAMPLE_ROWS, max(n // 2, 1)))


def sample_rows(n: int, size: int, seed: int = 0) -> np.ndarray:
    """``size`` distinct rows of ``n``, ascending (seeded)."""
    if size >= n:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size, replace=False))


# -- PCA ------------------------------------------------------------------------------------
def pca_large(vectors: np.ndarray, sample: int = PCA_SAMPLE, seed: int = 0) -> np.ndarray:
    """(n, 2) float32 PCA coordinates; components from at most ``sample`` rows."""
    n = len(vectors)
    if n < 2:
        return np.zeros((n, 2), dtype=np.float32)
    rows = sample_rows(n, sample, seed)
    part = np.asarray(vectors[rows], dtype=np.float32)
    mean = part.mean(axis=0, dtype=np.float64).astype(np.float32)
    part -= mean
    cov = (part.T @ part).astype(np.float64)
    _, eigvecs = np.linalg.eigh(cov)
    comps = eigvecs[:, ::-1][:, :2]
    comps *= np.sign(comps[np.abs(comps).argmax(axis=0), range(2)])  # deterministic sign
    comps = comps.astype(np.float32)
    out = np.empty((n, 2), dtype=np.float32)
    shift = mean @ comps
    for start in range(0, n, 65_536):
        block = np.asarray(vectors[start:start + 65_536], dtype=np.float32)
        out[start:start + len(block)] = block @ comps - shift
    return out


# -- nearest sampled neighbours -------------------------------------------------------------
def nearest_in_sample(vectors: np.ndarray, rows: np.ndarray, sample_x: np.ndarray, k: int,
                      probes: int = PLACE_PROBES, cell_rows: int = CELL_ROWS, seed: int = 0,
                      cancelled: CancelCheck | None = None
                      ) -> tuple[np.ndarray, np.ndarray]:
    """(indices into ``sample_x``, cosine similarities), best first, of the ``k`` nearest
    sampled rows to each of ``vectors[rows]`` (rows of unit length)."""
    from e5desk.core.projection import _nearest_centre, _spherical_kmeans
    from e5desk.core.similarity import top_k_rows

    k = min(k, len(sample_x))
    n_cells = int(np.clip(len(sample_x) // cell_rows, 1, 4096))
    rng = np.random.default_rng(seed)
    centres = _spherical_kmeans(sample_x, n_cells, rng, rounds=4)
    s_assign = _nearest_centre(sample_x, centres)
    s_order = np.argsort(s_assign, kind="stable")
    s_starts = np.searchsorted(s_assign[s_order], np.arange(n_cells + 1))
    s_sizes = np.diff(s_starts)
    q_assign = np.empty(len(rows), dtype=np.int64)
    for start in range(0, len(rows), 65_536):
        if cancelled and cancelled():
            raise Cancelled("Map cancelled.")
        block = np.asarray(vectors[rows[start:start + 65_536]], dtype=np.float32)
        q_assign[start:start + len(block)] = np.argmax(block @ centres.T, axis=1)
    q_order = np.argsort(q_assign, kind="stable")
    q_starts = np.searchsorted(q_assign[q_order], np.arange(n_cells + 1))
    near = np.argsort(-(centres @ centres.T), axis=1, kind="stable")
    idx = np.empty((len(rows), k), dtype=np.int32)
    sims = np.empty((len(rows), k), dtype=np.float32)
    for cell in range(n_cells):
        mine = q_order[q_starts[cell]:q_starts[cell + 1]]
        if not len(mine):
            continue
        if cancelled and cancelled():
            raise Cancelled("Map cancelled.")
        taken = np.cumsum(s_sizes[near[cell]])
        count = max(probes, int(np.searchsorted(taken, k)) + 1)
        cand = np.concatenate([s_order[s_starts[c]:s_starts[c + 1]]
                               for c in near[cell][:count]])
        cand_t = np.ascontiguousarray(sample_x[cand].T)
        for lo in range(0, len(mine), BLOCK):
            part = mine[lo:lo + BLOCK]
            s = np.asarray(vectors[rows[part]], dtype=np.float32) @ cand_t
            top, values = top_k_rows(s, k)
            idx[part] = cand[top]
            sims[part] = values
    return idx, sims


PLACE_SHARPNESS = 0.1  # weight scale, as a share of the nearest-to-farthest distance gap


def place(sample_coords: np.ndarray, idx: np.ndarray, sims: np.ndarray) -> np.ndarray:
    """Weighted mean of the neighbours' 2-D positions: weight exp(-(d - d1) / s) by cosine
    distance d (d1 the nearest's), s = PLACE_SHARPNESS x (d_k - d1), so a row lands by its
    few nearest sampled rows (its translations, where sampled) and far ones barely pull.
    Measured (40k rows in 9 languages, 10k sampled, k=10): kNN preservation 0.536 with
    this scale, 0.220 with s = the mean gap, 0.498 at the nearest row itself."""
    d = 1.0 - sims.astype(np.float64)
    gap = d - d[:, :1]
    scale = np.maximum(gap[:, -1:] * PLACE_SHARPNESS, 1e-6)
    w = np.exp(-gap / scale)
    w /= w.sum(axis=1, keepdims=True)
    return np.einsum("nk,nkc->nc", w, sample_coords[idx].astype(np.float64)).astype(
        np.float32)


def sampled_umap(vectors: np.ndarray, n_neighbors: int = 15, min_dist: float = 0.1,
                 seed: int = 42, progress: Progress | None = None,
                 cancelled: CancelCheck | None = None, n_epochs: int | None = None,
                 sample: int | None = None, refine_epochs: int = REFINE_EPOCHS
                 ) -> np.ndarray:
    """(n, 2) map: UMAP of a sample, the other rows placed among their nearest sampled
    neighbours, then refined (``refine``). Progress in 5 steps (sample kNN, sample
    layout, placement, refinement)."""
    from e5desk.core.projection import umap_2d

    n = len(vectors)
    chosen = sample_rows(n, sample or sample_size(n), seed)
    sample_x = np.ascontiguousarray(vectors[chosen], dtype=np.float32)
    if progress:
        progress(0, 5)

    def stage(done: int, total: int) -> None:
        if progress:
            progress(min(done, 2), 5)

    sample_coords = umap_2d(sample_x, n_neighbors, min_dist, seed, stage, cancelled,
                            n_epochs)
    if progress:
        progress(3, 5)
    out = np.empty((n, 2), dtype=np.float32)
    out[chosen] = sample_coords
    rest = np.setdiff1d(np.arange(n), chosen, assume_unique=True)
    if len(rest):
        idx, sims = nearest_in_sample(vectors, rest, sample_x, PLACE_K, seed=seed,
                                      cancelled=cancelled)
        out[rest] = place(sample_coords, idx, sims)
        if progress:
            progress(4, 5)
        if refine_epochs:
            refine(out, vectors, min_dist, refine_epochs, seed, cancelled)
    if progress:
        progress(5, 5)
    return out


def refine(out: np.ndarray, vectors: np.ndarray, min_dist: float,
           n_epochs: int = REFINE_EPOCHS, seed: int = 42,
           cancelled: CancelCheck | None = None, k: int = REFINE_K) -> None:
    """A few epochs of UMAP's layout over every row, started from the placed map ``out``
    (changed in place): the kNN graph of all rows (core.projection.cell_knn with small
    cells, UMAP's fuzzy weights), a quarter of UMAP's learning rate, sampled and placed
    rows free to move. Placement alone cannot put a row beside its translations when none
    was sampled; with the sampled rows held fixed and only the placed ones moving, kNN
    preservation fell (60k rows, 20k sampled: 0.525 -> 0.26 with repulsion, 0.53
    without); with every row moving, 200k rows: 0.48 -> 0.69 (README, "Maps of
    millions")."""
    from umap.umap_ import (
        find_ab_params,
        fuzzy_simplicial_set,
        make_epochs_per_sample,
        optimize_layout_euclidean,
    )

    from e5desk.core.projection import cell_knn

    idx, dist = cell_knn(vectors, k, REFINE_PROBES, REFINE_CELL, seed, cancelled,
                         max_cells=4096)
    if cancelled and cancelled():
        raise Cancelled("Map cancelled.")
    graph = fuzzy_simplicial_set(vectors, k, np.random.RandomState(seed), "cosine",
                                 knn_indices=idx, knn_dists=dist)[0].tocoo()
    if cancelled and cancelled():
        raise Cancelled("Map cancelled.")
    a, b = find_ab_params(1.0, min_dist)
    rng_state = np.random.default_rng(seed).integers(-2**31, 2**31 - 1, 3).astype(np.int64)
    emb = np.ascontiguousarray(out, dtype=np.float32)
    optimize_layout_euclidean(emb, emb, graph.row, graph.col, n_epochs, len(emb),
                              make_epochs_per_sample(graph.data, n_epochs), a, b, rng_state,
                              1.0, 0.25, 5.0, parallel=True, move_other=True)
    out[:] = emb


# -- clusters -------------------------------------------------------------------------------
def sampled_clusters(coords: np.ndarray, min_cluster_size: int,
                     sample: int = CLUSTER_SAMPLE, seed: int = 0) -> np.ndarray:
    """Cluster id per row (-1 noise): HDBSCAN on ``sample`` rows of the map, every other
    row given the cluster of its nearest sampled point on the map."""
    from scipy.spatial import cKDTree

    from e5desk.core.clusters import hdbscan_labels

    n = len(coords)
    chosen = sample_rows(n, sample, seed)
    sample_labels = hdbscan_labels(coords[chosen], min_cluster_size=min_cluster_size)
    out = np.empty(n, dtype=np.int64)
    out[chosen] = sample_labels
    rest = np.setdiff1d(np.arange(n), chosen, assume_unique=True)
    if len(rest):
        _, nearest = cKDTree(coords[chosen]).query(coords[rest], k=1, workers=-1)
        out[rest] = sample_labels[nearest]
    return out


def mixing_sampled(coords: np.ndarray, langs: np.ndarray, k: int = 10,
                   sample: int = 20_000, seed: int = 0) -> float:
    """core.alignment.mixing_score over ``sample`` rows (their neighbours among all rows),
    by a k-d tree: the figure of a map of millions in a second."""
    from scipy.spatial import cKDTree

    n = len(coords)
    if n < 2:
        return float("nan")
    k = min(k, n - 1)
    rows = sample_rows(n, sample, seed)
    _, nn = cKDTree(coords).query(coords[rows], k=k + 1, workers=-1)
    nn = nn[:, 1:]  # itself first (ties aside)
    return float(np.mean(langs[nn] != langs[rows][:, None]))


def describe_sampled(labels: np.ndarray, texts, langs, sample: int = CLUSTER_SAMPLE,
                     seed: int = 1) -> list:
    """core.clusters.describe_clusters with keywords from ``sample`` rows (tokenising a
    million texts takes minutes) and sizes and language shares from every row."""
    import math

    from e5desk.core.clusters import describe_clusters

    labels = np.asarray(labels)
    rows = sample_rows(len(labels), sample, seed)
    ids = np.unique(labels[labels >= 0])
    missing = np.setdiff1d(ids, labels[rows])  # a small cluster the sample missed
    if len(missing):
        extra = [np.flatnonzero(labels == c)[:20] for c in missing]
        rows = np.union1d(rows, np.concatenate(extra))
    clusters = describe_clusters(labels[rows], [texts[i] for i in rows],
                                 [langs[i] for i in rows])
    names = np.array([lang_key(x) for x in langs], dtype=object)
    codes, inverse = np.unique(names, return_inverse=True)
    counts = np.zeros((int(labels.max(initial=-1)) + 2, len(codes)), dtype=np.int64)
    np.add.at(counts, (labels + 1, inverse), 1)
    for c in clusters:
        row = counts[c.id + 1]
        c.size = int(row.sum())
        order = np.argsort(-row, kind="stable")
        c.languages = {str(codes[j]): row[j] / c.size for j in order if row[j]}
        c.entropy = -sum(p * math.log2(p) for p in c.languages.values())
    return clusters


FINGERPRINT_ALL = 8_000_000  # values; larger arrays are fingerprinted, not hashed whole


def fingerprint(vectors: np.ndarray) -> bytes:
    """Bytes that change when the vectors do (the map cache's key): the array itself up to
    ``FINGERPRINT_ALL`` values; above, its shape, every 97th row and each column's sum and
    sum of squares in float64 (hashing 1M x 384 whole took 6.5 s, this about 0.5 s)."""
    x = np.asarray(vectors)
    if x.size <= FINGERPRINT_ALL or x.ndim != 2:
        return np.ascontiguousarray(x).tobytes()
    parts = [repr((x.shape, str(x.dtype))).encode(), np.ascontiguousarray(x[::97]).tobytes()]
    sums = np.zeros((2, x.shape[1]), dtype=np.float64)
    for start in range(0, len(x), 65_536):
        block = np.asarray(x[start:start + 65_536], dtype=np.float64)
        sums[0] += block.sum(axis=0)
        sums[1] += np.einsum("ij,ij->j", block, block)
    return b"".join(parts) + sums.tobytes()
