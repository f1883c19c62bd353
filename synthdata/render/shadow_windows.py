"""Screen windows that hold each primitive's sun shadow, compiled (numba, on the host for every
render device): the kernels test shadow rays only inside them (render/kernels.py `sun_shadows`).

Per (frame, primitive) two bounds are intersected: one from the primitive's bounding sphere
(centre c, radius r; its shadow on the ground is an ellipse with semi-axes r across and
r / sin(elevation) along the sun's azimuth, bounded by a ring of points that circumscribes it,
plus the sphere and its footprint, where raised receivers can be), one from its shape (a box's
or an ellipsoid's 8 corners, a capsule's two cubes around its end spheres: cast along the sun,
plus the corners and their footprints), which stays small where a big sphere would reach behind
the camera. Shadows are cast onto z = SHADOW_LIFT, the height above a surface that shadow rays
start from (under a low sun that shadow lies measurably nearer its caster than one on z = 0).
Where the summed-area table of raised receivers shows none inside the window, only the ground
shadow (the cast points alone) is kept: same shadow, far fewer pixels tested. Windows hold the
pixels whose centres lie within a pixel (PAD) of these bounds.

A point set wholly in front of the camera is bounded by its projections. With an undistorted
pinhole camera, a set wholly behind gets an empty window, and one crossing the camera plane the
image of its axis-aligned box cut at the near plane; otherwise (lens distortion) the whole image.
The moving lights' windows (`light_windows`: the hulls of their reach boxes, cut to the tiles of
receivers in range) use the same bounds; `lifted_points` makes the shadow rays' origins.
"""
from __future__ import annotations

import math

import numpy as np
import torch
from numba import njit

from synthdata.render.kernels import JIT
from synthdata.render.motion_blur import pack_camera, project_row
from synthdata.render.planes import stack_into, stored
from synthdata.render.raster import light_reach_boxes, reach_windows
from synthdata.world.geometry.camera_rows import unchanged
from synthdata.world.types import BOX, CAPSULE, CONE, FRUSTUM

NEAR = 1e-3
PAD = 1.0     # pixels the bounds grow by on every side (pixel centres within them are tested)
RING = 12
RING_SCALE = 1.0 / math.cos(math.pi / RING)     # a ring of RING points circumscribing its circle
# shadow rays start this far above a receiving surface (render/renderer.py, background.py): the
# shadow is cast onto that height, which under a low sun lies many pixels nearer the caster
# than its cast onto the ground (15 cm at 4 degrees of elevation)
SHADOW_LIFT = 0.01


def shadow_windows(shapes, sun: np.ndarray, camera, elevated: np.ndarray | None = None) -> np.ndarray:
    """Windows (T, P, 4) [x0, y0, x1, y1) containing each primitive's shadow; shapes (Shapes over
    T or 1 frames), sun the unit direction towards the sun, camera over T or 1 frames, elevated a
    summed-area table of raised receiver pixels ((H + 1, W + 1), or one per frame) or None."""
    T = max(shapes.num_frames, camera.num_frames)
    cams = np.stack([pack_camera(camera, t) for t in range(camera.num_frames)])
    plain = camera.model == "pinhole" and not camera.k1 and not camera.k2
    S = (np.zeros((0, 1, 1), np.int64) if elevated is None
         else np.ascontiguousarray(elevated if elevated.ndim == 3 else elevated[None], np.int64))
    out = np.empty((T, shapes.num_shapes, 4), np.int64)
    f64 = np.ascontiguousarray
    _windows(shapes.kind.astype(np.int64), f64(shapes.center, float), f64(shapes.end, float), f64(shapes.axes, float),
             f64(shapes.size, float), f64(sun, float), cams, plain, camera.width, camera.height, S, out)
    return out


def hull_windows(points: np.ndarray, camera) -> np.ndarray:
    """Windows (N, 4) bounding the images of the convex hulls of point sets (N, K, 3) seen by
    frame 0 of camera (the rules above)."""
    pts = np.ascontiguousarray(points, float)
    out = np.empty((pts.shape[0], 4), np.int64)
    plain = camera.model == "pinhole" and not camera.k1 and not camera.k2
    for i in range(pts.shape[0]):
        _bound(pts[i], pts.shape[1], pack_camera(camera, 0), plain, camera.width, camera.height, out[i])
    return out


_EDGES = np.array([(a, b) for a in range(8) for b in range(a + 1, 8) if bin(a ^ b).count("1") == 1])   # (12, 2)
_STEPS = np.linspace(0.0, 1.0, 9)


