"""Small geometric building blocks shared by layouts, bodies and motion (numpy, metres).

- `ShapeBuilder` collects primitives (per frame or static) into a `Shapes`.
- `place` moves a body built in its own frame (x forward, y left, z up, origin on the ground)
  to world positions and headings, per frame.
- `Footprints` are ground-plane obstacles: rounded, oriented rectangles (a disc is a rectangle
  with zero half-extents), with a vectorised distance.
- Polygon helpers for walkable / drivable regions.
"""
from __future__ import annotations

import functools
import math

import numpy as np
from numba import njit

from synthdata.world.types import BOX, CAPSULE, CONE, ELLIPSOID, FRUSTUM, MATERIAL, Shapes

_EYE = np.eye(3)


def yaw_axes(yaw: np.ndarray | float) -> np.ndarray:
    """World-from-local rotation(s) about z: (..., 3, 3), columns = local x, y, z."""
    yaw = np.asarray(yaw, float)
    c, s = np.cos(yaw), np.sin(yaw)
    z, o = np.zeros_like(c), np.ones_like(c)
    return np.stack([np.stack([c, -s, z], -1), np.stack([s, c, z], -1), np.stack([z, z, o], -1)], -2)


def pitch_axes(pitch: np.ndarray | float) -> np.ndarray:
    """Rotation(s) about the local y axis; positive pitch tips local +x downwards... towards -z."""
    p = np.asarray(pitch, float)
    c, s = np.cos(p), np.sin(p)
    z, o = np.zeros_like(c), np.ones_like(c)
    return np.stack([np.stack([c, z, s], -1), np.stack([z, o, z], -1), np.stack([-s, z, c], -1)], -2)


@functools.lru_cache(maxsize=4096)
def hex_to_linear(color: str) -> tuple[float, float, float]:
    """'#rrggbb' (sRGB) -> linear RGB in 0..1 (remembered: a clip's people ask for a few hundred
    colours from small palettes, 37 us each in numpy)."""
    v = np.array([int(color[i:i + 2], 16) for i in (1, 3, 5)], float) / 255.0
    lin = np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)
    return tuple(float(x) for x in lin)


