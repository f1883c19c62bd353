"""The compiled CPU motion blur (re-exported by render/kernels.py with the other kernels): each
moving pixel's image motion projected from geometry, spread over the pixels within its reach (the
fastest reaching a pixel wins), then a streak of samples along it. The scalar maths is in
render/motion_blur.py, which the CUDA kernels (render/gpu.py) compile too.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from synthdata.render.background_pass import SHADE_NO_REFS as NO_REFS  # kernels.py's flags
from synthdata.render.motion_blur import MIN_BLUR_PX, motion_of, motion_point, pixel_motion, reach, streak_rgb
from synthdata.render.pixel import row_is
from synthdata.render.planes import kept
from synthdata.world.geometry.camera_rows import project_brown

__all__ = ["motion_blur"]

DIRECT_REACH = 1    # squares up to this reach are written directly, larger ones by `_spread`
LANES = 14          # `_motion_blur`'s per-row lanes: the motion (2), then the steps of `_row_motion` (12)


def motion_blur(x, inst, depth, rays, cams, steps, disp, everything, moves, shutter, max_px, vel, mag):
    """Blur x (T, H, W, 3) exposed linear float32 in place along each pixel's motion
    (render/motion_blur.py). inst, depth (T, H, W); rays (1 or T, H, W, 3); cams (T, 3, NCAM)
    the previous, current and next camera rows; steps (T, 2) frames back and ahead (both 0: the
    frame is left alone); disp (T, K, 3) each track's displacement a frame; everything (T,) the
    camera moves (every pixel moves); moves (T, K) tracks that move; vel (T, H, W, 2) and mag
    (T, H, W) scratch (mag: the CUDA kernels'). Only pixels of moving tracks are projected and
    only the box they reach is rewritten: the cost follows the moving area. The whole-frame
    scratch is the thread's, kept from call to call (render/planes.py `kept`): made fresh for
    every call it cost more than the blur itself (about 2 ms a frame at 640x480)."""
    H, W, C = x.shape[1], x.shape[2], x.shape[3]
    R = reach(math.sqrt(2.0) * max_px)     # the largest reach (each motion component is at most max_px)
    best, src, out, at, ms, row_m, row_x, cols, lanes = kept("motion_blur", (H, W, C), lambda: _scratch(H, W, C))
    _motion_blur(x, inst, depth, rays, cams, steps, disp, everything, moves, shutter, max_px, vel,
                 best, src, out, at, ms, np.zeros(R + 2, np.int64), row_m, row_x, cols, lanes)


def _scratch(H: int, W: int, C: int) -> tuple:
    """`_motion_blur`'s scratch, as its docstring asks it (best, src and row_m are left so)."""
    return (np.zeros((H, W), np.float32), np.full((H, W, 2), -1, np.int32), np.empty((H, W, C), np.float32),
            np.empty((2, H * W), np.int32), np.empty((2, H * W), np.float32), np.zeros((H, W), np.float32),
            np.empty((H, W), np.int32), np.empty(W, np.int64), np.empty((LANES, W)))


@njit(**NO_REFS)
def _motion_blur(x, inst, depth, rays, cams, steps, disp, everything, moves, shutter, max_px, vel, best, src, out,
                 at, ms, start, row_m, row_x, cols, lanes):
    """`motion_blur` with its scratch: best (H, W) zeros, src (H, W, 2) the row and column whose
    motion a pixel takes, row -1 (the column is read only where the row is set), out (H, W, 3);
    at, ms (2, H * W), start (R + 2,) zeros, row_m (H, W) zeros, row_x (H, W) for `_spread`;
    cols (W,) and lanes (LANES, W): a row's moving pixels and their motion, projected in a loop of
    their own (a short body: the CPU overlaps one pixel's divisions with the next's; plate_lobby's
    blur 12 % faster, the same values). best, src's rows, start and row_m are left as they came."""
    T, H, W, C = x.shape
    for t in range(T):
        if steps[t, 0] + steps[t, 1] <= 0.0:
            continue
        xt, vt = x[t], vel[t]
        prev, cur, nxt = cams[t, 0], cams[t, 1], cams[t, 2]    # views made once a frame, not a pixel
        fisheye = cur[19] > 0.5
        ri = t if rays.shape[0] > 1 else 0
        still_rows = not everything[t] and not moves[t, 0]      # the background (id 0) does not move
        y0, y1, x0, x1 = H, 0, W, 0
        n = 0
        for y in range(H):
            n_row = 0                       # the row's moving pixels, their motion, then the rest
            if still_rows and row_is(inst, t, y, np.int32(0)):     # a row of background alone
                continue
            for xx in range(W):
                if everything[t] or moves[t, inst[t, y, xx]]:
                    cols[n_row] = xx
                    n_row += 1
            if fisheye:
                for q in range(n_row):
                    xx = cols[q]
                    tid = inst[t, y, xx]
                    lanes[0, q], lanes[1, q] = pixel_motion(prev, cur, nxt, rays[ri, y, xx, 0], rays[ri, y, xx, 1],
                                                            rays[ri, y, xx, 2], depth[t, y, xx], disp[t, tid, 0],
                                                            disp[t, tid, 1], disp[t, tid, 2], steps[t, 0], steps[t, 1],
                                                            shutter, max_px)
            else:
                _row_motion(prev, cur, nxt, rays[ri, y], depth[t, y], inst[t, y], disp[t], steps[t, 0], steps[t, 1],
                            shutter, max_px, cols, n_row, lanes)
            for q in range(n_row):
                xx = cols[q]
                tid = inst[t, y, xx]
                vx, vy = lanes[0, q], lanes[1, q]
                m = np.float32(math.sqrt(vx * vx + vy * vy))
                if m < MIN_BLUR_PX:
                    continue
                vel[t, y, xx, 0], vel[t, y, xx, 1] = vx, vy
                r = reach(m) if moves[t, tid] else 0      # only moving objects smear over others
                if r == 0:                  # a static pixel under a moving camera: itself alone
                    y0, y1, x0, x1 = min(y0, y), max(y1, y + 1), min(x0, xx), max(x1, xx + 1)
                    if m > best[y, xx]:
                        best[y, xx], src[y, xx, 0], src[y, xx, 1] = m, y, xx
                    continue
                ya, yb, xa, xb = max(y - r, 0), min(y + r + 1, H), max(xx - r, 0), min(xx + r + 1, W)
                y0, y1, x0, x1 = min(y0, ya), max(y1, yb), min(x0, xa), max(x1, xb)
                if r <= DIRECT_REACH:       # a small square: written now, in row-major order
                    for qy in range(ya, yb):
                        for qx in range(xa, xb):
                            if m > best[qy, qx]:
                                best[qy, qx], src[qy, qx, 0], src[qy, qx, 1] = m, y, xx
                else:                       # larger ones by rows and columns (`_spread`)
                    at[0, n], ms[0, n] = y * W + xx, m
                    start[r + 1] += 1
                    n += 1
        _spread(at, ms, n, start, row_m, row_x, best, src)
        for y in range(y0, y1):
            for xx in range(x0, x1):
                sy, sx = src[y, xx, 0], src[y, xx, 1]
                if sy >= 0:
                    out[y, xx, 0], out[y, xx, 1], out[y, xx, 2] = streak_rgb(xt, y, xx, vt[sy, sx, 0], vt[sy, sx, 1])
        for y in range(y0, y1):
            for xx in range(x0, x1):
                if src[y, xx, 0] >= 0:
                    for c in range(C):
                        x[t, y, xx, c] = out[y, xx, c]
                    best[y, xx], src[y, xx, 0] = 0.0, -1


@njit(**NO_REFS)
def _row_motion(prev, cur, nxt, rays, depth, inst, disp, back, ahead, shutter, max_px, cols, n, lanes):
    """`pixel_motion` of a row's pixels cols[:n] (rays (W, 3), depth and inst (W,) that row's,
    disp (K, 3) the frame's) into lanes[0, :n], lanes[1, :n] for cameras without fisheye: its
    steps one at a time over the row (lanes 2-13 hold them), each a flat loop that reads the
    camera rows' values once before it, so the divisions vectorise. The same operations in order
    as pixel by pixel (the same values): a panning camera's frame 16 -> 5 ms at 640x480."""
    pts, dsp, a, b = lanes[2:5], lanes[5:8], lanes[8:11], lanes[11:14]
    c6, c7, c8, c9, c10, c11 = cur[6], cur[7], cur[8], cur[9], cur[10], cur[11]
    for q in range(n):
        xx = cols[q]
        pts[0, q], pts[1, q], pts[2, q] = motion_point(c6, c7, c8, c9, c10, c11, rays[xx, 0], rays[xx, 1], rays[xx, 2],
                                                       depth[xx])
    for q in range(n):
        tid = np.uint64(inst[cols[q]])      # unsigned: read without numba's wrap test
        dsp[0, q], dsp[1, q], dsp[2, q] = disp[tid, 0], disp[tid, 1], disp[tid, 2]
    _project_points(prev, pts, dsp, -back, n, a)
    _project_points(nxt, pts, dsp, ahead, n, b)
    span = back + ahead
    for q in range(n):
        lanes[0, q], lanes[1, q] = motion_of(a[0, q], a[1, q], a[2, q], b[0, q], b[1, q], b[2, q], span, shutter,
                                             max_px)


@njit(**NO_REFS)
def _project_points(cam, pts, dsp, k, n, out):
    """out[:, :n] = the (u, v, z) by camera row cam (camera_rows.project_brown) of the points
    pts + k * dsp (each (3, n+))."""
    r0, r1, r2, r3, r4, r5, r6, r7, r8 = cam[0], cam[1], cam[2], cam[3], cam[4], cam[5], cam[6], cam[7], cam[8]
    c0, c1, c2, fx, fy, cx, cy = cam[9], cam[10], cam[11], cam[12], cam[13], cam[14], cam[15]
    skew, k1, k2, fold = cam[18], cam[16], cam[17], cam[20]
    for q in range(n):
        out[0, q], out[1, q], out[2, q] = project_brown(r0, r1, r2, r3, r4, r5, r6, r7, r8, c0, c1, c2, fx, fy, cx, cy,
                                                        skew, k1, k2, fold, pts[0, q] + dsp[0, q] * k,
                                                        pts[1, q] + dsp[1, q] * k, pts[2, q] + dsp[2, q] * k)


@njit(**NO_REFS)
def _spread(at, ms, n, start, row_m, row_x, best, src):
    """Give every pixel the fastest motion that reaches it: the n moving pixels at[0, :n] (row-major
    index, in row-major order) with motion ms[0, :n] and reach r (start[r + 1] counts those of reach
    r) spread over the square of radius r around them; best (H, W) and src (H, W, 2) take the
    largest motion and its pixel, on a tie the first in row-major order. The same result as writing
    every square, which costs (2r + 1)^2 a moving pixel; here the squares of each reach are written
    as a row run, then a column run from each pixel of the runs: 2 (2r + 1) a pixel. row_m, row_x
    (H, W) scratch (row_m zeros, left so); at[1], ms[1] take the pixels sorted by reach (stable);
    start is left zeros."""
    H, W = best.shape
    for r in range(1, start.shape[0]):          # counts to offsets, then a stable sort by reach
        start[r] += start[r - 1]
    for i in range(n):
        p, m = at[0, i], ms[0, i]
        r = reach(m)
        k = start[r]
        at[1, k], ms[1, k] = p, m
        start[r] += 1
    # start[r] is now the end of reach r's pixels, which begin at start[r - 1]
    for r in range(start.shape[0] - 2, 0, -1):
        lo, hi = start[r - 1], start[r]
        if lo == hi:
            continue
        for i in range(lo, hi):                 # the row runs: the fastest along the row, first on a tie
            p, m = at[1, i], ms[1, i]
            y = p // W
            xx = p - y * W
            for qx in range(max(xx - r, 0), min(xx + r + 1, W)):
                if m > row_m[y, qx]:
                    row_m[y, qx], row_x[y, qx] = m, xx
        py, end = -1, -1
        for i in range(lo, hi):                 # each run pixel once, down its column
            p = at[1, i]
            y = p // W
            xx = p - y * W
            a = max(xx - r, 0) if y != py else max(xx - r, end + 1)
            b = min(xx + r + 1, W)
            for qx in range(a, b):
                m, sx = row_m[y, qx], row_x[y, qx]
                row_m[y, qx] = 0.0
                key = y * W + sx
                for qy in range(max(y - r, 0), min(y + r + 1, H)):
                    bm = best[qy, qx]
                    if m > bm or (m == bm and key < src[qy, qx, 0] * W + src[qy, qx, 1]):
                        best[qy, qx], src[qy, qx, 0], src[qy, qx, 1] = m, y, sx
            py, end = y, b - 1
    for r in range(start.shape[0]):
        start[r] = 0


motion_blur.kernel = _motion_blur      # what render/backend.py counts and caches
