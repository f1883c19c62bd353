"""Camera model: pinhole with radial distortion (Brown k1, k2) or equidistant fisheye.

Conventions
- World: z up, metres. Camera frame (OpenCV): x right, y down, z forward.
- Pixels: column u, row v, origin at the top-left corner of the image; pixel (row i, col j)
  covers [j, j+1) x [i, i+1) and its centre is (j + 0.5, i + 0.5).
- Pose per frame: R (T, 3, 3) world-to-camera rotation and C (T, 3) camera centre, so
  p_cam = R @ (p_world - C). Intrinsics fx, fy per frame (T,) allow zoom; an optional per-frame
  skew (T,) (OpenCV K[0, 1], pixels) models rolling-shutter shear: u = fx x + skew y + cx.
- `pan_deg` is the yaw of the viewing direction (0 looks along +y, positive turns towards +x),
  `tilt_deg` the downward pitch from horizontal, `roll_deg` the rotation about the optical axis.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba.extending import register_jitable

from synthdata.world.geometry.camera_kernels import (brown_grid_rays, mirror_quadrant, rotate_unit,
                                                    undistort_points)


@register_jitable
def fold_sq(k1, k2):
    """Where the radial distortion stops growing: the smallest u > 0 (r^2 for Brown, theta^2 for
    the fisheye) with d/dr [r (1 + k1 u + k2 u^2)] = 1 + 3 k1 u + 5 k2 u^2 = 0; inf if none.
    Past it the polynomial folds back (and later turns negative), which would map points far
    outside the view into the image; the model holds its scale from there on instead, so the
    mapping keeps growing (and an image that reaches past it still has one ray a pixel)."""
    if k2 == 0.0:
        return -1.0 / (3.0 * k1) if k1 < 0.0 else math.inf
    disc = 9.0 * k1 * k1 - 20.0 * k2
    if disc < 0.0:
        return math.inf
    q = math.sqrt(disc)
    a, b = (-3.0 * k1 - q) / (10.0 * k2), (-3.0 * k1 + q) / (10.0 * k2)
    lo, hi = min(a, b), max(a, b)
    return lo if lo > 0.0 else (hi if hi > 0.0 else math.inf)


def look_rotation(pan_deg: float, tilt_deg: float, roll_deg: float = 0.0) -> np.ndarray:
    """World-to-camera rotation for a camera with the given pan, tilt (down) and roll."""
    p, t, r = np.radians([pan_deg, tilt_deg, roll_deg])
    forward = np.array([np.sin(p) * np.cos(t), np.cos(p) * np.cos(t), -np.sin(t)])
    right = np.array([np.cos(p), -np.sin(p), 0.0])
    down = np.cross(forward, right)
    right_r = np.cos(r) * right + np.sin(r) * down
    down_r = -np.sin(r) * right + np.cos(r) * down
    return np.stack([right_r, down_r, forward])


# camera-frame rays of every pixel, by intrinsics (a PTZ patrol or a shaking camera keeps them)
_RAYS: dict[tuple, np.ndarray] = {}

@dataclass
class Camera:
    width: int
    height: int
    fx: np.ndarray            # (T,) focal length in pixels
    fy: np.ndarray            # (T,)
    cx: float
    cy: float
    R: np.ndarray             # (T, 3, 3) world -> camera
    C: np.ndarray             # (T, 3) camera centre, world metres
    k1: float = 0.0
    k2: float = 0.0
    model: str = "pinhole"    # "pinhole" (Brown radial) | "fisheye" (equidistant, OpenCV style)
    skew: np.ndarray | None = None   # (T,) K[0, 1] in pixels (rolling-shutter shear), None = 0

    @staticmethod
    def from_pose(width: int, height: int, *, position: tuple[float, float, float], pan_deg: float,
                  tilt_deg: float, roll_deg: float = 0.0, hfov_deg: float | None = None,
                  focal_px: float | None = None, k1: float = 0.0, k2: float = 0.0,
                  model: str = "pinhole", num_frames: int = 1) -> "Camera":
        """A fixed camera; give either the horizontal field of view or the focal length."""
        if focal_px is None:
            if hfov_deg is None:
                raise ValueError("give hfov_deg or focal_px")
            if model == "fisheye":
                focal_px = (width / 2) / np.radians(hfov_deg / 2)
            else:
                focal_px = (width / 2) / np.tan(np.radians(hfov_deg / 2))
        R = look_rotation(pan_deg, tilt_deg, roll_deg)
        return Camera(width, height, np.full(num_frames, float(focal_px)), np.full(num_frames, float(focal_px)),
                      width / 2.0, height / 2.0, np.broadcast_to(R, (num_frames, 3, 3)).copy(),
                      np.broadcast_to(np.asarray(position, float), (num_frames, 3)).copy(), k1, k2, model)

    @property
    def num_frames(self) -> int:
        return self.R.shape[0]

    @property
    def is_static(self) -> bool:
        return bool(np.all(self.R == self.R[:1]) and np.all(self.C == self.C[:1])
                    and np.all(self.fx == self.fx[:1]) and np.all(self.fy == self.fy[:1])
                    and (self.skew is None or np.all(self.skew == self.skew[:1])))

    def pose_runs(self) -> np.ndarray:
        """(T,) int: for each frame, the first frame of the run of consecutive frames with the
        same pose and intrinsics (a PTZ dwell is one run; a static camera is one run)."""
        T = self.num_frames
        same = np.ones(T, bool)
        if T > 1:
            same[1:] = (np.all(self.R[1:] == self.R[:-1], axis=(1, 2)) & np.all(self.C[1:] == self.C[:-1], axis=1)
                        & (self.fx[1:] == self.fx[:-1]) & (self.fy[1:] == self.fy[:-1]))
            if self.skew is not None:
                same[1:] &= self.skew[1:] == self.skew[:-1]
        same[0] = False
        return np.maximum.accumulate(np.where(same, 0, np.arange(T)))

    def _skew(self, s: slice) -> np.ndarray | None:
        return None if self.skew is None else self.skew[s]

    def frame(self, t: int) -> "Camera":
        t = min(t, self.num_frames - 1)
        s = slice(t, t + 1)
        return Camera(self.width, self.height, self.fx[s], self.fy[s], self.cx, self.cy, self.R[s], self.C[s],
                      self.k1, self.k2, self.model, self._skew(s))

    def frames(self, start: int, stop: int) -> "Camera":
        if self.num_frames == 1:
            return self
        s = slice(start, stop)
        return Camera(self.width, self.height, self.fx[s], self.fy[s], self.cx, self.cy, self.R[s], self.C[s],
                      self.k1, self.k2, self.model, self._skew(s))

    # ---- distortion on normalised coordinates -------------------------------------------
    def distort(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Ideal normalised coordinates (X/Z, Y/Z) -> distorted normalised coordinates (the
        distortion's scale held past its fold, `fold_sq`)."""
        r2 = x * x + y * y
        fold = fold_sq(float(self.k1), float(self.k2))      # past it the scale holds
        if self.model == "fisheye":
            r = np.sqrt(r2)
            th = np.arctan(r)
            u = np.minimum(th * th, fold)
            thd = th * (1 + self.k1 * u + self.k2 * u * u)
            scale = np.where(r > 1e-12, thd / np.maximum(r, 1e-12), 1.0)
        else:
            u = np.minimum(r2, fold)
            scale = 1 + self.k1 * u + self.k2 * u * u
        return x * scale, y * scale

    def undistort(self, xd: np.ndarray, yd: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Inverse of `distort` (iterative); fisheye returns the ray's tan-angle coordinates."""
        rd = np.sqrt(xd * xd + yd * yd)
        if self.model == "fisheye":
            th = np.clip(self._fisheye_angle(rd), 0, np.pi / 2 - 1e-6)
            scale = np.where(rd > 1e-12, np.tan(th) / np.maximum(rd, 1e-12), 1.0)
            return xd * scale, yd * scale
        if self.k1 == 0 and self.k2 == 0:
            return xd, yd
        xd, yd = np.broadcast_arrays(np.asarray(xd, float), np.asarray(yd, float))
        x, y = np.empty(xd.shape), np.empty(xd.shape)
        undistort_points(np.ascontiguousarray(xd).reshape(-1), np.ascontiguousarray(yd).reshape(-1),
                          float(self.k1), float(self.k2), x.reshape(-1), y.reshape(-1))
        fold = fold_sq(float(self.k1), float(self.k2))
        if math.isfinite(fold):         # near and past the fold the iteration does not settle
            x, y = self._undistort_past_fold(xd, yd, x, y, fold)
        return x, y

    def _undistort_past_fold(self, xd, yd, x, y, fold):
        """Where the fixed-point iteration left r * scale(r) away from the distorted radius (an
        image reaching the distortion's fold, where it stops converging), solve it by bisection
        on the model held past the fold (`distort`), which grows monotonically."""
        rd = np.sqrt(xd * xd + yd * yd)
        r, off = self._held_radius(rd, np.sqrt(x * x + y * y), fold)
        if not np.any(off):
            return x, y
        x, y = x.copy(), y.copy()
        ratio = np.where(rd[off] > 0, r[off] / np.maximum(rd[off], 1e-300), 1.0)
        x[off], y[off] = xd[off] * ratio, yd[off] * ratio
        return x, y

    def _fisheye_angle(self, rd: np.ndarray) -> np.ndarray:
        """The off-axis angle th of distorted radii rd: th (1 + k1 u + k2 u^2) = rd with
        u = min(th^2, fold) (`distort`'s model, held past its fold); Newton, then bisection
        where Newton did not settle (near and past the fold)."""
        k1, k2 = self.k1, self.k2
        th = rd.copy()
        for _ in range(20):   # Newton on th * (1 + k1 th^2 + k2 th^4) = rd
            th2 = th * th
            f = th * (1 + k1 * th2 + k2 * th2 * th2) - rd
            df = 1 + 3 * k1 * th2 + 5 * k2 * th2 * th2
            th = th - f / np.where(np.abs(df) > 1e-12, df, 1e-12)
        fold = fold_sq(float(k1), float(k2))
        return self._held_radius(rd, th, fold)[0] if math.isfinite(fold) else th

    def _held_radius(self, rd: np.ndarray, r: np.ndarray, fold: float) -> tuple[np.ndarray, np.ndarray]:
        """r with r (1 + k1 u + k2 u^2) = rd, u = min(r^2, fold), and where it was solved here:
        `r` where it already holds (to 1e-12 relative), else by bisection. The held model grows
        monotonically and its scale is smallest at the fold, so the root lies in
        [0, rd / scale(fold)]."""
        k1, k2 = self.k1, self.k2
        u = np.minimum(r * r, fold)
        off = ~(np.abs(r * (1 + k1 * u + k2 * u * u) - rd) <= 1e-12 * np.maximum(rd, 1.0))   # nan is off
        if not np.any(off):
            return r, off
        target = rd[off]
        lo = np.zeros_like(target)
        hi = target / (1 + k1 * fold + k2 * fold * fold) + 1e-9
        for _ in range(64):
            mid = 0.5 * (lo + hi)
            um = np.minimum(mid * mid, fold)
            below = mid * (1 + k1 * um + k2 * um * um) < target
            lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
        r = np.array(r, dtype=float, copy=True)
        r[off] = 0.5 * (lo + hi)
        return r, off

    # ---- projection ---------------------------------------------------------------------
    def to_camera(self, points: np.ndarray, t: int | None = None) -> np.ndarray:
        """World points (..., 3) -> camera coordinates. With t=None, points must be (T, ..., 3)
        with T matching the camera (or the camera static)."""
        if t is not None:
            R, C = self.R[min(t, self.num_frames - 1)], self.C[min(t, self.num_frames - 1)]
            return (points - C) @ R.T
        extra = points.ndim - 2
        R = self.R.reshape(self.R.shape[:1] + (1,) * extra + (3, 3))
        C = self.C.reshape(self.C.shape[:1] + (1,) * extra + (3,))
        return np.einsum("...ij,...j->...i", R, points - C)

    def project(self, points: np.ndarray, t: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """World points -> (uv pixels (..., 2), depth along the optical axis (...,)).

        Points behind the camera (depth <= 0) get uv = nan. See `to_camera` for t."""
        pc = self.to_camera(np.asarray(points, float), t)
        z = pc[..., 2]
        ok = z > 1e-6
        zs = np.where(ok, z, 1.0)
        x, y = self.distort(pc[..., 0] / zs, pc[..., 1] / zs)
        sk = self.skew if self.skew is not None else np.zeros_like(self.fx)
        if t is not None:
            fx, fy = self.fx[min(t, self.num_frames - 1)], self.fy[min(t, self.num_frames - 1)]
            sk = sk[min(t, self.num_frames - 1)]
        else:
            extra = pc.ndim - 2
            fx = self.fx.reshape(self.fx.shape + (1,) * extra)
            fy = self.fy.reshape(self.fy.shape + (1,) * extra)
            sk = sk.reshape(sk.shape + (1,) * extra)
        u = np.where(ok, fx * x + sk * y + self.cx, np.nan)
        v = np.where(ok, fy * y + self.cy, np.nan)
        return np.stack([u, v], axis=-1), z

    def pixel_rays(self, t: int = 0, uv: np.ndarray | None = None, dtype=np.float64,
                   out: np.ndarray | None = None, keep: bool = True) -> np.ndarray:
        """Unit ray directions in world coordinates. Default: every pixel centre, (H, W, 3), in
        float64 or (rounded from it) `dtype`, into `out` (H, W, 3) of that dtype if given.
        keep=False: the camera-frame rays are not kept for later calls (a one-off camera)."""
        t = min(t, self.num_frames - 1)
        if uv is not None:
            d = self._camera_rays(t, uv[..., 0], uv[..., 1]) @ self.R[t]     # camera -> world: R^T d, row-wise
            return (d / np.linalg.norm(d, axis=-1, keepdims=True)).astype(dtype, copy=False)
        d_cam = self.camera_frame_rays(t, keep)
        d = np.empty(d_cam.shape, dtype) if out is None else out
        rotate_unit(d_cam.reshape(-1, 3), np.ascontiguousarray(self.R[t], np.float64), d.reshape(-1, 3))
        return d

    def ray_key(self, t: int = 0) -> tuple:
        """What frame t's camera-frame rays depend on (size, focal lengths, principal point, lens,
        skew): equal tuples, equal rays."""
        t = min(t, self.num_frames - 1)
        return (self.width, self.height, float(self.fx[t]), float(self.fy[t]), self.cx, self.cy, self.k1, self.k2,
                self.model, 0.0 if self.skew is None else float(self.skew[t]))

    def camera_frame_rays(self, t: int = 0, keep: bool = True) -> np.ndarray:
        """Ray directions of every pixel centre in the camera's frame (H, W, 3), not unit (z = 1
        within 89 degrees of the axis); read-only, kept for the last few intrinsics (keep=False:
        computed, not kept)."""
        key = self.ray_key(t)
        d_cam = _RAYS.get(key)
        if d_cam is None:
            d_cam = self._all_camera_rays(min(t, self.num_frames - 1), key[-1])
            if not keep:
                return d_cam
            if len(_RAYS) >= 8:
                _RAYS.pop(next(iter(_RAYS)))
            d_cam.flags.writeable = False
            _RAYS[key] = d_cam
        return d_cam

    def _camera_rays(self, t: int, uu: np.ndarray, vv: np.ndarray) -> np.ndarray:
        """Camera-frame ray directions (..., 3) (z = 1 within 89 degrees of the axis) of pixel
        positions uu, vv."""
        yd = (vv - self.cy) / self.fy[t]
        xd = (uu - self.cx - (0.0 if self.skew is None else self.skew[t]) * yd) / self.fx[t]
        x, y = self.undistort(xd, yd)
        d_cam = np.stack([x, y, np.ones_like(x)], axis=-1)
        if self.model == "fisheye":     # past 90 degrees off axis (hfov up to 200): from the angle itself
            d_cam = self._wide_fisheye_rays(xd, yd, d_cam)
        return d_cam

    def _all_camera_rays(self, t: int, skew: float) -> np.ndarray:
        """`_camera_rays` of every pixel centre, (H, W, 3). With the principal point at the image
        centre and no skew the lens is symmetric about both image axes, and pixel centres mirror
        exactly (u - cx of column j is minus that of column W - 1 - j, in floating point too), so
        one quadrant is computed and mirrored: the same bits as computing every pixel."""
        W, H = self.width, self.height
        if not (self.cx == W / 2 and self.cy == H / 2 and skew == 0.0):
            return self._grid_rays(t, W, H)
        w2, h2 = (W + 1) // 2, (H + 1) // 2       # the quadrant holds an odd size's middle row/column
        out = np.empty((H, W, 3))
        mirror_quadrant(self._grid_rays(t, w2, h2), out)
        return out

    def _grid_rays(self, t: int, W: int, H: int) -> np.ndarray:
        """`_camera_rays` of the pixel centres of the top-left W x H pixels, (H, W, 3): for the
        Brown model compiled (`brown_grid_rays`: no whole-array temporaries, which cost more in
        fresh pages than in arithmetic), the same bits; where its iteration did not settle (an
        image reaching the distortion's fold) and for the fisheye, by `_camera_rays`."""
        if self.model != "fisheye":
            out = np.empty((H, W, 3))
            skew = 0.0 if self.skew is None else float(self.skew[t])
            if brown_grid_rays(float(self.cx), float(self.cy), float(self.fx[t]), float(self.fy[t]), skew,
                                float(self.k1), float(self.k2), fold_sq(float(self.k1), float(self.k2)), out):
                return out
        uu, vv = np.meshgrid(np.arange(W) + 0.5, np.arange(H) + 0.5)
        return np.ascontiguousarray(self._camera_rays(t, uu, vv))

    def _wide_fisheye_rays(self, xd: np.ndarray, yd: np.ndarray, d_cam: np.ndarray) -> np.ndarray:
        """Camera-frame ray directions of a fisheye's distorted coordinates; `d_cam` (the
        tan-angle rays) is kept within 89 degrees of the axis, beyond that the ray is built from
        its angle th (sin th, cos th), which also holds past 90 degrees."""
        rd = np.sqrt(xd * xd + yd * yd)
        th = self._fisheye_angle(rd)        # unclipped
        wide = th > np.radians(89.0)
        if not np.any(wide):
            return d_cam
        s = np.sin(th) / np.maximum(rd, 1e-12)
        angled = np.stack([xd * s, yd * s, np.cos(th)], axis=-1)
        return np.where(wide[..., None], angled, d_cam)

    def ground_point(self, uv: np.ndarray, t: int = 0) -> np.ndarray:
        """Back-project pixels onto the ground plane z = 0 -> (..., 3); nan above the horizon."""
        d = self.pixel_rays(t, uv)
        C = self.C[min(t, self.num_frames - 1)]
        with np.errstate(divide="ignore", invalid="ignore"):
            s = -C[2] / d[..., 2]
        s = np.where((d[..., 2] < -1e-9) & (s > 0), s, np.nan)
        return C + s[..., None] * d

    # ---- export ---------------------------------------------------------------------------
    def intrinsics(self, t: int = 0) -> dict:
        t = min(t, self.num_frames - 1)
        return {"fx": float(self.fx[t]), "fy": float(self.fy[t]), "cx": float(self.cx), "cy": float(self.cy),
                "k1": float(self.k1), "k2": float(self.k2), "camera_model": self.model,
                "skew": 0.0 if self.skew is None else float(self.skew[t])}

    def extrinsics(self, t: int = 0) -> dict:
        """R (row-major 9) world->camera and t = -R C (OpenCV convention), camera centre C."""
        t = min(t, self.num_frames - 1)
        R, C = self.R[t], self.C[t]
        return {"R": [float(x) for x in R.reshape(-1)], "t": [float(x) for x in (-R @ C)],
                "cam_x": float(C[0]), "cam_y": float(C[1]), "cam_z": float(C[2])}
