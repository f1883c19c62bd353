"""Ultralytics YOLO detection layout, split into train and val by clip.

    OUT/data.yaml                        train/val folders (relative to data.yaml), nc, names
    OUT/images/{train,val}/<clip_id>_000000.jpg
    OUT/labels/{train,val}/<clip_id>_000000.txt   "class cx cy w h" per visible object

Boxes are the visible boxes, clipped to the image and normalised by its width and height to
0..1 (cx, cy the centre). Every frame gets a label file (empty: a background image). Class ids
are 0-based in the order of the export's category list. Hidden objects are not labelled.

The split is by clip, so frames of one clip never sit on both sides: a clip is in val when
the first 8 bytes of sha256(clip_id), read as a fraction of 2**64, are below --val-fraction. A
clip's split therefore depends on its id alone, not on which other clips are exported.
data.yaml has no `path` key, so Ultralytics resolves the folders next to data.yaml and the export
can be moved as a whole.
"""
from __future__ import annotations

import hashlib
import os
from typing import Any

from synthdata.export.base import Exporter
from synthdata.export.source import ExportSource, visible_box
from synthdata.export.writers import JpegWriter

SPLITS = ("train", "val")


def split_of(clip_id: str, val_fraction: float) -> str:
    """'val' or 'train' for a clip, from a hash of its id (stable across runs and subsets)."""
    h = int.from_bytes(hashlib.sha256(clip_id.encode()).digest()[:8], "big") / 2.0**64
    return "val" if h < val_fraction else "train"


def yolo_box(box: tuple[float, float, float, float], width: int, height: int) -> tuple[float, ...] | None:
    """(cx, cy, w, h) normalised to 0..1 after clipping to the image; None if nothing is left."""
    x, y, w, h = box
    x0, y0 = min(max(x, 0.0), width), min(max(y, 0.0), height)
    x1, y1 = min(max(x + w, 0.0), width), min(max(y + h, 0.0), height)
    if x1 <= x0 or y1 <= y0:
        return None
    return ((x0 + x1) / 2 / width, (y0 + y1) / 2 / height, (x1 - x0) / width, (y1 - y0) / height)


def data_yaml(names: list[str]) -> str:
    import yaml

    body = {"train": "images/train", "val": "images/val", "nc": len(names),
            "names": {i: n for i, n in enumerate(names)}}
    return ("# Ultralytics dataset written by `synthdata export --format yolo`; folders are relative\n"
            "# to this file (no `path` key).\n" + yaml.safe_dump(body, sort_keys=False))


class YoloExporter(Exporter):
    name = "yolo"
    description = "Ultralytics YOLO: images/ and labels/ split train/val by clip, data.yaml"
    options = ("val_fraction",)

    def export(self, source: ExportSource, out: str) -> dict[str, Any]:
        class_id = {c: i for i, c in enumerate(source.categories)}
        counts: dict[str, Any] = {"clips": 0, "images": 0, "labels": 0, "hidden_skipped": 0,
                                  "train_clips": 0, "val_clips": 0}
        for kind in ("images", "labels"):
            for split in SPLITS:
                os.makedirs(os.path.join(out, kind, split))
        with JpegWriter(quality=source.options.jpeg_quality, workers=source.options.workers) as jpegs:
            for clip in source.clips():
                split = split_of(clip.clip_id, source.options.val_fraction)
                counts[f"{split}_clips"] += 1
                counts["clips"] += 1
                for f, rgb in clip.frames():
                    stem = f"{clip.sequence}_{f:06d}"
                    jpegs.write(rgb, os.path.join(out, "images", split, stem + ".jpg"))
                    lines = []
                    for row in clip.objects[f]:
                        box = visible_box(row)
                        norm = yolo_box(box, clip.width, clip.height) if box is not None else None
                        if norm is None:
                            counts["hidden_skipped"] += 1
                            continue
                        lines.append(" ".join([str(class_id[row["category"]])] + [f"{v:.6f}" for v in norm]))
                    with open(os.path.join(out, "labels", split, stem + ".txt"), "w", encoding="utf-8") as fh:
                        fh.write("".join(line + "\n" for line in lines))
                    counts["images"] += 1
                    counts["labels"] += len(lines)
        with open(os.path.join(out, "data.yaml"), "w", encoding="utf-8") as fh:
            fh.write(data_yaml(source.categories))
        return counts
