"""Surface patterns applied to an actor's visible hit pixels (the torch shading path).

The maths lives in render/patterns.py as scalar functions; here one numba-compiled loop over the
hit pixels (cached on disk, so only the first process on a machine compiles) calls them and the
result is applied to the albedo and
material of the pixels whose primitive carries a pattern (Shapes.pattern != 0). Without numba
the same loop runs in plain Python (slow, identical values).

A compiled renderer kernel calls the same two entry points per pixel instead:
`numba.cuda.jit(device=True)(patterns.pattern_mix)` after `register_helpers()`.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch

from synthdata.render import patterns
from synthdata.world.types import CAPSULE, MATERIAL, Shapes

_HELPERS = ("hash3", "smooth", "value_noise", "around", "band", "face_mix")
RETRO = MATERIAL["retroreflective"]


def register_helpers() -> bool:
    """Make the helpers of render/patterns.py callable from numba-compiled code (any target)."""
    try:
        from numba.extending import register_jitable
    except ImportError:
        return False
    for name in _HELPERS:
        register_jitable(getattr(patterns, name))
    return True


def _evaluate(kind, x, y, z, scale, seed, mix, shade):
    for i in range(kind.shape[0]):
        mix[i] = pattern_mix(kind[i], x[i], y[i], z[i], scale[i], seed[i])
        shade[i] = pattern_shade(kind[i], x[i], y[i], z[i], scale[i], seed[i])


pattern_mix, pattern_shade = patterns.pattern_mix, patterns.pattern_shade


@lru_cache(maxsize=1)
def evaluator():
    """evaluate(kind int64, x, y, z, scale float32, seed int64, mix out, shade out) over arrays:
    compiled by numba (cached on disk after the first process), else plain Python."""
    if register_helpers():
        import numba

        for name in ("pattern_mix", "pattern_shade"):
            numba.extending.register_jitable(getattr(patterns, name))
        return numba.njit(cache=True, nogil=True)(_evaluate)
    return _evaluate


class PatternTable:
    """An actor's per-primitive pattern arrays on the render device."""

    def __init__(self, shapes: Shapes, device: torch.device):
        kind, col, scale, seed = shapes.patterns()
        self.kind = torch.as_tensor(kind.astype(np.int64), device=device)
        self.color = torch.as_tensor(col, dtype=torch.float32, device=device)
        self.scale = torch.as_tensor(scale, dtype=torch.float32, device=device)
        self.seed = torch.as_tensor(seed.astype(np.int64), device=device)
        self.capsule = torch.as_tensor(shapes.kind == CAPSULE, device=device)


def local_coords(ts, part: torch.Tensor, frame: torch.Tensor, point: torch.Tensor, capsule: torch.Tensor) -> torch.Tensor:
    """Hit points (N, 3) in their primitive's frame (N, 3): ellipsoids/boxes along their axes,
    capsules with z along the segment from end A."""
    f = frame if ts.num_frames > 1 else torch.zeros_like(frame)
    c = ts.center[:, f, part].T                               # (N, 3)
    d = point - c
    R = ts.axes[:, :, f, part].permute(2, 0, 1)                # (N, 3, 3) world-from-local
    loc = torch.einsum("nij,ni->nj", R, d)
    cap = capsule[part]
    if bool(cap.any()):
        e = ts.end[:, f, part].T
        u = e - c
        u = u / u.norm(dim=-1, keepdim=True).clamp_min(1e-9)
        helper = torch.where((u[:, 2:3].abs() < 0.9), torch.tensor([0.0, 0.0, 1.0], device=u.device),
                             torch.tensor([1.0, 0.0, 0.0], device=u.device))
        e1 = torch.linalg.cross(helper, u)
        e1 = e1 / e1.norm(dim=-1, keepdim=True).clamp_min(1e-9)
        e2 = torch.linalg.cross(u, e1)
        cl = torch.stack([(d * e1).sum(-1), (d * e2).sum(-1), (d * u).sum(-1)], -1)
        loc = torch.where(cap[:, None], cl, loc)
    return loc


def apply_patterns(albedo: torch.Tensor, material: torch.Tensor, point: torch.Tensor, part: torch.Tensor,
                   frame: torch.Tensor, ts, table: PatternTable) -> tuple[torch.Tensor, torch.Tensor]:
    """Albedo (N, 3) and material (N,) of hit pixels with their primitives' patterns applied.
    part: (N,) primitive index; frame: (N,) frame within the shapes' frames."""
    kind = table.kind[part]
    sel = (kind > 0).nonzero(as_tuple=True)[0]
    if not len(sel):
        return albedo, material
    p = part[sel]
    loc = local_coords(ts, p, frame[sel], point[sel], table.capsule).cpu().numpy().astype(np.float32)
    k = kind[sel].cpu().numpy()
    sc = table.scale[p].cpu().numpy()
    sd = table.seed[p].cpu().numpy()
    mix, shade = np.empty(len(k), np.float32), np.empty(len(k), np.float32)
    evaluator()(k, np.ascontiguousarray(loc[:, 0]), np.ascontiguousarray(loc[:, 1]), np.ascontiguousarray(loc[:, 2]),
                sc, sd, mix, shade)
    mix_t = torch.as_tensor(mix, device=albedo.device).unsqueeze(-1)
    shade_t = torch.as_tensor(shade, device=albedo.device).unsqueeze(-1)
    a = albedo[sel]
    albedo = albedo.clone()
    albedo[sel] = (a + (table.color[p] - a) * mix_t) * shade_t
    hivis = (kind[sel] == patterns.HIVIS) & (mix_t[:, 0] > 0.5)
    if bool(hivis.any()):
        material = material.clone()
        material[sel[hivis]] = RETRO
    return albedo, material
