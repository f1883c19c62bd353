"""CocoVID: COCO extended with videos and instance tracks, as read by mmtracking / MMDetection's
CocoVideoDataset and (through `tracks` and `track_id`) the TAO toolkit.

    OUT/annotations.json
    OUT/images/<clip_id>/000000.jpg

On top of the plain COCO export (coco.py; same boxes, masks, keypoints, hidden objects skipped):
  videos       [{id, name (= clip_id), width, height, fps, num_frames}]
  images       + video_id, frame_id (0-based frame index; TAO's frame_index too)
  annotations  + video_id, instance_id (one id per track of a clip, unique over the whole file),
               track_id (= instance_id, TAO)
  tracks       [{id (= instance_id), category_id, video_id}]
"""
from __future__ import annotations

from typing import Any

from synthdata.export.coco import CocoExporter
from synthdata.export.source import ClipExport, ExportSource
from synthdata.export.writers import JsonDocument


class CocoVideoExporter(CocoExporter):
    name = "coco-video"
    description = "CocoVID (mmtracking/TAO): COCO plus videos, frame_id and instance_id tracks"
    arrays = ("videos", "images", "annotations", "tracks")

    def export(self, source: ExportSource, out: str) -> dict[str, Any]:
        self._doc: JsonDocument | None = None
        self._instances: dict[int, int] = {}
        self._next_instance = 0
        counts = super().export(source, out)
        counts["tracks"] = self._next_instance
        return counts

    def begin_clip(self, doc: JsonDocument, clip: ClipExport, video_id: int) -> None:
        self._doc = doc
        self._instances = {}
        doc.append("videos", {"id": video_id, "name": clip.sequence, "width": clip.width, "height": clip.height,
                              "fps": clip.fps, "num_frames": clip.num_frames,
                              "neg_category_ids": [], "not_exhaustive_category_ids": []})

    def image(self, clip: ClipExport, video_id: int, image_id: int, frame: int, rel: str) -> dict[str, Any]:
        return {"id": image_id, "video_id": video_id, "file_name": rel, "frame_id": frame,
                "frame_index": frame, "width": clip.width, "height": clip.height}

    def extend_annotation(self, ann: dict[str, Any], clip: ClipExport, video_id: int,
                          row: dict[str, Any]) -> dict[str, Any]:
        track = int(row["track_id"])
        instance = self._instances.get(track)
        if instance is None:
            self._next_instance += 1
            instance = self._instances[track] = self._next_instance
            assert self._doc is not None  # set by begin_clip
            self._doc.append("tracks", {"id": instance, "category_id": ann["category_id"], "video_id": video_id})
        ann.update(video_id=video_id, instance_id=instance, track_id=instance)
        return ann
