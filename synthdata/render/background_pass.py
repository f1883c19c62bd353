"""The background of one camera pose in two compiled passes over its pixels (what a moving
camera - shake, PTZ - pays for every new pose unless render/pose_cache.py renders a reference
view once; a fixed camera once per clip).

- `ground_pass` (host, every device): ray -> ground-plane hit -> camera-axis depth, world point,
  albedo (three octaves of value noise, the layout's texture: tiles, paving, concrete, grass; the
  colour beyond the layout's extent) and material. The same float32 operations, in the same order,
  as the torch reference `background.ground_albedo` with `background.ray_plane_z`, so the same
  bits.
- `shade_tone` (CPU kernel here; its CUDA twin in render/gpu.py compiles the same scalar maths):
  every receiving pixel shaded lit and with the sun blocked (surface_shading.surface_radiance, one
  evaluation for both), sky elsewhere, both images through the tone curve, into uint8.

The tone curve's levels come from its step tables (render/tone_steps.py): torch's own results,
without exp and pow per value.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from types import SimpleNamespace

import numpy as np
import torch
from numba import njit

from synthdata.render.inline import inlined
from synthdata.render.noise import noise_at
from synthdata.render.rounding import floor
from synthdata.render.tone_steps import tone_level
from synthdata.render.surface_shading import surface_radiance, surface_radiance_terms, surface_terms

TEXTURES = {"tiles": 1, "paving": 2, "concrete": 3, "grass": 4}   # anything else: noise only
PAINT_TILE = 16                       # pixels a side of the tiles `paint_pass` bounds on the ground
JIT = dict(cache=True, nogil=True)     # no fastmath: the reference's float32 operations, in order
SHADE_JIT = dict(cache=True, nogil=True, fastmath={"nsz", "arcp", "contract"}, error_model="numpy")   # kernels.py's
SHADE_NO_REFS = dict(SHADE_JIT, _nrt=False)   # kernels.py's NO_REFS: no reference counting (kernels that allocate nothing)


@njit(**SHADE_JIT)
def shade_tone(albedo, normal, point, material, receiver, sunlit, sky, C, fwd, light, mats, points, first, cut,
               exposure, rgb, rgb_shadow):
    """Tone-mapped background (H, W, 3) uint8 lit (sunlit 0..1) into rgb and with the sun blocked
    into rgb_shadow; non-receiving pixels show sky (H, W, 3) linear (or (1, 1, 3) when none do)."""
    W = receiver.shape[1]
    lit, dark = np.empty((W, 3), np.float32), np.empty((W, 3), np.float32)
    _shade_tone(albedo, normal, point, material, receiver, sunlit, sky, C, fwd, light, mats, points, first, cut,
                exposure, rgb, rgb_shadow, lit, dark, np.empty((2, W)))


@njit(**SHADE_NO_REFS)
def _shade_tone(albedo, normal, point, material, receiver, sunlit, sky, C, fwd, light, mats, points, first, cut,
                exposure, rgb, rgb_shadow, lit, dark, terms):
    """`shade_tone` with scratch rows lit, dark (W, 3) float32, terms (2, W); a row in three loops:
    `view_terms` (roots and divisions that vectorise: a PTZ pose 8-10 % faster), radiance, tone."""
    H, W = receiver.shape
    for y in range(H):
        for x in range(W):          # every pixel (the sky's terms are not read): no test, it vectorises
            terms[0, x], terms[1, x] = surface_terms(y, x, normal, point, C, light)
        for x in range(W):
            if receiver[y, x]:
                r, g, b, r2, g2, b2 = surface_radiance_terms(y, x, albedo, normal, point, material, sunlit, C, fwd,
                                                             light, mats, points, terms[0, x], terms[1, x])
                lit[x, 0], lit[x, 1], lit[x, 2], dark[x, 0], dark[x, 1], dark[x, 2] = r, g, b, r2, g2, b2
            else:
                for c in range(3):
                    lit[x, c], dark[x, c] = sky[y, x, c], sky[y, x, c]
        for x in range(W):
            for c in range(3):
                rgb[y, x, c] = tone_level(lit[x, c], exposure, first, cut)
                rgb_shadow[y, x, c] = tone_level(dark[x, c], exposure, first, cut)


@inlined
def tone_pixel(y, x, albedo, normal, point, material, receiver, sunlit, sky, C, fwd, light, mats, points, first, cut,
               exposure, rgb, rgb_shadow):
    """Pixel (y, x) of `shade_tone` (the CUDA kernel's; the CPU kernel does the same a row at a time)."""
    if receiver[y, x]:
        r, g, b, r2, g2, b2 = surface_radiance(y, x, albedo, normal, point, material, sunlit, C, fwd, light, mats,
                                               points)
        rgb[y, x, 0] = tone_level(r, exposure, first, cut)
        rgb[y, x, 1] = tone_level(g, exposure, first, cut)
        rgb[y, x, 2] = tone_level(b, exposure, first, cut)
        rgb_shadow[y, x, 0] = tone_level(r2, exposure, first, cut)
        rgb_shadow[y, x, 1] = tone_level(g2, exposure, first, cut)
        rgb_shadow[y, x, 2] = tone_level(b2, exposure, first, cut)
    else:
        for c in range(3):
            v = tone_level(sky[y, x, c], exposure, first, cut)
            rgb[y, x, c] = v
            rgb_shadow[y, x, c] = v


@dataclass(frozen=True)
class GroundLook:
    """What `ground_pass` needs of a Ground and its texture seed (float32 where the reference's
    arithmetic is float32)."""

    lattice: np.ndarray        # (3, 128, 128) float32
    hue: np.ndarray            # (3,) float32: the grass hue row
    base: np.ndarray           # (3,) float32
    beyond: np.ndarray         # (3,) float32
    extent: np.ndarray         # (4,) float32 xmin, ymin, xmax, ymax
    scales: np.ndarray         # (3,) float32: the three octaves' feature sizes
    consts: np.ndarray         # float32: contrast, grass gain, tile gain, tile size, grout
    texture: int


def ground_look(ground, seed: int) -> GroundLook:
    """The ground's texture parameters, drawn as background.ground_albedo draws them; kept for
    the last few grounds (a moving camera asks for them pose by pose): callers only read them."""
    return _ground_look(int(seed), ground.texture, float(ground.texture_scale_m), float(ground.texture_contrast),
                        float(ground.tile_m), tuple(ground.color), tuple(ground.beyond_color), tuple(ground.extent))


@lru_cache(maxsize=8)
def _ground_look(seed: int, texture: str, scale_m: float, contrast: float, tile_m: float, color: tuple,
                 beyond_color: tuple, extent: tuple) -> GroundLook:
    ground = SimpleNamespace(texture=texture, texture_scale_m=scale_m, texture_contrast=contrast, tile_m=tile_m,
                             color=color, beyond_color=beyond_color, extent=extent)
    gen = torch.Generator().manual_seed(int(seed) & 0x7FFFFFFFFFFFFFFF)
    lat = (torch.rand((3, 128, 128), generator=gen) * 2 - 1).numpy()
    hue = (torch.rand((2, 3), generator=gen) * 2 - 1).numpy()[0]
    s = max(ground.texture_scale_m, 1e-3)
    k = ground.texture_contrast
    tex = ground.texture
    tile = ground.tile_m if tex != "concrete" else max(ground.tile_m, 3.0)
    grout = 0.025 * (2 if tex == "paving" else 1) / tile * (3 if tex == "concrete" else 1)
    f32 = lambda v: np.asarray(v, np.float32)
    return GroundLook(np.ascontiguousarray(lat), f32(hue), f32(ground.color), f32(ground.beyond_color),
                      f32(ground.extent), f32([s, s * 0.31, s * 5.3]), f32([k, 0.5 * k, 0.6 * k, tile, grout]),
                      TEXTURES.get(tex, 0))


def ground_pass(rays: np.ndarray, C: np.ndarray, fwd: np.ndarray, look: GroundLook, max_range: float = 5000.0,
                texture: bool = True, take=np.empty):
    """(depth (H, W) float32 (inf off the ground), point (H, W, 3) float32 (0 off the ground),
    ground point along every ray (H, W, 3), on-ground mask (H, W), albedo (H, W, 3) float32,
    material (H, W) int64) of rays (H, W, 3) float32 from C, optical axis fwd (3,) float32.
    texture=False: the geometry only (ground points, albedo and material None), for a pose whose
    colours come from a reference view (render/pose_cache.py). take(shape, dtype): where the
    (H, W) arrays are allocated."""
    H, W = rays.shape[:2]
    depth, ok = take((H, W), np.float32), take((H, W), np.bool_)
    point = take((H, W, 3), np.float32)
    gpt, albedo = ((take((H, W, 3), np.float32) if texture else np.empty((1, 1, 3), np.float32)) for _ in range(2))
    _ground(rays, np.asarray(C, np.float32), np.asarray(fwd, np.float32), np.float32(max_range), look.lattice,
            look.hue, look.base, look.beyond, look.extent, look.scales, look.consts, look.texture if texture else -1,
            depth, point, gpt,
            ok, albedo)
    if not texture:
        return depth, point, None, ok, None, None
    from synthdata.world.types import MATERIAL
    material = take((H, W), np.int64)
    material.fill(MATERIAL["concrete"])
    return depth, point, gpt, ok, albedo, material


def ground_pass_on_device(k, rays: torch.Tensor, C: np.ndarray, fwd: np.ndarray, look: GroundLook,
                          max_range: float = 5000.0, texture: bool = True) -> tuple:
    """`ground_pass` by the CUDA kernels `k` (render/gpu.py `ground`, the same `ground_pixel`):
    the same outputs as tensors on rays' device."""
    H, W = rays.shape[:2]
    empty = lambda *shape, dtype=torch.float32: torch.empty(shape, dtype=dtype, device=rays.device)
    depth, ok, point = empty(H, W), empty(H, W, dtype=torch.bool), empty(H, W, 3)
    gpt, albedo = ((empty(H, W, 3) if texture else empty(1, 1, 3)) for _ in range(2))
    k.ground(k.array(rays.float().contiguous()), np.asarray(C, np.float32), np.asarray(fwd, np.float32),
             np.float32(max_range), look.lattice, look.hue, look.base, look.beyond, look.extent, look.scales,
             look.consts, look.texture if texture else -1, k.array(depth), k.array(point), k.array(gpt), k.array(ok),
             k.array(albedo))
    if not texture:
        return depth, point, None, ok, None, None
    from synthdata.world.types import MATERIAL
    return depth, point, gpt, ok, albedo, torch.full((H, W), MATERIAL["concrete"], dtype=torch.int64, device=rays.device)


@njit(**JIT, _nrt=False)   # no reference counting: the arrays handed to ground_pixel per pixel cost it
def _ground(rays, C, fwd, max_range, lat, hue, base, beyond, extent, scales, consts, texture, depth, point, gpt, ok,
            albedo):
    H, W = rays.shape[0], rays.shape[1]
    lat0, lat1, lat2 = lat[0], lat[1], lat[2]
    for y in range(H):
        for x in range(W):
            ground_pixel(y, x, rays, C, fwd, max_range, lat0, lat1, lat2, hue, base, beyond, extent, scales, consts,
                         texture, depth, point, gpt, ok, albedo)


@inlined
def ground_hit(dx, dy, dz, c0, c1, c2, f0, f1, f2, max_range):
    """Where float32 ray (dx, dy, dz) from (c0, c1, c2) meets the ground (z = 0), the camera's
    optical axis (f0, f1, f2): (scale, the depth a metre along the ray; t, the distance along the
    ray (inf: never); the point at min(t, 1e6); whether it is a hit within max_range). Branch free
    but for selects, so a loop of it vectorises (render/pose_cache.py `_pose_rows`)."""
    zero = np.float32(0.0)
    tiny, far = np.float32(1e-12), np.float32(1e6)
    scale = dx * f0 + dy * f1 + dz * f2
    steep = abs(dz) > tiny
    t = (zero - c2) / (dz if steep else tiny)
    if not (t > zero and steep):
        t = np.float32(np.inf)
    tc = min(t, far)
    hit = math.isfinite(t) and t < max_range
    return scale, t, c0 + tc * dx, c1 + tc * dy, c2 + tc * dz, hit


@inlined
def ground_pixel(y, x, rays, C, fwd, max_range, lat0, lat1, lat2, hue, base, beyond, extent, scales, consts, texture,
                 depth, point, gpt, ok, albedo):
    """`ground_pass` at pixel (y, x): the ray's ground point, depth and (texture >= 0) albedo; the
    CPU loop above and the CUDA kernel `ground` (render/gpu.py) run it."""
    one, zero = np.float32(1.0), np.float32(0.0)
    dx, dy, dz = rays[y, x, 0], rays[y, x, 1], rays[y, x, 2]
    scale, t, gx, gy, gz, hit = ground_hit(dx, dy, dz, C[0], C[1], C[2], fwd[0], fwd[1], fwd[2], max_range)
    if texture >= 0:
        gpt[y, x, 0], gpt[y, x, 1], gpt[y, x, 2] = gx, gy, gz
    ok[y, x] = hit
    if hit:
        depth[y, x] = t * scale
        point[y, x, 0], point[y, x, 1], point[y, x, 2] = gx, gy, gz
    else:
        depth[y, x] = np.float32(np.inf)
        point[y, x, 0], point[y, x, 1], point[y, x, 2] = zero, zero, zero
    if texture < 0:         # geometry only
        return
    k, kg, kt, tile, grout = consts[0], consts[1], consts[2], consts[3], consts[4]
    n = (np.float32(0.55) * noise_at(gx / scales[0], gy / scales[0], lat0)
         + np.float32(0.3) * noise_at(gx / scales[1], gy / scales[1], lat1)
         + np.float32(0.15) * noise_at(gx / scales[2], gy / scales[2], lat2))
    f = one + k * n
    a0, a1, a2 = base[0] * f, base[1] * f, base[2] * f
    if texture == 1 or texture == 2 or texture == 3:
        u, v = gx / tile, gy / tile
        if texture == 2:
            u = u * np.float32(2.0) + np.float32((int(floor(v)) % 2) * 0.5)
        fu_, fv_ = np.float32(floor(u)), np.float32(floor(v))
        line = (u - fu_ < grout) or (v - fv_ < grout)
        g = one + kt * noise_at(fu_ * np.float32(7.31), fv_ * np.float32(3.17), lat2)
        a0, a1, a2 = a0 * g, a1 * g, a2 * g
        if line:
            a0, a1, a2 = a0 * np.float32(0.65), a1 * np.float32(0.65), a2 * np.float32(0.65)
    elif texture == 4:
        a0 = a0 * (one + (kg * hue[0]) * n)
        a1 = a1 * (one + (kg * hue[1]) * n)
        a2 = a2 * (one + (kg * hue[2]) * n)
    if gx < extent[0] or gx > extent[2] or gy < extent[1] or gy > extent[3]:
        fb = one + np.float32(0.3) * n
        a0, a1, a2 = beyond[0] * fb, beyond[1] * fb, beyond[2] * fb
    albedo[y, x, 0] = min(max(a0, zero), one)
    albedo[y, x, 1] = min(max(a1, zero), one)
    albedo[y, x, 2] = min(max(a2, zero), one)


@inlined
def painted(i, gx, gy, lo, hi, kind, first, pts, half):
    """Whether paint item i covers the ground point (gx, gy): `_paint` and the CUDA kernel `paint`
    (render/gpu.py) ask it (render/background.py `paint_ground`)."""
    if gx < lo[i, 0] or gx > hi[i, 0] or gy < lo[i, 1] or gy > hi[i, 1]:   # outside its grown box
        return False
    a, b = first[i], first[i + 1]
    inside = False
    if kind[i] == 0:            # a polyline of width 2 * half
        for j in range(a, b - 1):
            abx, aby = pts[j + 1, 0] - pts[j, 0], pts[j + 1, 1] - pts[j, 1]
            t = ((gx - pts[j, 0]) * abx + (gy - pts[j, 1]) * aby) / max(abx * abx + aby * aby, 1e-9)
            t = min(max(t, 0.0), 1.0)
            dx, dy = gx - (pts[j, 0] + t * abx), gy - (pts[j, 1] + t * aby)
            if dx * dx + dy * dy <= half[i] * half[i]:
                return True
    else:                       # a polygon, even-odd rule
        for j in range(a, b):
            k = j + 1 if j + 1 < b else a
            if (pts[j, 1] > gy) != (pts[k, 1] > gy):
                xc = (pts[k, 0] - pts[j, 0]) * (gy - pts[j, 1]) / (pts[k, 1] - pts[j, 1] + 1e-12) + pts[j, 0]
                if gx < xc:
                    inside = not inside
    return inside


def paint_pass(albedo, material, gpt, valid, win, lo, hi, kind, first, pts, half, colour, mat) -> None:
    """Ground paint on the host (render/background.py `paint_ground`), in place: albedo (H, W, 3)
    and material (H, W) take the last item `painted` over each valid pixel's ground point gpt
    (H, W, 3); win (n, 4) each item's screen window x0, y0, x1, y1. An item tests a tile of
    PAINT_TILE pixels a side only where the box of its ground points meets the item's grown box
    (outside it `painted` fails its first test): a long line no longer tests its whole screen
    rectangle (a PTZ pose's parking bays: 5.6 frames' worth of tests). The same result."""
    H, W = valid.shape
    n = PAINT_TILE
    tiles = np.empty(((H + n - 1) // n, (W + n - 1) // n, 4))
    _paint(albedo, material, gpt, valid, win, lo, hi, kind, first, pts, half, colour, mat, tiles)


@njit(**JIT, _nrt=False)     # no reference counting: `painted` takes arrays per pixel
def _paint(albedo, material, gpt, valid, win, lo, hi, kind, first, pts, half, colour, mat, tiles):
    """`paint_pass` with its scratch tiles (TY, TX, 4): each tile's lowest x, y and highest x, y of
    its valid pixels' ground points (infinite the wrong way round where none is valid)."""
    H, W = valid.shape
    n = PAINT_TILE
    for ty in range(tiles.shape[0]):
        for tx in range(tiles.shape[1]):
            x0, y0, x1, y1 = np.inf, np.inf, -np.inf, -np.inf
            for y in range(ty * n, min(ty * n + n, H)):
                for x in range(tx * n, min(tx * n + n, W)):
                    if valid[y, x]:
                        gx, gy = np.float64(gpt[y, x, 0]), np.float64(gpt[y, x, 1])
                        x0, y0, x1, y1 = min(x0, gx), min(y0, gy), max(x1, gx), max(y1, gy)
            tiles[ty, tx, 0], tiles[ty, tx, 1], tiles[ty, tx, 2], tiles[ty, tx, 3] = x0, y0, x1, y1
    for i in range(win.shape[0]):
        xa, ya, xb, yb = win[i, 0], win[i, 1], win[i, 2], win[i, 3]
        if xb <= xa or yb <= ya:
            continue
        for ty in range(ya // n, (yb - 1) // n + 1):
            for tx in range(xa // n, (xb - 1) // n + 1):
                if (tiles[ty, tx, 2] < lo[i, 0] or tiles[ty, tx, 0] > hi[i, 0] or tiles[ty, tx, 3] < lo[i, 1]
                        or tiles[ty, tx, 1] > hi[i, 1]):
                    continue            # no ground point of the tile in the item's box
                for y in range(max(ty * n, ya), min(ty * n + n, yb)):
                    for x in range(max(tx * n, xa), min(tx * n + n, xb)):
                        if valid[y, x] and painted(i, gpt[y, x, 0], gpt[y, x, 1], lo, hi, kind, first, pts, half):
                            albedo[y, x, 0], albedo[y, x, 1], albedo[y, x, 2] = colour[i, 0], colour[i, 1], colour[i, 2]
                            material[y, x] = mat[i]
