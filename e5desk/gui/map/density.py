"""How many points lie where, without Qt: the density image a big map draws instead of its
points, and the density contours drawn over a map on request.

Both count points into a grid of cells with ``np.bincount`` (one pass, no per-point
Python); the contours smooth the counts (a Gaussian of a few cells) and trace lines at
levels between the median filled cell and the densest one.
"""

from __future__ import annotations

import numpy as np

CONTOUR_CELLS = 256  # cells along the map's longer side
CONTOUR_LEVELS = 5
CONTOUR_SMOOTH = 2.0  # Gaussian sigma, in cells


def _cells(xy: np.ndarray, x0: float, y0: float, cx: float, cy: float, nx: int, ny: int
           ) -> tuple[np.ndarray, np.ndarray]:
    """(cell index of each point inside the grid, which points are inside)."""
    ix = np.floor((xy[:, 0] - x0) / cx)
    iy = np.floor((xy[:, 1] - y0) / cy)
    keep = (ix >= 0) & (ix < nx) & (iy >= 0) & (iy < ny)
    return (iy[keep] * nx + ix[keep]).astype(np.int64), keep


def density_image(xy: np.ndarray, rgb: np.ndarray, box: tuple, cx: float, cy: float,
                  weight: np.ndarray | None = None):
    """(ny, nx, 4) premultiplied BGRA bytes, (ny, nx) counts and the cell size (x, y) of the
    points ``xy`` (colours ``rgb``) in ``box`` (x0, y0, width, height) at cells of about
    ``cx`` x ``cy``. A cell's colour is the ``weight``-ed mean of its points' colours, its
    opacity rises with the log of its count: a lone point still shows (0.45), the densest
    cell is opaque."""
    x0, y0, width, height = box
    nx = max(1, min(4096, int(np.ceil(width / cx))))
    ny = max(1, min(4096, int(np.ceil(height / cy))))
    cx, cy = width / nx, height / ny
    cell, keep = _cells(xy, x0, y0, cx, cy, nx, ny)
    rgb = rgb[keep]
    w = np.ones(len(cell)) if weight is None else weight[keep]
    counts = np.bincount(cell, minlength=nx * ny).astype(np.float32)
    wsum = np.bincount(cell, weights=w, minlength=nx * ny)
    sums = [np.bincount(cell, weights=rgb[:, k] * w, minlength=nx * ny) for k in range(3)]
    filled = counts > 0
    alpha = np.zeros(nx * ny, dtype=np.float32)
    top = np.log1p(counts.max()) if filled.any() else 1.0
    alpha[filled] = 0.45 + 0.55 * np.log1p(counts[filled]) / max(top, 1e-9)
    argb = np.zeros((nx * ny, 4), dtype=np.uint8)  # B, G, R, A (premultiplied)
    safe = np.maximum(wsum, 1e-12)
    for k, channel in ((0, 2), (1, 1), (2, 0)):
        argb[:, channel] = np.clip(sums[k] / safe * alpha, 0, 255).astype(np.uint8)
    argb[:, 3] = (alpha * 255).astype(np.uint8)
    return argb.reshape(ny, nx, 4), counts.reshape(ny, nx), (cx, cy)


def smoothed_density(xy: np.ndarray, cells: int = CONTOUR_CELLS, sigma: float = CONTOUR_SMOOTH
                     ) -> tuple[np.ndarray, tuple[float, float, float, float]]:
    """(ny, nx) smoothed counts of the points on a grid over their extent (plus a margin
    of 3 sigma), and that grid's (x0, y0, cell width, cell height)."""
    from scipy.ndimage import gaussian_filter

    lo, hi = xy.min(axis=0).astype(np.float64), xy.max(axis=0).astype(np.float64)
    size = max(float((hi - lo).max()), 1e-9) / cells
    lo -= 3 * sigma * size
    n = np.ceil((hi + 3 * sigma * size - lo) / size).astype(int) + 1
    cell, _ = _cells(xy, lo[0], lo[1], size, size, int(n[0]), int(n[1]))
    counts = np.bincount(cell, minlength=int(n[0] * n[1])).reshape(int(n[1]), int(n[0]))
    return gaussian_filter(counts.astype(np.float64), sigma), (lo[0], lo[1], size, size)


def contour_levels(density: np.ndarray, n: int = CONTOUR_LEVELS) -> np.ndarray:
    """``n`` levels spaced evenly in log between the median filled cell and the densest
    (where the map is busy, not where a few stray points lie)."""
    filled = density[density > density.max() * 1e-3]
    if not len(filled):
        return np.zeros(0)
    lo, hi = np.median(filled), filled.max()
    if hi <= lo:
        return np.zeros(0)
    return np.geomspace(lo, hi, n + 1)[:-1]


def contour_lines(xy: np.ndarray) -> list[np.ndarray]:
    """One (m, 2) array of map coordinates per level, its lines separated by NaN rows
    (draw with connect="finite"); the lowest level first. Run off the GUI thread."""
    from pyqtgraph.functions import isocurve

    if len(xy) < 10:
        return []
    density, (x0, y0, cx, cy) = smoothed_density(np.asarray(xy, dtype=np.float64))
    out = []
    for level in contour_levels(density):
        parts = []
        # isocurve walks the array's first axis as x: hand it the transposed grid.
        for line in isocurve(density.T, level, connected=True, extendToEdge=True):
            pts = np.asarray(line, dtype=np.float64)
            parts += [pts, np.full((1, 2), np.nan)]
        if parts:
            lines = np.vstack(parts)
            # Cell centres: index i covers [x0 + i*cx, x0 + (i+1)*cx).
            lines[:, 0] = x0 + (lines[:, 0] + 0.5) * cx
            lines[:, 1] = y0 + (lines[:, 1] + 0.5) * cy
            out.append(lines)
    return out
