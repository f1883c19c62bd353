"""Windowed ray casting: each primitive is evaluated only on the pixels of its screen window.

A *window* is an integer pixel rectangle [x0, x1) x [y0, y1) per (frame, primitive). The pixels of
all windows of one primitive kind are gathered into a flat element list and intersected in one
batched call, so the cost is proportional to the pixels objects cover, not to the image.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from synthdata.render.intersect import ray_box, ray_capsule, ray_ellipsoid
from synthdata.world.types import BOX, CAPSULE, ELLIPSOID, Shapes

# an element list larger than this is processed one primitive at a time (bounds memory)
MAX_GRID = 6_000_000

RayFn = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]


@dataclass
class TorchShapes:
    """Shapes on the render device (float32); T may be 1 for static geometry."""

    kind: np.ndarray
    center: torch.Tensor
    end: torch.Tensor
    axes: torch.Tensor
    size: torch.Tensor
    color: torch.Tensor
    material: torch.Tensor
    ref: torch.Tensor       # (T, P, 3) bounding-sphere centre
    radius: torch.Tensor    # (T, P) bounding-sphere radius

    @staticmethod
    def from_shapes(s: Shapes, device: torch.device) -> "TorchShapes":
        ref, rad = s.bounding_spheres()

        def f(a: np.ndarray) -> torch.Tensor:
            return torch.as_tensor(np.ascontiguousarray(a), dtype=torch.float32, device=device)

        return TorchShapes(s.kind, f(s.center), f(s.end), f(s.axes), f(s.size), f(s.color),
                           torch.as_tensor(s.material, dtype=torch.long, device=device), f(ref), f(rad))

    @property
    def num_frames(self) -> int:
        return self.center.shape[0]


@dataclass
class Hits:
    """Ray hits as flat element lists: frame, row, column, primitive, distance, normal (world)."""

    t: torch.Tensor
    y: torch.Tensor
    x: torch.Tensor
    p: torch.Tensor
    dist: torch.Tensor
    normal: torch.Tensor

    @staticmethod
    def cat(parts: list["Hits"], device: torch.device) -> "Hits":
        if not parts:
            z = torch.zeros(0, dtype=torch.long, device=device)
            return Hits(z, z, z, z, torch.zeros(0, device=device), torch.zeros(0, 3, device=device))
        return Hits(*(torch.cat([getattr(h, k) for h in parts]) for k in ("t", "y", "x", "p", "dist", "normal")))

    def __len__(self) -> int:
        return int(self.t.shape[0])


def windows(bounds: np.ndarray, ok: np.ndarray, width: int, height: int, pad: int = 1) -> np.ndarray:
    """Continuous bounds (T, P, 4) -> integer windows (T, P, 4) clipped to the image.

    Unknown bounds (ok False) get the whole image; empty windows have x1 <= x0."""
    b = np.where(ok[..., None], bounds, np.array([0, 0, width, height], float))
    b = np.nan_to_num(b, nan=0.0, posinf=1e7, neginf=-1e7)
    x0 = np.clip(np.floor(b[..., 0]) - pad, 0, width)
    y0 = np.clip(np.floor(b[..., 1]) - pad, 0, height)
    x1 = np.clip(np.ceil(b[..., 2]) + pad, 0, width)
    y1 = np.clip(np.ceil(b[..., 3]) + pad, 0, height)
    return np.stack([x0, y0, x1, y1], axis=-1).astype(np.int64)


def _grid(win: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """Element lists (t, p, y, x) of the pixels inside windows (T, P, 4)."""
    w = (win[..., 2] - win[..., 0]).clamp_min(0)
    h = (win[..., 3] - win[..., 1]).clamp_min(0)
    hk, wk = int(h.max()), int(w.max())
    if hk == 0 or wk == 0:
        e = torch.zeros(0, dtype=torch.long, device=win.device)
        return e, e, e, e
    ii = torch.arange(hk, device=win.device)
    jj = torch.arange(wk, device=win.device)
    m = (ii[None, None, :, None] < h[..., None, None]) & (jj[None, None, None, :] < w[..., None, None])
    t, p, i, j = m.nonzero(as_tuple=True)
    return t, p, win[t, p, 1] + i, win[t, p, 0] + j


def cast(shapes: TorchShapes, win: np.ndarray, ray_fn: RayFn, frame_offset: int = 0) -> Hits:
    """Intersect each primitive with the rays of the pixels in its windows (T, P, 4).

    ray_fn(t, y, x) returns origins and unit directions (N, 3) for those pixels, t being the
    frame index within the window array. Shape parameters are indexed at t + frame_offset
    (or 0 for static shapes)."""
    dev = shapes.center.device
    winT = torch.as_tensor(win, device=dev)
    parts: list[Hits] = []
    for kind in (ELLIPSOID, CAPSULE, BOX):
        idx = np.nonzero(shapes.kind == kind)[0]
        if not len(idx):
            continue
        sub = winT[:, idx]
        area = ((sub[..., 2] - sub[..., 0]).clamp_min(0).max() * (sub[..., 3] - sub[..., 1]).clamp_min(0).max())
        groups = [idx] if int(area) * sub.shape[0] * len(idx) <= MAX_GRID else [idx[i:i + 1] for i in range(len(idx))]
        for g in groups:
            gi = torch.as_tensor(g, device=dev)
            t, pl, y, x = _grid(winT[:, gi])
            if not len(t):
                continue
            p = gi[pl]
            ts = t + frame_offset if shapes.num_frames > 1 else torch.zeros_like(t)
            o, d = ray_fn(t, y, x)
            # move the origin close to the primitive (float32 precision), never past it
            ref, rad = shapes.ref[ts, p], shapes.radius[ts, p]
            t0 = (((ref - o) * d).sum(-1) - rad - 0.01).clamp_min(0)
            o = o + t0[:, None] * d
            if kind == ELLIPSOID:
                dist, n = ray_ellipsoid(o, d, shapes.center[ts, p], shapes.axes[ts, p], shapes.size[ts, p])
            elif kind == CAPSULE:
                dist, n = ray_capsule(o, d, shapes.center[ts, p], shapes.end[ts, p], shapes.size[ts, p, 0])
            else:
                dist, n = ray_box(o, d, shapes.center[ts, p], shapes.axes[ts, p], shapes.size[ts, p])
            hit = torch.isfinite(dist)
            parts.append(Hits(t[hit], y[hit], x[hit], p[hit], dist[hit] + t0[hit], n[hit]))
    return Hits.cat(parts, dev)


@dataclass
class BodyBuffers:
    """One body's own (unoccluded) render, in a window per frame.

    Window of frame t: rows [y0[t], y0[t] + h), columns [x0[t], x0[t] + w) of the image;
    depth is inf where the body does not cover the pixel."""

    x0: torch.Tensor
    y0: torch.Tensor
    depth: torch.Tensor      # (T, h, w) camera-axis depth, metres
    dist: torch.Tensor       # (T, h, w) distance along the ray
    normal: torch.Tensor     # (T, h, w, 3)
    albedo: torch.Tensor     # (T, h, w, 3)
    material: torch.Tensor   # (T, h, w) long

    @property
    def covered(self) -> torch.Tensor:
        return torch.isfinite(self.depth)


def resolve(hits: Hits, shapes: TorchShapes, num_frames: int, depth_scale: torch.Tensor) -> BodyBuffers | None:
    """Nearest hit per pixel among a body's primitives (deterministic tie-break: higher index).

    depth_scale (N,) converts hit distance to camera-axis depth for each hit's ray."""
    if not len(hits):
        return None
    dev = hits.t.device
    T = num_frames
    big = torch.iinfo(torch.long).max
    x0 = torch.full((T,), big, dtype=torch.long, device=dev).scatter_reduce(0, hits.t, hits.x, "amin")
    y0 = torch.full((T,), big, dtype=torch.long, device=dev).scatter_reduce(0, hits.t, hits.y, "amin")
    x1 = torch.full((T,), -1, dtype=torch.long, device=dev).scatter_reduce(0, hits.t, hits.x, "amax")
    y1 = torch.full((T,), -1, dtype=torch.long, device=dev).scatter_reduce(0, hits.t, hits.y, "amax")
    x0 = torch.where(x1 >= 0, x0, torch.zeros_like(x0))
    y0 = torch.where(y1 >= 0, y0, torch.zeros_like(y0))
    h = int((y1 - y0 + 1).clamp_min(0).max())
    w = int((x1 - x0 + 1).clamp_min(0).max())
    f = (hits.t * h + (hits.y - y0[hits.t])) * w + (hits.x - x0[hits.t])
    depth = hits.dist * depth_scale
    n = T * h * w
    zbuf = torch.full((n,), float("inf"), device=dev).scatter_reduce(0, f, depth, "amin")
    cand = depth <= zbuf[f]
    pbuf = torch.full((n,), -1, dtype=torch.long, device=dev).scatter_reduce(0, f[cand], hits.p[cand], "amax")
    win = cand & (hits.p == pbuf[f])
    fw, pw = f[win], hits.p[win]
    dist = torch.full((n,), float("inf"), device=dev)
    dist[fw] = hits.dist[win]
    normal = torch.zeros((n, 3), device=dev)
    normal[fw] = hits.normal[win]
    albedo = torch.zeros((n, 3), device=dev)
    albedo[fw] = shapes.color[pw]
    material = torch.zeros((n,), dtype=torch.long, device=dev)
    material[fw] = shapes.material[pw]
    return BodyBuffers(x0, y0, zbuf.view(T, h, w), dist.view(T, h, w), normal.view(T, h, w, 3),
                       albedo.view(T, h, w, 3), material.view(T, h, w))
