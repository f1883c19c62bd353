"""Screen extents of primitives from geometry alone (no pixels; a compiled pass, numpy reference).

The silhouette of an ellipsoid (or a capsule's end spheres) is traced by its contour generator:
the circle of tangency seen from the camera centre. We sample that circle with a polygon that
*circumscribes* it, so the projected extent is never smaller than the true silhouette (for a
pinhole camera; with lens distortion the error is a small fraction of a pixel). Boxes use their
corners. The extent of a capsule is that of its two end spheres (the x and y image coordinates
are quasi-linear, so their extremes over a convex hull lie on the generating set). Lens
distortion bows straight lines outwards by pixels, so under it boxes also use points along their
edges, and capsules, cones and frustums the sphere half way along their axis.

These extents give the amodal boxes of labels/ and the render windows of render/.
"""
from __future__ import annotations

import numpy as np

from synthdata.world.geometry.camera import Camera
from synthdata.world.geometry.camera_rows import EDGE_STEPS, bounds_kernel, pack_camera, pack_cameras
from synthdata.world.types import BOX, CAPSULE, CONE, ELLIPSOID, FRUSTUM, Shapes

CONTOUR_POINTS = 24
_THETA = np.linspace(0, 2 * np.pi, CONTOUR_POINTS, endpoint=False)
_SCALE = 1.0 / np.cos(np.pi / CONTOUR_POINTS)     # polygon circumscribing the circle
_SIGNS = np.array([[sx, sy, sz] for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)], float)
# points along a unit box's 12 edges (EDGE_STEPS - 1 inside each): along axis e, the others at +-1
_EDGES = np.array([[(2.0 * j / EDGE_STEPS - 1.0) if i == e else (u, v)[i - (i > e)] for i in range(3)]
                   for e in range(3) for u in (-1.0, 1.0) for v in (-1.0, 1.0) for j in range(1, EDGE_STEPS)])


