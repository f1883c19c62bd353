"""Reading the user's footage: a video file, a folder of frames, or one still image.

Frames come back as RGB uint8 arrays (H, W, 3), evenly sampled over the footage, with a short
description of the source (name, sha256, frame count, frame rate) for plate.yaml.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from synthdata.errors import BadInput
from synthdata.plate.cvload import cv2

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
MIN_VIDEO_FRAMES = 5        # a moving-thing-free plate needs a few frames to vote


@dataclass
class Footage:
    """Sampled frames (N, H, W, 3) RGB uint8 and where they came from."""

    frames: np.ndarray
    name: str
    sha256: str
    kind: str                 # video | frames | still
    total_frames: int
    fps: float | None
    indices: list[int]        # 0-based frame numbers of the samples

    @property
    def size(self) -> tuple[int, int]:
        return int(self.frames.shape[2]), int(self.frames.shape[1])


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def read_image(path: Path, what: str = "image") -> np.ndarray:
    """One image file as RGB uint8 (H, W, 3); BadInput naming the file when it is not one."""
    data = np.fromfile(str(path), np.uint8) if path.is_file() else None
    img = None if data is None or not len(data) else cv2().imdecode(data, cv2().IMREAD_COLOR)
    if img is None:
        raise BadInput(f"{path}: cannot read it as an {what} (expected a PNG or JPEG file)")
    return np.ascontiguousarray(img[..., ::-1])


def read_footage(path: str | Path, max_frames: int = 60) -> Footage:
    """Sample up to `max_frames` frames evenly from a video, a folder of frames or one still."""
    p = Path(path)
    if not p.exists():
        raise BadInput(f"{p}: no such file or folder; give a video file, a folder of frames or one image")
    if p.is_dir():
        return _read_folder(p, max_frames)
    if p.suffix.lower() in IMAGE_SUFFIXES:
        img = read_image(p)
        return Footage(img[None], p.name, file_sha256(p), "still", 1, None, [0])
    return _read_video(p, max_frames)


def _read_folder(p: Path, max_frames: int) -> Footage:
    files = sorted(f for f in p.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise BadInput(f"{p}: the folder holds no image files ({', '.join(IMAGE_SUFFIXES)}); "
                       "put the frames there as numbered images")
    idx = _even(len(files), max_frames)
    frames = [read_image(files[i], "image (a frame of the folder)") for i in idx]
    shapes = {f.shape for f in frames}
    if len(shapes) > 1:
        raise BadInput(f"{p}: the frames differ in size ({sorted(s[:2] for s in shapes)}); use frames of one camera")
    h = hashlib.sha256()
    for f in files:
        h.update(f.name.encode() + b"\0" + file_sha256(f).encode())
    return Footage(np.stack(frames), p.name, h.hexdigest(), "frames", len(files), None, idx)


def _read_video(p: Path, max_frames: int) -> Footage:
    cap = cv2().VideoCapture(str(p))
    try:
        if not cap.isOpened():
            raise BadInput(f"{p}: cannot read it as a video (expected e.g. an .mp4 or .avi file, a folder of "
                           "frames or one image)")
        fps = float(cap.get(cv2().CAP_PROP_FPS)) or None
        frames_all: list[np.ndarray] = []
        n = 0
        stride = 1
        while True:
            ok = cap.grab()
            if not ok:
                break
            if n % stride == 0:
                ok, img = cap.retrieve()
                if ok:
                    frames_all.append((n, img))
                if len(frames_all) >= 4 * max_frames:     # keep memory bounded on long videos
                    frames_all = frames_all[::2]
                    stride *= 2
            n += 1
    finally:
        cap.release()
    if n < MIN_VIDEO_FRAMES:
        raise BadInput(f"{p}: the video has {n} readable frame(s); a plate needs at least {MIN_VIDEO_FRAMES} "
                       "(give a longer clip, or one still image of the empty scene)")
    pick = _even(len(frames_all), max_frames)
    idx = [frames_all[i][0] for i in pick]
    frames = np.stack([frames_all[i][1][..., ::-1] for i in pick])
    return Footage(np.ascontiguousarray(frames), p.name, file_sha256(p), "video", n, fps, idx)


def _even(n: int, k: int) -> list[int]:
    """k indices spread evenly over range(n) (all of them when n <= k)."""
    if n <= k:
        return list(range(n))
    return [int(round(x)) for x in np.linspace(0, n - 1, k)]