class ShapeBuilder:
    """Accumulates primitives over `num_frames` frames (1 = static) and stacks them."""

    def __init__(self, num_frames: int = 1):
        self.t = num_frames
        self.kind: list[int] = []
        self.center: list[np.ndarray] = []
        self.end: list[np.ndarray] = []
        self.axes: list[np.ndarray] = []
        self.size: list[np.ndarray] = []
        self.color: list[tuple] = []
        self.material: list[int] = []
        self.pattern: list[tuple[int, tuple, float, int]] = []
        self.names: list[str] = []          # optional part names (garments), "" when unnamed

    def name_last(self, name: str, count: int = 1) -> None:
        """Name the `count` primitives added last (e.g. "skirt", "hair")."""
        self.names[-count:] = [name] * count

    def pattern_last(self, kind: int, color2, scale: float, seed: int = 0) -> None:
        """Give the primitive added last a surface pattern (render/patterns.py kind, secondary
        linear colour, feature size in metres, seed)."""
        self.pattern[-1] = (int(kind), tuple(float(c) for c in color2), float(scale), int(seed))

    def _frames(self, a, shape) -> np.ndarray:
        a = np.asarray(a, float)
        return np.broadcast_to(a, (self.t,) + shape) if a.shape != (self.t,) + shape else a

    def _add(self, kind, center, end, axes, size, color, material) -> int:
        self.kind.append(kind)          # per frame (T, ...) or static (...): broadcast in `build`
        self.center.append(np.asarray(center, float))
        self.end.append(np.asarray(end, float))
        self.axes.append(np.asarray(axes, float))
        self.size.append(np.asarray(size, float))
        self.color.append(tuple(float(c) for c in color))
        self.material.append(MATERIAL[material])
        self.pattern.append((0, (0.0, 0.0, 0.0), 0.0, 0))
        self.names.append("")
        return len(self.kind) - 1

    def box(self, center, half, color, material="default", axes=_EYE) -> int:
        """Box with half-extents `half` along the columns of `axes` (default: world axes)."""
        return self._add(BOX, center, center, axes, half, color, material)

    def ellipsoid(self, center, semi, color, material="default", axes=_EYE) -> int:
        return self._add(ELLIPSOID, center, center, axes, semi, color, material)

    def capsule(self, a, b, radius, color, material="default") -> int:
        r = np.asarray(radius, float)
        size = np.stack([r, r, r], -1) if r.ndim else np.array([r, r, r], float)
        return self._add(CAPSULE, a, b, _EYE, size, color, material)

    def cone(self, a, b, radius_a, radius_b, color, material="default") -> int:
        """A tapered capsule: spheres of radius_a at a and radius_b at b and the cone tangent to both
        (a thigh, a forearm, a skirt flaring to its hem)."""
        ra, rb = np.asarray(radius_a, float), np.asarray(radius_b, float)
        size = np.stack(np.broadcast_arrays(ra, rb, np.maximum(ra, rb)), -1)
        return self._add(CONE, a, b, _EYE, size, color, material)

    def frustum(self, a, b, radius_a, radius_b, ratio, forward, color, material="default") -> int:
        """A truncated cone with flat ends from a to b (T, 3): radii radius_a, radius_b across, and
        `ratio` (<= 1) times that along `forward` (T, 3) (a skirt: narrower front to back)."""
        a, b = self._frames(a, (3,)), self._frames(b, (3,))
        z = b - a
        z = z / np.maximum(np.linalg.norm(z, axis=-1, keepdims=True), 1e-9)
        x = self._frames(forward, (3,))
        x = x - np.sum(x * z, -1, keepdims=True) * z
        x = x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-9)
        axes = np.stack([x, np.cross(z, x), z], -1)
        size = np.stack(np.broadcast_arrays(np.asarray(radius_a, float), np.asarray(radius_b, float),
                                            np.asarray(ratio, float)), -1)
        return self._add(FRUSTUM, a, b, axes, size, color, material)

    def yawed_box(self, center, half, yaw: float, color, material="default") -> int:
        return self.box(center, half, color, material, axes=yaw_axes(yaw))

    def _stack(self, items: list[np.ndarray], shape: tuple[int, ...]) -> np.ndarray:
        """(T, n, *shape) from n arrays each (T, *shape) or `shape` (the same in every frame)."""
        out = np.empty((self.t, len(items)) + shape)
        for i, a in enumerate(items):
            if a.shape not in (shape, (self.t,) + shape):
                raise ValueError(f"primitive {i}: shape {a.shape}, expected {shape} or {(self.t,) + shape}")
            out[:, i] = a
        return out

    def build(self) -> Shapes:
        if not self.kind:
            return Shapes.empty(self.t)
        pats = {}
        if any(p[0] for p in self.pattern):
            pats = dict(pattern=np.array([p[0] for p in self.pattern], np.int8),
                        pattern_color=np.array([p[1] for p in self.pattern], np.float32),
                        pattern_scale=np.array([p[2] for p in self.pattern], np.float32),
                        pattern_seed=np.array([p[3] for p in self.pattern], np.int32))
        return Shapes(kind=np.array(self.kind, np.int8), center=self._stack(self.center, (3,)),
                      end=self._stack(self.end, (3,)), axes=self._stack(self.axes, (3, 3)),
                      size=self._stack(self.size, (3,)),
                      color=np.array(self.color, np.float32), material=np.array(self.material, np.int8), **pats)


