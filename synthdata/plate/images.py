"""Writing plate images: PNGs, the init preview, the calibration grid overlay."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from synthdata.plate.calibrate import Calibration
from synthdata.plate.cvload import cv2


def write_png(path: Path, rgb: np.ndarray) -> None:
    """RGB uint8 (H, W, 3) -> PNG (max compression; written via a temporary file)."""
    cv = cv2()
    ok, buf = cv.imencode(".png", np.ascontiguousarray(rgb[..., ::-1]), [cv.IMWRITE_PNG_COMPRESSION, 9])
    if not ok:  # pragma: no cover
        raise OSError(f"cannot encode {path}")
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(buf.tobytes())
    tmp.replace(path)


def preview(frames: np.ndarray, plate: np.ndarray) -> np.ndarray:
    """Half-size side by side: a sampled frame (the one differing most from the plate) and the plate."""
    cv = cv2()
    diffs = [np.abs(f.astype(np.int16) - plate).mean() for f in frames]
    busy = frames[int(np.argmax(diffs))]
    h, w = plate.shape[:2]
    small = [cv.resize(x, (w // 2, h // 2), interpolation=cv.INTER_AREA) for x in (busy, plate)]
    out = np.concatenate([small[0], np.full((h // 2, 4, 3), 255, np.uint8), small[1]], 1)
    for x, text in ((6, "footage"), (w // 2 + 10, "plate")):
        cv.putText(out, text, (x, 18), cv.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 0), 1, cv.LINE_AA)
    return out


def draw_grid(plate: np.ndarray, cal: Calibration, range_m: float = 40.0) -> np.ndarray:
    """The plate with the fitted ground grid (1, 2 or 5 m spacing) and the calibration's points."""
    cv = cv2()
    H, W = plate.shape[:2]
    cam = cal.camera(W, H)
    u, v = np.meshgrid(np.linspace(0, W, 40), np.linspace(0, H, 24))
    g = cam.ground_point(np.stack([u.ravel(), v.ravel()], 1))[:, :2]
    C = cam.C[0, :2]
    g = g[np.isfinite(g[:, 0]) & (np.hypot(*(g - C).T) < range_m)]
    img = np.ascontiguousarray(plate[..., ::-1]).copy()
    if len(g):
        lo, hi = g.min(0), g.max(0)
        step = next(s for s in (1.0, 2.0, 5.0, 10.0) if (hi - lo).max() / s <= 40)
        t = np.linspace(0, 1, 60)
        lines = [np.stack([np.full_like(t, x), lo[1] + t * (hi[1] - lo[1])], 1)
                 for x in np.arange(np.floor(lo[0] / step) * step, hi[0] + step, step)]
        lines += [np.stack([lo[0] + t * (hi[0] - lo[0]), np.full_like(t, y)], 1)
                  for y in np.arange(np.floor(lo[1] / step) * step, hi[1] + step, step)]
        for ln in lines:
            keep = np.hypot(*(ln - C).T) < range_m
            uv, _ = cam.project(np.c_[ln[keep], np.zeros(keep.sum())], 0)
            uv = uv[np.isfinite(uv).all(1)]
            if len(uv) > 1:
                cv.polylines(img, [np.round(uv * 4).astype(np.int32)], False, (0, 255, 255), 1, cv.LINE_AA, shift=2)
    inp = cal.input
    if cal.method == "correspondences":
        uv, _ = cam.project(np.c_[np.asarray(inp["ground"]), np.zeros(len(inp["ground"]))], 0)
        for a, b in zip(np.asarray(inp["image"]), uv):
            cv.circle(img, tuple(int(x) for x in a), 5, (0, 255, 0), 1, cv.LINE_AA)
            if np.isfinite(b).all():
                cv.drawMarker(img, tuple(int(x) for x in b), (0, 0, 255), cv.MARKER_CROSS, 8, 1)
    elif cal.method == "people":
        for hd, ft in zip(inp["heads"], inp["feet"]):
            cv.line(img, tuple(int(x) for x in ft), tuple(int(x) for x in hd), (0, 255, 0), 1, cv.LINE_AA)
    return np.ascontiguousarray(img[..., ::-1])
