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

from synthdata.render.intersect import (hit_box, hit_capsule, hit_ellipsoid, normal_box, normal_capsule,
                                        normal_ellipsoid)
from synthdata.world.types import BOX, CAPSULE, ELLIPSOID, Shapes

# Pixels evaluated per batched call. On CPU small slices keep every intermediate tensor in cache
# (per-element cost drops several-fold; call overhead stays small); on a GPU big batches win.
MAX_GRID = {"cpu": 32_768, "cuda": 8_000_000}

RayFn = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]


@dataclass
class TorchShapes:
    """Shapes on the render device, float32, structure-of-arrays: vectors (3, T, P), rotations
    (3, 3, T, P); T may be 1 for static geometry. color (P, 3), material (P,)."""

    kind: np.ndarray
    center: torch.Tensor
    end: torch.Tensor
    axes: torch.Tensor
    size: torch.Tensor
    color: torch.Tensor
    material: torch.Tensor
    ref: torch.Tensor       # (3, T, P) bounding-sphere centre
    radius: torch.Tensor    # (T, P) bounding-sphere radius

    @staticmethod
    def from_shapes(s: Shapes, device: torch.device) -> "TorchShapes":
        ref, rad = s.bounding_spheres()

        def f(a: np.ndarray, lead: int = 1) -> torch.Tensor:
            a = np.moveaxis(a, list(range(a.ndim - lead, a.ndim)), list(range(lead)))
            return torch.as_tensor(np.ascontiguousarray(a), dtype=torch.float32, device=device)

        return TorchShapes(s.kind, f(s.center), f(s.end), f(s.axes, 2), f(s.size),
                           torch.as_tensor(s.color, dtype=torch.float32, device=device),
                           torch.as_tensor(s.material, dtype=torch.long, device=device), f(ref),
                           torch.as_tensor(rad, dtype=torch.float32, device=device))

    @property
    def num_frames(self) -> int:
        return self.center.shape[1]


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


def size_runs(area: torch.Tensor, hk: torch.Tensor, wk: torch.Tensor) -> list[torch.Tensor]:
    """Split window indices (sorted by area) into runs whose padded grids stay under the
    device's MAX_GRID (a window larger than that forms a run of its own)."""
    budget = MAX_GRID.get(area.device.type, MAX_GRID["cuda"])
    order = torch.argsort(area, stable=True)
    h, w = hk[order].tolist(), wk[order].tolist()
    out, begin, mh, mw = [], 0, 0, 0
    for i in range(len(h)):
        nh, nw = max(mh, h[i]), max(mw, w[i])
        if i > begin and nh * nw * (i + 1 - begin) > budget:
            out.append(order[begin:i])
            begin, nh, nw = i, h[i], w[i]
        mh, mw = nh, nw
    out.append(order[begin:])
    return out


def cast(shapes: TorchShapes, win: np.ndarray, ray_fn: RayFn, frame_offset: int = 0, *,
         normals: bool = True) -> Hits:
    """Intersect each primitive with the rays of the pixels in its windows (T, P, 4).

    ray_fn(t, y, x) takes broadcastable index tensors (frame within the window array, row,
    column) and returns ray origins and unit directions as (3, ...) tensors broadcastable to
    them. Windows are evaluated as dense padded grids with per-window parameters broadcast
    (no per-pixel parameter gathers). Shape parameters are indexed at t + frame_offset (or 0 for
    static shapes). With normals=False only hit/miss and distance are computed."""
    parts = [_cast_windows(shapes, kind, t, p, x0, y0, x1, y1, ray_fn, frame_offset, normals)
             for kind, t, p, x0, y0, x1, y1 in window_batches(shapes, win)]
    return Hits.cat([h for h in parts if h is not None], shapes.center.device)


def window_batches(shapes: TorchShapes, win: np.ndarray):
    """Yield (kind, t, p, x0, y0, x1, y1) batches of non-empty windows of one primitive kind,
    sized for the device (see MAX_GRID); t and p index frames (of the window array) and shapes."""
    dev = shapes.center.device
    winT = torch.as_tensor(win, device=dev)
    for kind in (ELLIPSOID, CAPSULE, BOX):
        idx = np.nonzero(shapes.kind == kind)[0]
        if not len(idx):
            continue
        gi = torch.as_tensor(idx, device=dev)
        x0, y0, x1, y1 = winT[:, gi].unbind(-1)
        kt, kp = ((x1 > x0) & (y1 > y0)).nonzero(as_tuple=True)
        if not len(kt):
            continue
        x0, y0, x1, y1 = x0[kt, kp], y0[kt, kp], x1[kt, kp], y1[kt, kp]
        for sl in size_runs((y1 - y0) * (x1 - x0), y1 - y0, x1 - x0):
            yield kind, kt[sl], gi[kp[sl]], x0[sl], y0[sl], x1[sl], y1[sl]