def light_windows(dyn, start: int, stop: int, cam, tiles, W: int, H: int) -> tuple[np.ndarray, np.ndarray]:
    """Screen windows of the moving lights dyn (render/shading.py vehicle_lights) in frames
    [start, stop) seen by cam: lwin (T, L, 4) each light's, x0, y0, x1, y1 (its cone's box for a
    spot light: the hull of its corners, or of points along its edges under radial distortion,
    where box edges bow; cut to the tiles of receiving points within its range: tiles(i), frame
    i's raster.receiver_tiles, asked only for frames with a light on), and win (T, 4) their union
    (empty where no light is on)."""
    on = (dyn.col.abs().sum(-1) > 0).cpu().numpy()
    pos, reach = dyn.pos.cpu().numpy(), dyn.range.cpu().numpy()
    axis, cos = dyn.axis.cpu().numpy(), dyn.cos.cpu().numpy()
    T, L = stop - start, len(reach)
    lwin = np.zeros((T, L, 4), np.int64)
    plain = not cam.k1 and not cam.k2
    for i in range(T):
        lit = np.flatnonzero(on[:, start + i])
        if not len(lit):
            continue
        box = light_reach_boxes(pos[lit, start + i], axis[lit, start + i], reach[lit], cos[lit])   # (n, 8, 3)
        if not plain:
            box = (box[:, _EDGES[:, 0], None] + _STEPS[None, None, :, None]
                   * (box[:, _EDGES[:, 1], None] - box[:, _EDGES[:, 0], None])).reshape(len(lit), -1, 3)
        hull = hull_windows(box, cam.frame(i) if cam.num_frames > 1 else cam)
        # its whole reach box can cross the camera's plane and cover the image: cut to the tiles
        near = reach_windows(*tiles(i), pos[lit, start + i], reach[lit], axis[lit, start + i], cos[lit], W, H)
        lwin[i, lit] = np.concatenate([np.maximum(hull[:, :2], near[:, :2]), np.minimum(hull[:, 2:], near[:, 2:])], 1)
    win = np.concatenate([lwin[..., :2].min(1, initial=W), lwin[..., 2:].max(1, initial=0)], 1) if L else \
        np.zeros((T, 4), np.int64)
    win[~(on[:, start:stop].any(0) if L else np.zeros(T, bool))] = 0
    return win, lwin


def lifted_points(store: dict, points: list[torch.Tensor]) -> torch.Tensor:
    """(N, H, W, 3) float32: the surface points (H, W, 3) of each of a chunk's backgrounds lifted by
    SHADOW_LIFT in z, where shadow rays start, into store["origin"] (a buffer its owner keeps,
    planes.stack_into). On the CPU each is copied and lifted in one pass (`_lift`); elsewhere
    stacked, then lifted. The same values either way: the float32 sum z + SHADOW_LIFT."""
    if points[0].device.type != "cpu":
        out = stack_into(store, "origin", points)
        out[..., 2].add_(SHADOW_LIFT)
        return out
    out = stored(store, "origin", (len(points),) + tuple(points[0].shape), points[0].dtype, points[0].device)
    for i, p in enumerate(points):
        _lift(p.numpy().reshape(-1, 3), out[i].numpy().reshape(-1, 3), np.float32(SHADOW_LIFT))
    return out


@njit(**JIT)
def _lift(src, dst, lift):
    for i in range(src.shape[0]):
        dst[i, 0], dst[i, 1], dst[i, 2] = src[i, 0], src[i, 1], src[i, 2] + lift


@njit(**JIT)
def _bound(pts, n, cam, plain, W, H, win):
    """Integer window (padded, clipped) of the image of the hull of pts[:n] into win (4,)."""
    inf = math.inf
    lo_u, lo_v, hi_u, hi_v = inf, inf, -inf, -inf
    front, behind = 0, 0
    for i in range(n):
        u, v, z = project_row(cam, pts[i, 0], pts[i, 1], pts[i, 2])
        if z > NEAR:
            front += 1
            lo_u, lo_v, hi_u, hi_v = min(lo_u, u), min(lo_v, v), max(hi_u, u), max(hi_v, v)
        else:
            behind += 1
    if behind and not plain:                  # crossing a distorted camera's plane: everything
        lo_u, lo_v, hi_u, hi_v = 0.0, 0.0, float(W), float(H)
    elif behind and not front:                # wholly behind: empty
        lo_u, lo_v, hi_u, hi_v = -1e6, -1e6, -1e6, -1e6
    elif behind:                              # crossing: the near-clipped axis-aligned box
        lo_u, lo_v, hi_u, hi_v = _near_clipped(pts, n, cam)
    b = (lo_u, lo_v, hi_u, hi_v)
    for k in range(4):
        x = min(max(b[k], -1e7), 1e7) if not math.isnan(b[k]) else 0.0
        lim = W if k % 2 == 0 else H
        x = math.ceil(x - 0.5 - PAD) if k < 2 else math.floor(x - 0.5 + PAD) + 1
        win[k] = int(min(max(x, 0), lim))


