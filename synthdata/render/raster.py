"""Screen windows: the integer pixel rectangle [x0, x1) x [y0, y1) per (frame, primitive) that the
compiled kernels (render/kernels.py) evaluate a primitive on, so the cost follows the pixels
objects cover, not the image."""
from __future__ import annotations

import numpy as np


def windows(bounds: np.ndarray, ok: np.ndarray, width: int, height: int, pad: int = 1) -> np.ndarray:
    """Continuous bounds (T, P, 4) -> integer windows (T, P, 4) clipped to the image.

    Unknown bounds (ok False) get the whole image; empty windows have x1 <= x0."""
    b = np.where(ok[..., None], bounds, np.array([0, 0, width, height], float))
    b = np.nan_to_num(b, nan=0.0, posinf=1e7, neginf=-1e7)
    x0 = np.clip(np.floor(b[..., 0]) - pad, 0, width)
    y0 = np.clip(np.floor(b[..., 1]) - pad, 0, height)
    x1 = np.clip(np.ceil(b[..., 2]) + pad, 0, width)
    y1 = np.clip(np.ceil(b[..., 3]) + pad, 0, height)
    return np.stack([x0, y0, x1, y1], axis=-1).astype(np.int64)