def place(local: Shapes, position: np.ndarray, yaw: np.ndarray) -> Shapes:
    """Body-frame shapes (T or 1 frames) -> world shapes over len(yaw) frames.

    position (T, 3) is the body origin in the world; yaw (T,) its heading (0 along +x)."""
    R = yaw_axes(yaw)                                   # (T, 3, 3)
    pos = np.asarray(position, float)[:, None, :]

    def pts(p: np.ndarray) -> np.ndarray:
        return np.einsum("tij,tpj->tpi", R, np.broadcast_to(p, (len(yaw),) + p.shape[1:])) + pos

    axes = np.einsum("tij,tpjk->tpik", R, np.broadcast_to(local.axes, (len(yaw),) + local.axes.shape[1:]))
    size = np.broadcast_to(local.size, (len(yaw),) + local.size.shape[1:]).copy()
    return Shapes(local.kind, pts(local.center), pts(local.end), axes, size, local.color, local.material,
                  local.pattern, local.pattern_color, local.pattern_scale, local.pattern_seed)


def to_world(points_local: np.ndarray, position: np.ndarray, yaw: np.ndarray | None = None,
             R: np.ndarray | None = None) -> np.ndarray:
    """Body-frame points (T, ..., 3) -> world, with per-frame position (T, 3) and yaw (T,)
    (or the rotations R = yaw_axes(yaw), (T, 3, 3), when already at hand)."""
    R = yaw_axes(yaw) if R is None else R
    pos = np.asarray(position, float)
    if points_local.ndim == 2:
        return np.einsum("tij,tj->ti", R, points_local) + pos
    flat = points_local.reshape(len(R), -1, 3)
    out = np.einsum("tij,tpj->tpi", R, flat) + pos[:, None, :]
    return out.reshape(points_local.shape)


class Footprints:
    """Ground obstacles as rounded oriented rectangles: rows (cx, cy, hx, hy, yaw, r)."""

    def __init__(self, rows: np.ndarray | None = None):
        self.rows = np.ascontiguousarray(np.zeros((0, 6)) if rows is None else np.asarray(rows, float).reshape(-1, 6))
        self._trig = np.ascontiguousarray(np.stack([np.cos(self.rows[:, 4]), np.sin(self.rows[:, 4])], 1))  # for `distance`

    def __len__(self) -> int:
        return len(self.rows)

    @staticmethod
    def rect(cx, cy, hx, hy, yaw=0.0, r=0.0) -> np.ndarray:
        return np.array([cx, cy, hx, hy, yaw, r], float)

    @staticmethod
    def disc(cx, cy, r) -> np.ndarray:
        return np.array([cx, cy, 0.0, 0.0, 0.0, r], float)

    @staticmethod
    def segment(p0, p1, half_width) -> np.ndarray:
        p0, p1 = np.asarray(p0, float), np.asarray(p1, float)
        d = p1 - p0
        c = 0.5 * (p0 + p1)
        return np.array([c[0], c[1], 0.5 * np.hypot(*d), half_width, np.arctan2(d[1], d[0]), 0.0])

    def __add__(self, other: Footprints) -> Footprints:
        return Footprints(np.concatenate([self.rows, other.rows]))

    def distance(self, points: np.ndarray) -> np.ndarray:
        """Distance (P,) from each ground point (P, 2) to the nearest obstacle (<0 inside); inf if none.
        The same values as `distances(points).min(axis=1)`, in one compiled pass."""
        p = np.ascontiguousarray(np.asarray(points, float).reshape(-1, 2))
        if not len(self.rows):
            return np.full(len(p), np.inf)
        out = np.empty(len(p))
        _nearest(p, self.rows, self._trig, out)
        return out

    def distances(self, points: np.ndarray) -> np.ndarray:
        """Distance (P, O) from each point to each obstacle."""
        p = np.asarray(points, float).reshape(-1, 2)
        cx, cy, hx, hy, yaw, r = self.rows.T
        dx, dy = p[:, None, 0] - cx, p[:, None, 1] - cy
        c, s = np.cos(yaw), np.sin(yaw)
        lx, ly = np.abs(c * dx + s * dy) - hx, np.abs(-s * dx + c * dy) - hy
        outside = np.hypot(np.maximum(lx, 0), np.maximum(ly, 0))
        inside = np.minimum(np.maximum(lx, ly), 0)
        return outside + inside - r


