"""Cameras packed into rows of floats and the projection maths compiled code reads (numba): the
render kernels' motion blur and shadow windows (render/motion_blur.py, render/shadow_windows.py)
and the primitives' screen bounds here (`bounds_kernel`, used by world/geometry/projection.py).

`project_row` is Camera.project's model (world/geometry/camera.py: Brown k1/k2 or equidistant
fisheye, skew, held past the distortion's fold: camera.fold_sq) for one point; `bounds_kernel`
is projection.shape_points + screen_bounds for every (frame, primitive) in one compiled pass:
the same contour points (an ellipsoid's silhouette ring, a capsule's or cone's two end-sphere
rings and, under distortion, the middle one, a box's corners and then its edges), projected,
their extent taken.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import njit
from numba.extending import register_jitable

from synthdata.world.geometry.camera import fold_sq
from synthdata.world.types import BOX, CAPSULE, ELLIPSOID   # (CONE and FRUSTUM: bounded by two end spheres)

EDGE_STEPS = 4   # a box's edges in 4 pieces under lens distortion (3 points inside each)
NCAM = 21        # a packed camera row: R (9, row-major), C (3), fx, fy, cx, cy, k1, k2, skew, fisheye,
#                  and the distortion's fold (camera.fold_sq of k1, k2: once a row, not once a point)


def pack_camera(camera: Any, t: int) -> np.ndarray:
    """Frame t of a Camera (world/geometry/camera.py) as one float64 row of NCAM values."""
    i = min(t, camera.num_frames - 1)
    row = np.zeros(NCAM)
    row[:9], row[9:12] = np.asarray(camera.R[i], float).reshape(9), camera.C[i]
    row[12:16] = camera.fx[i], camera.fy[i], camera.cx, camera.cy
    row[16:18] = camera.k1, camera.k2
    row[18] = 0.0 if camera.skew is None else float(camera.skew[i])
    row[19] = 1.0 if camera.model == "fisheye" else 0.0
    row[20] = fold_sq(float(camera.k1), float(camera.k2))
    return row


def pack_cameras(camera: Any, frames: int) -> np.ndarray:
    """(1 or frames, NCAM) rows of a static or moving camera."""
    n = 1 if camera.num_frames == 1 else frames
    return np.stack([pack_camera(camera, t) for t in range(n)])


@register_jitable
def project_row(cam, px, py, pz):
    """World point -> (u, v, z) by a packed camera row (Camera.project's model: Brown k1/k2 or
    equidistant fisheye, skew); z <= 0 is behind the camera."""
    if not cam[19] > 0.5:
        return project_brown(cam[0], cam[1], cam[2], cam[3], cam[4], cam[5], cam[6], cam[7], cam[8], cam[9], cam[10],
                             cam[11], cam[12], cam[13], cam[14], cam[15], cam[18], cam[16], cam[17], cam[20], px, py, pz)
    qx, qy, qz = px - cam[9], py - cam[10], pz - cam[11]
    cx_ = cam[0] * qx + cam[1] * qy + cam[2] * qz
    cy_ = cam[3] * qx + cam[4] * qy + cam[5] * qz
    z = cam[6] * qx + cam[7] * qy + cam[8] * qz
    zs = z if z > 1e-6 else 1.0
    x, y = cx_ / zs, cy_ / zs
    r = math.sqrt(x * x + y * y)
    th = math.atan(r)
    u = min(th * th, cam[20])
    scale = th * (1.0 + cam[16] * u + cam[17] * u * u) / r if r > 1e-12 else 1.0
    x, y = x * scale, y * scale
    return cam[12] * x + cam[18] * y + cam[14], cam[13] * y + cam[15], z


@register_jitable
def project_brown(r0, r1, r2, r3, r4, r5, r6, r7, r8, c0, c1, c2, fx, fy, cx, cy, skew, k1, k2, fold, px, py, pz):
    """`project_row` of a camera without fisheye (Brown k1/k2, or none), its row's values passed
    one by one: rotation r (row-major), centre c, intrinsics, distortion and its fold. A loop that
    reads them once before it vectorises (render/motion_pass.py); the same operations in order."""
    qx, qy, qz = px - c0, py - c1, pz - c2
    cx_ = r0 * qx + r1 * qy + r2 * qz
    cy_ = r3 * qx + r4 * qy + r5 * qz
    z = r6 * qx + r7 * qy + r8 * qz
    zs = z if z > 1e-6 else 1.0
    x, y = cx_ / zs, cy_ / zs
    u = min(x * x + y * y, fold)
    scale = 1.0 + k1 * u + k2 * u * u
    x, y = x * scale, y * scale
    return fx * x + skew * y + cx, fy * y + cy, z


@register_jitable
def _ring(cam, c0, c1, c2, a00, a01, a02, a10, a11, a12, a20, a21, a22, s0, s1, s2, cos_t, sin_t, scale, acc):
    """Project the silhouette ring of the ellipsoid (centre c, world-from-local axes a (3, 3) by
    element, semi-axes s) as seen from the camera row's centre into the extent acc = [lo_u, lo_v, hi_u, hi_v,
    ok]; ok drops to 0 when the camera is inside or a point is behind it."""
    dx, dy, dz = cam[9] - c0, cam[10] - c1, cam[11] - c2
    r0 = (a00 * dx + a10 * dy + a20 * dz) / s0      # camera in unit-sphere space
    r1 = (a01 * dx + a11 * dy + a21 * dz) / s1
    r2 = (a02 * dx + a12 * dy + a22 * dz) / s2
    q = r0 * r0 + r1 * r1 + r2 * r2
    if not q > 1.0 + 1e-9:                        # the camera is inside: no extent
        acc[4] = 0.0
        return
    m0, m1, m2 = r0 / q, r1 / q, r2 / q
    rho = math.sqrt(1.0 - 1.0 / q) * scale
    sq = math.sqrt(q)
    n0, n1, n2 = r0 / sq, r1 / sq, r2 / sq
    h0, h1, h2 = (0.0, 0.0, 1.0) if abs(n2) < 0.9 else (1.0, 0.0, 0.0)
    e0, e1, e2 = n1 * h2 - n2 * h1, n2 * h0 - n0 * h2, n0 * h1 - n1 * h0
    en = math.sqrt(e0 * e0 + e1 * e1 + e2 * e2)
    e0, e1, e2 = e0 / en, e1 / en, e2 / en
    f0, f1, f2 = n1 * e2 - n2 * e1, n2 * e0 - n0 * e2, n0 * e1 - n1 * e0
    for k in range(cos_t.shape[0]):
        u0 = (m0 + rho * (cos_t[k] * e0 + sin_t[k] * f0)) * s0
        u1 = (m1 + rho * (cos_t[k] * e1 + sin_t[k] * f1)) * s1
        u2 = (m2 + rho * (cos_t[k] * e2 + sin_t[k] * f2)) * s2
        _take(cam, c0 + a00 * u0 + a01 * u1 + a02 * u2, c1 + a10 * u0 + a11 * u1 + a12 * u2,
              c2 + a20 * u0 + a21 * u1 + a22 * u2, acc)


@register_jitable
def unchanged(center, end, axes, size, cams, t, p):
    """Whether primitive p and the camera at frame t are those of frame t - 1 (shape arrays and
    camera rows over 1 or T frames): what is drawn from them there is then the same. A parked car or
    a still camera's frames skip the work (`_bounds`, render/shadow_windows.py `_windows`)."""
    if t == 0:
        return False
    if cams.shape[0] > 1:
        for i in range(cams.shape[1]):
            if cams[t, i] != cams[t - 1, i]:
                return False
    if center.shape[0] == 1:
        return True
    for i in range(3):
        if center[t, p, i] != center[t - 1, p, i] or end[t, p, i] != end[t - 1, p, i] or \
                size[t, p, i] != size[t - 1, p, i]:
            return False
        for j in range(3):
            if axes[t, p, i, j] != axes[t - 1, p, i, j]:
                return False
    return True


