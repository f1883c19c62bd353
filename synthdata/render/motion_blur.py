"""Motion blur along each pixel's image motion: the scalar maths the CPU kernel
(render/motion_pass.py `motion_blur`) and the CUDA kernels (render/gpu.py) both compile, with cameras packed
into rows (world/geometry/camera_rows.py).

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

from synthdata.render.inline import inlined
from synthdata.render.rounding import ceil, floor
from synthdata.world.geometry.camera_rows import NCAM, pack_camera, project_row  # noqa: F401 (re-exported)

MIN_BLUR_PX = 0.5    # slower pixels neither blur nor spread their motion


@inlined
def pixel_motion(prev, cur, nxt, rx, ry, rz, d, dx, dy, dz, back, ahead, shutter, max_px):
    """Image motion (pixels per exposure) of the point seen at camera-axis depth d along unit
    ray (rx, ry, rz) of camera row `cur`, moving by (dx, dy, dz) a frame; back / ahead frames to
    the previous / next camera rows. Zero when either end is behind its camera."""
    px, py, pz = motion_point(cur[6], cur[7], cur[8], cur[9], cur[10], cur[11], rx, ry, rz, d)
    u0, v0, z0 = project_row(prev, px - dx * back, py - dy * back, pz - dz * back)
    u1, v1, z1 = project_row(nxt, px + dx * ahead, py + dy * ahead, pz + dz * ahead)
    return motion_of(u0, v0, z0, u1, v1, z1, back + ahead, shutter, max_px)


@inlined
def motion_point(a0, a1, a2, c0, c1, c2, rx, ry, rz, d):
    """The world point at camera-axis depth d along unit ray (rx, ry, rz) of a camera with optical
    axis a and centre c (a camera row's values 6-8 and 9-11); an infinite depth (sky) 10 km out."""
    along = rx * a0 + ry * a1 + rz * a2
    dist = d / max(along, 1e-6)
    if not math.isfinite(d):
        dist = 1e4
    return c0 + dist * rx, c1 + dist * ry, c2 + dist * rz


@inlined
def motion_of(u0, v0, z0, u1, v1, z1, span, shutter, max_px):
    """Motion (pixels per exposure) of a point projected at (u0, v0) and, span frames later, at
    (u1, v1), clamped to +- max_px; zero when either end is behind its camera (z <= 0)."""
    vx, vy = (u1 - u0) / span * shutter, (v1 - v0) / span * shutter
    vx, vy = min(max(vx, -max_px), max_px), min(max(vy, -max_px), max_px)
    if (z0 <= 0.0) | (z1 <= 0.0):
        vx, vy = 0.0, 0.0
    return vx, vy


def turn_blur_px(cam: Any, prev: int, nxt: int, f: int, shutter: float) -> float:
    """An upper bound of the motion (pixels per exposure) the camera gives static pixels of frame
    f, whose neighbours are frames prev and nxt; infinity unless the camera only turns (same
    centre, as shake and PTZ do). A turning camera moves a pixel by the same amount whatever its
    depth, smoothly over the image, so the largest motion of points along the border and a grid
    inside, with a quarter more, bounds every pixel's; below MIN_BLUR_PX no static pixel blurs
    (the kernel leaves such pixels alone) and the kernel need not project them."""
    if not (np.array_equal(cam.C[prev], cam.C[f]) and np.array_equal(cam.C[nxt], cam.C[f])) or nxt == prev:
        return math.inf
    W, H = cam.width, cam.height
    u, v = np.linspace(0.5, W - 0.5, 17), np.linspace(0.5, H - 0.5, 13)
    uv = np.stack(np.meshgrid(u, v), -1).reshape(-1, 2)            # the border and a grid inside
    points = cam.C[f] + 100.0 * cam.pixel_rays(f, uv)
    a, _ = cam.project(points, prev)
    b, _ = cam.project(points, nxt)
    motion = np.hypot(*(b - a).T) / (nxt - prev) * shutter
    return float(np.max(motion)) * 1.25 if np.all(np.isfinite(motion)) else math.inf


@register_jitable
def reach(m):
    """Pixels (square radius) a motion of m pixels per exposure spreads to."""
    return int(ceil(m / 2.0))


@register_jitable
def samples(m):
    """Samples along a motion of m pixels (one a pixel, 3 to 16)."""
    return min(max(int(ceil(m)) + 1, 3), 16)


@register_jitable
def streak_rgb(img, y, x, vx, vy):
    """Means of the three channels of img (H, W, 3) over samples along motion (vx, vy) centred
    on (y, x); the sample positions are found once for all channels."""
    H, W = img.shape[0], img.shape[1]
    n = samples(math.sqrt(vx * vx + vy * vy))
    a0 = np.float32(0.0)
    a1 = np.float32(0.0)
    a2 = np.float32(0.0)
    for j in range(n):      # unsigned indices (clamped >= 0): numba would wrap signed ones at every read
        s = -0.5 + j / (n - 1)
        sy = np.uint64(min(max(int(floor(y + 0.5 + vy * s)), 0), H - 1))
        sx = np.uint64(min(max(int(floor(x + 0.5 + vx * s)), 0), W - 1))
        a0 += img[sy, sx, 0]
        a1 += img[sy, sx, 1]
        a2 += img[sy, sx, 2]
    k = np.float32(n)
    return a0 / k, a1 / k, a2 / k
