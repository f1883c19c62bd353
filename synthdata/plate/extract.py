"""Background plate from sampled frames, and the footage's image statistics.

Three ways to remove moving things (METHODS): the per-pixel temporal median of the samples;
OpenCV's MOG2 background model fed the same samples in order; and the temporal median of the
"quiet" samples only (the largest set of samples that agree with one another at low resolution:
the empty scene, when people stand still in one place for most of the footage). Each plate is
scored against the footage by `ghost_score`, the sum of
- ghost_fraction: share of pixels where the plate differs from most of the samples, and
- unmatched_fraction: share of pixels where the plate differs from every sample (a blend of
  several passers-by that was never in front of the camera);
`plate init` keeps the plate with the lowest score and records every score.

Statistics (plate.yaml `statistics`; 8-bit sRGB levels unless stated):
- noise_sigma: the footage's temporal noise, from differences of consecutive samples
  (robust, so moving things do not count); a still falls back to Immerkaer's spatial estimate;
- plate_noise_sigma: what is left of it in the plate (a median of n samples keeps
  sqrt(pi / 2n) of it);
- sharpness: variance of the Laplacian of the plate's luminance;
- blur_sigma_px: the Gaussian blur of the plate's strong edges (edge contrast / peak gradient);
- mean_rgb, std_rgb, luminance (mean, p5, p95), gray_gains (per-channel gain that makes the mean
  grey: the footage's colour balance).
"""
from __future__ import annotations

import math

import numpy as np

from synthdata.plate.cvload import cv2

GHOST_LEVELS = 20          # a plate pixel differing more than this from a frame does not explain it


def median_plate(frames: np.ndarray) -> np.ndarray:
    """Per-pixel temporal median of frames (N, H, W, 3) uint8."""
    return np.median(frames, axis=0).round().astype(np.uint8)


def mog2_plate(frames: np.ndarray) -> np.ndarray:
    """OpenCV MOG2's background image after learning the frames in order."""
    cv = cv2()
    model = cv.createBackgroundSubtractorMOG2(history=max(len(frames), 2), varThreshold=16, detectShadows=False)
    for _ in range(2):                     # a second pass settles pixels that started on a moving thing
        for f in frames:
            model.apply(np.ascontiguousarray(f[..., ::-1]))
    bg = model.getBackgroundImage()
    return np.ascontiguousarray(bg[..., ::-1])


def ghost_fraction(plate: np.ndarray, frames: np.ndarray, levels: int = GHOST_LEVELS) -> float:
    """Share of pixels where the plate differs by more than `levels` from most of the frames."""
    if len(frames) < 2:
        return 0.0
    miss = np.zeros(plate.shape[:2], np.int32)
    for f in frames:
        miss += (np.abs(f.astype(np.int16) - plate.astype(np.int16)).max(-1) > levels)
    return float((miss > len(frames) / 2).mean())


def unmatched_fraction(plate: np.ndarray, frames: np.ndarray, levels: int = 12) -> float:
    """Share of pixels where the plate differs by more than `levels` from every sample."""
    best = np.full(plate.shape[:2], 255, np.int16)
    for f in frames:
        best = np.minimum(best, np.abs(f.astype(np.int16) - plate.astype(np.int16)).max(-1))
    return float((best > levels).mean())


def quiet_frames(frames: np.ndarray, levels: float = 10.0, share: float = 0.01) -> np.ndarray:
    """Indices of the largest set of samples agreeing with one sample (fewer than `share` of
    64 x 36 cells differing by more than `levels`)."""
    cv = cv2()
    small = np.stack([cv.resize(luminance(f.astype(np.float32)), (64, 36), interpolation=cv.INTER_AREA)
                      for f in frames])
    close = np.stack([(np.abs(small - s[None]) > levels).mean((1, 2)) < share for s in small])
    return np.flatnonzero(close[int(np.argmax(close.sum(1)))])


def quiet_median_plate(frames: np.ndarray) -> np.ndarray:
    """Temporal median of the quiet samples (all samples when fewer than 3 agree)."""
    q = quiet_frames(frames)
    return median_plate(frames[q] if len(q) >= 3 else frames)


METHODS = {"median": median_plate, "mog2": mog2_plate, "quiet_median": quiet_median_plate}


