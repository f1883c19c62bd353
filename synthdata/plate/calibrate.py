"""Camera calibration of a plate: from ground correspondences, from standing people, or typed.

The result is a `Calibration`: camera centre (metres, z up, ground z = 0), pan/tilt/roll in the
conventions of world/geometry/camera.py (pan 0 looks along +y, tilt is the downward pitch), horizontal
field of view and radial k1; square pixels and a centred principal point throughout.

- correspondences: >= 4 image points (u, v pixels, top-left origin) with their ground points
  (x, y metres, a right-handed frame with z up). The homography ground -> image gives the focal
  length in closed form (the ground axes stay orthogonal and equally scaled) and a first pose;
  Levenberg-Marquardt on the reprojection error refines all seven values.
- people: head and foot pixels of >= 3 people standing upright, of an assumed height. The
  camera stands at (0, 0, height) looking along +y; height, tilt, roll and the focal length are
  fitted so that each head projects where it was marked above its foot.
- values: height, tilt, roll, hFOV and k1 as typed.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from synthdata.errors import BadInput
from synthdata.world.geometry.camera import Camera, look_rotation


@dataclass
class Calibration:
    method: str                       # correspondences | people | values
    position_m: list[float]           # camera centre x, y, z (z = height above the ground)
    pan_deg: float
    tilt_deg: float
    roll_deg: float
    hfov_deg: float
    k1: float = 0.0
    reprojection_px: float | None = None     # RMS over the given points (None for typed values)
    input: dict[str, Any] = field(default_factory=dict)

    def camera(self, width: int, height: int) -> Camera:
        return Camera.from_pose(width, height, position=tuple(self.position_m), pan_deg=self.pan_deg,
                                tilt_deg=self.tilt_deg, roll_deg=self.roll_deg, hfov_deg=self.hfov_deg, k1=self.k1)

    def to_yaml(self) -> dict[str, Any]:
        d = asdict(self)
        for k in ("pan_deg", "tilt_deg", "roll_deg", "hfov_deg", "k1", "reprojection_px"):
            if d[k] is not None:
                d[k] = round(float(d[k]), 6)
        d["position_m"] = [round(float(x), 6) for x in d["position_m"]]
        return d

    @staticmethod
    def from_yaml(d: dict[str, Any]) -> Calibration:
        return Calibration(**d)


# ---- maths ---------------------------------------------------------------------------------
def project(params: np.ndarray, pts: np.ndarray, size: tuple[int, int], k1: float = 0.0) -> np.ndarray:
    """Pixels (N, 2) of world points (N, 3) for params (x, y, z, pan, tilt, roll, f)."""
    R = look_rotation(params[3], params[4], params[5])
    pc = (pts - params[:3]) @ R.T
    z = np.where(pc[:, 2] > 1e-6, pc[:, 2], np.nan)
    x, y = pc[:, 0] / z, pc[:, 1] / z
    s = 1 + k1 * (x * x + y * y)
    return np.stack([params[6] * x * s + size[0] / 2, params[6] * y * s + size[1] / 2], 1)


def levenberg_marquardt(fun: Callable[[np.ndarray], np.ndarray], x0: np.ndarray, iters: int = 100) -> np.ndarray:
    """Minimise |fun(x)|^2 (numeric Jacobian); non-finite residuals count as large."""
    def r(x: np.ndarray) -> np.ndarray:
        v = fun(x)
        return np.where(np.isfinite(v), v, 1e4)

    x, lam = np.asarray(x0, float).copy(), 1e-3
    res = r(x)
    cost = res @ res
    for _ in range(iters):
        J = np.empty((len(res), len(x)))
        for k in range(len(x)):
            h = 1e-6 * max(abs(x[k]), 1.0)
            e = np.zeros_like(x)
            e[k] = h
            J[:, k] = (r(x + e) - res) / h
        A, g = J.T @ J, J.T @ res
        improved = False
        for _ in range(10):
            step = np.linalg.solve(A + lam * np.diag(np.diag(A) + 1e-12), -g)
            xn = x + step
            rn = r(xn)
            cn = rn @ rn
            if cn < cost:
                x, res, lam, improved = xn, rn, lam * 0.3, True
                break
            lam *= 10
        if not improved or abs(cost - cn) < 1e-12 * max(cost, 1e-12):
            cost = min(cost, cn)
            if not improved:
                break
        cost = res @ res
    return x


def pose_angles(R: np.ndarray) -> tuple[float, float, float]:
    """pan, tilt, roll (degrees) of a world -> camera rotation (world/geometry/camera.py conventions)."""
    fwd = R[2]
    tilt = math.degrees(math.asin(float(np.clip(-fwd[2], -1, 1))))
    pan = math.degrees(math.atan2(fwd[0], fwd[1]))
    R0 = look_rotation(pan, tilt, 0.0)
    roll = math.degrees(math.atan2(R[0] @ R0[1], R[0] @ R0[0]))
    return pan, tilt, roll


def _spread(p: np.ndarray) -> float:
    """Second singular value over the first of centred points: 0 when they lie on a line."""
    s = np.linalg.svd(p - p.mean(0), compute_uv=False)
    return float(s[1] / s[0]) if s[0] > 0 else 0.0


def _homography(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """DLT homography src -> dst (both (N, 2)), normalised for conditioning."""
    def norm(p):
        c, s = p.mean(0), np.sqrt(2) / max(np.linalg.norm(p - p.mean(0), axis=1).mean(), 1e-12)
        return np.array([[s, 0, -s * c[0]], [0, s, -s * c[1]], [0, 0, 1]])
    Ts, Td = norm(src), norm(dst)
    a = (np.c_[src, np.ones(len(src))] @ Ts.T)
    b = (np.c_[dst, np.ones(len(dst))] @ Td.T)
    rows = []
    for (x, y, _), (u, v, _) in zip(a, b):
        rows.append([-x, -y, -1, 0, 0, 0, u * x, u * y, u])
        rows.append([0, 0, 0, -x, -y, -1, v * x, v * y, v])
    H = np.linalg.svd(np.asarray(rows))[2][-1].reshape(3, 3)
    return np.linalg.inv(Td) @ H @ Ts


# ---- fits ------------------------------------------------------------------------------------
def from_correspondences(image: Any, ground: Any, size: tuple[int, int], where: str = "correspondences") -> Calibration:
    """Fit from >= 4 image (u, v) <-> ground (x, y) pairs; `where` names the input in errors."""
    uv, xy = np.asarray(image, float).reshape(-1, 2), np.asarray(ground, float).reshape(-1, 2)
    if len(uv) != len(xy) or len(uv) < 4:
        raise BadInput(f"{where}: need at least 4 image<->ground point pairs, got {min(len(uv), len(xy))}; "
                       "mark 4 or more ground points you know the position of (metres)")
    if _spread(uv) < 0.03 or _spread(xy) < 0.03:
        raise BadInput(f"{where}: the points lie (nearly) on one line; pick points spread over the ground, "
                       "no three on a line")
    W, Hh = size
    A = np.array([[1, 0, -W / 2], [0, 1, -Hh / 2], [0, 0, 1]]) @ _homography(xy, uv)
    a1, a2 = A[:, 0], A[:, 1]
    p = np.array([a1[0] * a2[0] + a1[1] * a2[1], a1[0] ** 2 + a1[1] ** 2 - a2[0] ** 2 - a2[1] ** 2])
    q = np.array([a1[2] * a2[2], a1[2] ** 2 - a2[2] ** 2])
    w = -(p @ q) / max(p @ p, 1e-300)          # w = 1 / f^2 from r1.r2 = 0 and |r1| = |r2|
    if not np.isfinite(w) or w <= 0:
        raise BadInput(f"{where}: these points do not determine a camera (is the ground seen at an angle, and "
                       "are the ground coordinates in metres on one flat ground?)")
    f = 1 / math.sqrt(w)
    M = np.diag([1 / f, 1 / f, 1.0]) @ A
    lam = 1 / np.linalg.norm(M[:, 0])
    r1, r2, t = M[:, 0] * lam, M[:, 1] * lam, M[:, 2] * lam
    if t[2] < 0:                                # the ground must lie in front of the camera
        r1, r2, t = -r1, -r2, -t
    U, _, Vt = np.linalg.svd(np.stack([r1, r2, np.cross(r1, r2)], 1))
    R = U @ Vt
    C = -R.T @ t
    if C[2] <= 0:
        raise BadInput(f"{where}: the fit puts the camera below the ground: the ground x, y axes look mirrored "
                       "(use a right-handed frame with z up: swap x and y, or negate one)")
    pan, tilt, roll = pose_angles(R)
    pts = np.c_[xy, np.zeros(len(xy))]
    x = levenberg_marquardt(lambda x: (project(x, pts, size) - uv).ravel(),
                            np.array([*C, pan, tilt, roll, f]))
    R = look_rotation(x[3], x[4], x[5])
    depth = (pts - x[:3]) @ R[2]
    if x[2] <= 0 or np.any(depth <= 0) or x[6] <= 0:
        raise BadInput(f"{where}: some ground points end up behind the camera; check that each image point "
                       "matches its ground point")
    return _result("correspondences", x, uv, pts, size, {"image": uv.tolist(), "ground": xy.tolist()})


def from_people(heads: Any, feet: Any, size: tuple[int, int], person_height_m: float = 1.7,
                where: str = "people") -> Calibration:
    """Fit from head/foot pixels of >= 3 upright people of `person_height_m`."""
    hd, ft = np.asarray(heads, float).reshape(-1, 2), np.asarray(feet, float).reshape(-1, 2)
    if len(hd) != len(ft) or len(hd) < 3:
        raise BadInput(f"{where}: need head and foot points of at least 3 standing people, got {min(len(hd), len(ft))}")
    if np.any(hd[:, 1] >= ft[:, 1]):
        i = int(np.flatnonzero(hd[:, 1] >= ft[:, 1])[0])
        raise BadInput(f"{where}: person {i + 1}: the head is not above the foot in the image; give [u, v] pixels "
                       "with v growing downwards")
    if _spread(ft) < 0.02 and np.ptp(ft[:, 1]) < 0.05 * size[1]:
        raise BadInput(f"{where}: the people stand on one line at one distance; mark people at different "
                       "distances from the camera")
    W = size[0]

    def resid(x: np.ndarray) -> np.ndarray:
        cam = Camera.from_pose(size[0], size[1], position=(0.0, 0.0, x[0]), pan_deg=0.0, tilt_deg=x[1],
                               roll_deg=x[2], focal_px=abs(x[3]))
        g = cam.ground_point(ft)
        top = g + np.array([0.0, 0.0, person_height_m])
        return (project(np.array([0, 0, x[0], 0, x[1], x[2], abs(x[3])]), top, size) - hd).ravel()

    best = None
    for tilt in range(5, 90, 10):
        for hfov in (30, 50, 70, 90, 110):
            for h in (2.5, 5.0, 10.0):
                x0 = np.array([h, tilt, 0.0, (W / 2) / math.tan(math.radians(hfov / 2))])
                r = resid(x0)
                c = float(np.nansum(np.where(np.isfinite(r), r, 1e4) ** 2))
                if best is None or c < best[0]:
                    best = (c, x0)
    x = levenberg_marquardt(resid, best[1], iters=200)
    if x[0] <= 0 or not np.all(np.isfinite(resid(x))):
        raise BadInput(f"{where}: no camera above the ground fits these people; check head/foot points")
    params = np.array([0.0, 0.0, x[0], 0.0, x[1], x[2], abs(x[3])])
    rms = float(np.sqrt(np.mean(resid(x) ** 2)))
    return Calibration("people", [0.0, 0.0, float(x[0])], 0.0, float(x[1]), float(x[2]), _hfov(params[6], W), 0.0,
                       rms, {"heads": hd.tolist(), "feet": ft.tolist(), "person_height_m": person_height_m})


def from_values(height_m: float, tilt_deg: float, hfov_deg: float, roll_deg: float = 0.0, k1: float = 0.0,
                where: str = "values") -> Calibration:
    if not height_m > 0:
        raise BadInput(f"{where}: height must be above the ground (> 0 m), got {height_m}")
    if not 0 < hfov_deg < 179:
        raise BadInput(f"{where}: hfov must be between 0 and 179 degrees, got {hfov_deg}")
    if not -90 <= tilt_deg <= 90:
        raise BadInput(f"{where}: tilt must be between -90 and 90 degrees (downward pitch), got {tilt_deg}")
    return Calibration("values", [0.0, 0.0, float(height_m)], 0.0, float(tilt_deg), float(roll_deg), float(hfov_deg),
                       float(k1), None, {"height_m": height_m, "tilt_deg": tilt_deg, "roll_deg": roll_deg,
                                          "hfov_deg": hfov_deg, "k1": k1})


def _hfov(f: float, W: int) -> float:
    return math.degrees(2 * math.atan((W / 2) / f))


def _result(method: str, x: np.ndarray, uv: np.ndarray, pts: np.ndarray, size: tuple[int, int],
            given: dict) -> Calibration:
    err = project(x, pts, size) - uv
    rms = float(np.sqrt(np.mean(np.sum(err ** 2, 1))))
    pan = (float(x[3]) + 180.0) % 360.0 - 180.0
    return Calibration(method, [float(v) for v in x[:3]], pan, float(x[4]), float(x[5]), _hfov(x[6], size[0]),
                       0.0, rms, given)
