"""Screen windows: the integer pixel rectangle [x0, x1) x [y0, y1) per (frame, primitive) that the
compiled kernels (render/kernels.py) evaluate a primitive on, so the cost follows the pixels
objects cover, not the image.

A primitive that reaches behind the camera has no projected extent (its projection is unbounded);
`cone_windows` bounds it instead by the pixels whose rays can meet its bounding sphere, tested a
tile of pixels at a time (`RayTiles`), so that a car passing beside or below the camera is not
intersected with every pixel of the frame. Vehicle lights get windows too: the box of where each
can reach (`light_reach_boxes`), cut to the tiles of receiving points within its range
(`reach_windows`)."""
from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import njit

TILE = 8        # pixels a side of the tiles `cone_windows` tests


def windows(bounds: np.ndarray, ok: np.ndarray, width: int, height: int, pad: float = 0.5) -> np.ndarray:
    """Continuous bounds (T, P, 4) -> integer windows (T, P, 4) clipped to the image: the pixels
    whose centres (x + 0.5, y + 0.5) lie within the bounds grown by `pad` pixels (the bounds are
    exact for a pinhole camera and within a small fraction of a pixel under lens distortion).

    Unknown bounds (ok False) get the whole image; empty windows have x1 <= x0."""
    b = np.where(ok[..., None], bounds, np.array([0, 0, width, height], float))
    b = np.nan_to_num(b, nan=0.0, posinf=1e7, neginf=-1e7)
    x0 = np.clip(np.ceil(b[..., 0] - 0.5 - pad), 0, width)
    y0 = np.clip(np.ceil(b[..., 1] - 0.5 - pad), 0, height)
    x1 = np.clip(np.floor(b[..., 2] - 0.5 + pad) + 1, 0, width)
    y1 = np.clip(np.floor(b[..., 3] - 0.5 + pad) + 1, 0, height)
    return np.stack([x0, y0, x1, y1], axis=-1).astype(np.int64)


def shape_windows(bounds: np.ndarray, ok: np.ndarray, shapes: Any, camera: Any, T: int) -> np.ndarray:
    """`windows` of a Shapes' bounds (from world/geometry/projection.py screen_bounds), (T, P, 4)
    and writable, with `cone_windows` for the primitives that reach behind the camera."""
    win = np.broadcast_to(windows(bounds, ok, camera.width, camera.height), (T, shapes.num_shapes, 4)).copy()
    if not np.all(ok):
        cone_windows(win, ok, *shapes.bounding_spheres(), camera)
    return win


