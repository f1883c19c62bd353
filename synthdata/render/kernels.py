"""Compiled CPU kernels of the renderer (numba, one thread, cached on disk).

Each kernel loops in *primitive* order over the primitive's screen window and calls the scalar
maths of render/pixel.py, which the CUDA kernels (render/gpu.py) compile too. Buffers are numpy
views of the render tensors (no copies); every kernel writes in place.

- `raster`: nearest hit per pixel into a z-buffer (camera-axis depth, ray distance, global
  primitive index, track id); ties go to the earlier body, within a body to the later
  primitive; also each body's own (unoccluded) pixel count and box per frame.
- `shade_hits`: colour of every pixel a primitive won (tone-mapped uint8).
- `sun_shadows`: receiver pixels in each primitive's sun-cast window whose path to the sun it
  blocks (only pixels still showing the background), swapped for the shadowed background.
- `antialias`: silhouette pixels take the mean of themselves and their 3x3 average.
- `motion_blur`: blur along each moving pixel's image motion (render/motion_pass.py, maths in
  render/motion_blur.py).
- `light_pools`: moving lights' pools on the background (render/light_pass.py).
- `decode_linear`, `sensor_encode` (render/sensor_pass.py): the effects chain's way in and out
  of linear light; sensor noise from a counter-based hash (the same bits on every device),
  vignetting and the tone curve fused in one pass.

Compilation: kernels compile once (about ten seconds) and then load from numba's on-disk cache;
`backend.announce_compile` tells the user on the first run.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from synthdata.render.background_pass import shade_tone
from synthdata.render.hit_shading import hit_radiance_of, hit_surface, store_tone
from synthdata.render.light_pass import light_pools
from synthdata.render.motion_pass import motion_blur
from synthdata.render.planes import kept
from synthdata.render.pixel import (PRM_RAD, PRM_REF, NPRM, hit_primitive, in_shadow, normal_primitive, on_silhouette,
                                    soften, shadow_form, sun_basis, view_terms, zbuffer_hit, row_is)
from synthdata.render.sensor_pass import decode_linear, sensor_encode
from synthdata.render.surface_shading import shade_surface

# fastmath without "no infinities / no NaNs": INF means "no hit" throughout
FAST = {"nsz", "arcp", "contract"}
JIT = dict(cache=True, nogil=True, fastmath=FAST, error_model="numpy")
# Kernels that allocate nothing compile without numba's reference counting (`_nrt=False`): every
# array handed to an inlined helper (render/inline.py) in a pixel loop otherwise costs an atomic
# increment and decrement per pixel (shade_hits 1.8x, raster 1.5x faster without; the same bits).
# A kernel that needs scratch takes it from a thin wrapper that allocates it (`_sun_shadows`).
NO_REFS = dict(JIT, _nrt=False)
__all__ = ["raster", "shade_hits", "shade_surfaces", "shade_tone", "surfaces", "light_pools", "sun_shadows", "antialias", "decode_linear", "sensor_encode", "motion_blur", "part_index", "NPRM"]


@njit(**NO_REFS)
def raster(prm, kinds, win, prim_body, body_track, rays, C, fwd, depth, dist, gprim, inst, stamp, own, boxes):
    """Z-buffer the primitives (prm (T or 1, P, NPRM), kinds (P,), windows win (T, P, 4) as
    x0, y0, x1, y1) seen along rays (1 or T, H, W, 3) from camera centres C (1 or T, 3) with
    optical axes fwd. depth/dist (T, H, W) float32, gprim/inst (T, H, W) int32 are updated where
    a primitive is nearer than what they hold (depth starts as the background's). prim_body (P,)
    is each primitive's body (0..B-1, bodies in compositing order), body_track (B,) their ids;
    own (B, T) counts each body's own covered pixels and boxes (B, T, 4) bound them
    (y0, x0, y1, x1 exclusive); stamp (H, W) int32 is scratch."""
    T, P = win.shape[0], win.shape[1]
    H, W = depth.shape[1], depth.shape[2]
    B = body_track.shape[0]
    for t in range(T):
        tr = t if rays.shape[0] > 1 else 0
        tc = t if C.shape[0] > 1 else 0
        tp = t if prm.shape[0] > 1 else 0
        ox, oy, oz = C[tc, 0], C[tc, 1], C[tc, 2]
        fx, fy, fz = fwd[tc, 0], fwd[tc, 1], fwd[tc, 2]
        for y in range(H):
            for x in range(W):
                stamp[y, x] = -1
        for p in range(P):
            x0, y0, x1, y1 = win[t, p, 0], win[t, p, 1], win[t, p, 2], win[t, p, 3]
            if x1 <= x0 or y1 <= y0:
                continue
            b = prim_body[p]
            key = t * B + b
            kind = kinds[p]
            row = prm[tp, p]
            for y in range(y0, y1):
                for x in range(x0, x1):
                    dx, dy, dz = rays[tr, y, x, 0], rays[tr, y, x, 1], rays[tr, y, x, 2]
                    s = hit_primitive(kind, ox, oy, oz, dx, dy, dz, row)
                    if s == math.inf:
                        continue
                    z = np.float32(s * (dx * fx + dy * fy + dz * fz))
                    if stamp[y, x] != key:
                        stamp[y, x] = key
                        own[b, t] += 1
                        boxes[b, t, 0] = min(boxes[b, t, 0], y)
                        boxes[b, t, 1] = min(boxes[b, t, 1], x)
                        boxes[b, t, 2] = max(boxes[b, t, 2], y + 1)
                        boxes[b, t, 3] = max(boxes[b, t, 3], x + 1)
                    zbuffer_hit(t, y, x, z, s, p, b, depth, dist, gprim, inst, prim_body, body_track)


def shade_hits(prm, kinds, surface, material, done, gprim, dist, rays, C, fwd, frame0, light, mats, points,
               dpos, daxis, dcol, drange, dcos, first, cut, rgb):
    """Tone-mapped colour (uint8, rgb (T, H, W, 3)) of every pixel won by a primitive (gprim >= 0)
    not marked in done (P,) uint8 (already shaded), from its hit point, normal, albedo color (P, 3)
    and material (P,); moving lights are indexed at clip frame frame0 + t; first, cut:
    hit_shading.hit_tone_table. See hit_shading.shade_hit."""
    W = gprim.shape[2]
    xs, lanes = kept("kernels.shade_hits", (W,), lambda: (np.empty(W, np.int64), np.empty((SHADE_LANES, W))))
    _shade_hits(prm, kinds, surface, material, done, gprim, dist, rays, C, fwd, frame0, light, mats, points, dpos,
                daxis, dcol, drange, dcos, first, cut, rgb, xs, lanes)


SHADE_LANES = 12    # `_shade_hits`: a row's hit point, normal, albedo, material and view terms, then its radiance


@njit(**NO_REFS)
def _shade_hits(prm, kinds, surface, material, done, gprim, dist, rays, C, fwd, frame0, light, mats, points,
                dpos, daxis, dcol, drange, dcos, first, cut, rgb, xs, lanes):
    """`shade_hits` a row at a time, in hit_shading.shade_hit's steps, each a loop over the row's
    pixels to shade (xs (W,) their columns, lanes (SHADE_LANES, W) what one step hands the next):
    the surfaces, the view terms, the rest of the radiance, the tone curve. The same numbers as
    pixel by pixel; about 10 % faster, since a short loop body lets the CPU overlap one pixel's
    long chains of divisions and square roots with the next's, and the view terms' loop (branch
    free) vectorises: 13-15 % less shading time on plate_lobby_detector's people."""
    T, H, W = gprim.shape
    g = lanes
    for t in range(T):
        tr = t if rays.shape[0] > 1 else 0
        tc = t if C.shape[0] > 1 else 0
        tp = t if prm.shape[0] > 1 else 0
        for y in range(H):
            n = 0
            if row_is(gprim, t, y, np.int32(-1)):       # a row without hits
                continue
            for x in range(W):
                p = gprim[t, y, x]
                if p >= 0 and not done[p]:
                    xs[n] = x
                    n += 1
            for i in range(n):
                g[0, i], g[1, i], g[2, i], g[3, i], g[4, i], g[5, i], g[6, i], g[7, i], g[8, i], m = hit_surface(
                    t, y, xs[i], tr, tc, tp, prm, kinds, surface, material, gprim, dist, rays, C)
                g[9, i] = m
            for i in range(n):
                g[10, i], g[11, i] = view_terms(g[3, i], g[4, i], g[5, i], g[0, i], g[1, i], g[2, i], C[tc, 0],
                                                C[tc, 1], C[tc, 2], light)
            for i in range(n):
                g[0, i], g[1, i], g[2, i] = hit_radiance_of(g[0, i], g[1, i], g[2, i], g[3, i], g[4, i], g[5, i],
                                                            g[6, i], g[7, i], g[8, i], int(g[9, i]), tc, frame0 + t, C,
                                                            fwd, light, mats, points, dpos, daxis, dcol, drange, dcos,
                                                            g[10, i], g[11, i])
            for i in range(n):
                store_tone(rgb, t, y, xs[i], g[0, i], g[1, i], g[2, i], first, cut)


shade_hits.kernel = _shade_hits       # what render/backend.py counts and caches


@njit(**NO_REFS)
def shade_surfaces(albedo, normal, point, material, receiver, sunlit, C, fwd, light, mats, points, lit, dark):
    """Linear radiance of every receiving pixel of a background (H, W, ...), lit (sunlit 0..1)
    and as if the sun were blocked, seen from C (3,) along the optical axis fwd (3,)."""
    H, W = receiver.shape
    for y in range(H):
        for x in range(W):
            if not receiver[y, x]:
                continue
            shade_surface(y, x, albedo, normal, point, material, sunlit, C, fwd, light, mats, points, lit, dark)


@njit(**NO_REFS)
def surfaces(prm, kinds, gprim, dist, rays, C, point, normal):
    """World point and unit normal (T, H, W, 3) float32 of every pixel won by a primitive."""
    T, H, W = gprim.shape
    for t in range(T):
        tr = t if rays.shape[0] > 1 else 0
        tc = t if C.shape[0] > 1 else 0
        tp = t if prm.shape[0] > 1 else 0
        for y in range(H):
            for x in range(W):
                p = gprim[t, y, x]
                if p < 0:
                    continue
                s = dist[t, y, x]
                px = C[tc, 0] + s * rays[tr, y, x, 0]
                py = C[tc, 1] + s * rays[tr, y, x, 1]
                pz = C[tc, 2] + s * rays[tr, y, x, 2]
                nx, ny, nz = normal_primitive(kinds[p], px, py, pz, prm[tp, p])
                point[t, y, x, 0], point[t, y, x, 1], point[t, y, x, 2] = px, py, pz
                normal[t, y, x, 0], normal[t, y, x, 1], normal[t, y, x, 2] = nx, ny, nz


@njit(**JIT)
def sun_shadows(prm, kinds, win, sun, which, origin, receiver, inst, shadowed, rgb, rgb_shadow, first):
    """Mark receiver pixels (inst == 0 and receiver[which[t]]) inside each primitive's windows
    win (T, P, 4) whose straight path to the sun (unit `sun`) the primitive blocks; origin
    (U, H, W, 3) are the receiving points (already lifted off the surface), which (T,) picks
    each frame's background. shadowed (T, H, W) uint8 is set to 1; where rgb has frames, the
    pixel also takes rgb_shadow's colour. first (B,): each body's first primitive (bodies hold
    consecutive primitives).

    Culling, in the plane orthogonal to the sun (a point's whole sun line is one point there): a
    primitive's shadow lies within the disc of its bounding sphere, so a pixel is tested against
    a primitive only inside that disc (a margin far above rounding added), and against a body
    only inside the square around its primitives' discs (the same pixels end up shadowed; far
    fewer tests). The square is cut into SHADOW_GRID x SHADOW_GRID cells, each listing (in
    primitive order) the primitives whose disc's box reaches it, and a pixel tests only its cell's
    (the same pixels are tested against the same primitives in the same order wherever a disc holds
    them: the same marks; under a low sun a body's square holds a long shadow, and most of its
    primitives' discs miss any one pixel)."""
    P, W = win.shape[1], inst.shape[2]
    _sun_shadows(prm, kinds, win, sun, which, origin, receiver, inst, shadowed, rgb, rgb_shadow, first,
                 np.zeros((P, 3)), np.zeros((P, 4)), np.zeros(SHADOW_GRID * SHADOW_GRID, np.int64),
                 np.zeros((SHADOW_GRID * SHADOW_GRID, P), np.int64), np.empty(W, np.bool_), np.empty((2, W)))


SHADOW_GRID = 8


@njit(**NO_REFS)
def _sun_shadows(prm, kinds, win, sun, which, origin, receiver, inst, shadowed, rgb, rgb_shadow, first, forms, disc,
                 count, cells, test, qs):
    """`sun_shadows` with its scratch: forms (P, 3), each primitive's shadow form, and disc (P, 4),
    its bounding sphere's shadow in the sun-orthogonal plane: centre u, v, radius squared, radius;
    count (G * G,) and cells (G * G, P): a body's grid of cells (SHADOW_GRID = G) and the
    primitives listed in each; test (W,) and qs (2, W): a row's pixels to test and their place in
    the sun's plane, found first in a flat loop without branches (it vectorises)."""
    T, P = win.shape[0], win.shape[1]
    H, W = inst.shape[1], inst.shape[2]
    B = first.shape[0]
    sx, sy, sz = sun[0], sun[1], sun[2]
    e1x, e1y, e1z, e2x, e2y, e2z = sun_basis(sx, sy, sz)
    swap = rgb.shape[0] > 0
    for t in range(T):
        u = which[t]
        tp = t if prm.shape[0] > 1 else 0
        for p in range(P):
            if win[t, p, 2] > win[t, p, 0] and win[t, p, 3] > win[t, p, 1]:
                if kinds[p] == 0:
                    forms[p, 0], forms[p, 1], forms[p, 2] = shadow_form(prm[tp, p], sx, sy, sz, e1x, e1y, e1z,
                                                                        e2x, e2y, e2z)
                cx, cy, cz = prm[tp, p, PRM_REF], prm[tp, p, PRM_REF + 1], prm[tp, p, PRM_REF + 2]
                r = prm[tp, p, PRM_RAD]
                r = r + 1e-6 + 1e-4 * r                     # a margin far above rounding
                disc[p, 0], disc[p, 1] = e1x * cx + e1y * cy + e1z * cz, e2x * cx + e2y * cy + e2z * cz
                disc[p, 2], disc[p, 3] = r * r, r
        org = origin[u].reshape(H, W * 3)
        for b in range(B):
            p0, p1 = first[b], (first[b + 1] if b + 1 < B else P)
            x0, y0, x1, y1 = 1 << 30, 1 << 30, -1, -1         # the body's window and disc square
            u0 = v0 = math.inf
            u1 = v1 = -math.inf
            for p in range(p0, p1):
                if win[t, p, 2] <= win[t, p, 0] or win[t, p, 3] <= win[t, p, 1]:
                    continue
                x0, y0 = min(x0, win[t, p, 0]), min(y0, win[t, p, 1])
                x1, y1 = max(x1, win[t, p, 2]), max(y1, win[t, p, 3])
                u0, u1 = min(u0, disc[p, 0] - disc[p, 3]), max(u1, disc[p, 0] + disc[p, 3])
                v0, v1 = min(v0, disc[p, 1] - disc[p, 3]), max(v1, disc[p, 1] + disc[p, 3])
            if x1 < 0:
                continue
            G = SHADOW_GRID
            gu, gv = G / (u1 - u0), G / (v1 - v0)
            for c in range(G * G):
                count[c] = 0
            for p in range(p0, p1):                         # each cell's primitives, in order
                if win[t, p, 2] <= win[t, p, 0] or win[t, p, 3] <= win[t, p, 1]:
                    continue
                i0 = min(int((disc[p, 0] - disc[p, 3] - u0) * gu), G - 1)
                i1 = min(int((disc[p, 0] + disc[p, 3] - u0) * gu), G - 1)
                j0 = min(int((disc[p, 1] - disc[p, 3] - v0) * gv), G - 1)
                j1 = min(int((disc[p, 1] + disc[p, 3] - v0) * gv), G - 1)
                for i in range(max(i0, 0), i1 + 1):
                    for j in range(max(j0, 0), j1 + 1):
                        c = i * G + j
                        cells[c, count[c]] = p
                        count[c] += 1
            n = x1 - x0
            for y in range(y0, y1):
                sh, ids, rec, o = shadowed[t, y, x0:x1], inst[t, y, x0:x1], receiver[u, y, x0:x1], org[y, 3 * x0:3 * x1]
                for i in range(n):      # free receivers whose sun line meets the body's square
                    qx, qy, qz = o[3 * i], o[3 * i + 1], o[3 * i + 2]
                    qu = e1x * qx + e1y * qy + e1z * qz
                    qv = e2x * qx + e2y * qy + e2z * qz
                    qs[0, i], qs[1, i] = qu, qv
                    test[i] = (sh[i] == 0) & (ids[i] == 0) & rec[i] & (qu >= u0) & (qu <= u1) & (qv >= v0) & (qv <= v1)
                for i in range(n):
                    if not test[i]:
                        continue
                    x = x0 + i
                    qx, qy, qz = o[3 * i], o[3 * i + 1], o[3 * i + 2]
                    qu, qv = qs[0, i], qs[1, i]
                    c = min(int((qu - u0) * gu), G - 1) * G + min(int((qv - v0) * gv), G - 1)
                    for k in range(count[c]):
                        p = cells[c, k]
                        if not (win[t, p, 0] <= x < win[t, p, 2] and win[t, p, 1] <= y < win[t, p, 3]):
                            continue
                        du, dv = qu - disc[p, 0], qv - disc[p, 1]
                        if du * du + dv * dv > disc[p, 2]:
                            continue
                        if in_shadow(kinds[p], qx, qy, qz, prm[tp, p], sx, sy, sz, e1x, e1y, e1z, e2x, e2y, e2z,
                                     forms[p, 0], forms[p, 1], forms[p, 2]):
                            shadowed[t, y, x] = 1
                            if swap:
                                rgb[t, y, x, 0] = rgb_shadow[u, y, x, 0]
                                rgb[t, y, x, 1] = rgb_shadow[u, y, x, 1]
                                rgb[t, y, x, 2] = rgb_shadow[u, y, x, 2]
                            break


@njit(**JIT)
def antialias(rgb, inst, boxes, mark):
    """Silhouette pixels (differing from a 4-neighbour in inst) inside boxes (G, 5) of (frame, y0,
    x0, y1, x1) grown by one pixel take the mean of themselves and their 3x3 average (colours
    only; inst keeps hard edges). mark (T, H, W) uint8 is scratch: zeros, left zeros. A box row's
    silhouette pixels are found in a flat loop over slices of the row and its neighbours (it
    vectorises), the frame's first and last columns apart."""
    T, H, W = inst.shape
    G = boxes.shape[0]
    n = 0
    new = np.empty(W, np.uint8)
    for g in range(G):
        t = boxes[g, 0]
        xa, xb = max(boxes[g, 2] - 1, 0), min(boxes[g, 4] + 1, W)
        if xb <= xa:
            continue
        ia, ib = max(xa, 1), min(xb, W - 1)         # columns with a neighbour on both sides
        for y in range(max(boxes[g, 1] - 1, 0), min(boxes[g, 3] + 1, H)):
            row, up, down = inst[t, y], inst[t, max(y - 1, 0)], inst[t, min(y + 1, H - 1)]
            if ia < ib:             # (the row itself stands in for a missing row above or below)
                v, lft, rgt, a, b = row[ia:ib], row[ia - 1:ib - 1], row[ia + 1:ib + 1], up[ia:ib], down[ia:ib]
                m, f = mark[t, y, ia:ib], new[:ib - ia]
                for i in range(ib - ia):
                    f[i] = np.uint8(((lft[i] != v[i]) | (rgt[i] != v[i]) | (a[i] != v[i]) | (b[i] != v[i]))
                                    & (m[i] == 0))
                for i in range(ib - ia):
                    n += f[i]
                    m[i] |= f[i]
            for x in (xa, xb - 1):
                if (x < ia or x >= ib) and mark[t, y, x] == 0 and on_silhouette(inst, t, y, x):
                    mark[t, y, x] = 1
                    n += 1
    out = np.empty((n, 3), np.uint8)
    where = np.empty((n, 3), np.int64)
    k = 0
    for g in range(G):
        t = boxes[g, 0]
        for y in range(max(boxes[g, 1] - 1, 0), min(boxes[g, 3] + 1, H)):
            for x in range(max(boxes[g, 2] - 1, 0), min(boxes[g, 4] + 1, W)):
                if mark[t, y, x] != 1:
                    continue
                mark[t, y, x] = 2
                for c in range(3):
                    out[k, c] = soften(rgb, t, y, x, c)
                where[k, 0], where[k, 1], where[k, 2] = t, y, x
                k += 1
    for i in range(n):
        for c in range(3):
            rgb[where[i, 0], where[i, 1], where[i, 2], c] = out[i, c]
        mark[where[i, 0], where[i, 1], where[i, 2]] = 0


@njit(**JIT)
def part_index(gprim, local, part):
    """part (T, H, W) int16: the index within its own actor's Shapes of the primitive each pixel
    sees (local[gprim], local (P,) int16), -1 (PART_SCENE) where gprim is -1."""
    g = gprim.reshape(-1)
    out = part.reshape(-1)
    for i in range(g.shape[0]):
        p = g[i]
        out[i] = local[p] if p >= 0 else np.int16(-1)