@njit(**JIT)
def _near_clipped(pts, n, cam):
    lo = np.empty(3)
    hi = np.empty(3)
    for a in range(3):
        lo[a], hi[a] = pts[0, a], pts[0, a]
        for i in range(1, n):
            lo[a], hi[a] = min(lo[a], pts[i, a]), max(hi[a], pts[i, a])
    corner = np.empty((8, 3))
    zc = np.empty(8)
    inf = math.inf
    lo_u, lo_v, hi_u, hi_v = inf, inf, -inf, -inf
    for c in range(8):
        for a in range(3):
            corner[c, a] = hi[a] if (c >> a) & 1 else lo[a]
        u, v, z = project_row(cam, corner[c, 0], corner[c, 1], corner[c, 2])
        zc[c] = z
        if z > NEAR:
            lo_u, lo_v, hi_u, hi_v = min(lo_u, u), min(lo_v, v), max(hi_u, u), max(hi_v, v)
    for a in range(8):
        for b in range(a + 1, 8):
            d = a ^ b
            if d & (d - 1) or (zc[a] - NEAR) * (zc[b] - NEAR) >= 0:
                continue                      # not a box edge, or it does not cross the plane
            f = (NEAR - zc[a]) / (zc[b] - zc[a])
            x = corner[a, 0] + f * (corner[b, 0] - corner[a, 0])
            y = corner[a, 1] + f * (corner[b, 1] - corner[a, 1])
            zz = corner[a, 2] + f * (corner[b, 2] - corner[a, 2])
            u, v, _ = project_row(cam, x, y, zz)
            lo_u, lo_v, hi_u, hi_v = min(lo_u, u), min(lo_v, v), max(hi_u, u), max(hi_v, v)
    return lo_u, lo_v, hi_u, hi_v


