"""Shading of one pixel a primitive won, shared by the CPU and CUDA kernels' loops
(render/kernels.py and render/gpu.py `shade_hits`): hit point and normal (render/pixel.py), the
primitive's surface (flat albedo, or a procedural pattern of render/patterns.py evaluated at the
hit point in the primitive's own frame), then pixel.shade_pixel and the tone curve (pixel.tone,
looked up in its step table: `hit_tone_table`, tone_steps.step_level).

Surface rows (P, NSURF) float64, packed by render/packing.py `pack_surfaces`: albedo (linear RGB),
pattern kind (patterns.PATTERNS index, 0 = flat), the pattern's second colour, its feature size in
metres, its seed, and the material of pixels where the second colour dominates (a hi-vis vest's
reflective bands)."""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from numba import njit
from numba.extending import register_jitable

from synthdata.render.background_pass import SHADE_JIT
from synthdata.render.tone_steps import step_level, step_table
from synthdata.render.inline import inlined
from synthdata.render.patterns import pattern_mix, pattern_shade
from synthdata.render.pixel import (CAPSULE, CONE, L_EXPOSURE, PRM_CENTER, PRM_END, local3, moving_irradiance,
                                    normal_primitive, shade_pair_terms, tone, unit, view_terms)

S_COLOR, S_PATTERN, S_COLOR2, S_SCALE, S_SEED, S_MATERIAL2 = 0, 3, 4, 7, 8, 9
NSURF = 10


@register_jitable
def primitive_local(kind, px, py, pz, prm):
    """A surface point in its primitive's frame (metres): ellipsoids, boxes and frustums along their axes,
    capsules and cones with z along the segment from end A and x, y across it."""
    dx, dy, dz = px - prm[PRM_CENTER], py - prm[PRM_CENTER + 1], pz - prm[PRM_CENTER + 2]
    if kind != CAPSULE and kind != CONE:
        return local3(dx, dy, dz, prm)
    ux, uy, uz = unit(prm[PRM_END] - prm[PRM_CENTER], prm[PRM_END + 1] - prm[PRM_CENTER + 1],
                      prm[PRM_END + 2] - prm[PRM_CENTER + 2])
    hx, hy, hz = (0.0, 0.0, 1.0) if abs(uz) < 0.9 else (1.0, 0.0, 0.0)
    ax, ay, az = unit(hy * uz - hz * uy, hz * ux - hx * uz, hx * uy - hy * ux)
    bx, by, bz = uy * az - uz * ay, uz * ax - ux * az, ux * ay - uy * ax
    return dx * ax + dy * ay + dz * az, dx * bx + dy * by + dz * bz, dx * ux + dy * uy + dz * uz


@inlined
def surface_at(kind, px, py, pz, prm, srf, m, fp):
    """Albedo (r, g, b) and material at a surface point of a primitive with surface row srf and
    base material m, seen by a pixel of footprint fp metres."""
    ar, ag, ab = srf[S_COLOR], srf[S_COLOR + 1], srf[S_COLOR + 2]
    pk = int(srf[S_PATTERN])
    if pk == 0:
        return ar, ag, ab, m
    lx, ly, lz = primitive_local(kind, px, py, pz, prm)
    seed = int(srf[S_SEED])
    w = pattern_mix(pk, lx, ly, lz, srf[S_SCALE], seed, fp)
    k = pattern_shade(pk, lx, ly, lz, srf[S_SCALE], seed, fp)
    if w > 0.5:
        m = int(srf[S_MATERIAL2])
    return ((ar + (srf[S_COLOR2] - ar) * w) * k, (ag + (srf[S_COLOR2 + 1] - ag) * w) * k,
            (ab + (srf[S_COLOR2 + 2] - ab) * w) * k, m)


@njit(**SHADE_JIT)          # the kernels' flags: `tone` evaluates here exactly as it would inside them
def _tones(values, out):
    for i in range(values.shape[0]):
        out[i] = tone(values[i])


@lru_cache(maxsize=1)
def hit_tone_table() -> tuple[np.ndarray, np.ndarray]:
    """`pixel.tone` as a step table (tone_steps.step_table) for `step_level`: the same levels
    as tone itself (tests/test_render_tone.py), without exp and pow."""
    def levels_of(values: np.ndarray) -> np.ndarray:
        out = np.empty(len(values))
        _tones(values, out)
        return out
    return step_table(levels_of, 1e300, np.float64)


