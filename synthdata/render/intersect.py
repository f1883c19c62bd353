"""Analytic ray/primitive intersection in torch, structure-of-arrays.

Vectors are (3, N) tensors (rows x, y, z), rotations (3, 3, N) with axes[:, j] the local axis j in
world coordinates. `hit_*` return the distance along each ray to the first surface in front of
its origin (inf on a miss); `normal_*` give unit world normals at given surface points, and are
only evaluated for the rays that hit.
"""
from __future__ import annotations

import torch

INF = float("inf")


def dot(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]


def to_local(v: torch.Tensor, axes: torch.Tensor) -> torch.Tensor:
    """World vectors (3, N) -> coordinates along the local axes (3, N)."""
    return torch.stack([axes[0, j] * v[0] + axes[1, j] * v[1] + axes[2, j] * v[2] for j in range(3)])


def to_world(v: torch.Tensor, axes: torch.Tensor) -> torch.Tensor:
    return torch.stack([axes[i, 0] * v[0] + axes[i, 1] * v[1] + axes[i, 2] * v[2] for i in range(3)])


def _unit(v: torch.Tensor) -> torch.Tensor:
    return v / torch.sqrt(dot(v, v)).clamp_min(1e-12)


def _inf_where(miss: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    return t.masked_fill(miss, INF)


def hit_sphere(o: torch.Tensor, d: torch.Tensor, c: torch.Tensor, r: torch.Tensor) -> torch.Tensor:
    """Unit-direction rays against spheres (origin outside)."""
    oc = o - c
    b = dot(oc, d)
    cc = dot(oc, oc) - r * r
    h = b * b - cc
    t = -b - torch.sqrt(h.clamp_min(0))
    return _inf_where((h < 0) | (cc <= 0) | (t <= 0), t)


def hit_ellipsoid(o: torch.Tensor, d: torch.Tensor, c: torch.Tensor, axes: torch.Tensor, size: torch.Tensor) -> torch.Tensor:
    ol = to_local(o - c, axes) / size
    dl = to_local(d, axes) / size
    a = dot(dl, dl)
    b = dot(ol, dl)
    cc = dot(ol, ol) - 1.0
    h = b * b - a * cc
    t = (-b - torch.sqrt(h.clamp_min(0))) / a
    return _inf_where((h < 0) | (cc <= 0) | (t <= 0), t)


def normal_ellipsoid(p: torch.Tensor, c: torch.Tensor, axes: torch.Tensor, size: torch.Tensor) -> torch.Tensor:
    pl = to_local(p - c, axes) / (size * size)
    return _unit(to_world(pl, axes))


def hit_capsule(o: torch.Tensor, d: torch.Tensor, a: torch.Tensor, b: torch.Tensor, r: torch.Tensor) -> torch.Tensor:
    """Capsule = all points within r of segment a-b: the finite cylinder or either end sphere."""
    ba = b - a
    oa = o - a
    baba = dot(ba, ba).clamp_min(1e-12)
    bard = dot(ba, d)
    baoa = dot(ba, oa)
    rdoa = dot(d, oa)
    oaoa = dot(oa, oa)
    r2 = r * r
    A = baba - bard * bard
    B = baba * rdoa - baoa * bard
    C = baba * oaoa - baoa * baoa - r2 * baba
    h = B * B - A * C
    ok_a = A > 1e-9
    t = (-B - torch.sqrt(h.clamp_min(0))) / torch.where(ok_a, A, torch.ones_like(A))
    y = baoa + t * bard
    body = _inf_where((h < 0) | ~ok_a | (y <= 0) | (y >= baba) | (t <= 0) | (C <= 0), t)
    return torch.minimum(body, torch.minimum(hit_sphere(o, d, a, r), hit_sphere(o, d, b, r)))


def normal_capsule(p: torch.Tensor, a: torch.Tensor, b: torch.Tensor, r: torch.Tensor) -> torch.Tensor:
    ba = b - a
    pa = p - a
    k = (dot(pa, ba) / dot(ba, ba).clamp_min(1e-12)).clamp(0, 1)
    return _unit(pa - k * ba)


def hit_box(o: torch.Tensor, d: torch.Tensor, c: torch.Tensor, axes: torch.Tensor, half: torch.Tensor) -> torch.Tensor:
    """Oriented box (slab method), origin outside."""
    ol = to_local(o - c, axes)
    dl = to_local(d, axes)
    dl = torch.where(dl.abs() < 1e-12, torch.full_like(dl, 1e-12), dl)
    inv = 1.0 / dl
    t1 = (-half - ol) * inv
    t2 = (half - ol) * inv
    lo, hi = torch.minimum(t1, t2), torch.maximum(t1, t2)
    tmin = torch.maximum(torch.maximum(lo[0], lo[1]), lo[2])   # written out: reducing an axis of
    tmax = torch.minimum(torch.minimum(hi[0], hi[1]), hi[2])   # 3 is slow on a CPU
    return _inf_where((tmax < tmin) | (tmin <= 0), tmin)


def normal_box(p: torch.Tensor, c: torch.Tensor, axes: torch.Tensor, half: torch.Tensor) -> torch.Tensor:
    pl = to_local(p - c, axes) / half
    a0, a1, a2 = pl.abs()
    k0 = (a0 >= a1) & (a0 >= a2)          # the dominant local axis (the first one on ties)
    k1 = ~k0 & (a1 >= a2)
    k2 = ~(k0 | k1)
    nl = torch.stack([k0 * torch.sign(pl[0]), k1 * torch.sign(pl[1]), k2 * torch.sign(pl[2])])
    return to_world(nl, axes)


def ray_plane_z(o: torch.Tensor, d: torch.Tensor, z: float = 0.0) -> torch.Tensor:
    """Distance to the horizontal plane at height z along rays (..., 3) (inf if parallel/behind)."""
    dz = d[..., 2]
    t = (z - o[..., 2]) / torch.where(dz.abs() > 1e-12, dz, torch.full_like(dz, 1e-12))
    return torch.where((t > 0) & (dz.abs() > 1e-12), t, torch.full_like(t, INF))
