"""The person-detection protocol that bench_realism.py and bench_sim2real.py share: IoU, AP50
(VOC all-point) and localisation over scored frames, Caltech-standard boxes, OpenCV's HOG people
detector on (optionally grown and upscaled) frames, HOG windows fitted to people (features and a
linear detector's scores on them), and the labelled frames both measure on:
rendered recipe frames (targets: persons with visibility >= MIN_VIS and a visible box >= MIN_H px
tall), the shipped real indoor clip boxed against its clean plate (bench_realism.py's
docstring says how), and a recipe's people who stand as that clip's people do (`matched_windows`).
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

import benchlib

ROOT = benchlib.ROOT
MIN_H, MIN_VIS, MEDIAN_H = 48, 0.5, 128.0
WIN_W, WIN_H, PERSON = 64, 128, 0.75       # HOG's window; a person's visible height is 75 % of it


def iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of boxes a (N, 4) against b (M, 4), x y w h -> (N, M)."""
    if not len(a) or not len(b):
        return np.zeros((len(a), len(b)))
    ax0, ay0, ax1, ay1 = a[:, 0:1], a[:, 1:2], a[:, 0:1] + a[:, 2:3], a[:, 1:2] + a[:, 3:4]
    bx0, by0, bx1, by1 = b[:, 0], b[:, 1], b[:, 0] + b[:, 2], b[:, 1] + b[:, 3]
    iw = np.clip(np.minimum(ax1, bx1) - np.maximum(ax0, bx0), 0, None)
    ih = np.clip(np.minimum(ay1, by1) - np.maximum(ay0, by0), 0, None)
    inter = iw * ih
    return inter / (a[:, 2:3] * a[:, 3:4] + b[:, 2] * b[:, 3] - inter + 1e-9)


