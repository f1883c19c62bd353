"""Small synthetic plate folders for the plate tests (no footage needed)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from synthdata.plate.calibrate import from_values
from synthdata.plate.footage import file_sha256
from synthdata.plate.images import write_png
from synthdata.plate.store import PlateInfo

W, H = 320, 180
STATS = {"noise_sigma": 1.5, "plate_noise_sigma": 0.3, "sharpness": 50.0, "blur_sigma_px": 0.8,
         "mean_rgb": [120.0, 118.0, 110.0], "std_rgb": [20.0, 20.0, 20.0],
         "luminance": {"mean": 118.0, "p5": 90.0, "p95": 150.0}, "gray_gains": [0.97, 0.99, 1.06]}
OCCLUDER = [[140, 40], [180, 40], [180, 140], [140, 140]]   # a pillar standing on row 140


def plate_image(seed: int = 0) -> np.ndarray:
    """Textured grey ground with a darker band: something real-looking to composite onto."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:H, 0:W]
    base = 100 + 40 * (y / H) + 8 * np.sin(x / 7.0) * np.cos(y / 5.0)
    img = np.stack([base * 1.02, base, base * 0.93], -1) + rng.normal(0, 1.0, (H, W, 3))
    img[40:141, 140:181] = (60, 62, 70)                         # the pillar in the plate
    return np.clip(img, 0, 255).astype(np.uint8)


def make_plate(folder: Path, *, height: float = 6.0, tilt: float = 35.0, hfov: float = 60.0,
               sketch: dict | None = None) -> Path:
    """A calibrated plate folder (typed values) and, when given, its JSON sketch (sketch.json)."""
    folder.mkdir(parents=True, exist_ok=True)
    write_png(folder / "plate.png", plate_image())
    info = PlateInfo(folder, "plate.png", file_sha256(folder / "plate.png"), (W, H),
                     {"name": "synthetic", "sha256": "0" * 64, "kind": "still", "frames": 1, "fps": None,
                      "sampled": 1}, "still", dict(STATS), {}, from_values(height, tilt, hfov))
    info.save()
    if sketch is not None:
        (folder / "sketch.json").write_text(json.dumps(sketch))
    return folder


def recipe_text(plate: Path, sketch: Path | None, *, people: int = 4, frames: int = 6, extra: str = "") -> str:
    sk = f", sketch: {sketch}" if sketch is not None else ""
    return f"""
name: plate_test
seed: 5
output: {{clips: 1, clips_per_shard: 1, frames_per_clip: {frames}, fps: 10, resolution: [{W}, {H}]}}
scene:
  layout: {{type: plate, plate: {plate}{sk}}}
  sensor: {{vignetting: 0.0}}
actors:
  - {{type: person, count: {people}, behavior: walk}}
{extra}
"""
