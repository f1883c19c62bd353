"""Bodies that hold still through a chunk seen by a fixed camera (a parked car, a person standing
or sitting): their pixels and shadow are the same in every frame, so the renderer draws them once,
in the chunk's first frame, and copies what they changed to the others."""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

from synthdata.render.background import Background
from synthdata.render.hit_shading import hit_tone_table
from synthdata.render.packing import Bodies
from synthdata.world.types import Shapes


def still_bodies(shapes: list[Shapes], presence: list[np.ndarray], start: int, stop: int,
                 static_camera: bool) -> np.ndarray:
    """(B,) the bodies that hold still through frames [start, stop) (present in all, the same
    primitives in all) seen by a fixed camera: their pixels and shadow are the same in every
    frame (and their colours, unless a vehicle light is lit: Renderer._lamps_lit)."""
    same = lambda sh: all(bool((x == x[:1]).all()) for x in (sh.center, sh.end, sh.axes, sh.size))  # noqa: E731
    return np.array([static_camera and stop - start > 1 and bool(p.all()) and same(sh)
                     for sh, p in zip(shapes, presence)], bool)


def draw_still(r: Any, body: Bodies, held: np.ndarray, shade: bool, sw: np.ndarray | None,
               bgs: list[Background], rays: torch.Tensor, C: np.ndarray, fwd: np.ndarray, start: int,
               bufs: tuple, own: np.ndarray, boxes: np.ndarray) -> None:
    """With the Renderer `r`, raster and shadow the still bodies' primitives (held (P,)) in frame 0 only, shade them
    there too if `shade`, copy what they changed to the other frames and fill their own
    pixels and boxes of frame 0. The moving bodies are then drawn over them in every frame; ties
    between the two go as if all were drawn in order (pixel.zbuffer_hit)."""
    k, a = r.k, r.k.array
    rgb, depth, dist, gprim, inst = bufs
    H, W = inst.shape[1:]
    win = np.where(held[None, :, None], body.win[:1], 0)
    own1, boxes1 = np.zeros_like(own[:, :1]), boxes[:, :1].copy()
    k.raster(body.prm[:1], body.kinds, win, body.prim_body, body.body_track, a(rays), C[:1], fwd[:1],
             a(depth[:1]), a(dist[:1]), a(gprim[:1]), a(inst[:1]), np.empty((H, W), np.int32), own1, boxes1)
    areas = [win[0]]
    if sw is not None:
        sw1 = np.where(held[None, :, None], sw[:1], 0)
        r._cast_shadow(body, sw1, bgs[:1], rgb[:1], inst[:1], rays[:1])
        areas.append(sw1[0])
    if shade:
        k.shade_hits(body.prm[:1], body.kinds, body.surface, body.material, np.zeros(len(held), np.uint8),
                     a(gprim[:1]), a(dist[:1]), a(rays), C[:1], fwd[:1], start, *r.light_rows,
                     *r.moving, *hit_tone_table(), a(rgb[:1]))
    area = np.concatenate(areas)
    area = area[(area[:, 2] > area[:, 0]) & (area[:, 3] > area[:, 1])]
    if len(area):
        (x0, y0), (x1, y1) = area[:, :2].min(0), area[:, 2:].max(0)
        for buf in bufs:
            buf[1:, y0:y1, x0:x1] = buf[:1, y0:y1, x0:x1]
    own[:, :1], boxes[:, :1] = own1, boxes1