@njit(**JIT)
def _windows(kind, center, end, axes, size, sun, cams, plain, W, H, S, out):
    T, P = out.shape[0], out.shape[1]
    sz = max(sun[2], 1e-3)       # shadows are drawn for any sun above z = 0.02 (renderer, background): cast as far
    hn = math.sqrt(sun[0] * sun[0] + sun[1] * sun[1])
    ax, ay = (sun[0] / hn, sun[1] / hn) if hn > 1e-9 else (1.0, 0.0)
    cx_, cy_ = -ay, ax                                     # across the sun's azimuth
    sph = np.empty((3 * RING + 2, 3))
    shp = np.empty((48, 3))
    wins = np.empty((4, 4), np.int64)
    a_full, a_ground, b_full, b_ground = wins[0], wins[1], wins[2], wins[3]
    ring_cos, ring_sin = np.empty(RING), np.empty(RING)      # the ring's directions, once
    for i in range(RING):       # scaled: the polygon holds the circle (points on it would cut its arcs off)
        ring_cos[i] = math.cos(2 * math.pi * i / RING) * RING_SCALE
        ring_sin[i] = math.sin(2 * math.pi * i / RING) * RING_SCALE
    for t in range(T):
        ts = t if center.shape[0] > 1 else 0
        cam = cams[t if cams.shape[0] > 1 else 0]
        for p in range(P):
            if S.shape[0] <= 1 and unchanged(center, end, axes, size, cams, t, p):
                for i in range(4):
                    out[t, p, i] = out[t - 1, p, i]
                continue
            # the bounding sphere
            c0, c1, c2 = center[ts, p, 0], center[ts, p, 1], center[ts, p, 2]
            rounded = kind[p] == CAPSULE or kind[p] == CONE or kind[p] == FRUSTUM   # bounded by end spheres
            if rounded:
                e0, e1, e2 = end[ts, p, 0], end[ts, p, 1], end[ts, p, 2]
                r = 0.5 * math.sqrt((e0 - c0) ** 2 + (e1 - c1) ** 2 + (e2 - c2) ** 2) + (
                    size[ts, p, 0] if kind[p] == CAPSULE else max(size[ts, p, 0], size[ts, p, 1]))
                c0, c1, c2 = 0.5 * (c0 + e0), 0.5 * (c1 + e1), 0.5 * (c2 + e2)
            elif kind[p] == BOX:
                r = math.sqrt(size[ts, p, 0] ** 2 + size[ts, p, 1] ** 2 + size[ts, p, 2] ** 2)
            else:
                r = max(size[ts, p, 0], size[ts, p, 1], size[ts, p, 2])
            g0, g1 = c0 - (c2 - SHADOW_LIFT) / sz * sun[0], c1 - (c2 - SHADOW_LIFT) / sz * sun[1]
            for i in range(RING):
                ca, sa = ring_cos[i], ring_sin[i]
                sph[i, 0] = g0 + r * (ca * cx_ + sa * ax / sz)
                sph[i, 1] = g1 + r * (ca * cy_ + sa * ay / sz)
                sph[i, 2] = SHADOW_LIFT
                sph[RING + i, 0], sph[RING + i, 1], sph[RING + i, 2] = c0 + r * ca, c1 + r * sa, 0.0
                sph[2 * RING + i, 0], sph[2 * RING + i, 1], sph[2 * RING + i, 2] = c0 + r * ca, c1 + r * sa, c2
            sph[3 * RING, 0], sph[3 * RING, 1], sph[3 * RING, 2] = c0, c1, c2 + r
            sph[3 * RING + 1, 0], sph[3 * RING + 1, 1], sph[3 * RING + 1, 2] = c0, c1, c2 - r
            _bound(sph, 3 * RING + 2, cam, plain, W, H, a_full)
            _bound(sph, RING, cam, plain, W, H, a_ground)
            # the shape: corners (or a capsule's two cubes), cast, then themselves and footprints
            for j in range(16):
                s0, s1, s2 = (j & 1) * 2 - 1.0, ((j >> 1) & 1) * 2 - 1.0, ((j >> 2) & 1) * 2 - 1.0
                if rounded:
                    rr = size[ts, p, 0] if (kind[p] == CAPSULE or j < 8) else size[ts, p, 1]
                    src = center if j < 8 else end
                    x, y, z = src[ts, p, 0] + rr * s0, src[ts, p, 1] + rr * s1, src[ts, p, 2] + rr * s2
                else:
                    l0, l1, l2 = s0 * size[ts, p, 0], s1 * size[ts, p, 1], s2 * size[ts, p, 2]
                    x = center[ts, p, 0] + axes[ts, p, 0, 0] * l0 + axes[ts, p, 0, 1] * l1 + axes[ts, p, 0, 2] * l2
                    y = center[ts, p, 1] + axes[ts, p, 1, 0] * l0 + axes[ts, p, 1, 1] * l1 + axes[ts, p, 1, 2] * l2
                    z = center[ts, p, 2] + axes[ts, p, 2, 0] * l0 + axes[ts, p, 2, 1] * l1 + axes[ts, p, 2, 2] * l2
                zl = z - SHADOW_LIFT
                shp[j, 0], shp[j, 1], shp[j, 2] = x - zl / sz * sun[0], y - zl / sz * sun[1], SHADOW_LIFT
                shp[16 + j, 0], shp[16 + j, 1], shp[16 + j, 2] = x, y, z
                shp[32 + j, 0], shp[32 + j, 1], shp[32 + j, 2] = x, y, 0.0
            _bound(shp, 16, cam, plain, W, H, b_ground)
            _bound(shp, 48, cam, plain, W, H, b_full)
            full = (max(a_full[0], b_full[0]), max(a_full[1], b_full[1]),
                    min(a_full[2], b_full[2]), min(a_full[3], b_full[3]))
            use = full
            if S.shape[0] > 0:
                f = t if S.shape[0] > 1 else 0
                raised = (S[f, full[3], full[2]] - S[f, full[1], full[2]] - S[f, full[3], full[0]]
                          + S[f, full[1], full[0]])
                if raised <= 0:
                    use = (max(a_ground[0], b_ground[0]), max(a_ground[1], b_ground[1]),
                           min(a_ground[2], b_ground[2]), min(a_ground[3], b_ground[3]))
            out[t, p, 0], out[t, p, 1], out[t, p, 2], out[t, p, 3] = use


def window_extents(windows: np.ndarray) -> np.ndarray:
    """(T, 4) y0, y1, x0, x1: the box around each frame's non-empty windows of (T, P, 4) [x0, y0,
    x1, y1) (an empty box, all zeros, where there are none)."""
    x0, y0, x1, y1 = np.moveaxis(windows, -1, 0)
    some = (x1 > x0) & (y1 > y0)
    big = np.iinfo(np.int64).max
    out = np.stack([np.where(some, y0, big).min(1, initial=big), np.where(some, y1, 0).max(1, initial=0),
                    np.where(some, x0, big).min(1, initial=big), np.where(some, x1, 0).max(1, initial=0)], 1)
    out[~some.any(1)] = 0
    return out