def _ellipsoid_contour(center: np.ndarray, axes: np.ndarray, size: np.ndarray, cam_c: np.ndarray
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Contour points (..., K, 3) and a validity flag (...,) (False: camera inside)."""
    rel = np.einsum("...ji,...j->...i", axes, cam_c - center) / size      # camera in unit-sphere space
    q = (rel * rel).sum(-1)
    ok = q > 1.0 + 1e-9
    qs = np.where(ok, q, 2.0)
    m = rel / qs[..., None]
    rho = np.sqrt(1.0 - 1.0 / qs) * _SCALE
    n = rel / np.sqrt(qs)[..., None]
    helper = np.where((np.abs(n[..., 2:3]) < 0.9), np.array([0.0, 0.0, 1.0]), np.array([1.0, 0.0, 0.0]))
    e1 = np.cross(n, helper)
    e1 /= np.linalg.norm(e1, axis=-1, keepdims=True)
    e2 = np.cross(n, e1)
    circle = (np.cos(_THETA)[:, None] * e1[..., None, :] + np.sin(_THETA)[:, None] * e2[..., None, :])
    pts_unit = m[..., None, :] + rho[..., None, None] * circle
    pts = center[..., None, :] + np.einsum("...ij,...kj->...ki", axes, pts_unit * size[..., None, :])
    return pts, ok


def shape_points(shapes: Shapes, camera: Camera) -> tuple[np.ndarray, np.ndarray]:
    """Silhouette-bounding world points per primitive: (T, P, K, 3) and validity (T, P).

    K = 3 * CONTOUR_POINTS; boxes repeat their 8 corners to fill K, and under lens distortion
    hold points along their edges from the ninth on; capsules, cones and frustums hold their end
    spheres' contours and, under lens distortion, that of the sphere half way."""
    T, P = shapes.num_frames, shapes.num_shapes
    K = 3 * CONTOUR_POINTS
    bent = bool(camera.k1 or camera.k2 or camera.model == "fisheye")    # distortion bows straight lines
    cam_c = camera.C if camera.num_frames == T else np.broadcast_to(camera.C[:1], (T, 3))
    cam_c = cam_c[:, None, :]
    pts = np.zeros((T, P, K, 3))
    ok = np.ones((T, P), bool)
    kind = shapes.kind
    e = np.nonzero(kind == ELLIPSOID)[0]
    if len(e):
        p, v = _ellipsoid_contour(shapes.center[:, e], shapes.axes[:, e], shapes.size[:, e], cam_c)
        pts[:, e] = np.concatenate([p, p, p], axis=-2)
        ok[:, e] = v
    c = np.nonzero((kind == CAPSULE) | (kind == CONE) | (kind == FRUSTUM))[0]
    if len(c):                        # the hull of the end spheres (around a frustum's end discs)
        ra = np.repeat(shapes.size[:, c, :1], 3, axis=-1)
        rb = np.where((kind[c] != CAPSULE)[None, :, None], np.repeat(shapes.size[:, c, 1:2], 3, axis=-1), ra)
        eye = np.broadcast_to(np.eye(3), (T, len(c), 3, 3))
        pa, va = _ellipsoid_contour(shapes.center[:, c], eye, ra, cam_c)
        pb, vb = _ellipsoid_contour(shapes.end[:, c], eye, rb, cam_c)
        pm, vm = (_ellipsoid_contour(0.5 * (shapes.center[:, c] + shapes.end[:, c]), eye, 0.5 * (ra + rb), cam_c)
                  if bent else (pa, va))
        pts[:, c] = np.concatenate([pa, pb, pm], axis=-2)
        ok[:, c] = va & vb & vm
    b = np.nonzero(kind == BOX)[0]
    if len(b):
        corners = _box_corners(shapes, b)
        pts[:, b] = np.tile(corners, (1, 1, K // 8, 1))
        if bent:                      # the edges too
            edge = shapes.center[:, b, None, :] + np.einsum("tbij,tbkj->tbki", shapes.axes[:, b],
                                                             _EDGES[None, None] * shapes.size[:, b, None, :])
            pts[:, b, 8:8 + len(_EDGES)] = edge
    return pts, ok


def _box_corners(shapes: Shapes, b: np.ndarray) -> np.ndarray:
    local = _SIGNS[None, None] * shapes.size[:, b, None, :]                    # (T, B, 8, 3)
    return shapes.center[:, b, None, :] + np.einsum("tbij,tbkj->tbki", shapes.axes[:, b], local)


def screen_bounds(shapes: Shapes, camera: Camera, frames: np.ndarray | None = None
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Per primitive and frame: [x0, y0, x1, y1] in continuous pixel coordinates (T, P, 4), and a
    flag (T, P) that is False where the extent is unknown (the primitive reaches behind the
    camera or contains it). Compiled (world/geometry/camera_rows.py `bounds_kernel`); the same
    points as `shape_points` projected by Camera.project (`screen_bounds_reference`). With
    `frames` (frame indices), only those frames: (len(frames), P, 4)."""
    cams = None
    if frames is not None:
        frames = np.asarray(frames, np.int64)
        if shapes.num_frames > 1:
            shapes = shapes._with_frames(frames)
        cams = np.stack([pack_camera(camera, int(t)) for t in frames])
    T, P = (shapes.num_frames if frames is None else len(frames)), shapes.num_shapes
    out, ok = np.empty((T, P, 4)), np.empty((T, P), bool)
    if T and P:
        bounds_kernel(np.ascontiguousarray(shapes.kind, np.int64), _f64(shapes.center), _f64(shapes.end),
                      _f64(shapes.axes), _f64(shapes.size), pack_cameras(camera, T) if cams is None else cams,
                      np.cos(_THETA), np.sin(_THETA), _SCALE, out, ok)
    return out, ok


def _f64(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a, np.float64)


def screen_bounds_reference(shapes: Shapes, camera: Camera) -> tuple[np.ndarray, np.ndarray]:
    """`screen_bounds` in numpy: shape_points projected by Camera.project (for tests)."""
    pts, ok = shape_points(shapes, camera)
    T = pts.shape[0]
    cam = camera if camera.num_frames in (1, T) else camera.frames(0, T)
    uv, z = cam.project(pts)
    ok = ok & np.all(z > 1e-3, axis=-1) & np.all(np.isfinite(uv[..., 0]), axis=-1)
    uvm = np.where(ok[..., None, None], uv, np.inf)
    lo = uvm.min(axis=-2)
    hi = np.where(ok[..., None, None], uv, -np.inf).max(axis=-2)
    lo = np.where(ok[..., None], lo, np.nan)
    hi = np.where(ok[..., None], hi, np.nan)
    return np.concatenate([lo, hi], axis=-1), ok


def union_bounds(bounds: np.ndarray, ok: np.ndarray, mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Union over primitives: (T, P, 4) -> (T, 4) and a (T,) validity flag (all parts valid)."""
    if mask is not None:
        bounds, ok = bounds[:, mask], ok[:, mask]
    lo = np.where(ok[..., None], bounds[..., :2], np.inf).min(axis=1)
    hi = np.where(ok[..., None], bounds[..., 2:], -np.inf).max(axis=1)
    return np.concatenate([lo, hi], axis=-1), ok.all(axis=1) & ok.any(axis=1)
