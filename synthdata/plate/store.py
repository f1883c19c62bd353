"""A plate folder on disk: plate.png (the clean background), plate.yaml, preview.png and, once
calibrated, grid.png (the fitted ground grid drawn over the plate).

plate.yaml:
    version: 1
    image: plate.png
    sha256: <of plate.png>
    size: [W, H]
    source: {name, sha256, kind: video|frames|still, frames, fps, sampled}
    method: quiet_median | median | mog2 | still     (how moving things were removed)
    scores: {method: {ghost_fraction, unmatched_fraction, score}}
    statistics: {noise_sigma, plate_noise_sigma, sharpness, blur_sigma_px, mean_rgb, std_rgb,
                 luminance: {mean, p5, p95}, gray_gains}
    calibration: {method, position_m, pan_deg, tilt_deg, roll_deg, hfov_deg, k1, reprojection_px,
                  input}     (absent until `synthdata plate calibrate`)
    credit: a line to show with any image derived from the footage (optional)
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from synthdata.errors import BadInput
from synthdata.plate.calibrate import Calibration

PLATE_YAML = "plate.yaml"
VERSION = 1


@dataclass
class PlateInfo:
    folder: Path
    image: str
    sha256: str
    size: tuple[int, int]
    source: dict[str, Any]
    method: str
    statistics: dict[str, Any]
    scores: dict[str, Any] = field(default_factory=dict)
    calibration: Calibration | None = None
    credit: str | None = None

    @property
    def image_path(self) -> Path:
        return self.folder / self.image

    def to_yaml(self) -> dict[str, Any]:
        d: dict[str, Any] = {"version": VERSION, "image": self.image, "sha256": self.sha256,
                             "size": list(self.size), "source": self.source, "method": self.method,
                             "scores": self.scores, "statistics": self.statistics}
        if self.calibration is not None:
            d["calibration"] = self.calibration.to_yaml()
        if self.credit:
            d["credit"] = self.credit
        return d

    def save(self) -> None:
        text = yaml.safe_dump(self.to_yaml(), sort_keys=False, default_flow_style=None, width=110)
        tmp = self.folder / (PLATE_YAML + ".tmp")
        tmp.write_text(text)
        tmp.replace(self.folder / PLATE_YAML)


def load_plate(folder: str | Path) -> PlateInfo:
    """Read PLATE_DIR/plate.yaml; BadInput naming the file and what to do."""
    f = Path(folder)
    y = f / PLATE_YAML
    if not y.is_file():
        raise BadInput(f"{f}: not a plate folder (no {PLATE_YAML}); make one with `synthdata plate init FOOTAGE "
                       f"--out {f}`")
    try:
        d = yaml.safe_load(y.read_text())
        cal = d.get("calibration")
        return PlateInfo(f, d["image"], d["sha256"], tuple(int(x) for x in d["size"]), d.get("source", {}),
                         d.get("method", "?"), d.get("statistics", {}), d.get("scores", {}),
                         Calibration.from_yaml(cal) if cal else None, d.get("credit"))
    except (yaml.YAMLError, KeyError, TypeError, ValueError, AttributeError) as e:
        raise BadInput(f"{y}: not a valid plate description ({type(e).__name__}: {e}); run `synthdata plate init` "
                       "again") from None
