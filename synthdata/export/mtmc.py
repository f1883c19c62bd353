"""Multi-camera multi-target tracking ground truth in the AI City Challenge layout (2023-2024
Track 1, multi-camera people tracking): one folder per scene (clip), the videos of its cameras,
one ground-truth file for all of them.

    OUT/<clip_id>/ground_truth.txt                 every camera's boxes, one line per box:
                                                   camera_id obj_id frame_id xmin ymin width height xworld yworld
    OUT/<clip_id>/camera_0001/video.mp4            the camera's H.264 video, byte for byte from the dataset
    OUT/<clip_id>/camera_0001/calibration.json     name, size, K (3x3), R (3x3 world->camera), t, camera centre, k1/k2, model
    OUT/cameras.txt                                "camera_id name" per line

Values are space-delimited, as AI City documents its files. camera_id is the 1-based number of
the camera among the dataset's camera names sorted (the same number in every scene); obj_id is
the global identity (our track_id: the same person in every camera of a scene); frame_id is
1-based (our frame + 1); xmin ymin width height the *visible* box in pixels (0-based, top-left
origin), so fully hidden rows are left out; xworld yworld the ground position in metres in the
scene's world frame (shared by all its cameras). Lines are sorted by camera_id, frame_id, obj_id.
Only a scene's own cameras and identities are in its file: ids repeat across scenes, as they do
across AI City's scenes.
"""
from __future__ import annotations

import json
import os
from typing import Any

import numpy as np

from synthdata.export.base import Exporter
from synthdata.export.source import ExportSource, visible_box

GROUND_TRUTH = "ground_truth.txt"


def _fmt(v: float) -> str:
    s = f"{float(v):.2f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def gt_line(camera_id: int, frame: int, row: dict[str, Any]) -> str | None:
    """The ground-truth line of an object row at 0-based `frame`; None when it is hidden."""
    box = visible_box(row)
    if box is None:
        return None
    x, y, w, h = box
    return " ".join([str(camera_id), str(int(row["track_id"])), str(frame + 1), _fmt(x), _fmt(y), _fmt(w), _fmt(h),
                     f"{float(row['world_x']):.3f}", f"{float(row['world_y']):.3f}"])


def calibration(info: dict[str, Any]) -> dict[str, Any]:
    """The camera of a clips row (frame 0) as calibration.json holds it."""
    K = [[info["fx"], info["skew"] or 0.0, info["cx"]], [0.0, info["fy"], info["cy"]], [0.0, 0.0, 1.0]]
    R = np.reshape(info["R"], (3, 3)).tolist()
    return {"camera": info["camera"], "width": info["width"], "height": info["height"], "K": K, "R": R,
            "t": list(info["t"]), "centre_m": [info["cam_x"], info["cam_y"], info["cam_z"]],
            "k1": info["k1"], "k2": info["k2"], "model": info["camera_model"],
            "convention": "x_cam = R @ X_world + t; u = K[0][0] x/z + K[0][2], v = K[1][1] y/z + K[1][2] "
                          "(before k1/k2 distortion); world metres, ground z = 0"}


class MtmcExporter(Exporter):
    name = "mtmc"
    description = "AI City Challenge MTMC: per scene ground_truth.txt (camera id frame box xworld yworld), videos"

    def export(self, source: ExportSource, out: str) -> dict[str, Any]:
        ds = source.dataset
        counts = {"scenes": 0, "videos": 0, "gt_lines": 0, "hidden_skipped": 0}
        cams = ds.cameras()
        columns = ["camera", "fx", "fy", "cx", "cy", "skew", "k1", "k2", "camera_model", "R", "t", "cam_x", "cam_y",
                   "cam_z", "width", "height"]
        for cid in source.clip_ids:
            scene = os.path.join(out, cid)
            rows = _clip_rows(ds, cid, columns)
            lines = []
            for clip in (source.clip(cid, cam) for cam in ds.cameras(cid)):
                number = source.camera_number(clip.camera)
                folder = os.path.join(scene, f"camera_{number:04d}")
                os.makedirs(folder)
                with open(os.path.join(folder, "video.mp4"), "wb") as f:
                    f.write(ds.read_clip_bytes(cid, clip.camera))
                with open(os.path.join(folder, "calibration.json"), "w", encoding="utf-8") as f:
                    json.dump(calibration(rows[clip.camera]), f, indent=1)
                counts["videos"] += 1
                for frame, objects in enumerate(clip.objects):
                    for row in objects:
                        line = gt_line(number, frame, row)
                        if line is None:
                            counts["hidden_skipped"] += 1
                        else:
                            lines.append(line)
            with open(os.path.join(scene, GROUND_TRUTH), "w", encoding="utf-8") as f:
                f.write("".join(ln + "\n" for ln in lines))
            counts["gt_lines"] += len(lines)
            counts["scenes"] += 1
        with open(os.path.join(out, "cameras.txt"), "w", encoding="utf-8") as f:
            f.write("".join(f"{i} {name}\n" for i, name in enumerate(cams, start=1)))
        return counts


def _clip_rows(ds: Any, clip_id: str, columns: list[str]) -> dict[str, dict[str, Any]]:
    """camera -> the clip's clips-table row (those columns; "cam0" before schema version 3)."""
    import pyarrow.dataset as pads

    have = [c for c in columns if c in ds.clips.schema.names]
    rows = ds.clips.to_table(columns=have, filter=pads.field("clip_id") == clip_id).to_pylist()
    return {r.get("camera") or "cam0": {**r, "camera": r.get("camera") or "cam0"} for r in rows}
