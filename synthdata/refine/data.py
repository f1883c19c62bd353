"""Training data for the refiner: unlabeled real frames and synthdata frame pairs with exact flow.

Real frames come from the user's camera: a video file, a folder of frames, one still, or a plate
folder from `synthdata plate init` (its clean plate; plate/ reads them all). Synthetic frames are
pairs (t, t + 1) from a synthdata dataset with, when the dataset stores the `flow` modality, the
forward flow of t (pixels, NaN where invalid: README "Dense ground truth"), and when it stores
`instances`, where the labelled objects are in both frames. Batches are random
crops drawn with a numpy Generator, so a seed fixes them (and its state resumes them).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from synthdata.errors import BadInput


@dataclass
class RealFrames:
    """(H, W, 3) uint8 frames of the user's camera and where they came from."""

    frames: list[np.ndarray]
    sources: list[dict[str, Any]]


@dataclass
class SyntheticPairs:
    """Frame pairs (t, t + 1) of a synthdata dataset: `first[i]`, `second[i]` (H, W, 3) uint8 and,
    when the dataset stores flow, `flow[i]` (H, W, 2) float16 forward flow of `first[i]`; when it
    stores instances, `objects[i]` (2, H, W) bool: the pixels of labelled objects in both frames."""

    first: list[np.ndarray]
    second: list[np.ndarray]
    flow: list[np.ndarray] | None
    source: dict[str, Any] = field(default_factory=dict)
    objects: list[np.ndarray] | None = None


def load_real(paths: list[str | os.PathLike], max_frames: int = 300) -> RealFrames:
    """Up to `max_frames` frames from each of `paths` (evenly sampled); BadInput naming a bad one."""
    from synthdata.plate.footage import file_sha256, read_footage, read_image
    from synthdata.plate.store import PLATE_YAML, load_plate

    frames: list[np.ndarray] = []
    sources: list[dict[str, Any]] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir() and (p / PLATE_YAML).is_file():
            info = load_plate(p)
            frames.append(read_image(info.image_path, "image (the plate)"))
            sources.append({"name": p.name, "kind": "plate", "sha256": info.sha256, "frames": 1})
            continue
        fo = read_footage(p, max_frames=max_frames)
        frames.extend(fo.frames)
        sources.append({"name": fo.name, "kind": fo.kind, "sha256": fo.sha256 if fo.kind != "still" else
                        file_sha256(p), "frames": len(fo.frames)})
    return RealFrames(frames, sources)


def load_synthetic(path: str | os.PathLike, max_pairs: int = 160) -> SyntheticPairs:
    """Up to `max_pairs` consecutive frame pairs spread over the clips of a synthdata dataset."""
    from synthdata.io.reader import open_dataset

    ds = open_dataset(str(path))
    cids = ds.clip_ids()
    if not cids:
        raise BadInput(f"{path}: the dataset has no clips")
    with_flow = all("flow" in ds.modalities(c) for c in cids)
    with_objects = all("instances" in ds.modalities(c) for c in cids)
    per_clip = -(-max_pairs // len(cids))
    first, second, flows, objects = [], [], [], []
    for cid in cids:
        n = int(ds.clip_info(cid)["num_frames"])
        if n < 2:
            continue
        ts = sorted({int(round(x)) for x in np.linspace(0, n - 2, min(per_clip, n - 1))})
        video = ds.read_clip(cid)
        flow = ds.read_dense(cid, "flow") if with_flow else None
        inst = ds.read_dense_raw(cid, "instances") if with_objects else None
        for t in ts:
            first.append(np.ascontiguousarray(video[t]))
            second.append(np.ascontiguousarray(video[t + 1]))
            if flow is not None:
                flows.append(flow[t].astype(np.float16))
            if inst is not None:
                objects.append(inst[t:t + 2] > 0)
    if not first:
        raise BadInput(f"{path}: the dataset's clips have fewer than 2 frames; the refiner needs frame pairs")
    keep = np.linspace(0, len(first) - 1, min(max_pairs, len(first))).round().astype(int)
    pick = sorted(set(keep.tolist()))
    source = {"name": Path(path).name, "dataset": ds.manifest.get("name"),
              "clips": len(cids), "pairs": len(pick), "flow": with_flow, "instances": with_objects}
    return SyntheticPairs([first[i] for i in pick], [second[i] for i in pick],
                          [flows[i] for i in pick] if with_flow else None, source,
                          [objects[i] for i in pick] if with_objects else None)


@dataclass
class Batch:
    """One training batch, float tensors in [0, 1] (N, 3, c, c); flow (N, 2, c, c) or None;
    objects (2N, 1, c, c) 1.0 on labelled objects' pixels (first frames, then second) or None."""

    real: torch.Tensor
    first: torch.Tensor
    second: torch.Tensor
    flow: torch.Tensor | None
    objects: torch.Tensor | None = None


def smallest_side(images: list[np.ndarray]) -> int:
    return min(min(a.shape[:2]) for a in images)


def _crop(img: np.ndarray, y: int, x: int, c: int) -> np.ndarray:
    return img[y:y + c, x:x + c]


def _corner(rng: np.random.Generator, shape: tuple[int, ...], c: int) -> tuple[int, int]:
    return int(rng.integers(0, shape[0] - c + 1)), int(rng.integers(0, shape[1] - c + 1))


def _images(arrs: list[np.ndarray], device: torch.device) -> torch.Tensor:
    return torch.from_numpy(np.stack(arrs)).to(device).permute(0, 3, 1, 2).float() / 255.0


def sample_batch(rng: np.random.Generator, real: RealFrames, synth: SyntheticPairs, size: int, crop: int,
                 device: torch.device) -> Batch:
    """`size` random real crops and `size` synthetic pair crops (same window in both frames)."""
    rc = []
    for i in rng.integers(0, len(real.frames), size=size):
        img = real.frames[int(i)]
        rc.append(_crop(img, *_corner(rng, img.shape, crop), crop))
    a, b, f, m = [], [], [], []
    for i in rng.integers(0, len(synth.first), size=size):
        i = int(i)
        y, x = _corner(rng, synth.first[i].shape, crop)
        a.append(_crop(synth.first[i], y, x, crop))
        b.append(_crop(synth.second[i], y, x, crop))
        if synth.flow is not None:
            f.append(_crop(synth.flow[i], y, x, crop).astype(np.float32))
        if synth.objects is not None:
            m.append(synth.objects[i][:, y:y + crop, x:x + crop])
    flow = torch.from_numpy(np.stack(f)).to(device).permute(0, 3, 1, 2) if f else None
    objects = None
    if m:       # (N, 2, c, c) -> first frames, then second, as the generator sees them
        objects = torch.from_numpy(np.stack(m)).to(device).transpose(0, 1).reshape(2 * size, 1, crop, crop).float()
    return Batch(_images(rc, device), _images(a, device), _images(b, device), flow, objects)