def receiver_tiles(point: np.ndarray, receiver: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Spheres around the receiving points (H, W, 3) of each TILE x TILE tile (receiver (H, W)
    bool): centres (hb, wb, 3) and radii (hb, wb), -inf where a tile receives nothing."""
    H, W = receiver.shape
    box = np.empty((-(-H // TILE), -(-W // TILE), 6))
    _tile_boxes(np.ascontiguousarray(point, np.float32), np.ascontiguousarray(receiver), box)
    lo, hi = box[..., :3], box[..., 3:]
    some = np.isfinite(lo[..., 0])
    lo, hi = np.where(some[..., None], lo, 0.0), np.where(some[..., None], hi, 0.0)
    return 0.5 * (lo + hi), np.where(some, 0.5 * np.linalg.norm(hi - lo, axis=-1), -np.inf)


@njit(cache=True, nogil=True)
def _tile_boxes(point, receiver, box):
    """box (hb, wb, 6): each tile's receiving points' lower and upper corner (inf, -inf if none)."""
    H, W = receiver.shape
    for i in range(box.shape[0]):
        for j in range(box.shape[1]):
            for c in range(3):
                box[i, j, c], box[i, j, 3 + c] = np.inf, -np.inf
    for y in range(H):
        i = y // TILE
        for x in range(W):
            if receiver[y, x]:
                j = x // TILE
                for c in range(3):
                    v = point[y, x, c]
                    box[i, j, c] = min(box[i, j, c], v)
                    box[i, j, 3 + c] = max(box[i, j, 3 + c], v)


def reach_windows(centre: np.ndarray, radius: np.ndarray, pos: np.ndarray, reach: np.ndarray, axis: np.ndarray,
                  cos: np.ndarray, width: int, height: int) -> np.ndarray:
    """Windows (n, 4) [x0, y0, x1, y1) of the tiles (`receiver_tiles`) holding points a light can
    reach: within `reach` (n,) of its position pos (n, 3) and, for a spot light (cos (n,) of its
    half cone > -1, unit axis (n, 3)), inside its cone. A light lights nothing outside its window.
    Empty where no tile is in reach."""
    v = centre[None] - pos[:, None, None]                                   # (n, hb, wb, 3)
    d = np.linalg.norm(v, axis=-1)
    near = d <= radius[None] + reach[:, None, None] + 1e-3
    spot = cos > -1.0
    if spot.any():      # the tile's sphere seen from the light at most asin(r / d) off the cone
        with np.errstate(invalid="ignore", divide="ignore"):
            off = np.arccos(np.clip(np.einsum("nhwi,ni->nhw", v, axis) / d, -1.0, 1.0))
            spread = np.arcsin(np.clip(radius[None] / d, 0.0, 1.0))
        inside = (d <= radius[None] + 1e-3) | (off <= np.arccos(np.clip(cos, -1, 1))[:, None, None] + spread + 1e-3)
        near &= np.where(spot[:, None, None], inside, True)
    rows, cols = near.any(axis=2), near.any(axis=1)
    out = np.zeros((len(pos), 4), np.int64)
    for i in range(len(pos)):
        ys, xs = np.flatnonzero(rows[i]), np.flatnonzero(cols[i])
        if len(ys):
            out[i] = xs[0] * TILE, ys[0] * TILE, min((xs[-1] + 1) * TILE, width), min((ys[-1] + 1) * TILE, height)
    return out


class RayTiles:
    """A camera's pixel rays in its own frame (H, W, 3) in TILE x TILE tiles: each tile's unit mean
    direction and the largest angle between it and a ray of the tile (plus a little, for
    rounding), so that a cone of directions can be tested against a whole tile at once. They
    depend on the intrinsics only, so one set serves every pose of a turning or shaking camera."""

    def __init__(self, rays: np.ndarray):
        H, W = rays.shape[:2]
        self.height, self.width = H, W
        hb, wb = -(-H // TILE), -(-W // TILE)
        self.axis, cos = np.empty((hb, wb, 3)), np.empty((hb, wb))
        _tile_cones(np.ascontiguousarray(rays, np.float64), TILE, self.axis, cos)
        self.spread = np.arccos(cos) + 1e-5
        self.cos, self.sin = np.cos(self.spread), np.sin(self.spread)


@njit(cache=True, nogil=True)
def _tile_cones(rays, tile, axis, cos):
    """Per tile of `tile` pixels a side (the last row and column of the image repeated where a tile
    runs past it): the unit mean of its unit rays, and the smallest cosine between a ray and it.
    Each tile's unit rays are made once into a scratch block that both passes read.
    (A zooming camera makes these anew for every new focal length; numpy took 8 ms a 640x480 frame.)"""
    H, W = rays.shape[0], rays.shape[1]
    unit = np.empty((tile * tile, 3))
    for i in range(axis.shape[0]):
        for j in range(axis.shape[1]):
            k = 0
            for a in range(i * tile, i * tile + tile):
                y = min(a, H - 1)
                for b in range(j * tile, j * tile + tile):
                    x = min(b, W - 1)
                    dx, dy, dz = rays[y, x, 0], rays[y, x, 1], rays[y, x, 2]
                    n = math.sqrt(dx * dx + dy * dy + dz * dz)
                    unit[k, 0], unit[k, 1], unit[k, 2] = dx / n, dy / n, dz / n
                    k += 1
            sx = sy = sz = 0.0
            for k in range(tile * tile):
                sx, sy, sz = sx + unit[k, 0], sy + unit[k, 1], sz + unit[k, 2]
            n = math.sqrt(sx * sx + sy * sy + sz * sz)
            ax, ay, az = sx / n, sy / n, sz / n
            axis[i, j, 0], axis[i, j, 1], axis[i, j, 2] = ax, ay, az
            lo = 1.0
            for k in range(tile * tile):
                lo = min(lo, unit[k, 0] * ax + unit[k, 1] * ay + unit[k, 2] * az)
            cos[i, j] = max(lo, -1.0)


_TILES: dict[tuple, RayTiles] = {}


def ray_tiles(camera: Any, t: int) -> RayTiles:
    """Frame t's RayTiles (kept for the last few intrinsics)."""
    key = camera.ray_key(t)
    tiles = _TILES.get(key)
    if tiles is None:
        tiles = RayTiles(camera.camera_frame_rays(t))
        if len(_TILES) >= 8:
            _TILES.pop(next(iter(_TILES)))
        _TILES[key] = tiles
    return tiles


def cone_windows(win: np.ndarray, ok: np.ndarray, centre: np.ndarray, radius: np.ndarray, camera: Any) -> None:
    """In place: the whole-image windows that `windows` gave primitives of unknown extent
    (ok False) shrink to the tiles whose rays can meet the primitive's bounding sphere (centre
    (T or 1, P, 3), radius (T or 1, P)) seen by `camera` (T or 1 frames); empty where no ray can.
    A ray that hits the primitive hits its sphere, so no hit is lost (the tiles hold the rays the
    kernels cast, before their rotation into the world; their margin covers its rounding).
    win (T, P, 4)."""
    T, P = win.shape[:2]
    ts, ps = np.nonzero(~np.broadcast_to(ok, (T, P)))
    if not len(ts):
        return
    groups: dict[int, tuple[RayTiles, list[int]]] = {}
    for t in np.unique(ts):
        tl = ray_tiles(camera, int(t))     # t indexes the camera too (T or 1 frames)
        groups.setdefault(id(tl), (tl, []))[1].append(int(t))
    cen = np.ascontiguousarray(centre, np.float64)
    rad = np.ascontiguousarray(radius, np.float64)
    C, R = np.ascontiguousarray(camera.C, np.float64), np.ascontiguousarray(camera.R, np.float64)
    for tl, frames in groups.values():
        rows = np.isin(ts, frames)
        todo = np.stack([ts[rows], ps[rows]], axis=1).astype(np.int64)
        _cone_windows(tl.axis, tl.spread, tl.cos, tl.sin, cen, rad, C, R, todo, tl.width, tl.height, win)


@njit(cache=True, nogil=True)
def _cone_windows(axis, spread, cos_s, sin_s, centre, radius, C, R, todo, W, H, win):
    hb, wb = axis.shape[0], axis.shape[1]
    for n in range(todo.shape[0]):
        t, p = todo[n, 0], todo[n, 1]
        ts = t if centre.shape[0] > 1 else 0
        tc = t if C.shape[0] > 1 else 0
        wx, wy, wz = centre[ts, p, 0] - C[tc, 0], centre[ts, p, 1] - C[tc, 1], centre[ts, p, 2] - C[tc, 2]
        dist = math.sqrt(wx * wx + wy * wy + wz * wz)
        r = radius[ts, p]
        if dist <= r * (1.0 + 1e-6) + 1e-6:        # the camera is inside the sphere: any ray may hit
            win[t, p, 0], win[t, p, 1], win[t, p, 2], win[t, p, 3] = 0, 0, W, H
            continue
        # the direction to the centre in the camera's frame (rows of R: the camera's axes)
        vx = (R[tc, 0, 0] * wx + R[tc, 0, 1] * wy + R[tc, 0, 2] * wz) / dist
        vy = (R[tc, 1, 0] * wx + R[tc, 1, 1] * wy + R[tc, 1, 2] * wz) / dist
        vz = (R[tc, 2, 0] * wx + R[tc, 2, 1] * wy + R[tc, 2, 2] * wz) / dist
        half = math.asin(r / dist)
        ch, sh = math.cos(half), math.sin(half)
        bx0, by0, bx1, by1 = wb, hb, -1, -1
        for by in range(hb):
            for bx in range(wb):       # the tile's axis more than half + spread away: no ray meets it
                dot = axis[by, bx, 0] * vx + axis[by, bx, 1] * vy + axis[by, bx, 2] * vz
                if half + spread[by, bx] < math.pi and dot < ch * cos_s[by, bx] - sh * sin_s[by, bx]:
                    continue
                bx0, by0 = min(bx0, bx), min(by0, by)
                bx1, by1 = max(bx1, bx), max(by1, by)
        if bx1 < 0:
            win[t, p, 0], win[t, p, 1], win[t, p, 2], win[t, p, 3] = 0, 0, 0, 0
            continue
        win[t, p, 0] = bx0 * TILE
        win[t, p, 1] = by0 * TILE
        win[t, p, 2] = min((bx1 + 1) * TILE, W)
        win[t, p, 3] = min((by1 + 1) * TILE, H)


_CUBE = np.array([[sx, sy, sz] for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)], float)


