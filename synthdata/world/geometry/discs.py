"""Discs on the ground plane: the smallest circle around points, the most points one disc of
a given radius can hold, and the stretches of a trajectory that stay within such a disc.

Exact and deterministic (numpy; metres). Used by world/security/events.py for loitering and crowds.
"""
from __future__ import annotations

import numpy as np


def dwell_cover(xy: np.ndarray, n_min: int, radius: float) -> np.ndarray:
    """Frames covered by some window of >= n_min consecutive points that fit in a disc of
    `radius` (two pointers over maximal windows; exact minimum enclosing circles, computed only
    when the windows' bounding boxes cannot decide)."""
    N = len(xy)
    cover = np.zeros(N, bool)
    if N < n_min:
        return cover
    win = np.lib.stride_tricks.sliding_window_view(xy, n_min, axis=0)        # (N - n_min + 1, 2, n_min)
    small = (win.max(-1) - win.min(-1) <= 2 * radius + 1e-9).all(1)         # a necessary condition
    e = 0                                                                    # windows are [s, e)
    for s in np.flatnonzero(small):
        if e < s + n_min:
            if not _fits(xy[s:s + n_min], radius):
                continue
            e = s + n_min
        while e < N and _fits(xy[s:e + 1], radius):
            e += 1
        cover[s:e] = True
    return cover


def _fits(points: np.ndarray, radius: float) -> bool:
    lo, hi = points.min(0), points.max(0)
    if np.any(hi - lo > 2 * radius + 1e-9):
        return False
    if 0.5 * float(np.hypot(*(hi - lo))) <= radius + 1e-9:                 # the box's own circle
        return True
    return min_enclosing_circle(points)[1] <= radius + 1e-9


def min_enclosing_circle(points: np.ndarray) -> tuple[np.ndarray, float]:
    """Smallest circle containing all points (N, 2): Welzl's incremental algorithm with a
    fixed shuffle, so the result is deterministic."""
    p = np.asarray(points, float)
    p = p[np.random.default_rng(0).permutation(len(p))]
    c, r = p[0].copy(), 0.0

    def first_outside(c: np.ndarray, r: float, upto: int, start: int = 0) -> int:
        if upto <= start:
            return -1
        out = np.flatnonzero(np.hypot(*(p[start:upto] - c).T) > r * (1 + 1e-12) + 1e-12)
        return int(out[0]) + start if len(out) else -1

    i = first_outside(c, r, len(p), 1)
    while i >= 0:
        c, r = p[i].copy(), 0.0
        j = first_outside(c, r, i)
        while j >= 0:
            c, r = (p[i] + p[j]) / 2, float(np.hypot(*(p[i] - p[j]))) / 2
            k = first_outside(c, r, j)
            while k >= 0:
                c, r = _circumcircle(p[i], p[j], p[k])
                k = first_outside(c, r, j, k + 1)
            j = first_outside(c, r, i, j + 1)
        i = first_outside(c, r, len(p), i + 1)
    return c, r


def _circumcircle(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, float]:
    d = 2 * (a[0] * (b[1] - c[1]) + b[0] * (c[1] - a[1]) + c[0] * (a[1] - b[1]))
    if abs(d) < 1e-15:                       # collinear: the two farthest points span it
        pairs = [(a, b), (a, c), (b, c)]
        u, v = max(pairs, key=lambda q: np.hypot(*(q[0] - q[1])))
        return (u + v) / 2, float(np.hypot(*(u - v))) / 2
    sa, sb, sc = a @ a, b @ b, c @ c
    ux = (sa * (b[1] - c[1]) + sb * (c[1] - a[1]) + sc * (a[1] - b[1])) / d
    uy = (sa * (c[0] - b[0]) + sb * (a[0] - c[0]) + sc * (b[0] - a[0])) / d
    centre = np.array([ux, uy])
    return centre, float(max(np.hypot(*(centre - q)) for q in (a, b, c)))


def largest_group(xy: np.ndarray, radius: float) -> np.ndarray:
    """Indices of the most points that fit in one disc of `radius` (exact: candidate centres are
    the points and the centres of radius-`radius` circles through every close pair)."""
    cands = [xy]
    if len(xy) > 1:
        i, j = np.triu_indices(len(xy), 1)
        d = xy[j] - xy[i]
        dist = np.hypot(*d.T)
        ok = (dist <= 2 * radius) & (dist > 0)
        if ok.any():
            mid = (xy[i[ok]] + xy[j[ok]]) / 2
            h = np.sqrt(np.maximum(radius ** 2 - (dist[ok] / 2) ** 2, 0.0))
            perp = np.stack([-d[ok, 1], d[ok, 0]], 1) / dist[ok, None]
            cands += [mid + h[:, None] * perp, mid - h[:, None] * perp]
    c = np.concatenate(cands)
    inside = np.hypot(*(c[:, None, :] - xy[None]).transpose(2, 0, 1)) <= radius + 1e-9
    return np.flatnonzero(inside[int(np.argmax(inside.sum(1)))])


def may_group(xy: np.ndarray, present: np.ndarray, need: int, radius: float) -> np.ndarray:
    """(T,) frames of points xy (T, n, 2), present (T, n), where `need` present points could fit in
    one disc of `radius` (`largest_group`): some point has need - 1 others within the disc's
    diameter (two points in one disc are at most that far apart; a little more is allowed), all
    frames at once. Frames outside it cannot hold such a group."""
    gap = np.hypot(*(xy[:, :, None, :] - xy[:, None, :, :]).transpose(3, 0, 1, 2))
    close = (gap <= 2 * radius + 1e-6) & present[:, :, None] & present[:, None, :]     # itself included
    return close.sum(2).max(1, initial=0) >= need