@inlined
def hit_surface(t, y, x, tr, tc, tp, prm, kinds, surface, material, gprim, dist, rays, C):
    """Hit point (px, py, pz), unit normal (nx, ny, nz), albedo (ar, ag, ab) and material m of
    pixel (t, y, x) won by primitive gprim[t, y, x]: the first of `shade_hit`'s steps."""
    p = gprim[t, y, x]
    s = dist[t, y, x]
    px, py, pz = C[tc, 0] + s * rays[tr, y, x, 0], C[tc, 1] + s * rays[tr, y, x, 1], C[tc, 2] + s * rays[tr, y, x, 2]
    kind = kinds[p]
    nx, ny, nz = normal_primitive(kind, px, py, pz, prm[tp, p])
    xn = x + 1 if x + 1 < rays.shape[2] else x - 1          # the neighbour ray: the pixel's angle
    fp = s * math.sqrt((rays[tr, y, xn, 0] - rays[tr, y, x, 0]) ** 2 + (rays[tr, y, xn, 1] - rays[tr, y, x, 1]) ** 2
                       + (rays[tr, y, xn, 2] - rays[tr, y, x, 2]) ** 2)
    ar, ag, ab, m = surface_at(kind, px, py, pz, prm[tp, p], surface[p], material[p], fp)
    return px, py, pz, nx, ny, nz, ar, ag, ab, m


@inlined
def hit_radiance(px, py, pz, nx, ny, nz, ar, ag, ab, m, tc, frame, C, fwd, light, mats, points, dpos, daxis, dcol,
                 drange, dcos):
    """Exposed linear radiance (r, g, b) of a hit surface point (`hit_surface`): the scene's
    lights and the moving lights of clip frame `frame`, seen from camera row tc."""
    ndl, ndh = view_terms(nx, ny, nz, px, py, pz, C[tc, 0], C[tc, 1], C[tc, 2], light)
    return hit_radiance_of(px, py, pz, nx, ny, nz, ar, ag, ab, m, tc, frame, C, fwd, light, mats, points, dpos, daxis,
                           dcol, drange, dcos, ndl, ndh)


@inlined
def hit_radiance_of(px, py, pz, nx, ny, nz, ar, ag, ab, m, tc, frame, C, fwd, light, mats, points, dpos, daxis, dcol,
                    drange, dcos, ndl, ndh):
    """`hit_radiance` given the point's pixel.view_terms (ndl, ndh): the CPU kernel computes those
    for a row's pixels in a loop of their own, which vectorises (pixel.shade_pixel is view_terms
    then shade_pair_terms, so the same numbers)."""
    er = eg = eb = 0.0
    if dpos.shape[0]:
        er, eg, eb = moving_irradiance(nx, ny, nz, px, py, pz, frame, dpos, daxis, dcol, drange, dcos)
    r, g, b, _, _, _ = shade_pair_terms(ar, ag, ab, m, nx, ny, nz, px, py, pz, C[tc, 0], C[tc, 1], C[tc, 2],
                                        fwd[tc, 0], fwd[tc, 1], fwd[tc, 2], 1.0, 1.0, light, mats, points, er, eg, eb,
                                        ndl, ndh)
    e = light[L_EXPOSURE]
    return r * e, g * e, b * e


@inlined
def store_tone(rgb, t, y, x, r, g, b, first, cut):
    """rgb[t, y, x] (uint8) = exposed (r, g, b) through the tone curve's step table first, cut."""
    rgb[t, y, x, 0] = step_level(r, first, cut)
    rgb[t, y, x, 1] = step_level(g, first, cut)
    rgb[t, y, x, 2] = step_level(b, first, cut)


@inlined
def shade_hit(t, y, x, tr, tc, tp, frame, prm, kinds, surface, material, gprim, dist, rays, C, fwd, light, mats,
              points, dpos, daxis, dcol, drange, dcos, first, cut, rgb):
    """Shade pixel (t, y, x) won by primitive gprim[t, y, x] into rgb (uint8): hit point and normal,
    its surface (surface (P, NSURF)) and material, the scene's lights and the moving lights of
    clip frame `frame`; the tone curve from its table first, cut (`hit_tone_table`). The CUDA
    kernel's pixel; the CPU kernel runs the same three steps a row of pixels at a time."""
    px, py, pz, nx, ny, nz, ar, ag, ab, m = hit_surface(t, y, x, tr, tc, tp, prm, kinds, surface, material, gprim,
                                                        dist, rays, C)
    r, g, b = hit_radiance(px, py, pz, nx, ny, nz, ar, ag, ab, m, tc, frame, C, fwd, light, mats, points, dpos, daxis,
                           dcol, drange, dcos)
    store_tone(rgb, t, y, x, r, g, b, first, cut)
