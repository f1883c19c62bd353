"""Analytic ray/primitive intersection in torch, broadcast over any leading shape.

Every function takes ray origins `o` and unit directions `d` (..., 3) and primitive parameters
broadcastable to them, and returns (t, n): the distance along the ray to the first hit in front of
the origin (inf where the ray misses) and the unit world-space surface normal there.
"""
from __future__ import annotations

import torch

INF = float("inf")


def _dot(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return (a * b).sum(-1)


def _to_local(v: torch.Tensor, axes: torch.Tensor) -> torch.Tensor:
    """World vector -> local coordinates of a frame whose columns are `axes` (..., 3, 3)."""
    return (v.unsqueeze(-1) * axes).sum(-2)


def ray_ellipsoid(o: torch.Tensor, d: torch.Tensor, center: torch.Tensor, axes: torch.Tensor,
                  size: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Ellipsoid with semi-axes `size` along the columns of `axes`, centred at `center`."""
    ol = _to_local(o - center, axes) / size
    dl = _to_local(d, axes) / size
    a = _dot(dl, dl)
    b = _dot(ol, dl)
    c = _dot(ol, ol) - 1.0
    disc = b * b - a * c
    hit = (disc >= 0) & (c > 0)          # origin outside the ellipsoid
    t = (-b - torch.sqrt(disc.clamp_min(0))) / a
    hit = hit & (t > 0)
    t = torch.where(hit, t, torch.full_like(t, INF))
    pl = ol + t.clamp(max=1e6).unsqueeze(-1) * dl          # unit-sphere point
    nl = pl / size                                         # gradient of sum((x/s)^2)
    n = (axes * nl.unsqueeze(-2)).sum(-1)                  # local -> world
    return t, n / n.norm(dim=-1, keepdim=True).clamp_min(1e-12)


def ray_capsule(o: torch.Tensor, d: torch.Tensor, a: torch.Tensor, b: torch.Tensor,
                r: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Capsule: all points within distance r (..., ) of the segment a-b."""
    ba = b - a
    oa = o - a
    baba = _dot(ba, ba).clamp_min(1e-12)
    bard = _dot(ba, d)
    baoa = _dot(ba, oa)
    rdoa = _dot(d, oa)
    oaoa = _dot(oa, oa)
    r2 = r * r
    A = baba - bard * bard
    B = baba * rdoa - baoa * bard
    C = baba * oaoa - baoa * baoa - r2 * baba
    h = B * B - A * C
    safe_a = torch.where(A.abs() > 1e-12, A, torch.ones_like(A))
    t_body = (-B - torch.sqrt(h.clamp_min(0))) / safe_a
    y = baoa + t_body * bard
    body = (h >= 0) & (A.abs() > 1e-12) & (y > 0) & (y < baba) & (t_body > 0)
    # caps: sphere at a (y <= 0) or at b (y >= baba)
    oc = torch.where((y <= 0).unsqueeze(-1), oa, o - b)
    Bc = _dot(d, oc)
    Cc = _dot(oc, oc) - r2
    hc = Bc * Bc - Cc
    t_cap = -Bc - torch.sqrt(hc.clamp_min(0))
    cap = (hc >= 0) & (t_cap > 0) & (Cc > 0)
    # when the body test is degenerate (ray parallel to the axis) check both caps
    oc2 = o - b
    Bc2 = _dot(d, oc2)
    Cc2 = _dot(oc2, oc2) - r2
    hc2 = Bc2 * Bc2 - Cc2
    t_cap2 = -Bc2 - torch.sqrt(hc2.clamp_min(0))
    cap2 = (hc2 >= 0) & (t_cap2 > 0) & (Cc2 > 0)
    Ca = oaoa - r2
    ha = rdoa * rdoa - Ca
    t_capa = -rdoa - torch.sqrt(ha.clamp_min(0))
    capa = (ha >= 0) & (t_capa > 0) & (Ca > 0)
    inf = torch.full_like(t_body, INF)
    t = torch.where(body, t_body, torch.where(cap, t_cap, inf))
    t = torch.minimum(t, torch.where(capa & ~body, t_capa, inf))
    t = torch.minimum(t, torch.where(cap2 & ~body, t_cap2, inf))
    p = o + t.clamp(max=1e6).unsqueeze(-1) * d
    pa = p - a
    k = (_dot(pa, ba) / baba).clamp(0, 1)
    n = pa - k.unsqueeze(-1) * ba
    return t, n / n.norm(dim=-1, keepdim=True).clamp_min(1e-12)


def ray_box(o: torch.Tensor, d: torch.Tensor, center: torch.Tensor, axes: torch.Tensor,
            half: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Oriented box with half-extents `half` along the columns of `axes` (slab method)."""
    ol = _to_local(o - center, axes)
    dl = _to_local(d, axes)
    dl = torch.where(dl.abs() < 1e-12, torch.full_like(dl, 1e-12), dl)
    inv = 1.0 / dl
    t1 = (-half - ol) * inv
    t2 = (half - ol) * inv
    tlo = torch.minimum(t1, t2)
    thi = torch.maximum(t1, t2)
    tmin, axis = tlo.max(-1)
    tmax = thi.min(-1).values
    hit = (tmax >= tmin) & (tmin > 0)
    t = torch.where(hit, tmin, torch.full_like(tmin, INF))
    nl = torch.zeros_like(ol)
    sign = -torch.sign(dl.gather(-1, axis.unsqueeze(-1)))
    nl.scatter_(-1, axis.unsqueeze(-1), sign)
    n = (axes * nl.unsqueeze(-2)).sum(-1)
    return t, n


def ray_plane_z(o: torch.Tensor, d: torch.Tensor, z: float = 0.0) -> torch.Tensor:
    """Distance to the horizontal plane at height z (inf if parallel or behind)."""
    dz = d[..., 2]
    t = (z - o[..., 2]) / torch.where(dz.abs() > 1e-12, dz, torch.full_like(dz, 1e-12))
    return torch.where((t > 0) & (dz.abs() > 1e-12), t, torch.full_like(t, INF))
