"""A finished dataset seen by an exporter: clips one at a time, object rows already filtered.

Only one clip's rows and (lazily, frame by frame) its decoded frames are in memory at a time,
so exporting a large dataset needs no more memory than exporting one clip. Frames are 0-based,
boxes are pixels with the top-left origin, as in the tables (DESIGN.md §3).
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import json

import numpy as np

from synthdata.errors import BadInput, DatasetError
from synthdata.export.base import ExportOptions
from synthdata.world.types import CATEGORIES

OBJECT_COLUMNS = ["frame", "track_id", "category", "x", "y", "w", "h", "ax", "ay", "aw", "ah",
                  "visibility", "truncation", "keypoints", "mask", "visible_pixels", "world_x", "world_y"]


@dataclass
class ClipExport:
    """One clip to export. `objects[f]` are the kept rows of frame f (dicts of the objects
    table's columns, sorted by track_id); a hidden object has x = y = w = h = None."""

    clip_id: str
    width: int
    height: int
    fps: float
    num_frames: int
    objects: list[list[dict[str, Any]]]
    dataset: Any = field(repr=False, default=None)
    camera: str = "cam0"
    sequence: str = ""           # a name for this video: clip_id, or <clip_id>_<camera> with several cameras

    def __post_init__(self) -> None:
        self.sequence = self.sequence or self.clip_id

    def rider_ids(self) -> set[int]:
        """Track ids of the people riding a vehicle in this clip (tracks-table attribute
        `riding_track_id`)."""
        tracks = self.dataset.tracks_for(self.clip_id, columns=["track_id", "attributes"]).to_pylist()
        return {int(t["track_id"]) for t in tracks
                if t["attributes"] and json.loads(t["attributes"]).get("riding_track_id") is not None}

    def frames(self) -> Iterator[tuple[int, np.ndarray]]:
        """(frame index, (H, W, 3) uint8 RGB) for every frame, decoded one at a time."""
        n = 0
        for n, rgb in enumerate(self.dataset.video(self.clip_id, self.camera).iter_frames(), start=1):
            if n > self.num_frames:
                break
            yield n - 1, rgb
        if n != self.num_frames:
            raise DatasetError(f"{self.dataset.path}: clip {self.clip_id}: its video decodes to {n} frames, "
                               f"the clips table says {self.num_frames}")


class ExportSource:
    """The clips of a dataset chosen by the options, with their rows filtered by category and
    visibility. `categories` is the output's category list (class ids follow its order);
    `dropped` counts the rows left out, by reason."""

    def __init__(self, dataset: Any, options: ExportOptions):
        self.dataset, self.options = dataset, options
        self.manifest: dict[str, Any] = dataset.manifest
        known = list(CATEGORIES) + sorted(set(dataset.categories) - set(CATEGORIES))
        if options.categories is None:
            self.categories: list[str] = known
        else:
            unknown = [c for c in options.categories if c not in known]
            if unknown:
                raise BadInput(f"--categories: unknown category {unknown[0]!r}; known: {', '.join(known)}")
            self.categories = list(options.categories)
        self.dropped: Counter[str] = Counter()

    @property
    def clip_ids(self) -> list[str]:
        ids = sorted(self.dataset.clip_ids())
        return ids[:self.options.clips] if self.options.clips is not None else ids

    def clips(self) -> Iterator[ClipExport]:
        """Every chosen clip as each of its cameras saw it (one ClipExport per video)."""
        for cid in self.clip_ids:
            for camera in self.dataset.cameras(cid):
                yield self.clip(cid, camera)

    def clip(self, clip_id: str, camera: str | None = None) -> ClipExport:
        info = self.dataset.view_info(clip_id, camera)
        camera = info["camera"]
        several = len(self.dataset.cameras(clip_id)) > 1
        n = int(info["num_frames"])
        per_frame: list[list[dict[str, Any]]] = [[] for _ in range(n)]
        wanted = set(self.categories)
        rows = self.dataset.objects_for(clip_id, columns=OBJECT_COLUMNS, camera=camera).to_pylist()
        for row in sorted(rows, key=lambda r: (r["frame"], r["track_id"])):
            if row["category"] not in wanted:
                self.dropped["category"] += 1
            elif (row["visibility"] or 0.0) < self.options.min_visibility:
                self.dropped["min_visibility"] += 1
            elif not 0 <= row["frame"] < n:
                raise DatasetError(f"{self.dataset.path}: clip {clip_id}: object row at frame {row['frame']} "
                                   f"outside its {n} frames")
            else:
                per_frame[row["frame"]].append(row)
        return ClipExport(clip_id, int(info["width"]), int(info["height"]), float(info["fps"]), n,
                          per_frame, self.dataset, camera, f"{clip_id}_{camera}" if several else clip_id)

    def camera_number(self, camera: str) -> int:
        """1-based number of a camera: its place among the dataset's camera names, sorted."""
        return self.dataset.cameras().index(camera) + 1


def visible_box(row: dict[str, Any]) -> tuple[float, float, float, float] | None:
    """The row's visible box (x, y, w, h), None when the object is hidden."""
    if row.get("w") is None or row.get("h") is None or row["w"] <= 0 or row["h"] <= 0:
        return None
    return float(row["x"]), float(row["y"]), float(row["w"]), float(row["h"])


def amodal_box(row: dict[str, Any]) -> tuple[float, float, float, float]:
    """The row's amodal box (x, y, w, h); may extend past the image."""
    return float(row["ax"]), float(row["ay"]), float(row["aw"]), float(row["ah"])
