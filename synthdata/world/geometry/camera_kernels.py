"""The compiled per-ray passes of world/geometry/camera.py's Camera: undistorting points, the
camera-frame rays of a pixel grid, mirroring a lens-symmetric quadrant, turning camera-frame rays
into unit world rays. Each does the float64 operations of the whole-array numpy form it replaced,
in its order (the same bits), without its temporary arrays.

The per-point steps (`image_plane`, `undistort_step`, `settled`, `turn`, `unit`) are plain functions compiled
inline into these loops; render/gpu.py compiles the same functions (`.py_func`) into its CUDA
kernel of a pose's rays, so both devices follow one definition.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

UNDISTORT_STEPS = 25    # fixed-point steps of `Camera.undistort`
ROTATE_BLOCK = 512      # rays a step of `rotate_unit` (its three scratch rows stay in L1)


@njit(inline="always", error_model="numpy")
def image_plane(i, j, cx, cy, fx, fy, skew):
    """Pixel (row i, column j)'s centre on the distorted image plane (xd, yd)."""
    yv = (i + 0.5 - cy) / fy
    return (j + 0.5 - cx - skew * yv) / fx, yv


@njit(inline="always", error_model="numpy")
def undistort_step(x, y, xd, yd, k1, k2):
    """One fixed-point step of `Camera.undistort` (Brown k1, k2): the next (x, y)."""
    r2 = x * x + y * y
    scale = 1 + k1 * r2 + k2 * r2 * r2
    return xd / scale, yd / scale


@njit(inline="always", error_model="numpy")
def settled(x, y, xd, yd, k1, k2, fold):
    """Whether the steps from (xd, yd) reached (x, y), which the distortion maps back to within
    1e-12 of (xd, yd)'s radius (held past its fold; `Camera._held_radius`)."""
    rd = math.sqrt(xd * xd + yd * yd)
    r = math.sqrt(x * x + y * y)
    u = min(r * r, fold)
    return abs(r * (1 + k1 * u + k2 * u * u) - rd) <= 1e-12 * max(rd, 1.0)


@njit(inline="always", error_model="numpy")
def turn(x, y, z, R):
    """R^T (x, y, z): a camera-frame direction in world coordinates."""
    return (x * R[0, 0] + y * R[1, 0] + z * R[2, 0], x * R[0, 1] + y * R[1, 1] + z * R[2, 1],
            x * R[0, 2] + y * R[1, 2] + z * R[2, 2])


@njit(inline="always", error_model="numpy")
def unit(a, b, c):
    """(a, b, c) / its length."""
    norm = math.sqrt(a * a + b * b + c * c)
    return a / norm, b / norm, c / norm


@njit(cache=True, nogil=True, error_model="numpy")
def undistort_points(xd, yd, k1, k2, x, y):
    """`Camera.undistort`'s fixed-point iteration, point by point (float64, the operations of the
    whole-array form in its order, so the same bits without its 100 temporary arrays). Step by
    step over all points, so the divisions vectorise."""
    for i in range(xd.shape[0]):
        x[i], y[i] = xd[i], yd[i]
    for _ in range(UNDISTORT_STEPS):
        for i in range(xd.shape[0]):
            x[i], y[i] = undistort_step(x[i], y[i], xd[i], yd[i], k1, k2)


@njit(cache=True, nogil=True, error_model="numpy")
def brown_grid_rays(cx, cy, fx, fy, skew, k1, k2, fold, out):
    """out (H, W, 3) = `Camera._camera_rays` of pixel centres (x + 0.5, y + 0.5) for the Brown
    model, the whole-array operations in their order (`undistort`'s fixed-point steps over a row
    at a time, so the divisions vectorise; its check that each point settled, `_held_radius`).
    False (out partly written) where a point did not settle: the caller solves those by bisection."""
    H, W = out.shape[0], out.shape[1]
    xd, yd, x, y = np.empty(W), np.empty(W), np.empty(W), np.empty(W)
    plain = k1 == 0.0 and k2 == 0.0
    for i in range(H):
        for j in range(W):
            xd[j], yd[j] = image_plane(i, j, cx, cy, fx, fy, skew)
            x[j], y[j] = xd[j], yd[j]
        if not plain:
            for _ in range(UNDISTORT_STEPS):
                for j in range(W):
                    x[j], y[j] = undistort_step(x[j], y[j], xd[j], yd[j], k1, k2)
            if math.isfinite(fold):
                for j in range(W):
                    if not settled(x[j], y[j], xd[j], yd[j], k1, k2, fold):
                        return False
        for j in range(W):
            out[i, j, 0], out[i, j, 1], out[i, j, 2] = x[j], y[j], 1.0
    return True


@njit(cache=True, nogil=True, error_model="numpy")
def mirror_quadrant(q, out):
    """out (H, W, 3) from its top-left quadrant q ((H + 1) // 2, (W + 1) // 2, 3): the right half
    mirrored with x negated, the bottom half mirrored with y negated (exact)."""
    H, W = out.shape[0], out.shape[1]
    h2, w2 = q.shape[0], q.shape[1]
    for y in range(H):
        qy = y if y < h2 else H - 1 - y
        sy = 1.0 if y < h2 else -1.0
        for x in range(W):
            qx = x if x < w2 else W - 1 - x
            out[y, x, 0] = q[qy, qx, 0] if x < w2 else -q[qy, qx, 0]
            out[y, x, 1] = q[qy, qx, 1] * sy
            out[y, x, 2] = q[qy, qx, 2]


@njit(cache=True, nogil=True, error_model="numpy")
def rotate_unit(d_cam, R, out):
    """out[i] = R^T d_cam[i], normalised (rows (N, 3); float64 maths, stored as out's type):
    camera-frame rays to world rays. In blocks of ROTATE_BLOCK rays, each step a plain loop over
    separate x, y, z arrays: the divisions and square roots vectorise (one loop over interleaved
    rows ran them one at a time), the same bits."""
    n = d_cam.shape[0]
    xs, ys, zs = np.empty(ROTATE_BLOCK), np.empty(ROTATE_BLOCK), np.empty(ROTATE_BLOCK)
    for s in range(0, n, ROTATE_BLOCK):
        m = min(ROTATE_BLOCK, n - s)
        for k in range(m):
            xs[k], ys[k], zs[k] = turn(d_cam[s + k, 0], d_cam[s + k, 1], d_cam[s + k, 2], R)
        for k in range(m):
            xs[k], ys[k], zs[k] = unit(xs[k], ys[k], zs[k])
        for k in range(m):
            out[s + k, 0], out[s + k, 1], out[s + k, 2] = xs[k], ys[k], zs[k]
