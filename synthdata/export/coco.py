"""COCO detection / keypoints / instance segmentation (cocodataset.org/#format-data).

    OUT/annotations.json
    OUT/images/<clip_id>/000000.jpg      one JPEG per frame, named by the 0-based frame index

Every frame is an image (frames without objects too: they are negatives). Each visible object is
an annotation with its visible box `bbox` [x, y, w, h] (pixels, top-left origin, whole pixels:
the same box pycocotools' toBbox gives for the mask), `area` (visible pixels), `segmentation`
(the compressed COCO RLE from the objects table), `visibility` (0..1, an extra field) and, for
people, COCO-17 `keypoints` [x, y, v] * 17 with `num_keypoints` (joints with v > 0); other
categories carry `num_keypoints` 0 (no `keypoints`), so pycocotools' keypoint evaluation over all
category ids ignores them instead of failing. Hidden objects
(no visible pixel) are not annotated. Category ids are 1-based in the order of the export's
category list, so the same options give the same ids for every dataset.
"""
from __future__ import annotations

import os
from typing import Any

from synthdata.export.base import Exporter
from synthdata.export.source import ClipExport, ExportSource, visible_box
from synthdata.export.writers import JpegWriter, JsonDocument
from synthdata.world.types import COCO_KEYPOINTS, COCO_SKELETON

ANNOTATIONS = "annotations.json"
IMAGES = "images"
SUPERCATEGORY = {"person": "person", "car": "vehicle", "van": "vehicle", "truck": "vehicle", "bus": "vehicle",
                 "bicycle": "vehicle", "motorcycle": "vehicle", "bag": "accessory"}


def coco_categories(names: list[str]) -> list[dict[str, Any]]:
    """COCO `categories`, ids 1.. in the order of `names`; person carries COCO-17 keypoint names
    and the skeleton with 1-based joint indices, as COCO's person_keypoints files do."""
    cats = []
    for i, name in enumerate(names, start=1):
        cat: dict[str, Any] = {"id": i, "name": name, "supercategory": SUPERCATEGORY.get(name, "object")}
        if name == "person":
            cat["keypoints"] = list(COCO_KEYPOINTS)
            cat["skeleton"] = [[a + 1, b + 1] for a, b in COCO_SKELETON]
        cats.append(cat)
    return cats


def _num(v: float) -> float | int:
    """Compact JSON number: whole values as ints, others to 1/1000 pixel."""
    r = round(float(v), 3)
    return int(r) if r.is_integer() else r


def annotation(row: dict[str, Any], box: tuple[float, float, float, float], ann_id: int, image_id: int,
               category_id: int) -> dict[str, Any]:
    """One COCO annotation of a visible object row."""
    x, y, w, h = box
    area = row.get("visible_pixels")
    ann: dict[str, Any] = {
        "id": ann_id, "image_id": image_id, "category_id": category_id,
        "bbox": [_num(x), _num(y), _num(w), _num(h)],
        "area": int(area) if area is not None else _num(w * h), "iscrowd": 0,
        "visibility": round(float(row["visibility"] or 0.0), 4),
    }
    mask = row.get("mask")
    if mask is not None:
        ann["segmentation"] = {"size": [int(v) for v in mask["size"]], "counts": mask["counts"]}
    if row["category"] == "person":
        kp = row.get("keypoints")
        if kp is None:
            kp = [0.0] * (3 * len(COCO_KEYPOINTS))
        ann["keypoints"] = [int(v) if i % 3 == 2 else _num(v) for i, v in enumerate(kp)]
        ann["num_keypoints"] = sum(1 for v in kp[2::3] if v > 0)
    else:
        ann["num_keypoints"] = 0
    return ann


class CocoExporter(Exporter):
    name = "coco"
    description = "COCO boxes, RLE masks and person keypoints; frames as JPEG images"
    arrays: tuple[str, ...] = ("images", "annotations")

    def export(self, source: ExportSource, out: str) -> dict[str, Any]:
        cat_ids = {c: i for i, c in enumerate(source.categories, start=1)}
        doc = JsonDocument(os.path.join(out, ANNOTATIONS), self.arrays)
        counts = {"clips": 0, "images": 0, "annotations": 0, "hidden_skipped": 0}
        image_id = ann_id = 0
        with JpegWriter(quality=source.options.jpeg_quality, workers=source.options.workers) as jpegs:
            for video_id, clip in enumerate(source.clips(), start=1):
                os.makedirs(os.path.join(out, IMAGES, clip.sequence))
                self.begin_clip(doc, clip, video_id)
                counts["clips"] += 1
                for f, rgb in clip.frames():
                    image_id += 1
                    rel = f"{clip.sequence}/{f:06d}.jpg"
                    jpegs.write(rgb, os.path.join(out, IMAGES, rel))
                    doc.append("images", self.image(clip, video_id, image_id, f, rel))
                    for row in clip.objects[f]:
                        box = visible_box(row)
                        if box is None:
                            counts["hidden_skipped"] += 1
                            continue
                        ann_id += 1
                        ann = annotation(row, box, ann_id, image_id, cat_ids[row["category"]])
                        doc.append("annotations", self.extend_annotation(ann, clip, video_id, row))
        counts["images"], counts["annotations"] = image_id, ann_id
        head = {"info": self.info(source), "licenses": [], "categories": coco_categories(source.categories)}
        doc.close(head, ("info", "licenses", "categories") + self.arrays)
        return counts

    # hooks for coco-video ------------------------------------------------------------------------
    def begin_clip(self, doc: JsonDocument, clip: ClipExport, video_id: int) -> None:
        """Called once per clip before its images."""

    def image(self, clip: ClipExport, video_id: int, image_id: int, frame: int, rel: str) -> dict[str, Any]:
        return {"id": image_id, "file_name": rel, "width": clip.width, "height": clip.height,
                "clip_id": clip.clip_id, "camera": clip.camera, "frame": frame}

    def extend_annotation(self, ann: dict[str, Any], clip: ClipExport, video_id: int,
                          row: dict[str, Any]) -> dict[str, Any]:
        return ann

    def info(self, source: ExportSource) -> dict[str, Any]:
        m = source.manifest
        return {"description": f"synthdata dataset {m.get('name')} ({self.name} export)",
                "version": str(m.get("synthdata_version", "")), "recipe_sha256": m.get("recipe_sha256"),
                "contributor": "synthdata", "url": "", "date_created": ""}
