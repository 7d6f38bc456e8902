"""2-D maps of embeddings: an instant PCA preview, UMAP (umap-learn, cosine), and t-SNE.

Language-identity switch: E5 vectors carry a per-language offset; subtracting each
language's mean vector (then re-normalising) before projecting lets meaning dominate, so
translations land together. UMAP gets exact k nearest neighbours from one blocked matrix
product (cheaper than its approximate search at these sizes, and it skips compiling
pynndescent); numba's compiled code is cached in the user cache directory.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from e5desk.core.errors import Cancelled, E5DeskError
from e5desk.core.jobs import CancelCheck, Progress

METHODS = ("pca", "umap", "tsne")
_CACHE: dict[str, np.ndarray] = {}
_CACHE_MAX = 16


@dataclass(frozen=True)
class MapParams:
    method: str = "umap"
    n_neighbors: int = 15
    min_dist: float = 0.1
    seed: int = 42
    center_languages: bool = False


def center_languages(vectors: np.ndarray, langs: Sequence) -> np.ndarray:
    """Subtract each language's mean vector, then L2-normalise each row again."""
    out = np.array(vectors, dtype=np.float32, copy=True)
    langs = np.asarray([str(x or "?") for x in langs])
    for lang in np.unique(langs):
        rows = langs == lang
        out[rows] -= out[rows].mean(axis=0)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return out / np.maximum(norms, 1e-12)


def pca_2d(vectors: np.ndarray) -> np.ndarray:
    x = vectors - vectors.mean(axis=0)
    if len(x) < 2:
        return np.zeros((len(x), 2), dtype=np.float32)
    # The two leading right singular vectors, from the small (dim x dim) covariance.
    cov = x.T @ x
    _, eigvecs = np.linalg.eigh(cov)
    comps = eigvecs[:, ::-1][:, :2]
    comps *= np.sign(comps[np.abs(comps).argmax(axis=0), range(2)])  # deterministic sign
    return (x @ comps).astype(np.float32)


def exact_knn(vectors: np.ndarray, k: int, block: int = 2048,
              cancelled: CancelCheck | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(indices, cosine distances) of each row's k nearest rows, itself first."""
    n = len(vectors)
    k = min(k, n)
    idx = np.empty((n, k), dtype=np.int32)
    dist = np.empty((n, k), dtype=np.float32)
    for start in range(0, n, block):
        if cancelled and cancelled():
            raise Cancelled("Map cancelled.")
        sims = vectors[start : start + block] @ vectors.T
        rows = np.arange(sims.shape[0])
        sims[rows, start + rows] = 2.0  # itself first, whatever ties exist
        part = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        order = np.argsort(-np.take_along_axis(sims, part, 1), axis=1)
        top = np.take_along_axis(part, order, 1)
        idx[start : start + block] = top
        d = 1.0 - np.take_along_axis(sims, top, 1)
        d[:, 0] = 0.0
        dist[start : start + block] = np.maximum(d, 0.0)
    return idx, dist


def _numba_cache() -> None:
    if "NUMBA_CACHE_DIR" not in os.environ:
        from e5desk.core.paths import user_cache_dir

        os.environ["NUMBA_CACHE_DIR"] = str(user_cache_dir() / "numba")


def umap_2d(vectors: np.ndarray, n_neighbors: int = 15, min_dist: float = 0.1,
            seed: int = 42, progress: Progress | None = None,
            cancelled: CancelCheck | None = None) -> np.ndarray:
    """UMAP with the cosine metric. Progress in stages (kNN, layout); cancel between them."""
    n = len(vectors)
    if n < 4:
        return pca_2d(vectors)
    k = max(2, min(n_neighbors, n - 1))
    if progress:
        progress(0, 3)
    idx, dist = exact_knn(vectors, k, cancelled=cancelled)
    if progress:
        progress(1, 3)
    if cancelled and cancelled():
        raise Cancelled("Map cancelled.")
    _numba_cache()
    import warnings

    import umap

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # n_jobs/random_state notices
        reducer = umap.UMAP(n_neighbors=k, min_dist=min_dist, metric="cosine",
                            random_state=seed, n_jobs=1, precomputed_knn=(idx, dist, None),
                            init="spectral" if n > k + 1 else "random")
        if progress:
            progress(2, 3)
        out = reducer.fit_transform(vectors)
    if progress:
        progress(3, 3)
    return np.asarray(out, dtype=np.float32)


def tsne_2d(vectors: np.ndarray, seed: int = 42) -> np.ndarray:
    from sklearn.manifold import TSNE

    perplexity = float(min(30, max(2, (len(vectors) - 1) / 3)))
    return TSNE(n_components=2, metric="cosine", init="pca", random_state=seed,
                perplexity=perplexity).fit_transform(vectors).astype(np.float32)


def _key(vectors: np.ndarray, langs: Sequence | None, params: MapParams) -> str:
    h = hashlib.blake2b(np.ascontiguousarray(vectors).tobytes(), digest_size=16)
    h.update(repr(params).encode())
    if params.center_languages and langs is not None:
        h.update("\x00".join(str(x) for x in langs).encode())
    return h.hexdigest()


def project(vectors: np.ndarray, params: MapParams = MapParams(), langs: Sequence | None = None,
            progress: Progress | None = None, cancelled: CancelCheck | None = None) -> np.ndarray:
    """(n, 2) map coordinates; remembered per (vectors, parameters) for this process."""
    if params.method not in METHODS:
        raise E5DeskError(f"unknown map method {params.method!r}: expected pca, umap or tsne")
    if len(vectors) == 0:
        return np.zeros((0, 2), dtype=np.float32)
    key = _key(vectors, langs, params)
    if key in _CACHE:
        return _CACHE[key]
    x = vectors
    if params.center_languages:
        if langs is None:
            raise E5DeskError("centering by language needs the language of every sentence")
        x = center_languages(vectors, langs)
    if params.method == "pca":
        out = pca_2d(x)
    elif params.method == "umap":
        out = umap_2d(x, params.n_neighbors, params.min_dist, params.seed, progress, cancelled)
    else:
        out = tsne_2d(x, params.seed)
    if len(_CACHE) >= _CACHE_MAX:
        _CACHE.pop(next(iter(_CACHE)))
    _CACHE[key] = out
    return out


def warm_up() -> None:
    """Compile (or load from cache) UMAP's numba code on a tiny input; for app start-up."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 8)).astype(np.float32)
    umap_2d(x / np.linalg.norm(x, axis=1, keepdims=True), n_neighbors=5)