def ghost_score(plate: np.ndarray, frames: np.ndarray) -> dict[str, float]:
    g, u = ghost_fraction(plate, frames), unmatched_fraction(plate, frames)
    return {"ghost_fraction": round(g, 6), "unmatched_fraction": round(u, 6), "score": round(g + u, 6)}


def extract_plate(frames: np.ndarray, method: str = "auto") -> tuple[np.ndarray, str, dict[str, dict]]:
    """(plate, method used, scores per method tried). `auto` tries every METHOD and keeps the
    lowest ghost score (ties: the order of METHODS); one frame is its own plate."""
    if len(frames) == 1:
        return frames[0].copy(), "still", {}
    names = list(METHODS) if method == "auto" else [method]
    plates = {k: METHODS[k](frames) for k in names}
    scores = {k: ghost_score(v, frames) for k, v in plates.items()}
    best = min(names, key=lambda k: scores[k]["score"])
    return plates[best], best, scores


def luminance(rgb: np.ndarray) -> np.ndarray:
    return rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114


def spatial_noise(img: np.ndarray) -> float:
    """Immerkaer's fast noise estimate (sigma, levels) of one image's luminance."""
    y = luminance(img.astype(np.float64))
    k = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float64)
    r = cv2().filter2D(y, -1, k)[1:-1, 1:-1]
    return float(math.sqrt(math.pi / 2) * np.abs(r).mean() / 6)


def temporal_noise(frames: np.ndarray) -> float:
    """Noise sigma (levels) from differences of consecutive samples: robust to moving things."""
    sig = []
    for a, b in zip(frames[:-1], frames[1:]):
        d = luminance(a.astype(np.float64)) - luminance(b.astype(np.float64))
        d = d - np.median(d)
        cut = 4 * max(1.4826 * np.median(np.abs(d)), 1.0)     # moving things are outliers
        sig.append(np.sqrt(np.mean(d[np.abs(d) < cut] ** 2)) / math.sqrt(2))
    return float(np.median(sig))


def blur_sigma(img: np.ndarray) -> float:
    """Gaussian sigma (px) of the image's strong edges: a step of contrast c blurred by sigma has
    peak gradient c / (sigma sqrt(2 pi))."""
    cv = cv2()
    y = luminance(img.astype(np.float32)).astype(np.float32)
    gx = cv.Sobel(y, cv.CV_32F, 1, 0, ksize=3) / 8
    gy = cv.Sobel(y, cv.CV_32F, 0, 1, ksize=3) / 8
    g = np.hypot(gx, gy)
    kernel = np.ones((9, 9), np.uint8)
    contrast = cv.dilate(y, kernel) - cv.erode(y, kernel)
    strong = (g >= np.quantile(g, 0.995)) & (contrast > 30)
    if strong.sum() < 20:
        return 1.0
    s = contrast[strong] / (g[strong] * math.sqrt(2 * math.pi))
    return float(np.clip(np.median(s), 0.3, 6.0))


def statistics(plate: np.ndarray, frames: np.ndarray, method: str) -> dict:
    """plate.yaml `statistics` (see the module docstring)."""
    cv = cv2()
    f = plate.astype(np.float64)
    noise = temporal_noise(frames) if len(frames) > 1 else spatial_noise(plate)
    n = len(frames)
    kept = math.sqrt(math.pi / (2 * n)) if n > 1 else 1.0
    lum = luminance(f)
    lap = cv.Laplacian(lum.astype(np.float32), cv.CV_32F)
    mean = f.reshape(-1, 3).mean(0)
    return {
        "noise_sigma": round(noise, 4),
        "plate_noise_sigma": round(noise * min(kept, 1.0), 4),
        "sharpness": round(float(lap.var()), 3),
        "blur_sigma_px": round(blur_sigma(plate), 4),
        "mean_rgb": [round(float(x), 3) for x in mean],
        "std_rgb": [round(float(x), 3) for x in f.reshape(-1, 3).std(0)],
        "luminance": {"mean": round(float(lum.mean()), 3), "p5": round(float(np.percentile(lum, 5)), 3),
                      "p95": round(float(np.percentile(lum, 95)), 3)},
        "gray_gains": [round(float(mean.mean() / max(x, 1e-6)), 5) for x in mean],
    }