def _params(shapes: TorchShapes, kind: int, ts: torch.Tensor, p: torch.Tensor, expand: bool):
    def e(v: torch.Tensor) -> torch.Tensor:
        return v[..., None, None] if expand else v
    c = e(shapes.center[:, ts, p])
    if kind == CAPSULE:
        return c, e(shapes.end[:, ts, p]), e(shapes.size[0, ts, p])
    return c, e(shapes.axes[:, :, ts, p]), e(shapes.size[:, ts, p])


def _cast_windows(shapes: TorchShapes, kind: int, t: torch.Tensor, p: torch.Tensor, x0, y0, x1, y1,
                  ray_fn: RayFn, frame_offset: int, normals: bool) -> "Hits | None":
    dev = t.device
    ys, xs, valid, ysc, xsc = _grid(x0, y0, x1, y1)
    ts = t + frame_offset if shapes.num_frames > 1 else torch.zeros_like(t)
    o, d = ray_fn(t[:, None, None], ysc, xsc)
    ref = shapes.ref[:, ts, p][..., None, None]
    rad = shapes.radius[ts, p][..., None, None]
    # move origins close to the primitive (float32 precision), never past it
    t0 = ((ref[0] - o[0]) * d[0] + (ref[1] - o[1]) * d[1] + (ref[2] - o[2]) * d[2] - rad - 0.01).clamp_min(0)
    o = o + t0 * d
    a, b, c = _params(shapes, kind, ts, p, True)
    if kind == ELLIPSOID:
        dist = hit_ellipsoid(o, d, a, b, c)
    elif kind == CAPSULE:
        dist = hit_capsule(o, d, a, b, c)
    else:
        dist = hit_box(o, d, a, b, c)
    g, i, j = (torch.isfinite(dist) & valid).nonzero(as_tuple=True)
    if not len(g):
        return None
    total = (dist + t0)[g, i, j]
    th, yh, xh, ph = t[g], y0[g] + i, x0[g] + j, p[g]
    if normals:
        oh, dh = ray_fn(th, yh, xh)
        pt = oh + total * dh
        a, b, c = _params(shapes, kind, ts[g], ph, False)
        if kind == ELLIPSOID:
            n = normal_ellipsoid(pt, a, b, c)
        elif kind == CAPSULE:
            n = normal_capsule(pt, a, b, c)
        else:
            n = normal_box(pt, a, b, c)
        n = n.T
    else:
        n = torch.zeros((len(g), 3), device=dev)
    return Hits(th, yh, xh, ph, total, n)


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
    part: torch.Tensor | None = None   # (T, h, w) long index of the primitive seen, -1 where uncovered

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
    part = torch.full((n,), -1, dtype=torch.long, device=dev)
    part[fw] = pw
    return BodyBuffers(x0, y0, zbuf.view(T, h, w), dist.view(T, h, w), normal.view(T, h, w, 3),
                       albedo.view(T, h, w, 3), material.view(T, h, w), part.view(T, h, w))