def covered(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The share of each box of a (N, 4) that lies inside each box of b (M, 4), x y w h -> (N, M)."""
    if not len(a) or not len(b):
        return np.zeros((len(a), len(b)))
    iw = np.clip(np.minimum(a[:, 0:1] + a[:, 2:3], b[:, 0] + b[:, 2]) - np.maximum(a[:, 0:1], b[:, 0]), 0, None)
    ih = np.clip(np.minimum(a[:, 1:2] + a[:, 3:4], b[:, 1] + b[:, 3]) - np.maximum(a[:, 1:2], b[:, 1]), 0, None)
    return iw * ih / (a[:, 2:3] * a[:, 3:4] + 1e-9)


def average_precision(frames: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]],
                      ignore_by: str = "detection") -> tuple[float, int, int]:
    """frames: (detections (N, 4), scores (N,), targets (M, 4), ignored (K, 4)) per frame.
    Returns (AP50, number of targets, number of detections counted). A detection no target takes
    is not counted when it lies in an ignored person's box: by at least half of its own area, as
    the Caltech pedestrian benchmark matches ignore regions (Dollar et al., PAMI 2012: a detection
    of the visible part of a person the frame's edge cuts, or of a small or hidden one, is neither
    right nor wrong); ignore_by="iou": only at IoU >= 0.5 with it (this module before 2026-12-07)."""
    recs = []                                  # (score, is_tp) of counted detections
    n_targets = 0
    for det, score, tgt, ign in frames:
        n_targets += len(tgt)
        taken = np.zeros(len(tgt), bool)
        ov, ovi = iou(det, tgt), (iou(det, ign) if ignore_by == "iou" else covered(det, ign))
        for k in np.argsort(-score, kind="stable"):
            cand = np.where(taken, -1.0, ov[k]) if len(tgt) else np.zeros(0)
            j = int(np.argmax(cand)) if len(cand) else -1
            if j >= 0 and cand[j] >= 0.5:
                taken[j] = True
                recs.append((float(score[k]), 1))
            elif len(ign) and ovi[k].max() >= 0.5:
                continue
            elif len(tgt) and ov[k].max() >= 0.5:
                recs.append((float(score[k]), 0))       # a second detection of a taken target
            else:
                recs.append((float(score[k]), 0))
    if n_targets == 0:
        return float("nan"), 0, len(recs)
    recs.sort(key=lambda r: -r[0])
    tp = np.cumsum([r[1] for r in recs]) if recs else np.zeros(0)
    fp = np.cumsum([1 - r[1] for r in recs]) if recs else np.zeros(0)
    recall = tp / n_targets
    precision = tp / np.maximum(tp + fp, 1e-9)
    mrec = np.concatenate([[0.0], recall, [1.0]])
    mpre = np.concatenate([[0.0], precision, [0.0]])
    for i in range(len(mpre) - 2, -1, -1):
        mpre[i] = max(mpre[i], mpre[i + 1])
    idx = np.flatnonzero(mrec[1:] != mrec[:-1])
    return float(np.sum((mrec[idx + 1] - mrec[idx]) * mpre[idx + 1])), n_targets, len(recs)


def localisation(frames: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]) -> tuple[float, float, float]:
    """Where the detector's boxes fall on the targets (a diagnostic beside AP50): the share of
    targets whose best positive-score detection overlaps them at IoU >= 0.5 (found), the share
    at 0.3-0.5 (found but misplaced: the detector fires on the person at the wrong scale or
    offset), and the median height of that detection over the target's (over IoU >= 0.3)."""
    found = near = 0
    ratios = []
    n = 0
    for det, score, tgt, _ign in frames:
        n += len(tgt)
        keep = det[score > 0] if len(det) else det
        if not len(tgt) or not len(keep):
            continue
        ov = iou(tgt, keep)
        best = ov.argmax(1)
        for i, j in enumerate(best):
            v = ov[i, j]
            found += v >= 0.5
            near += 0.3 <= v < 0.5
            if v >= 0.3:
                ratios.append(keep[j, 3] / tgt[i, 3])
    if not n:
        return float("nan"), float("nan"), float("nan")
    return found / n, near / n, float(np.median(ratios)) if ratios else float("nan")


def caltech_boxes(b: np.ndarray, aspect: float = 0.41) -> np.ndarray:
    """Boxes (N, 4) x y w h with width set to aspect x height about the same centre."""
    out = np.array(b, float, copy=True).reshape(-1, 4)
    cx = out[:, 0] + out[:, 2] / 2
    out[:, 2] = aspect * out[:, 3]
    out[:, 0] = cx - out[:, 2] / 2
    return out


def window_of(box: np.ndarray) -> tuple[float, float, float, float]:
    """The training window (x0, y0, w, h) of a person box x y w h: centred on it, its height
    box h / PERSON, aspect 1:2."""
    x, y, w, h = box
    H = h / PERSON
    return x + w / 2 - H / 4, y + h / 2 - H / 2, H / 2, H


def crop(img: np.ndarray, win: tuple[float, float, float, float]) -> np.ndarray:
    """The window resampled to 64x128 (area averaging when shrinking, borders replicated)."""
    import cv2

    x0, y0, w, h = win
    M = np.array([[WIN_W / w, 0, -x0 * WIN_W / w], [0, WIN_H / h, -y0 * WIN_H / h]])
    flags = cv2.INTER_AREA if h > WIN_H else cv2.INTER_LINEAR
    return cv2.warpAffine(img, M, (WIN_W, WIN_H), flags=flags, borderMode=cv2.BORDER_REPLICATE)


def features(hog, windows: list[np.ndarray]) -> np.ndarray:
    if not windows:
        return np.zeros((0, 3780), np.float32)
    return np.stack([hog.compute(np.ascontiguousarray(w[..., ::-1])).reshape(-1) for w in windows]).astype(np.float32)


def grown_detections(hog, bgr: np.ndarray, border: float) -> tuple[np.ndarray, np.ndarray]:
    """detectMultiScale windows (x, y, w, h in bgr's pixels) and scores, every window scoring above
    -0.5 (stride 8, padding 8, scale 1.05). border > 0 first grows the image by that share of its
    height above and below (edge pixels repeated): a window is 4/3 of its person's height, so
    without it a person taller than about 3/4 of the frame, or near its top or bottom edge, has
    no window."""
    import cv2

    pad = int(round(border * bgr.shape[0]))
    img = np.ascontiguousarray(bgr)
    if pad:
        img = cv2.copyMakeBorder(img, pad, pad, 0, 0, cv2.BORDER_REPLICATE)
    rects, weights = hog.detectMultiScale(img, hitThreshold=-0.5, winStride=(8, 8), padding=(8, 8), scale=1.05)
    if not len(rects):
        return np.zeros((0, 4)), np.zeros(0)
    return np.asarray(rects, float) - [0, pad, 0, 0], np.asarray(weights, float).reshape(-1)


def detect(hog, frame: np.ndarray, scale: float, border: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """HOG detections in original-frame pixels (x, y, w, h boxes, shrunk as peopledetect draws
    them) and their SVM scores; border as `grown_detections`."""
    import cv2

    img = frame[..., ::-1]
    if scale != 1.0:
        img = cv2.resize(np.ascontiguousarray(img), None, fx=scale, fy=scale, interpolation=cv2.INTER_LINEAR)
    r, score = grown_detections(hog, img, border)
    if not len(r):
        return r, score
    r = r / scale
    r = np.stack([r[:, 0] + 0.15 * r[:, 2], r[:, 1] + 0.05 * r[:, 3], 0.7 * r[:, 2], 0.9 * r[:, 3]], 1)
    return r, score


def box_summary(scored: list, heights: np.ndarray, scale: float) -> dict:
    """What every row prints besides AP50: found, near, det h (`localisation`), AP41 (Caltech
    boxes) and reach (targets at least 96 px tall after upscaling)."""
    found, near, h_ratio = localisation(scored)
    ap41 = average_precision([(caltech_boxes(d), s, caltech_boxes(t), caltech_boxes(i)) for d, s, t, i in scored])[0]
    reach = float(np.mean(heights * scale >= 96)) if len(heights) else float("nan")
    return {"found": found, "near": near, "h_ratio": h_ratio, "ap41": ap41, "reach": reach}


def lean_deg(keypoints) -> float:
    """Angle (degrees) between the image vertical and the line from the mid-ankle to the
    mid-shoulder keypoint (COCO-17: shoulders 5, 6; ankles 15, 16)."""
    k = np.asarray(keypoints, float).reshape(17, 3)
    d = k[5:7, :2].mean(0) - k[15:17, :2].mean(0)
    return float(abs(np.degrees(np.arctan2(d[0], -d[1]))))


def side_on(heading: float, dx: float, dy: float) -> bool:
    """Whether a person facing `heading` (radians in the ground plane) at (dx, dy) from the camera's
    centre is seen side-on: their facing more than 45 degrees from both towards and away from it."""
    rel = (heading - math.atan2(dy, dx) + math.pi) % (2 * math.pi) - math.pi
    return bool(math.pi / 4 < abs(rel) < 3 * math.pi / 4)


REAL_CLIP = ROOT.parent / "shared" / "data" / "reference" / "one-by-one-person-detection.mp4"
REAL_PLATE = ROOT / "examples" / "plates" / "lobby" / "plate.png"
REAL_STEP = 5              # every 5th frame of the real clip
BLOB_LEVELS = 40           # a pixel differing from the plate by more than this (any channel) is foreground


def real_frames(path: Path, plate: Path, limit: int | None = None, step: int = REAL_STEP):
    """Frames of a real clip with one person at a time, boxed against its clean plate: (rgb,
    targets, ignored) per frame, every `step`-th frame (at most `limit`)."""
    import av
    import cv2
    from PIL import Image

    from synthdata.io.video import sws

    bg = np.asarray(Image.open(plate).convert("RGB"), np.int16)
    kernel_open, kernel_close = np.ones((3, 3), np.uint8), np.ones((9, 9), np.uint8)
    out = []
    with av.open(str(path)) as box:
        for i, frame in enumerate(box.decode(video=0)):
            if i % step:
                continue
            rgb = frame.to_ndarray(format="rgb24", **sws())
            fg = (np.abs(rgb.astype(np.int16) - bg).max(2) > BLOB_LEVELS).astype(np.uint8)
            fg = cv2.morphologyEx(cv2.morphologyEx(fg, cv2.MORPH_OPEN, kernel_open), cv2.MORPH_CLOSE, kernel_close)
            n, _, stats, _ = cv2.connectedComponentsWithStats(fg)
            tgt, ign = np.zeros((0, 4)), np.zeros((0, 4))
            if n > 1:
                k = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
                x, y, w, h, area = (int(v) for v in stats[k])
                blob = np.array([[x, y, w, h]], float)
                inside = x > 2 and y > 2 and x + w < rgb.shape[1] - 2 and y + h < rgb.shape[0] - 2
                if area > 1500 and h >= MIN_H and inside:
                    tgt = blob
                elif area > 300:
                    ign = blob
            out.append((rgb, tgt, ign))
            if limit and len(out) >= limit:
                break
    return out


def recipe_frames(path: Path, frames: int, clips: int, clip_frames: int | None = None,
                  max_truncation: float = 1.0, first_clip: int = 0):
    """Rendered frames of a recipe: (rgb, targets, ignored boxes, daylight?, targets' lean in
    degrees, which targets the camera sees side-on (`side_on`)) per frame, from its clips
    first_clip, first_clip + 1, ... Each clip is as long as the frames taken from it (its first
    frames), or `clip_frames` long with the frames taken evenly across it. A person with more
    than `max_truncation` of their amodal box outside the frame (the objects table's `truncation`)
    is ignored rather than a target (default: none is)."""
    from synthdata.pipeline import render_clip
    from synthdata.recipe.loader import load_recipe

    per_clip = max(1, -(-frames // clips))
    length = max(per_clip, clip_frames or per_clip)
    recipe = load_recipe(str(path), [f"output.clips={first_clip + clips}", f"output.frames_per_clip={length}",
                                     "output.masks=false"])
    out = []
    for i in range(first_clip, first_clip + clips):
        clip = render_clip(recipe, i, device="cpu")
        day = clip.clip_row.get("time_of_day", "day") in ("day", "indoor")
        o = clip.objects        # {} when the clip has no object rows at all
        centres = clip.world.camera.C
        for f in np.unique(np.linspace(0, clip.frames.shape[0] - 1, per_clip).round().astype(int)):
            tgt, ign, lean, side = [], [], [], []
            cx, cy = centres[min(f, len(centres) - 1), :2]
            for k in range(len(o.get("frame", ()))):
                if o["frame"][k] != f or o["category"][k] != "person" or o["w"][k] is None:
                    continue
                box = [o["x"][k], o["y"][k], o["w"][k], o["h"][k]]
                if o["visibility"][k] >= MIN_VIS and o["h"][k] >= MIN_H and o["truncation"][k] <= max_truncation:
                    tgt.append(box)
                    lean.append(lean_deg(o["keypoints"][k]))
                    side.append(side_on(o["heading"][k], o["world_x"][k] - cx, o["world_y"][k] - cy))
                else:
                    ign.append(box)
            out.append((clip.frames[f], np.asarray(tgt, float).reshape(-1, 4), np.asarray(ign, float).reshape(-1, 4),
                        day, np.asarray(lean, float), np.asarray(side, bool)))
            if len(out) >= frames:
                return out
    return out


MATCH_LEAN, MATCH_VIS = 6.0, 0.9     # `matched_windows`: upright and nearly whole, as the real clip's people


def window_scores(weights: np.ndarray, windows: list[np.ndarray]) -> np.ndarray:
    """A linear HOG detector's score (weights (3781,): w then bias) on 64x128 windows."""
    import cv2

    return features(cv2.HOGDescriptor(), windows) @ weights[:-1] + weights[-1] if windows else np.zeros(0)


def matched_windows(path: Path, clips: int, frames: int, every: int, min_h: float) -> tuple[list[np.ndarray], list]:
    """Windows fitted to a recipe's people (`window_of`) who look as the shipped real clip's people
    do to its camera: nearly whole (visibility >= MATCH_VIS), whole in the frame (as `real_frames`
    keeps its targets), upright (shoulders over ankles within MATCH_LEAN degrees) and at least min_h
    px tall; every `every`-th of `frames` frames of `clips` clips. Also each window's person
    (clip, track): a person standing still gives many nearly equal windows."""
    from synthdata.pipeline import render_clip
    from synthdata.recipe.loader import load_recipe

    recipe = load_recipe(str(path), [f"output.clips={clips}", f"output.frames_per_clip={frames}", "output.masks=false"])
    out, who = [], []
    for i in range(clips):
        clip = render_clip(recipe, i, device="cpu")
        o = clip.objects
        H, W = clip.frames.shape[1:3]
        for k in range(len(o.get("frame", ()))):
            if o["frame"][k] % every or o["category"][k] != "person" or o["w"][k] is None:
                continue
            x, y, w, h = o["x"][k], o["y"][k], o["w"][k], o["h"][k]
            if (o["visibility"][k] < MATCH_VIS or h < min_h or x <= 2 or y <= 2 or x + w >= W - 2 or y + h >= H - 2
                    or lean_deg(o["keypoints"][k]) >= MATCH_LEAN):
                continue
            out.append(crop(clip.frames[o["frame"][k]], window_of(np.array([x, y, w, h], float))))
            who.append((i, o["track_id"][k]))
    return out, who

