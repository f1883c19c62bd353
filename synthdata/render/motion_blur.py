"""Motion blur along each pixel's image motion: the scalar maths the CPU kernel
(render/kernels.py `motion_blur`) and the CUDA kernels (render/gpu.py) both compile, and the
packing of cameras into rows they read.

Motion comes from geometry: a pixel's world point (depth buffer + ray) moves with its track's
displacement and is projected by the cameras of the neighbouring frames; the difference over
the exposure (shutter x frame interval) is the pixel's motion in pixels. A pixel of a moving
object spreads its motion over the pixels within half its motion (a square reach), so objects
smear over what lies behind them; when the camera moves, every other pixel streaks along its own
motion. A pixel reached by several takes the fastest (on a tie the first in row-major order). A reached pixel becomes the mean of samples of the unblurred frame along that motion.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba.extending import register_jitable

NCAM = 20        # a packed camera row: R (9, row-major), C (3), fx, fy, cx, cy, k1, k2, skew, fisheye
MIN_BLUR_PX = 0.5    # slower pixels neither blur nor spread their motion


def pack_camera(camera: Any, t: int) -> np.ndarray:
    """Frame t of a Camera (world/geometry/camera.py) as one float64 row of NCAM values."""
    i = min(t, camera.num_frames - 1)
    row = np.zeros(NCAM)
    row[:9], row[9:12] = np.asarray(camera.R[i], float).reshape(9), camera.C[i]
    row[12:16] = camera.fx[i], camera.fy[i], camera.cx, camera.cy
    row[16:18] = camera.k1, camera.k2
    row[18] = 0.0 if camera.skew is None else float(camera.skew[i])
    row[19] = 1.0 if camera.model == "fisheye" else 0.0
    return row


@register_jitable
def project_row(cam, px, py, pz):
    """World point -> (u, v, z) by a packed camera row (Camera.project's model: Brown k1/k2 or
    equidistant fisheye, skew); z <= 0 is behind the camera."""
    qx, qy, qz = px - cam[9], py - cam[10], pz - cam[11]
    cx_ = cam[0] * qx + cam[1] * qy + cam[2] * qz
    cy_ = cam[3] * qx + cam[4] * qy + cam[5] * qz
    z = cam[6] * qx + cam[7] * qy + cam[8] * qz
    zs = z if z > 1e-6 else 1.0
    x, y = cx_ / zs, cy_ / zs
    r2 = x * x + y * y
    if cam[19] > 0.5:
        r = math.sqrt(r2)
        th = math.atan(r)
        scale = th * (1.0 + cam[16] * th * th + cam[17] * th ** 4) / r if r > 1e-12 else 1.0
    else:
        scale = 1.0 + cam[16] * r2 + cam[17] * r2 * r2
    x, y = x * scale, y * scale
    return cam[12] * x + cam[18] * y + cam[14], cam[13] * y + cam[15], z


@register_jitable
def pixel_motion(prev, cur, nxt, rx, ry, rz, d, dx, dy, dz, back, ahead, shutter, max_px):
    """Image motion (pixels per exposure) of the point seen at camera-axis depth d along unit
    ray (rx, ry, rz) of camera row `cur`, moving by (dx, dy, dz) a frame; back / ahead frames to
    the previous / next camera rows. Zero when either end is behind its camera."""
    along = rx * cur[6] + ry * cur[7] + rz * cur[8]
    dist = d / max(along, 1e-6) if math.isfinite(d) else 1e4
    px, py, pz = cur[9] + dist * rx, cur[10] + dist * ry, cur[11] + dist * rz
    u0, v0, z0 = project_row(prev, px - dx * back, py - dy * back, pz - dz * back)
    u1, v1, z1 = project_row(nxt, px + dx * ahead, py + dy * ahead, pz + dz * ahead)
    if z0 <= 0.0 or z1 <= 0.0:
        return 0.0, 0.0
    span = back + ahead
    vx, vy = (u1 - u0) / span * shutter, (v1 - v0) / span * shutter
    return min(max(vx, -max_px), max_px), min(max(vy, -max_px), max_px)


@register_jitable
def reach(m):
    """Pixels (square radius) a motion of m pixels per exposure spreads to."""
    return int(math.ceil(m / 2.0))


@register_jitable
def samples(m):
    """Samples along a motion of m pixels (one a pixel, 3 to 16)."""
    return min(max(int(math.ceil(m)) + 1, 3), 16)


@register_jitable
def streak(img, y, x, vx, vy, c):
    """Mean of channel c of img (H, W, C) over samples along motion (vx, vy) centred on (y, x)."""
    H, W = img.shape[0], img.shape[1]
    n = samples(math.sqrt(vx * vx + vy * vy))
    acc = np.float32(0.0)
    for j in range(n):
        s = -0.5 + j / (n - 1)
        sy = min(max(int(math.floor(y + 0.5 + vy * s)), 0), H - 1)
        sx = min(max(int(math.floor(x + 0.5 + vx * s)), 0), W - 1)
        acc += img[sy, sx, c]
    return acc / np.float32(n)