def occluded(shapes: TorchShapes, win: np.ndarray, point_fn: Callable, sun: torch.Tensor) -> Hits:
    """Receiver pixels (in each primitive's windows) whose straight path to the sun the primitive
    blocks: the hard shadow of each primitive, evaluated analytically.

    point_fn(t, y, x) gives receiver world points (3, ...). Working in the plane orthogonal to
    the sun direction, a sphere's shadow is a disc, a capsule's a 2D capsule, an ellipsoid's an
    ellipse (the quadratic form of its shadow cylinder), and boxes use a slab test. Returns hits
    with dist = 0 and zero normals."""
    dev = shapes.center.device
    s = sun.to(torch.float32)
    helper = torch.tensor([0.0, 0.0, 1.0], device=dev) if abs(float(s[2])) < 0.9 else torch.tensor([1.0, 0.0, 0.0], device=dev)
    e1 = torch.linalg.cross(s, helper)
    e1 = e1 / e1.norm()
    e2 = torch.linalg.cross(s, e1)
    parts: list[Hits] = []
    for kind, t, p, x0, y0, x1, y1 in window_batches(shapes, win):
        ys, xs, valid, ysc, xsc = _grid(x0, y0, x1, y1)
        q = point_fn(t[:, None, None], ysc, xsc)                      # (3, G, hk, wk)
        ts = t if shapes.num_frames > 1 else torch.zeros_like(t)
        inside = _shadow_test(shapes, kind, ts, p, q, s, e1, e2) & valid
        g, i, j = inside.nonzero(as_tuple=True)
        if len(g):
            z = torch.zeros(len(g), device=dev)
            parts.append(Hits(t[g], y0[g] + i, x0[g] + j, p[g], z, torch.zeros((len(g), 3), device=dev)))
    return Hits.cat(parts, dev)


def _grid(x0, y0, x1, y1):
    """Pixel rows (G, hk, 1), columns (G, 1, wk), validity (G, hk, wk) of padded windows, and the
    rows/columns clamped into each window (safe to gather with)."""
    dev = x0.device
    hk, wk = int((y1 - y0).max()), int((x1 - x0).max())
    ys = y0[:, None, None] + torch.arange(hk, device=dev)[None, :, None]
    xs = x0[:, None, None] + torch.arange(wk, device=dev)[None, None, :]
    valid = (ys < y1[:, None, None]) & (xs < x1[:, None, None])
    return ys, xs, valid, torch.minimum(ys, (y1 - 1)[:, None, None]), torch.minimum(xs, (x1 - 1)[:, None, None])


def _shadow_test(shapes: TorchShapes, kind: int, ts, p, q, s, e1, e2) -> torch.Tensor:
    def bc(v):                                                   # (3, G) -> (3, G, 1, 1)
        return v[..., None, None]

    qu = e1[0] * q[0] + e1[1] * q[1] + e1[2] * q[2]
    qv = e2[0] * q[0] + e2[1] * q[1] + e2[2] * q[2]
    c = shapes.center[:, ts, p]
    toward = ((bc(c) - q) * s.view(3, 1, 1, 1)).sum(0) > 0      # the occluder lies sunwards
    if kind == CAPSULE:
        b = shapes.end[:, ts, p]
        r = shapes.size[0, ts, p][:, None, None]
        au, av = (e1 @ c)[:, None, None], (e2 @ c)[:, None, None]
        bu, bv = (e1 @ b)[:, None, None], (e2 @ b)[:, None, None]
        du, dv = bu - au, bv - av
        k = (((qu - au) * du + (qv - av) * dv) / (du * du + dv * dv).clamp_min(1e-12)).clamp(0, 1)
        ru, rv = qu - au - k * du, qv - av - k * dv
        mid = ((bc(0.5 * (c + b)) - q) * s.view(3, 1, 1, 1)).sum(0) > 0
        return (ru * ru + rv * rv <= r * r) & mid
    axes = shapes.axes[:, :, ts, p]                             # (3, 3, G)
    size = shapes.size[:, ts, p]                                # (3, G)
    if kind == BOX:
        from synthdata.render.intersect import hit_box
        return torch.isfinite(hit_box(q, s.view(3, 1, 1, 1), bc(c), axes[..., None, None], bc(size)))
    # ellipsoid: Q = A diag(1/size^2) A^T; P = Q - Qs (Qs)^T / (s^T Q s); M = E^T P E
    A = axes.permute(2, 0, 1)                                   # (G, 3, 3), columns local axes
    Q = A @ torch.diag_embed(1.0 / (size.T * size.T)) @ A.transpose(1, 2)
    Qs = Q @ s
    P = Q - Qs[:, :, None] * Qs[:, None, :] / (Qs @ s)[:, None, None]
    E = torch.stack([e1, e2], 1)                                # (3, 2)
    M = E.T @ P @ E                                             # (G, 2, 2)
    gu, gv = (e1 @ c)[:, None, None], (e2 @ c)[:, None, None]
    du, dv = qu - gu, qv - gv
    m00, m01, m11 = M[:, 0, 0, None, None], M[:, 0, 1, None, None], M[:, 1, 1, None, None]
    return (m00 * du * du + 2 * m01 * du * dv + m11 * dv * dv <= 1.0) & toward
