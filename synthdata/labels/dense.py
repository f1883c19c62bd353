"""Dense per-pixel ground truth (`output.modalities`) from the buffers that made the pixels.

Modalities (each an array per frame, in the form `Dataset.read_clip` returns):
  depth      (H, W) float32 camera-axis metres of the surface each pixel sees; inf = sky
  flow       (H, W, 2) float32 pixels, forward t -> t + 1 (labels/flow.py), NaN where invalid
             (the last frame is all NaN)
  backflow   (H, W, 2) float32 pixels, backward t -> t - 1, NaN where invalid (frame 0 all NaN)
  instances  (H, W) int32 track id, 0 = none (the instance buffer the masks come from)
  classes    (H, W) uint8 category id: 0 = none, else CLASS_IDS (1 + index in CATEGORIES)

`DenseLabeler` is fed the FrameBatches of one clip in frame order and hands back, per modality,
the frames that are complete so far (forward flow of frame t needs frame t + 1, so it lags one
frame and `finish` gives the last one).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Callable

import numpy as np

from synthdata.labels.flow import FrameBuffers, SceneFlow
from synthdata.world.types import CATEGORIES, World

RGB = "rgb"
CLASS_IDS: dict[str, int] = {name: i + 1 for i, name in enumerate(CATEGORIES)}   # 0 = none


@dataclass(frozen=True)
class Modality:
    """One dense modality: how a frame's map is made from the frame's (and its neighbour's) buffers.

    make(labeler, frame buffers of t, neighbour's buffers or None) -> the map of frame t;
    neighbour: +1 (needs t + 1), -1 (needs t - 1) or 0 (none)."""

    name: str
    neighbour: int
    make: Callable[["DenseLabeler", FrameBuffers, "FrameBuffers | None"], np.ndarray]


def _depth(lab: "DenseLabeler", b: FrameBuffers, _other) -> np.ndarray:
    return b.depth.astype(np.float32, copy=True)


def _instances(lab: "DenseLabeler", b: FrameBuffers, _other) -> np.ndarray:
    return b.instance.astype(np.int32, copy=True)


def _classes(lab: "DenseLabeler", b: FrameBuffers, _other) -> np.ndarray:
    return lab.class_table[np.clip(b.instance, 0, len(lab.class_table) - 1)]


def _flow(lab: "DenseLabeler", b: FrameBuffers, other: "FrameBuffers | None") -> np.ndarray:
    if other is None:
        return np.full(b.depth.shape + (2,), np.nan, np.float32)
    return lab.scene_flow.flow(b, other)[0]


REGISTRY: dict[str, Modality] = {m.name: m for m in (
    Modality("depth", 0, _depth),
    Modality("flow", +1, _flow),
    Modality("backflow", -1, _flow),
    Modality("instances", 0, _instances),
    Modality("classes", 0, _classes),
)}
MODALITIES = (RGB,) + tuple(REGISTRY)


def check_modalities(names: Sequence[str]) -> list[str]:
    """Validated, de-duplicated modality names in the canonical order (ValueError on unknown)."""
    unknown = [n for n in names if n not in MODALITIES]
    if unknown:
        raise ValueError(f"unknown modalities {unknown}; expected any of {list(MODALITIES)}")
    return [m for m in MODALITIES if m in set(names)]


def class_table(world: World) -> np.ndarray:
    """(max track id + 1,) uint8: track id -> class id (0 for none or an unknown category)."""
    top = max((a.track_id for a in world.actors), default=0)
    table = np.zeros(top + 1, np.uint8)
    for a in world.actors:
        table[a.track_id] = CLASS_IDS.get(a.category, 0)
    return table


class DenseLabeler:
    """Streams one clip's dense maps: `add(batch)` per FrameBatch in order, then `finish()`.
    Both return {modality: (n, ...) array of the next n frames} for the modalities asked for."""

    def __init__(self, world: World, modalities: Sequence[str]):
        self.world = world
        self.names = [m for m in check_modalities(modalities) if m != RGB]
        self.scene_flow = SceneFlow(world)
        self.class_table = class_table(world)
        self._prev: FrameBuffers | None = None

    def add(self, batch) -> dict[str, np.ndarray]:
        frames = [FrameBuffers.from_batch(batch, i) for i in range(len(batch))] if self.names else []
        out: dict[str, list[np.ndarray]] = {m: [] for m in self.names}
        prev = self._prev
        for b in frames:
            for name in self.names:
                mod = REGISTRY[name]
                if mod.neighbour == 0:
                    out[name].append(mod.make(self, b, None))
                elif mod.neighbour < 0:
                    out[name].append(mod.make(self, b, prev))
                elif prev is not None:          # forward: frame prev is complete now
                    out[name].append(mod.make(self, prev, b))
            prev = b
        self._prev = prev
        return {k: np.stack(v) if v else _empty(k, batch) for k, v in out.items()}

    def finish(self) -> dict[str, np.ndarray]:
        """The frames still owed: the last frame's forward flow (all NaN)."""
        out = {}
        for name in self.names:
            if REGISTRY[name].neighbour > 0 and self._prev is not None:
                out[name] = REGISTRY[name].make(self, self._prev, None)[None]
        return out


def _empty(name: str, batch) -> np.ndarray:
    H, W = batch.depth.shape[1:]
    return np.zeros((0, H, W, 2), np.float32) if name in ("flow", "backflow") else np.zeros((0, H, W), np.float32)


def flow_pair(world: World, batch_a, i: int, batch_b, j: int) -> tuple[np.ndarray, np.ndarray]:
    """Flow of frame i of batch_a towards frame j of batch_b (any two frames of one World's
    renders): (flow (H, W, 2) float32 pixels, NaN where invalid; valid (H, W) bool). The entry
    point for temporal consistency (refiner) and for tests."""
    return SceneFlow(world).flow(FrameBuffers.from_batch(batch_a, i), FrameBuffers.from_batch(batch_b, j))