def light_reach_boxes(pos: np.ndarray, axis: np.ndarray, reach: np.ndarray, cos: np.ndarray) -> np.ndarray:
    """Corners (n, 8, 3) of boxes around where each light can reach, above the ground: a cube of
    its range for an omni light (cos <= -1), for a spot light the box of its apex and its cone
    (every point within range of the apex whose angle to the axis is within the half cone)."""
    n = len(reach)
    lo, hi = pos - reach[:, None], pos + reach[:, None]
    spot = cos > -1.0
    if spot.any():
        a = axis / np.maximum(np.linalg.norm(axis, axis=-1, keepdims=True), 1e-9)
        sin = np.sqrt(np.clip(1 - cos ** 2, 0, 1))
        # the cone's extent along each world axis: apex to the cap, whose rim reaches sin off the axis
        for d in range(3):
            across = np.sqrt(np.clip(1 - a[:, d] ** 2, 0, 1))
            ends = np.stack([a[:, d] * cos + across * sin, a[:, d] * cos - across * sin,
                             np.where(np.abs(a[:, d]) >= cos, np.sign(a[:, d]), a[:, d] * cos)], 1) * reach[:, None]
            c_lo = pos[:, d] + np.minimum(ends.min(1), 0.0)
            c_hi = pos[:, d] + np.maximum(ends.max(1), 0.0)
            lo[spot, d], hi[spot, d] = c_lo[spot], c_hi[spot]
    lo[:, 2] = np.maximum(lo[:, 2], 0.0)
    hi[:, 2] = np.maximum(hi[:, 2], lo[:, 2])
    return np.where(_CUBE[None] > 0, hi[:, None, :], lo[:, None, :])[:, :, :].reshape(n, 8, 3)
