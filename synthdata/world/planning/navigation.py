"""Path planning for people on a ground grid, and which ground cells the camera sees.

`NavGrid` rasterises the walkable polygons minus obstacle footprints (inflated by a clearance)
into cells; `route` returns a straight segment when it is clear, else a breadth-first path over
8-connected cells pulled tight into a few waypoints. Every returned segment is re-checked against
the exact footprints, so a path's clearance never depends on the grid resolution.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from synthdata.world.geometry.camera import Camera
from synthdata.world.geometry.camera_rows import pack_camera, project_row
from synthdata.world.geometry.shapes import Footprints, footprint_distance_at, in_polygon_at, inside_any

_NEIGHBOURS = [(-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1)]


class NavGrid:
    def __init__(self, bounds: tuple[float, float, float, float], walkable: list[np.ndarray],
                 obstacles: Footprints, clearance: float, cell: float = 0.5,
                 keep_out: list[np.ndarray] | None = None):
        x0, y0, x1, y1 = bounds
        self.x0, self.y0, self.cell = x0, y0, cell
        self.nx = max(int(np.ceil((x1 - x0) / cell)), 1)
        self.ny = max(int(np.ceil((y1 - y0) / cell)), 1)
        xs = x0 + (np.arange(self.nx) + 0.5) * cell
        ys = y0 + (np.arange(self.ny) + 0.5) * cell
        self.centers = np.stack(np.meshgrid(xs, ys), -1)                 # (ny, nx, 2)
        self.walkable = walkable
        self.keep_out = keep_out or []
        self._walk, self._keep = _packed(walkable), _packed(self.keep_out)   # for the compiled tests
        self.obstacles = obstacles
        self.clearance = clearance
        pts = self.centers.reshape(-1, 2)
        ok = inside_any(pts, walkable)
        if self.keep_out:
            ok &= ~inside_any(pts, self.keep_out)
        # each cell centre's distance to the nearest obstacle (`_keeps`: a cell free for a clearance)
        self.gap = (obstacles.distance(pts) if len(obstacles) else np.full(len(pts), np.inf)).reshape(self.ny, self.nx)
        self.free = ok.reshape(self.ny, self.nx) & self._keeps(self.gap, clearance)

    # ---- cells ----------------------------------------------------------------------------
    def cell_of(self, xy: np.ndarray) -> tuple[int, int]:
        j = int(np.clip((xy[0] - self.x0) // self.cell, 0, self.nx - 1))
        i = int(np.clip((xy[1] - self.y0) // self.cell, 0, self.ny - 1))
        return i, j

    def block(self, footprints: Footprints) -> None:
        """Mark more obstacles (e.g. parked vehicles) as not walkable."""
        if not len(footprints):
            return
        self.obstacles = self.obstacles + footprints
        d = footprints.distance(self.centers.reshape(-1, 2)).reshape(self.ny, self.nx)
        self.gap = np.minimum(self.gap, d)
        self.free &= self._keeps(d, self.clearance)

    def free_for(self, clearance: float | None) -> np.ndarray:
        """The free cells for a mover keeping `clearance` from obstacles: the grid's own for up to
        its clearance, fewer for a wider one (a pair side by side, a pram)."""
        if clearance is None or clearance <= self.clearance:
            return self.free
        return self.free & self._keeps(self.gap, clearance)

    def _keeps(self, gap: np.ndarray, clearance: float) -> np.ndarray:
        """Cells whose whole square keeps `clearance` from obstacles at centre distance `gap`
        (half a cell's diagonal more)."""
        return gap > clearance + 0.5 * self.cell * 1.42

    def point_ok(self, pts: np.ndarray, clearance: float | None = None) -> np.ndarray:
        """Inside the walkable polygons and at least `clearance` (default: the grid's) from obstacles."""
        pts = np.ascontiguousarray(np.asarray(pts, float).reshape(-1, 2))
        ok = np.empty(len(pts), bool)
        _points_clear(pts, *self._walk, *self._keep, self.obstacles.rows, self.obstacles._trig,
                      float(self.clearance if clearance is None else clearance), ok)
        return ok

    def segment_ok(self, a: np.ndarray, b: np.ndarray, clearance: float | None = None, step: float = 0.15) -> bool:
        """Whether every point a step apart on the segment a-b (both ends included) is `point_ok`."""
        ax, ay = float(a[0]), float(a[1])
        bx, by = float(b[0]), float(b[1])
        n = max(int(np.ceil(np.hypot(bx - ax, by - ay) / step)), 1)
        return _segment_clear(ax, ay, bx, by, n, *self._walk, *self._keep, self.obstacles.rows, self.obstacles._trig,
                              float(self.clearance if clearance is None else clearance))

    # ---- routes ---------------------------------------------------------------------------
    def distance_field(self, goal: tuple[int, int], start: tuple[int, int] | None = None,
                       free: np.ndarray | None = None) -> np.ndarray:
        """Steps from every free cell (the grid's, or `free`) to `goal` (8-connected); stops once
        `start` is reached."""
        free = self.free if free is None else free
        dist = np.full((self.ny, self.nx), np.inf)
        if not free[goal]:
            return dist
        si, sj = start if start is not None else (-1, -1)
        _rings(np.ascontiguousarray(free), int(goal[0]), int(goal[1]), int(si), int(sj), dist)
        return dist

    def route(self, a: np.ndarray, b: np.ndarray, clearance: float | None = None) -> np.ndarray | None:
        """Waypoints (N, 2) from a to b keeping `clearance` from obstacles, or None if unreachable."""
        a, b = np.asarray(a, float), np.asarray(b, float)
        if not (self.point_ok(a, clearance).all() and self.point_ok(b, clearance).all()):
            return None
        if self.segment_ok(a, b, clearance):
            return np.stack([a, b])
        free = self.free_for(clearance)             # cells with room for this mover
        start, goal = self._nearest_free(a, clearance, free), self._nearest_free(b, clearance, free)
        if start is None or goal is None:
            return None
        dist = self.distance_field(goal, start, free)
        if not np.isfinite(dist[start]):
            return None
        cells = [start]
        i, j = start
        while dist[i, j] > 0:
            best = None          # the neighbour closest to the goal, straight steps preferred on ties
            for di, dj in _NEIGHBOURS:
                u, v = i + di, j + dj
                if not (0 <= u < self.ny and 0 <= v < self.nx) or dist[u, v] >= dist[i, j]:
                    continue
                if best is None or dist[u, v] < dist[best] or ((di == 0 or dj == 0) and dist[u, v] == dist[best]):
                    best = (u, v)
            i, j = best
            cells.append(best)
        pts = [a] + [self.centers[c] for c in cells] + [b]
        return self._pull(pts, clearance)

    def _nearest_free(self, xy: np.ndarray, clearance: float | None, free: np.ndarray) -> tuple[int, int] | None:
        i, j = self.cell_of(xy)
        if free[i, j] and self.segment_ok(xy, self.centers[i, j], clearance):
            return i, j
        lo_i, hi_i = max(i - 2, 0), min(i + 3, self.ny)
        lo_j, hi_j = max(j - 2, 0), min(j + 3, self.nx)
        best, best_d = None, np.inf
        for u in range(lo_i, hi_i):
            for v in range(lo_j, hi_j):
                d = np.hypot(*(self.centers[u, v] - xy))
                if free[u, v] and d < best_d and self.segment_ok(xy, self.centers[u, v], clearance):
                    best, best_d = (u, v), d
        return best

    def _pull(self, pts: list[np.ndarray], clearance: float | None) -> np.ndarray | None:
        """Greedy string pulling: keep a waypoint only where the straight line is blocked."""
        out = [pts[0]]
        i = 0
        while i < len(pts) - 1:
            j = i + 1
            while j + 1 < len(pts) and self.segment_ok(pts[i], pts[j + 1], clearance):
                j += 1
            if not self.segment_ok(pts[i], pts[j], clearance):
                return None
            out.append(pts[j])
            i = j
        return np.array(out)


def _packed(polygons: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Polygons as one (N, 2) array of vertices and the (K + 1,) offsets where each starts."""
    pts = [np.asarray(q, float).reshape(-1, 2) for q in polygons]
    offsets = np.cumsum([0] + [len(q) for q in pts]).astype(np.int64)
    return np.ascontiguousarray(np.concatenate(pts) if pts else np.zeros((0, 2))), offsets


@njit(cache=True, nogil=True, inline="always")
def _clear_at(x, y, walk, walk_at, keep, keep_at, rows, trig, clearance):
    """`NavGrid.point_ok` of one point: in a walkable polygon, in no keep-out one, and more than
    `clearance` from every obstacle."""
    inside = False
    for k in range(len(walk_at) - 1):
        if in_polygon_at(x, y, walk, walk_at[k], walk_at[k + 1]):
            inside = True
            break
    if not inside:
        return False
    for k in range(len(keep_at) - 1):
        if in_polygon_at(x, y, keep, keep_at[k], keep_at[k + 1]):
            return False
    return rows.shape[0] == 0 or footprint_distance_at(x, y, rows, trig) > clearance


@njit(cache=True, nogil=True)
def _points_clear(p, walk, walk_at, keep, keep_at, rows, trig, clearance, out):
    for i in range(p.shape[0]):
        out[i] = _clear_at(p[i, 0], p[i, 1], walk, walk_at, keep, keep_at, rows, trig, clearance)


@njit(cache=True, nogil=True)
def _segment_clear(ax, ay, bx, by, n, walk, walk_at, keep, keep_at, rows, trig, clearance):
    """Whether the n + 1 points a (1 - s) + b s, s = np.linspace(0, 1, n + 1) (the same values),
    are all clear; stops at the first that is not."""
    step = 1.0 / n
    for i in range(n + 1):
        s = 1.0 if i == n else i * step
        if not _clear_at(ax * (1 - s) + bx * s, ay * (1 - s) + by * s, walk, walk_at, keep, keep_at, rows, trig,
                         clearance):
            return False
    return True


def image_extent(cam: Camera, pts: np.ndarray, margin: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """For point sets (N, K, 3) (the corners of convex bodies): `inside` (every point is in the
    image) and `outside` (all lie beyond one image edge, or all behind the camera, or all behind
    the vertical plane through a camera whose whole view goes ahead of it (`ahead_only`), so no
    part of the convex body can be seen)."""
    uv, z = cam.project(pts, 0)
    front = z > 1e-6
    u, v = uv[..., 0], uv[..., 1]
    with np.errstate(invalid="ignore"):
        inside = (front & (u >= 0) & (u < cam.width) & (v >= 0) & (v < cam.height)).all(-1)
        beyond = ((u < -margin).all(-1) | (u > cam.width + margin).all(-1) | (v < -margin).all(-1)
                  | (v > cam.height + margin).all(-1))
    outside = (front.all(-1) & beyond) | (~front).all(-1)
    ahead = ahead_only(cam)
    if ahead[:2].any():
        outside |= ((pts[..., 0] - ahead[2]) * ahead[0] + (pts[..., 1] - ahead[3]) * ahead[1] <= 0.0).all(-1)
    return inside, outside


def box_corners(xy: np.ndarray, yaw: np.ndarray | float, length: float, width: float, height: float) -> np.ndarray:
    """Corners (N, 8, 3) of upright boxes standing at ground points xy (N, 2)."""
    xy = np.asarray(xy, float).reshape(-1, 2)
    yaw = np.broadcast_to(np.asarray(yaw, float), (len(xy),))
    local = np.array([[1, 1], [1, -1], [-1, -1], [-1, 1]]) * [length / 2, width / 2]
    c, s = np.cos(yaw)[:, None], np.sin(yaw)[:, None]
    gx = xy[:, None, 0] + c * local[None, :, 0] - s * local[None, :, 1]
    gy = xy[:, None, 1] + s * local[None, :, 0] + c * local[None, :, 1]
    return np.concatenate([np.stack([gx, gy, np.full_like(gx, z)], -1) for z in (0.0, height)], 1)


def view_masks(cam: Camera, centers: np.ndarray, body_height: float,
               radius: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For ground points (..., 2): `visible` (a standing body there, a box of 2 radius x
    body_height, is wholly inside the image), `hidden` (no part of it can be in the image) and
    its height in pixels. `image_extent` of `box_corners` and the projected height, point by
    point in one compiled pass (camera_rows.project_row, frame 0's camera)."""
    flat = np.ascontiguousarray(centers.reshape(-1, 2), np.float64)
    inside, outside = np.empty(len(flat), np.bool_), np.empty(len(flat), np.bool_)
    tall = np.empty(len(flat))
    _view_masks(pack_camera(cam, 0), float(cam.width), float(cam.height), flat, float(body_height), float(radius),
                1.0, ahead_only(cam), inside, outside, tall)
    shape = centers.shape[:-1]
    return inside.reshape(shape), outside.reshape(shape), tall.reshape(shape)


_AHEAD: dict[tuple, np.ndarray] = {}     # ahead_only per frame-0 camera (planning asks it for every check)


def ahead_only(cam: Camera) -> np.ndarray:
    """(x, y, cx, cy): the camera's horizontal viewing direction and ground position when every ray
    of its frame-0 view goes ahead of the vertical plane through it across that direction (a camera
    looking down less steeply than its half field of view below the vertical, as CCTV does):
    then nothing behind that plane is in view. Zeros otherwise (fisheye domes, straight down).
    Read-only; kept for the last few cameras."""
    key = (cam.width, cam.height, cam.model, cam.k1, cam.k2, float(cam.fx[0]), float(cam.fy[0]), cam.cx, cam.cy,
           None if cam.skew is None else float(cam.skew[0]), cam.R[0].tobytes(), cam.C[0].tobytes())
    got = _AHEAD.get(key)
    if got is None:
        got = _ahead_only(cam)
        got.flags.writeable = False
        if len(_AHEAD) >= 16:
            _AHEAD.pop(next(iter(_AHEAD)))
        _AHEAD[key] = got
    return got


def _ahead_only(cam: Camera) -> np.ndarray:
    W, H = cam.width, cam.height
    u, v = np.meshgrid(np.linspace(0.5, W - 0.5, 17), np.linspace(0.5, H - 0.5, 13))
    rays = cam.pixel_rays(0, np.stack([u.ravel(), v.ravel()], 1))
    axis = cam.pixel_rays(0, np.array([[W / 2, H / 2]]))[0]
    ahead = np.array([axis[0], axis[1]]) / max(float(np.hypot(axis[0], axis[1])), 1e-12)
    if np.hypot(axis[0], axis[1]) < 1e-6 or (rays[:, :2] @ ahead).min() <= 1e-6:
        return np.zeros(4)
    return np.array([ahead[0], ahead[1], cam.C[0, 0], cam.C[0, 1]])


@njit(cache=True, nogil=True)
def _view_masks(cam, W, H, centers, height, radius, margin, ahead, inside, outside, tall):
    """`view_masks` for centres (N, 2) into inside, outside, tall (N,): the box's 8 corners
    (ground, then top; corners in `box_corners`' order) as `image_extent` judges them (a point
    behind the camera has no image position: it is neither inside nor beyond an edge); a box wholly
    behind the camera's vertical plane is out of view when `ahead` (`ahead_only`) says so."""
    for i in range(centers.shape[0]):
        x, y = centers[i, 0], centers[i, 1]
        all_in, all_front, all_behind = True, True, True
        left, right, above, below = True, True, True, True
        back = ahead[0] != 0.0 or ahead[1] != 0.0
        for k in range(8):
            dx = radius if k % 4 < 2 else -radius
            dy = radius if k % 4 == 0 or k % 4 == 3 else -radius
            back &= (x + dx - ahead[2]) * ahead[0] + (y + dy - ahead[3]) * ahead[1] <= 0.0
            u, v, z = project_row(cam, x + dx, y + dy, 0.0 if k < 4 else height)
            front = z > 1e-6
            all_front &= front
            all_behind &= not front
            if front:
                all_in &= u >= 0.0 and u < W and v >= 0.0 and v < H
                left &= u < -margin
                right &= u > W + margin
                above &= v < -margin
                below &= v > H + margin
            else:
                all_in = left = right = above = below = False
        inside[i] = all_in
        outside[i] = (all_front and (left or right or above or below)) or all_behind or back
        u0, v0, z0 = project_row(cam, x, y, 0.0)
        u1, v1, z1 = project_row(cam, x, y, height)
        tall[i] = math.hypot(u0 - u1, v0 - v1) if z0 > 1e-6 and z1 > 1e-6 else 0.0


@njit(cache=True, nogil=True)
def _rings(free, gi, gj, si, sj, dist):
    """Breadth-first rings over the 8-connected free cells from (gi, gj): dist[cell] = ring
    number, whole rings at a time, stopping after the ring that reaches (si, sj) (si < 0: never)."""
    ny, nx = free.shape
    cur = np.empty(ny * nx, np.int64)
    nxt = np.empty(ny * nx, np.int64)
    seen = np.zeros((ny, nx), np.bool_)
    cur[0], n, k = gi * nx + gj, 1, 0
    seen[gi, gj] = True
    dist[gi, gj] = 0.0
    while n > 0:
        k += 1
        m = 0
        for q in range(n):
            i, j = cur[q] // nx, cur[q] % nx
            for a in range(max(i - 1, 0), min(i + 2, ny)):
                for b in range(max(j - 1, 0), min(j + 2, nx)):
                    if free[a, b] and not seen[a, b]:
                        seen[a, b] = True
                        dist[a, b] = k
                        nxt[m] = a * nx + b
                        m += 1
        cur, nxt = nxt, cur
        n = m
        if si >= 0 and seen[si, sj]:
            break