def points_in_polygon(points: np.ndarray, poly: np.ndarray) -> np.ndarray:
    """Even-odd test of points (..., 2) against a polygon (N, 2) -> bool (...)."""
    p = np.asarray(points, float)
    out = np.empty(p.shape[:-1], bool)
    _in_polygon(np.ascontiguousarray(p.reshape(-1, 2)), np.ascontiguousarray(np.asarray(poly, float)), out.reshape(-1))
    return out


def polygon_area(q: np.ndarray) -> float:
    """Area (m^2) of a ground polygon (N, 2) (the shoelace formula)."""
    q = np.asarray(q, float)
    return abs(float(np.dot(q[:, 0], np.roll(q[:, 1], -1)) - np.dot(q[:, 1], np.roll(q[:, 0], -1)))) / 2


def inside_any(points: np.ndarray, polygons: list[np.ndarray]) -> np.ndarray:
    p = np.asarray(points, float)
    out = np.zeros(p.shape[:-1], bool)
    for poly in polygons:
        out |= points_in_polygon(p, poly)
    return out


def rect_polygon(xmin: float, ymin: float, xmax: float, ymax: float) -> np.ndarray:
    return np.array([[xmin, ymin], [xmax, ymin], [xmax, ymax], [xmin, ymax]], float)


def polyline_length(points: np.ndarray) -> np.ndarray:
    """Cumulative arc length (N,) of a polyline (N, 2)."""
    seg = np.linalg.norm(np.diff(points, axis=0), axis=1)
    return np.concatenate([[0.0], np.cumsum(seg)])


def resample_polyline(points: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Points at arc lengths s along a polyline."""
    cum = polyline_length(points)
    return np.stack([np.interp(s, cum, points[:, 0]), np.interp(s, cum, points[:, 1])], -1)


def bezier(p0, p1, p2, p3, n: int) -> np.ndarray:
    t = np.linspace(0, 1, n)[:, None]
    return ((1 - t) ** 3) * p0 + 3 * ((1 - t) ** 2) * t * p1 + 3 * (1 - t) * t * t * p2 + t ** 3 * p3


@njit(cache=True, nogil=True, inline="always")
def in_polygon_at(x, y, poly, lo, hi):
    """Even-odd crossing count of the point (x, y) against the polygon poly[lo:hi] (rows x, y)."""
    n = hi - lo
    inside = False
    for e in range(n):
        ax, ay = poly[lo + e, 0], poly[lo + e, 1]
        bx, by = poly[lo + (e + 1) % n, 0], poly[lo + (e + 1) % n, 1]
        if (ay > y) != (by > y) and x < ax + (y - ay) * (bx - ax) / (by - ay):
            inside = not inside
    return inside


@njit(cache=True, nogil=True, inline="always")
def footprint_distance_at(x, y, rows, trig):
    """`Footprints.distance` of one point (x, y): inf without obstacles."""
    best = np.inf
    for o in range(rows.shape[0]):
        dx, dy = x - rows[o, 0], y - rows[o, 1]
        c, s = trig[o, 0], trig[o, 1]
        lx = abs(c * dx + s * dy) - rows[o, 2]
        ly = abs(-s * dx + c * dy) - rows[o, 3]
        d = math.hypot(max(lx, 0.0), max(ly, 0.0)) + min(max(lx, ly), 0.0) - rows[o, 5]
        if d < best:
            best = d
    return best


@njit(cache=True, nogil=True)
def _in_polygon(p, poly, out):
    """Even-odd crossing count of each point p (P, 2) against the polygon's edges (N, 2)."""
    for i in range(p.shape[0]):
        out[i] = in_polygon_at(p[i, 0], p[i, 1], poly, 0, poly.shape[0])


@njit(cache=True, nogil=True)
def _nearest(p, rows, trig, out):
    """`Footprints.distances` (P, O) reduced to its minimum over obstacles, point by point."""
    for i in range(p.shape[0]):
        out[i] = footprint_distance_at(p[i, 0], p[i, 1], rows, trig)
