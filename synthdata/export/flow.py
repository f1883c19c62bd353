"""Optical-flow training pairs: frames plus forward flow in Middlebury `.flo` and KITTI PNG.

    OUT/<clip_id>/image/000000.png      frames (PNG, lossless from the decoded video), 0-based
    OUT/<clip_id>/flow/000000.flo       forward flow of frame i -> i + 1 (Middlebury .flo: "PIEH",
                                        width, height, then u, v float32 per pixel, row-major);
                                        invalid pixels hold 1e10 (readers treat > 1e9 as unknown)
    OUT/<clip_id>/flow_kitti/000000.png the same flow as stored in the dataset (KITTI layout:
                                        u * 64 + 2^15, v * 64 + 2^15, valid), copied byte for byte

One .flo and one KITTI PNG per frame pair: frames 0..T-2 (the last frame has no successor).
Needs a dataset made with `flow` in output.modalities. Object filters do not apply (flow covers
every pixel).
"""
from __future__ import annotations

import os
from typing import Any

import numpy as np

from synthdata.errors import BadInput
from synthdata.export.base import Exporter

FLO_MAGIC = 202021.25          # b"PIEH" as a little-endian float32
FLO_UNKNOWN = 1e10


def write_flo(path: str, flow: np.ndarray) -> None:
    """(H, W, 2) float32 flow, NaN where invalid -> a Middlebury .flo file."""
    h, w = flow.shape[:2]
    data = np.where(np.isfinite(flow), flow, FLO_UNKNOWN).astype("<f4")
    with open(path, "wb") as f:
        f.write(np.array([FLO_MAGIC], "<f4").tobytes() + np.array([w, h], "<i4").tobytes() + data.tobytes())


def read_flo(path: str) -> np.ndarray:
    """A .flo file -> (H, W, 2) float32 with NaN where unknown (> 1e9)."""
    raw = np.fromfile(path, np.uint8)
    if raw[:4].tobytes() != b"PIEH":
        raise ValueError(f"{path}: not a .flo file")
    w, h = np.frombuffer(raw[4:12].tobytes(), "<i4")
    flow = np.frombuffer(raw[12:].tobytes(), "<f4").reshape(h, w, 2).copy()
    flow[np.abs(flow) > 1e9] = np.nan
    return flow


class FlowExporter(Exporter):
    name = "flow"
    description = "optical-flow pairs: image/*.png, flow/*.flo (Middlebury), flow_kitti/*.png (KITTI)"

    def export(self, source: Any, out: str) -> dict[str, Any]:
        from PIL import Image

        ds = source.dataset
        counts = {"clips": 0, "images": 0, "pairs": 0}
        for clip in source.clips():
            cid, cam = clip.clip_id, clip.camera
            if "flow" not in ds.modalities(cid, cam):
                raise BadInput(f"--format flow: clip {cid} has no flow stored; generate the dataset with "
                               f"output.modalities=[rgb, flow]")
            dirs = {k: os.path.join(out, clip.sequence, k) for k in ("image", "flow", "flow_kitti")}
            for d in dirs.values():
                os.makedirs(d)
            for i, rgb in clip.frames():
                Image.fromarray(rgb, "RGB").save(os.path.join(dirs["image"], f"{i:06d}.png"), compress_level=1)
                counts["images"] += 1
            flow = ds.read_dense(cid, "flow", camera=cam)
            for i, (name, png) in enumerate(ds.dense_members(cid, "flow", camera=cam)[:-1]):
                write_flo(os.path.join(dirs["flow"], f"{i:06d}.flo"), flow[i])
                with open(os.path.join(dirs["flow_kitti"], f"{i:06d}.png"), "wb") as f:
                    f.write(png)
                counts["pairs"] += 1
            counts["clips"] += 1
        return counts