@register_jitable
def _take(cam, px, py, pz, acc):
    u, v, z = project_row(cam, px, py, pz)
    if not (z > 1e-3 and math.isfinite(u)):
        acc[4] = 0.0
        return
    acc[0], acc[1] = min(acc[0], u), min(acc[1], v)
    acc[2], acc[3] = max(acc[2], u), max(acc[3], v)


@register_jitable
def _box_point(cam, c, a, l0, l1, l2, acc):
    _take(cam, c[0] + a[0, 0] * l0 + a[0, 1] * l1 + a[0, 2] * l2, c[1] + a[1, 0] * l0 + a[1, 1] * l1 + a[1, 2] * l2,
          c[2] + a[2, 0] * l0 + a[2, 1] * l1 + a[2, 2] * l2, acc)


@njit(cache=True, nogil=True)
def bounds_kernel(kind, center, end, axes, size, cams, cos_t, sin_t, scale, out, ok):
    """Screen extent [x0, y0, x1, y1] (T, P, 4) and validity (T, P) of every primitive; shapes
    arrays (1 or T, P, ...), cams (1 or T, NCAM)."""
    _bounds(kind, center, end, axes, size, cams, cos_t, sin_t, scale, out, ok, np.empty(5))


@njit(cache=True, nogil=True, _nrt=False)   # no reference counting (render/kernels.py NO_REFS)
def _bounds(kind, center, end, axes, size, cams, cos_t, sin_t, scale, out, ok, acc):
    """`bounds_kernel` with its scratch acc (5,)."""
    T, P = out.shape[0], out.shape[1]
    for t in range(T):
        ts = t if center.shape[0] > 1 else 0
        cam = cams[t if cams.shape[0] > 1 else 0]
        for p in range(P):
            if unchanged(center, end, axes, size, cams, t, p):
                ok[t, p] = ok[t - 1, p]
                for i in range(4):
                    out[t, p, i] = out[t - 1, p, i]
                continue
            acc[0], acc[1], acc[2], acc[3], acc[4] = np.inf, np.inf, -np.inf, -np.inf, 1.0
            k = kind[p]
            if k == ELLIPSOID:
                _ring(cam, center[ts, p, 0], center[ts, p, 1], center[ts, p, 2], axes[ts, p, 0, 0], axes[ts, p, 0, 1],
                      axes[ts, p, 0, 2], axes[ts, p, 1, 0], axes[ts, p, 1, 1], axes[ts, p, 1, 2], axes[ts, p, 2, 0],
                      axes[ts, p, 2, 1], axes[ts, p, 2, 2], size[ts, p, 0], size[ts, p, 1], size[ts, p, 2], cos_t, sin_t,
                      scale, acc)
            elif k == BOX:
                a = axes[ts, p]
                bent = cam[16] != 0.0 or cam[17] != 0.0 or cam[19] > 0.5
                for c in range(8):
                    l0 = size[ts, p, 0] * (1.0 if c & 4 else -1.0)
                    l1 = size[ts, p, 1] * (1.0 if c & 2 else -1.0)
                    l2 = size[ts, p, 2] * (1.0 if c & 1 else -1.0)
                    _box_point(cam, center[ts, p], a, l0, l1, l2, acc)
                    if bent:      # lens distortion bows the edges: points along the three from this corner
                        for j in range(1, EDGE_STEPS):
                            f = 2.0 * j / EDGE_STEPS - 1.0
                            if not c & 4:
                                _box_point(cam, center[ts, p], a, size[ts, p, 0] * f, l1, l2, acc)
                            if not c & 2:
                                _box_point(cam, center[ts, p], a, l0, size[ts, p, 1] * f, l2, acc)
                            if not c & 1:
                                _box_point(cam, center[ts, p], a, l0, l1, size[ts, p, 2] * f, acc)
            else:                                   # capsule, cone, frustum: the end spheres
                ra = size[ts, p, 0]
                rb = ra if k == CAPSULE else size[ts, p, 1]
                _ring(cam, center[ts, p, 0], center[ts, p, 1], center[ts, p, 2], 1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0,
                      ra, ra, ra, cos_t, sin_t, scale, acc)
                _ring(cam, end[ts, p, 0], end[ts, p, 1], end[ts, p, 2], 1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0,
                      rb, rb, rb, cos_t, sin_t, scale, acc)
                if cam[16] != 0.0 or cam[17] != 0.0 or cam[19] > 0.5:   # distortion bows the flanks: the middle too
                    rm = 0.5 * (ra + rb)
                    _ring(cam, 0.5 * (center[ts, p, 0] + end[ts, p, 0]), 0.5 * (center[ts, p, 1] + end[ts, p, 1]),
                          0.5 * (center[ts, p, 2] + end[ts, p, 2]), 1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0,
                          rm, rm, rm, cos_t, sin_t, scale, acc)
            good = acc[4] > 0.5
            ok[t, p] = good
            for i in range(4):
                out[t, p, i] = acc[i] if good else np.nan
