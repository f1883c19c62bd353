"""The static background of a camera that turns on its mount (shake, PTZ), rendered once.

A shaking or patrolling camera rotates about a fixed centre (world/geometry/camera_motion.py), so
what the static scene shows along a ray - ground texture and paint, static geometry, sky, static
shadows, wet reflections - depends on the ray's direction only, not on the pose. Rendering that
background for every new pose (two compiled passes over every pixel) cost about 90 ms a frame
at 640x480 under camera shake. Instead the clip's background is rendered once, as a reference
view: an undistorted pinhole camera at the same centre, turned to the poses' mean direction,
large enough to hold every pose's rays and sampled SUPERSAMPLE times finer than their finest
pixel. Each pose then takes its colours by bilinear interpolation at its own rays
(`resample_background`): the lit and shadowed images, the albedo (nearest for the material).

The geometry is not resampled: each pose still intersects its own rays with the ground and the
static scene (depth, world point, normal, receivers), so occlusion of actors, every label and the
dense ground truth stay exact. Only colours move, by less than a reference pixel; a test holds
the resampled images to the directly rendered ones.

On a CPU the resampling runs in the compiled loops below; on a GPU the CUDA kernel `resample`
(render/gpu.py) reads each pose with the same `reference_pixel`, `mix_channel` and
`reference_surface` (`resample_on_device`).

The reference is used when it costs less than rendering the poses it replaces (`plan_reference`):
at most GAIN of the poses' pixels (a resampled pose costs about half a rendered one), at most
MAX_FRAMES frames' worth and MAX_PIXELS pixels (what the clip keeps: 6 bytes a pixel, 26 where
vehicle lights read albedo and material), every pose within MAX_OFF_AXIS_DEG of its axis. It is
rendered in bands of a frame's pixels (render/background.py `render_reference`), so rendering it
takes no more memory than rendering a pose. Wide patrols and fixed cameras keep the direct renders.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from numba import njit

from synthdata.render.background_pass import ground_hit
from synthdata.render.inline import inlined
from synthdata.render.planes import kept, plane
from synthdata.world.geometry.camera import Camera, look_rotation
from synthdata.world.geometry.camera_kernels import turn, unit

SUPERSAMPLE = 1.5          # reference pixels per finest pose pixel, along each axis
MAX_FRAMES = 16.0          # a reference holds at most this many frames' pixels
MAX_PIXELS = 12_000_000    # ... and at most this many pixels
GAIN = 0.5                 # ... and at most this share of the pixels of the poses it replaces
MAX_OFF_AXIS_DEG = 60.0    # every pose ray within this angle of the reference's axis
MARGIN_PX = 3              # reference pixels around the poses' extent
EDGE_SAMPLES = 17          # samples along each image edge when finding the extent
# a pose read from the reference keeps no shadowed image: the renderer reads the shadowed colours
# where an actor's shadow falls (`shadow_colours`: the same values, for a few % of the pixels)
READ_SHADOWS_WHERE_CAST = True


@dataclass
class Reference:
    """A background rendered by `camera` (pinhole, one frame) kept on the host for resampling."""

    camera: Camera
    colours: np.ndarray               # (Hr, Wr, 6) uint8: lit rgb, then rgb with the sun blocked
    albedo: np.ndarray | None         # (Hr, Wr, 3) float32, kept where a pose needs it (light pools)
    material: np.ndarray | None       # (Hr, Wr) int64, likewise
    # the three on a GPU, sent at the first pose read there (`resample_on_device`; none is changed
    # after the reference is made, so nothing compares them again pose by pose)
    on_device: Any = field(default=None, repr=False, compare=False)


def plan_reference(camera: Camera) -> Camera | None:
    """The reference camera for a clip's moving camera, or None where rendering each pose costs
    less (a fixed camera, few poses, a patrol too wide for one pinhole view)."""
    if camera.is_static or not np.all(camera.C == camera.C[:1]):
        return None
    poses = np.unique(camera.pose_runs())
    W, H = camera.width, camera.height
    edge = np.linspace(0.0, 1.0, EDGE_SAMPLES)
    zero, one = np.zeros_like(edge), np.ones_like(edge)
    border = np.concatenate([np.stack([edge * W, zero], 1), np.stack([edge * W, one * H], 1),
                             np.stack([zero, edge * H], 1), np.stack([one * W, edge * H], 1)])
    grid = np.stack(np.meshgrid(np.linspace(0.5, W - 1.5, 9), np.linspace(0.5, H - 1.5, 9)), -1).reshape(-1, 2)
    uv = np.concatenate([border, grid, grid + (1.0, 0.0), grid + (0.0, 1.0)])
    rays = np.stack([camera.pixel_rays(int(t), uv) for t in poses])           # (P, N, 3) world
    fwd = camera.R[poses, 2].sum(0)
    fwd = fwd / np.linalg.norm(fwd)
    pan, tilt = math.degrees(math.atan2(fwd[0], fwd[1])), -math.degrees(math.asin(np.clip(fwd[2], -1, 1)))
    R = look_rotation(pan, tilt, 0.0)
    q = rays @ R.T
    if not np.all(q[..., 2] > math.cos(math.radians(MAX_OFF_AXIS_DEG))):
        return None
    x, y = q[..., 0] / q[..., 2], q[..., 1] / q[..., 2]
    n, m = len(border), len(grid)
    c = slice(n, n + m)
    step = np.minimum(np.hypot(x[:, n + m:n + 2 * m] - x[:, c], y[:, n + m:n + 2 * m] - y[:, c]),
                      np.hypot(x[:, n + 2 * m:] - x[:, c], y[:, n + 2 * m:] - y[:, c]))
    f = SUPERSAMPLE / float(step.min())
    x0, x1, y0, y1 = x.min(), x.max(), y.min(), y.max()
    Wr, Hr = int(math.ceil((x1 - x0) * f)) + 2 * MARGIN_PX, int(math.ceil((y1 - y0) * f)) + 2 * MARGIN_PX
    if Wr * Hr > min(MAX_FRAMES, GAIN * len(poses)) * W * H or Wr * Hr > MAX_PIXELS:
        return None
    return Camera(Wr, Hr, np.array([f]), np.array([f]), MARGIN_PX - x0 * f, MARGIN_PX - y0 * f, R[None].copy(),
                  np.asarray(camera.C[:1], float).copy())


def pose_geometry(camera: Camera, ref: Reference, rays: np.ndarray, take=np.empty,
                  max_range: float = 5000.0) -> tuple:
    """The rays and ground of a pose (camera's frame 0) that reads its colours from ref, in one
    pass over the rows: its world rays into rays (H, W, 3) float32 (`Camera.pixel_rays`), the
    ground's depth, points and mask (background_pass.ground_pass without texture) and each ray's
    reference pixel (`resample_background`'s `at`, a plane of the thread's, for the
    render_background call that follows). The same values as the three passes, which each read the
    rays again: a shaking camera's pose 6.3 -> 5.0 ms at 640x480. take(shape, dtype): where depth,
    points and mask are allocated. Returns (depth, point, ok, at)."""
    H, W = rays.shape[:2]
    d_cam = camera.camera_frame_rays(0)
    depth, ok, point = take((H, W), np.float32), take((H, W), np.bool_), take((H, W, 3), np.float32)
    at = plane("pose_cache.at", (H, W, 4), torch.int32, "cpu").numpy()
    Rr, fx, fy, cx, cy, Wr, Hr = _view(ref)
    w64, s, q = kept("pose_cache.pose_rows", (W,), lambda: (np.empty((3, W)), np.empty((6, W), np.float32),
                                                           np.empty((4, W), np.int32)))
    _pose_rows(d_cam, np.ascontiguousarray(camera.R[0], np.float64), np.asarray(camera.C[0], np.float32),
               np.asarray(camera.R[0][2], np.float32), np.float32(max_range), Rr[0, 0], Rr[0, 1], Rr[0, 2], Rr[1, 0],
               Rr[1, 1], Rr[1, 2], Rr[2, 0], Rr[2, 1], Rr[2, 2], fx, fy, cx, cy, Wr, Hr, rays, depth, point, ok, at,
               w64, s, q)
    return depth, point, ok, at


@njit(cache=True, nogil=True, error_model="numpy", _nrt=False)
def _pose_rows(d_cam, R, C, fwd, max_range, r00, r01, r02, r10, r11, r12, r20, r21, r22, fx, fy, cx, cy, Wr, Hr, rays,
               depth, point, ok, at, w64, s, q):
    """`pose_geometry` a row at a time, each step a flat loop over the row that vectorises (scratch
    w64 (3, W) float64, s (6, W) float32, q (4, W) int32): camera_kernels.rotate_unit's turn and
    unit (float64, stored as float32), background_pass.ground_hit from the stored rays, then
    `reference_pixel_of` from them, as the separate passes compute them."""
    H, W = d_cam.shape[0], d_cam.shape[1]
    c0, c1, c2, f0, f1, f2 = C[0], C[1], C[2], fwd[0], fwd[1], fwd[2]
    zero, inf = np.float32(0.0), np.float32(np.inf)
    for y in range(H):
        for x in range(W):
            w64[0, x], w64[1, x], w64[2, x] = turn(d_cam[y, x, 0], d_cam[y, x, 1], d_cam[y, x, 2], R)
        for x in range(W):
            a, b, c = unit(w64[0, x], w64[1, x], w64[2, x])
            s[0, x], s[1, x], s[2, x] = np.float32(a), np.float32(b), np.float32(c)
        for x in range(W):
            rays[y, x, 0], rays[y, x, 1], rays[y, x, 2] = s[0, x], s[1, x], s[2, x]
        for x in range(W):
            scale, t, gx, gy, gz, hit = ground_hit(s[0, x], s[1, x], s[2, x], c0, c1, c2, f0, f1, f2, max_range)
            depth[y, x] = t * scale if hit else inf
            s[3, x] = gx if hit else zero
            s[4, x] = gy if hit else zero
            s[5, x] = gz if hit else zero
            ok[y, x] = hit
        for x in range(W):
            point[y, x, 0], point[y, x, 1], point[y, x, 2] = s[3, x], s[4, x], s[5, x]
        for x in range(W):
            q[0, x], q[1, x], q[2, x], q[3, x] = reference_pixel_of(s[0, x], s[1, x], s[2, x], r00, r01, r02, r10, r11,
                                                                    r12, r20, r21, r22, fx, fy, cx, cy, Wr, Hr)
        for x in range(W):
            at[y, x, 0], at[y, x, 1], at[y, x, 2], at[y, x, 3] = q[0, x], q[1, x], q[2, x], q[3, x]


def resample_background(ref: Reference, rays: np.ndarray, take=np.empty, dark: bool = True,
                        at: np.ndarray | None = None) -> tuple:
    """(rgb, rgb_shadow (H, W, 3) uint8, albedo (H, W, 3) float32 | None, material (H, W) int64 |
    None) of a pose with world rays (H, W, 3), read from the reference at each ray's direction:
    colours bilinear (weights in 1/256 steps), the material nearest. take(shape, dtype): where
    the colours are allocated. dark=False: rgb_shadow is None, for a renderer that reads the
    shadowed colours only where a shadow falls (`shadow_colours`). at: the rays' reference pixels
    when `pose_geometry` found them already."""
    H, W = rays.shape[:2]
    rgb = take((H, W, 3), np.uint8)
    rgb_shadow = take((H, W, 3), np.uint8) if dark else None
    if at is None:
        # per pixel: column, row, weight right, weight down (scratch, kept by the thread)
        at = plane("pose_cache.at", (H, W, 4), torch.int32, "cpu").numpy()
        _coordinates(np.ascontiguousarray(rays, np.float32), *_view(ref), at)
    if rgb_shadow is None:
        _bilinear_lit(ref.colours, at, rgb)
    else:
        _bilinear(ref.colours, at, rgb, rgb_shadow)
    if ref.albedo is None:
        return rgb, rgb_shadow, None, None
    albedo, material = np.empty((H, W, 3), np.float32), np.empty((H, W), np.int64)
    _surfaces(ref.albedo, ref.material, at, albedo, material)
    return rgb, rgb_shadow, albedo, material


def resample_on_device(k, ref: Reference, rays: torch.Tensor) -> tuple:
    """`resample_background` by the CUDA kernels `k` (render/gpu.py `resample`), on rays' device:
    (rgb, rgb_shadow (H, W, 3) uint8, albedo (H, W, 3) float32 | None, material (H, W) int64 |
    None) tensors there. The reference's arrays are sent to the device once, at its first pose."""
    H, W = rays.shape[:2]
    dev = rays.device
    surfaces = ref.albedo is not None
    size = (H, W) if surfaces else (1, 1)
    rgb, dark = (torch.empty((H, W, 3), dtype=torch.uint8, device=dev) for _ in range(2))
    albedo = torch.empty(size + (3,), dtype=torch.float32, device=dev)
    material = torch.empty(size, dtype=torch.int64, device=dev)
    if ref.on_device is None:
        none = (np.zeros((1, 1, 3), np.float32), np.zeros((1, 1), np.int64))
        ref.on_device = tuple(k.to_device(a) for a in ((ref.colours, ref.albedo, ref.material) if surfaces
                                                       else (ref.colours, *none)))
    k.resample(*ref.on_device, k.array(rays.float().contiguous()), *_view(ref), surfaces, k.array(rgb), k.array(dark),
               k.array(albedo), k.array(material))
    return rgb, dark, albedo if surfaces else None, material if surfaces else None


def shadow_colours(ref: Reference, shadowed: np.ndarray, rays: np.ndarray, rgb: np.ndarray) -> None:
    """rgb (T, H, W, 3) uint8 takes the reference's shadowed colour wherever shadowed (T, H, W)
    is set, along rays (T or 1, H, W, 3) float32: the very values `resample_background` gives
    rgb_shadow there, read for the pixels a shadow covers only."""
    _shadowed(shadowed, np.ascontiguousarray(rays, np.float32), *_view(ref), ref.colours, rgb)


def _view(ref: Reference) -> tuple:
    cam = ref.camera
    return (np.ascontiguousarray(cam.R[0], np.float32), np.float32(cam.fx[0]), np.float32(cam.fy[0]),
            np.float32(cam.cx - 0.5), np.float32(cam.cy - 0.5), cam.width, cam.height)


@inlined
def reference_pixel(dx, dy, dz, R, fx, fy, cx, cy, Wr, Hr):
    """A ray's reference pixel (the top-left of its 2x2 neighbourhood) and bilinear weights in
    1/256 steps: column, row, weight right, weight down."""
    return reference_pixel_of(dx, dy, dz, R[0, 0], R[0, 1], R[0, 2], R[1, 0], R[1, 1], R[1, 2], R[2, 0], R[2, 1],
                              R[2, 2], fx, fy, cx, cy, Wr, Hr)


@inlined
def reference_pixel_of(dx, dy, dz, r00, r01, r02, r10, r11, r12, r20, r21, r22, fx, fy, cx, cy, Wr, Hr):
    """`reference_pixel` with the reference's rotation as nine values (a loop that reads them
    once vectorises: `_coordinates`)."""
    tiny, zero = np.float32(1e-9), np.float32(0.0)
    top_u, top_v = np.float32(Wr - 1), np.float32(Hr - 1)
    qz = max(r20 * dx + r21 * dy + r22 * dz, tiny)
    u = (r00 * dx + r01 * dy + r02 * dz) * fx / qz + cx
    v = (r10 * dx + r11 * dy + r12 * dz) * fy / qz + cy
    u, v = min(max(u, zero), top_u), min(max(v, zero), top_v)
    i, j = min(np.int32(u), Wr - 2), min(np.int32(v), Hr - 2)
    a = np.int32((u - np.float32(i)) * np.float32(256.0) + np.float32(0.5))
    b = np.int32((v - np.float32(j)) * np.float32(256.0) + np.float32(0.5))
    return i, j, a, b


@inlined
def mix_channel(src, i, j, a, b, c):
    """Channel c of src (Hr, Wr, 6) uint8 at (i, j) + (a, b) / 256, rounded."""
    w00, w01, w10, w11 = (256 - a) * (256 - b), a * (256 - b), (256 - a) * b, a * b
    # unsigned indices (i, j >= 0): numba would wrap signed ones at every read (15 % slower)
    I, J, I1, J1 = np.uint64(i), np.uint64(j), np.uint64(i + 1), np.uint64(j + 1)
    return np.uint8((w00 * np.int32(src[J, I, c]) + w01 * np.int32(src[J, I1, c])
                     + w10 * np.int32(src[J1, I, c]) + w11 * np.int32(src[J1, I1, c]) + 32768) >> 16)


def _coordinates(rays, R, fx, fy, cx, cy, Wr, Hr, at):
    """Each ray's `reference_pixel` into at (H, W, 4) int32."""
    W = rays.shape[1]
    _coordinates_rows(rays, R[0, 0], R[0, 1], R[0, 2], R[1, 0], R[1, 1], R[1, 2], R[2, 0], R[2, 1], R[2, 2], fx, fy,
                      cx, cy, Wr, Hr, at, *kept("pose_cache.rows", (W,), lambda: (np.empty((3, W), np.float32),
                                                                             np.empty((4, W), np.int32))))


@njit(cache=True, nogil=True, error_model="numpy")
def _coordinates_rows(rays, r00, r01, r02, r10, r11, r12, r20, r21, r22, fx, fy, cx, cy, Wr, Hr, at, d, q):
    """`_coordinates` a row at a time: its rays split into d (3, W), their `reference_pixel_of`
    into q (4, W) in a loop that vectorises (the rotation passed as values, read once), then
    interleaved into at: 3.1 -> 1.6 ms a 640x480 pose, the same values."""
    H, W = rays.shape[0], rays.shape[1]
    for y in range(H):
        for x in range(W):
            d[0, x], d[1, x], d[2, x] = rays[y, x, 0], rays[y, x, 1], rays[y, x, 2]
        for x in range(W):
            q[0, x], q[1, x], q[2, x], q[3, x] = reference_pixel_of(d[0, x], d[1, x], d[2, x], r00, r01, r02, r10, r11,
                                                                    r12, r20, r21, r22, fx, fy, cx, cy, Wr, Hr)
        for x in range(W):
            at[y, x, 0], at[y, x, 1], at[y, x, 2], at[y, x, 3] = q[0, x], q[1, x], q[2, x], q[3, x]


@njit(cache=True, nogil=True)
def _bilinear(src, at, lit, dark):
    """src (Hr, Wr, 6): lit rgb into `lit`, the shadowed rgb into `dark` (both (H, W, 3))."""
    H, W = lit.shape[:2]
    for y in range(H):
        for x in range(W):
            i, j, a, b = at[y, x, 0], at[y, x, 1], at[y, x, 2], at[y, x, 3]
            w00, w01, w10, w11 = (256 - a) * (256 - b), a * (256 - b), (256 - a) * b, a * b
            for c in range(6):
                v = np.uint8((w00 * np.int32(src[j, i, c]) + w01 * np.int32(src[j, i + 1, c])
                              + w10 * np.int32(src[j + 1, i, c]) + w11 * np.int32(src[j + 1, i + 1, c]) + 32768) >> 16)
                if c < 3:
                    lit[y, x, c] = v
                else:
                    dark[y, x, c - 3] = v


@njit(cache=True, nogil=True)
def _bilinear_lit(src, at, lit):
    """`_bilinear`'s lit rgb alone."""
    H, W = lit.shape[:2]
    for y in range(H):
        for x in range(W):
            i, j, a, b = at[y, x, 0], at[y, x, 1], at[y, x, 2], at[y, x, 3]
            for c in range(3):
                lit[y, x, c] = mix_channel(src, i, j, a, b, c)


@njit(cache=True, nogil=True, error_model="numpy")
def _shadowed(shadowed, rays, R, fx, fy, cx, cy, Wr, Hr, src, rgb):
    T, H, W = shadowed.shape
    for t in range(T):
        tr = t if rays.shape[0] > 1 else 0
        for y in range(H):
            for x in range(W):
                if shadowed[t, y, x]:
                    i, j, a, b = reference_pixel(rays[tr, y, x, 0], rays[tr, y, x, 1], rays[tr, y, x, 2], R, fx, fy,
                                                 cx, cy, Wr, Hr)
                    for c in range(3):
                        rgb[t, y, x, c] = mix_channel(src, i, j, a, b, c + 3)


@inlined
def reference_surface(src_albedo, src_material, i, j, a, b, albedo, material, y, x):
    """Pixel (y, x) of albedo (bilinear) and material (nearest) read from the reference at
    (i, j) + (a, b) / 256."""
    s = np.float32(1.0 / 65536.0)
    w00, w01 = np.float32((256 - a) * (256 - b)) * s, np.float32(a * (256 - b)) * s
    w10, w11 = np.float32((256 - a) * b) * s, np.float32(a * b) * s
    for c in range(3):
        albedo[y, x, c] = (w00 * src_albedo[j, i, c] + w01 * src_albedo[j, i + 1, c]
                           + w10 * src_albedo[j + 1, i, c] + w11 * src_albedo[j + 1, i + 1, c])
    material[y, x] = src_material[j + (1 if b >= 128 else 0), i + (1 if a >= 128 else 0)]


@njit(cache=True, nogil=True)
def _surfaces(src_albedo, src_material, at, albedo, material):
    H, W = material.shape
    for y in range(H):
        for x in range(W):
            reference_surface(src_albedo, src_material, at[y, x, 0], at[y, x, 1], at[y, x, 2], at[y, x, 3], albedo,
                              material, y, x)
