"""Pictures of dense maps for previews and reports: flow on the Middlebury colour wheel, depth as
inverse-depth shading, instance and class ids as flat colours. Input arrays are in the form
`Dataset.read_clip` returns (labels/dense.py); output (H, W, 3) uint8 RGB."""
from __future__ import annotations

import numpy as np

_WHEEL_SEGMENTS = ((15, (255, 0, 0), (255, 255, 0)), (6, (255, 255, 0), (0, 255, 0)),
                   (4, (0, 255, 0), (0, 255, 255)), (11, (0, 255, 255), (0, 0, 255)),
                   (13, (0, 0, 255), (255, 0, 255)), (6, (255, 0, 255), (255, 0, 0)))


def colour_wheel() -> np.ndarray:
    """(55, 3) float colours of the Middlebury flow wheel (Baker et al. 2011), red = +x."""
    rows = []
    for n, a, b in _WHEEL_SEGMENTS:
        k = np.arange(n)[:, None] / n
        rows.append(np.asarray(a, float) * (1 - k) + np.asarray(b, float) * k)
    return np.concatenate(rows)


def flow_to_rgb(flow: np.ndarray, max_px: float | None = None) -> np.ndarray:
    """Flow (H, W, 2) pixels -> colour: hue = direction, saturation = magnitude / max_px (default:
    the largest valid magnitude); invalid (NaN) pixels black."""
    valid = np.isfinite(flow).all(-1)
    u = np.where(valid, flow[..., 0], 0.0)
    v = np.where(valid, flow[..., 1], 0.0)
    mag = np.hypot(u, v)
    top = max_px if max_px is not None else (float(mag[valid].max()) if valid.any() else 1.0)
    r = np.clip(mag / max(top, 1e-6), 0, 1)
    wheel = colour_wheel()
    n = len(wheel)
    a = np.arctan2(-v, -u) / np.pi                     # -1..1
    fk = (a + 1) / 2 * (n - 1)
    k0 = np.floor(fk).astype(int) % n
    k1 = (k0 + 1) % n
    f = (fk - np.floor(fk))[..., None]
    col = (1 - f) * wheel[k0] / 255 + f * wheel[k1] / 255
    col = 1 - r[..., None] * (1 - col)
    out = (col * 255).astype(np.uint8)
    out[~valid] = 0
    return out


def depth_to_rgb(depth: np.ndarray) -> np.ndarray:
    """Depth (H, W) metres -> inverse-depth shading (near bright, far dark, sky black) on a
    blue-to-yellow ramp."""
    ok = np.isfinite(depth) & (depth > 0)
    inv = np.where(ok, 1.0 / np.where(ok, depth, 1.0), 0.0)
    top = float(inv[ok].max()) if ok.any() else 1.0
    x = np.clip(inv / max(top, 1e-9), 0, 1)[..., None]
    lo, mid, hi = np.array([20, 20, 80.0]), np.array([30, 150, 140.0]), np.array([250, 230, 60.0])
    col = np.where(x < 0.5, lo + (mid - lo) * (x * 2), mid + (hi - mid) * (x * 2 - 1))
    out = col.astype(np.uint8)
    out[~ok] = 0
    return out


def ids_to_rgb(ids: np.ndarray) -> np.ndarray:
    """Integer ids (H, W) -> a distinct flat colour per id, 0 black."""
    h = (np.asarray(ids, np.int64) * 2654435761) & 0xFFFFFF
    out = np.stack([(h >> 16) & 255, (h >> 8) & 255, h & 255], -1).astype(np.uint8) | 64
    out[ids == 0] = 0
    return out


VIEWS = {"depth": depth_to_rgb, "flow": flow_to_rgb, "backflow": flow_to_rgb, "instances": ids_to_rgb,
         "classes": ids_to_rgb}
