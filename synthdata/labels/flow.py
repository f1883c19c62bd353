"""Exact optical flow between two rendered frames, from the geometry that made the pixels.

Convention (README "Dense ground truth"): flow is in pixels, x right, y down; the flow of pixel
(x, y) of frame `src` is where the surface point that pixel sees lies in frame `dst`, minus the
pixel's own position (both measured at pixel centres, so a point that does not move gives 0).
Forward flow is src = t, dst = t + 1; backward flow src = t, dst = t - 1.

The point a pixel sees is its camera ray times the depth buffer (camera-axis metres). It is
carried to `dst` with the primitive it lies on (the `part` buffer names it): boxes and ellipsoids
by their own frames (centre, axes, semi-axes), capsules by the rotation that turns their axis and
the stretch of their length and radius; the static scene and the sky do not move. The moved point
is projected with the camera of `dst` (world/geometry/camera.py: PTZ, shake, rolling-shutter skew, a
knocked camera, Brown k1/k2 or fisheye), so camera motion and lens distortion are exact.

A flow vector is valid where the point exists in `dst` (its actor is present), lands inside the
image and is the surface `dst` shows there: the landing pixel shows the same object (instance
buffer; the static scene for scene points) and the depth buffer of `dst` there agrees with the
moved point's depth (tolerance 2 cm + 1 % of the depth + the local depth slope of `dst`), so a
point hidden by another object or by its own limbs is invalid.
Pixels that see something at the lens (PART_LENS) are never valid.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synthdata.world.types import BOX, CAPSULE, CONE, ELLIPSOID, FRUSTUM, Shapes, World

PART_SCENE, PART_LENS = -1, -2      # the values of FrameBatch.part (render/parts.py)
SKY_DISTANCE_M = 1e9                # a sky pixel is a direction: projected from this far away
DEPTH_TOL_M, DEPTH_TOL_REL = 0.02, 0.01
LENS_DEPTH_M = 0.05                 # nearer than this is at the lens (a cover 2 cm, the overlay 0 m)


@dataclass
class FrameBuffers:
    """One rendered frame's dense buffers on the CPU: depth (H, W) float32 camera-axis metres
    (inf = sky), instance (H, W) int track id (0 = none), part (H, W) int primitive index
    (PART_SCENE, or PART_LENS where something at the lens hides the scene: also wherever depth
    is under LENS_DEPTH_M, which no scene surface reaches)."""

    frame: int
    depth: np.ndarray
    instance: np.ndarray
    part: np.ndarray

    @staticmethod
    def from_batch(batch, i: int) -> "FrameBuffers":
        """Frame i (0-based within the batch) of a FrameBatch."""
        if batch.part is None:
            raise ValueError("the FrameBatch has no part buffer (render it with render/renderer.py)")
        depth, part = batch.depth[i].cpu().numpy(), batch.part[i].cpu().numpy()
        part = np.where(depth < LENS_DEPTH_M, PART_LENS, part).astype(part.dtype)
        return FrameBuffers(batch.start + i, depth, batch.instance[i].cpu().numpy(), part)


def _rotation_between(u0: np.ndarray, u1: np.ndarray) -> np.ndarray:
    """(N, 3, 3) smallest rotations taking unit vectors u0 (N, 3) to u1 (N, 3)."""
    v = np.cross(u0, u1)
    c = (u0 * u1).sum(-1)
    K = np.zeros(u0.shape[:-1] + (3, 3))
    K[..., 0, 1], K[..., 0, 2], K[..., 1, 2] = -v[..., 2], v[..., 1], -v[..., 0]
    K[..., 1, 0], K[..., 2, 0], K[..., 2, 1] = v[..., 2], -v[..., 1], v[..., 0]
    R = np.eye(3) + K + K @ K / np.maximum(1.0 + c, 1e-12)[..., None, None]
    flip = c < -1.0 + 1e-9                       # opposite axes: half a turn about a perpendicular
    if flip.any():
        a = np.cross(u0[flip], np.array([1.0, 0.0, 0.0]))
        a = np.where(np.linalg.norm(a, axis=-1, keepdims=True) < 1e-6, np.cross(u0[flip], [0.0, 1.0, 0.0]), a)
        a /= np.linalg.norm(a, axis=-1, keepdims=True)
        R[flip] = 2 * a[:, :, None] * a[:, None, :] - np.eye(3)
    return R


def part_motion(shapes: Shapes, t0: int, t1: int) -> np.ndarray:
    """(P, 3, 4) affine maps [L | b] carrying a point on primitive p at frame t0 to where it is at
    frame t1 (x1 = L x0 + b), for every primitive of `shapes`."""
    P = shapes.num_shapes
    out = np.zeros((P, 3, 4))
    out[:, :, :3] = np.eye(3)
    if shapes.num_frames == 1 or t0 == t1 or P == 0:
        return out
    c0, c1 = shapes.center[t0], shapes.center[t1]
    s0, s1 = shapes.size[t0], shapes.size[t1]
    solid = (shapes.kind == BOX) | (shapes.kind == ELLIPSOID) | (shapes.kind == FRUSTUM)
    if solid.any():
        A0, A1 = shapes.axes[t0][solid], shapes.axes[t1][solid]
        ratio = s1[solid] / np.where(s0[solid] > 0, s0[solid], 1.0)
        L = np.einsum("pij,pj,pkj->pik", A1, ratio, A0)
        out[solid, :, :3] = L
        out[solid, :, 3] = c1[solid] - np.einsum("pij,pj->pi", L, c0[solid])
    cap = (shapes.kind == CAPSULE) | (shapes.kind == CONE)
    if cap.any():
        a0, a1 = c0[cap], c1[cap]
        u0, u1 = shapes.end[t0][cap] - a0, shapes.end[t1][cap] - a1
        n0, n1 = np.linalg.norm(u0, axis=-1), np.linalg.norm(u1, axis=-1)
        ok = (n0 > 1e-9) & (n1 > 1e-9)
        e0 = np.where(ok[:, None], u0 / np.where(ok, n0, 1.0)[:, None], [0.0, 0.0, 1.0])
        e1 = np.where(ok[:, None], u1 / np.where(ok, n1, 1.0)[:, None], [0.0, 0.0, 1.0])
        R = _rotation_between(e0, e1)
        along = np.where(ok, n1 / np.where(ok, n0, 1.0), 1.0)
        across = s1[cap, 0] / np.where(s0[cap, 0] > 0, s0[cap, 0], 1.0)
        proj = e0[:, :, None] * e0[:, None, :]
        S = across[:, None, None] * (np.eye(3) - proj) + along[:, None, None] * proj
        L = R @ S
        out[cap, :, :3] = L
        out[cap, :, 3] = a1 - np.einsum("pij,pj->pi", L, a0)
    return out


class SceneFlow:
    """Flow between any two frames of one World's renders: `flow(src, dst)`. Keeps each camera
    pose's pixel rays (one set for a fixed camera)."""

    def __init__(self, world: World):
        self.world = world
        cam = world.camera
        self._runs = cam.pose_runs()
        self._rays: dict[int, np.ndarray] = {}
        self._actor_of = {a.track_id: i for i, a in enumerate(world.actors)}

    def _run(self, t: int) -> int:
        return int(self._runs[min(t, len(self._runs) - 1)])

    def rays(self, t: int) -> np.ndarray:
        """(H, W, 3) float64 unit world rays of frame t's pixel centres (kept per camera pose)."""
        run = self._run(t)
        if run not in self._rays:
            if len(self._rays) > 2:
                self._rays.pop(next(iter(self._rays)))
            self._rays[run] = self.world.camera.pixel_rays(run)
        return self._rays[run]

    def points(self, buf: FrameBuffers, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
        """World points (N, 3) seen at pixels (ys, xs) of a frame (depth times the camera ray;
        sky pixels at SKY_DISTANCE_M along their ray)."""
        cam = self.world.camera
        t = min(buf.frame, cam.num_frames - 1)
        d = self.rays(buf.frame)[ys, xs]
        z = buf.depth[ys, xs].astype(np.float64)
        along = d @ cam.R[t][2]
        dist = np.where(np.isfinite(z), z / np.maximum(along, 1e-12), SKY_DISTANCE_M)
        return cam.C[t] + d * dist[:, None]

    def flow(self, src: FrameBuffers, dst: FrameBuffers) -> tuple[np.ndarray, np.ndarray]:
        """(flow (H, W, 2) float32 pixels, NaN where invalid; valid (H, W) bool) of frame
        src.frame towards frame dst.frame (see the module docstring)."""
        H, W = src.depth.shape
        flow = np.full((H, W, 2), np.nan, np.float32)
        valid = np.zeros((H, W), bool)
        slope = depth_slope(dst.depth)
        if self._run(src.frame) == self._run(dst.frame):
            # the same camera pose: the static scene stays put; valid where dst shows it there too
            d0, d1 = src.depth, dst.depth
            with np.errstate(invalid="ignore"):
                agree = np.abs(d1 - d0) <= DEPTH_TOL_M + DEPTH_TOL_REL * d0 + slope
            still = (src.part == PART_SCENE) & (dst.part == PART_SCENE) & (agree | (np.isinf(d0) & np.isinf(d1)))
            flow[still] = 0.0
            valid |= still
            todo = (src.instance > 0) & (src.part >= 0)
        else:
            todo = src.part != PART_LENS
        ys, xs = np.nonzero(todo)
        if not len(ys):
            return flow, valid
        pts, alive = self.moved_points(src, ys, xs, dst.frame)
        uv, z = self.world.camera.project(pts, dst.frame)
        u, v = uv[:, 0], uv[:, 1]
        ok = alive & np.isfinite(u) & np.isfinite(v) & (u >= 0) & (u < W) & (v >= 0) & (v < H) & (z > 0)
        qy = np.clip(np.floor(np.nan_to_num(v)), 0, H - 1).astype(np.int64)
        qx = np.clip(np.floor(np.nan_to_num(u)), 0, W - 1).astype(np.int64)
        ok &= (dst.part[qy, qx] != PART_LENS) & (dst.instance[qy, qx] == src.instance[ys, xs])
        here = dst.depth[qy, qx].astype(np.float64)
        with np.errstate(invalid="ignore"):
            agree = np.abs(here - z) <= DEPTH_TOL_M + DEPTH_TOL_REL * z + slope[qy, qx]
        sky = np.isinf(src.depth[ys, xs])
        ok &= np.where(sky, np.isinf(here), agree)
        ys, xs = ys[ok], xs[ok]
        valid[ys, xs] = True
        flow[ys, xs, 0] = (u[ok] - (xs + 0.5)).astype(np.float32)
        flow[ys, xs, 1] = (v[ok] - (ys + 0.5)).astype(np.float32)
        return flow, valid

    def moved_points(self, src: FrameBuffers, ys: np.ndarray, xs: np.ndarray, t1: int
                     ) -> tuple[np.ndarray, np.ndarray]:
        """World points (N, 3) seen at pixels (ys, xs) of `src`, carried to frame t1 with the
        primitive each lies on, and whether each still exists then (its actor is present)."""
        w = self.world
        pts = self.points(src, ys, xs)
        alive = np.ones(len(ys), bool)
        inst, part = src.instance[ys, xs], src.part[ys, xs].astype(np.int64)
        obj = (inst > 0) & (part >= 0)
        for tid in np.unique(inst[obj]):
            sel = obj & (inst == tid)
            ai = self._actor_of.get(int(tid))
            actor = w.actors[ai] if ai is not None else None
            if actor is None or not bool(actor.present[min(t1, len(actor.present) - 1)]):
                alive[sel] = False
                continue
            last = actor.shapes.num_frames - 1
            M = part_motion(actor.shapes, min(src.frame, last), min(t1, last))[part[sel]]
            pts[sel] = np.einsum("nij,nj->ni", M[:, :, :3], pts[sel]) + M[:, :, 3]
        return pts, alive


def depth_slope(depth: np.ndarray) -> np.ndarray:
    """(H, W) how much depth changes to a neighbour along the smoother side of each axis (the
    larger of the two axes): the depth a surface may gain or lose within one pixel."""
    d = np.pad(depth.astype(np.float32), 1, mode="edge")
    c = d[1:-1, 1:-1]
    with np.errstate(invalid="ignore"):
        sx = np.minimum(np.abs(d[1:-1, :-2] - c), np.abs(d[1:-1, 2:] - c))
        sy = np.minimum(np.abs(d[:-2, 1:-1] - c), np.abs(d[2:, 1:-1] - c))
        out = np.maximum(sx, sy)
    return np.where(np.isfinite(out), out, 0.0).astype(np.float32)
