"""Plate + sketch -> ground-plane scene data (plain JSON values) for the `plate` layout.

`compile_scene(PLATE_DIR, SKETCH)` back-projects the sketch's pixel shapes onto the ground z = 0
through the plate's calibrated camera and returns a dict that world/layouts/plate.py builds a
Layout from (it travels inside the ClipSpec, so a clip regenerates from its row alone):
    dir, image, sha256, size [W, H], camera {position_m, pan_deg, tilt_deg, roll_deg, hfov_deg, k1},
    statistics, walkable [[x, y]...] list, no_go list, lanes [{name, points (ground), width_m}], zones (zones.py dicts: name, kind, points,
    role | crossing, painted), entries [[x, y], ...], occluders [{name, region (plate pixels),
    contact (ground [[x, y], ...])}], sketch (name), sketch_sha256 and view_area_m2 (the walkable
    ground in view, before it is continued out of view: how fine people's navigation grid is).
Without a sketch the walkable ground is the visible ground within DEFAULT_RANGE_M of the camera.
"""
from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import numpy as np

from synthdata.errors import BadInput
from synthdata.plate.footage import file_sha256
from synthdata.plate.sketch import Sketch, read_sketch
from synthdata.plate.store import load_plate
from synthdata.world.geometry.camera import Camera
from synthdata.world.geometry.shapes import polygon_area

MAX_RANGE_M = 150.0       # a sketched point farther than this is "at the horizon"
DEFAULT_RANGE_M = 40.0
LANE_RUN_M = 15.0         # lanes run on this far past the sketched ends (out of view)
OFF_FRAME_M = 6.0         # walkable ground touching the image's edge goes on this far out of view
BEHIND_M = 2.0            # ... and across the bottom edge on under the camera to this far past its foot
ENTRY_EDGE_PX, ENTRY_OUT_M = 12.0, 2.0   # an entry dab this near the image's edge is a way in this far beyond it


def compile_scene(plate_dir: str | Path, sketch: str | Path | None = None) -> dict[str, Any]:
    """See the module docstring; BadInput naming the file for every problem."""
    pd = Path(plate_dir).resolve()
    sk = None if sketch is None else Path(sketch).resolve()
    stamp = (pd / "plate.yaml").stat().st_mtime_ns if (pd / "plate.yaml").is_file() else 0
    sk_stamp = sk.stat().st_mtime_ns if sk is not None and sk.is_file() else 0
    return _compile(str(pd), None if sk is None else str(sk), stamp, sk_stamp)


@functools.lru_cache(maxsize=16)
def _compile(plate_dir: str, sketch: str | None, _stamp: int, _sk_stamp: int) -> dict[str, Any]:
    info = load_plate(plate_dir)
    if info.calibration is None:
        raise BadInput(f"{plate_dir}: the plate is not calibrated; run `synthdata plate calibrate {plate_dir}` "
                       "with ground points, people or typed values")
    if not info.image_path.is_file():
        raise BadInput(f"{info.image_path}: the plate image is missing; run `synthdata plate init` again")
    W, H = info.size
    cal = info.calibration
    cam = cal.camera(W, H)
    out: dict[str, Any] = {
        "dir": plate_dir, "image": str(info.image_path), "sha256": info.sha256, "size": [W, H],
        "camera": {k: getattr(cal, k) for k in ("position_m", "pan_deg", "tilt_deg", "roll_deg", "hfov_deg", "k1")},
        "statistics": info.statistics, "walkable": [], "no_go": [], "zones": [], "entries": [], "occluders": [], "lanes": [],
        "sketch": None, "sketch_sha256": None}
    if sketch is None:
        ground = default_walkable(cam)
        out["walkable"], out["view_area_m2"] = [_r(ground)], round(polygon_area(ground), 3)
        return out
    s = read_sketch(sketch, (W, H))
    out["sketch"], out["sketch_sha256"] = Path(sketch).name, file_sha256(Path(sketch))
    g = Ground(cam, s)
    seen = [g.polygon(q, f"walkable region {i + 1}") for i, q in enumerate(s.walkable)] or [default_walkable(cam)]
    out["walkable"] = [_r(g.off_frame(q, ground, (W, H))) for q, ground in zip(s.walkable, seen)] or [_r(seen[0])]
    out["view_area_m2"] = round(sum(polygon_area(q) for q in seen), 3)
    out["no_go"] = [_r(g.polygon(q, f"no-go area {i + 1}")) for i, q in enumerate(s.no_go)]
    for z in s.zones:
        out["zones"].append({"name": z["name"], "kind": "zone", "role": z["role"], "painted": False,
                             "points": _r(g.polygon(z["points"], f"zone {z['name']!r}"))})
    for t in s.tripwires:
        out["zones"].append({"name": t["name"], "kind": "tripwire", "crossing": t["crossing"], "painted": False,
                             "points": _r(g.points(t["points"], f"tripwire {t['name']!r}"))})
    out["entries"] = [_r(g.entry(e, (W, H), f"entry {i + 1}")[None])[0] for i, e in enumerate(s.entries)]
    for o in s.occluders:
        contact = g.points(o["contact"], f"occluder {o['name']!r} contact line")
        out["occluders"].append({"name": o["name"], "region": np.asarray(o["region"], float).round(3).tolist(),
                                 "contact": _r(contact)})
    for ln in s.lanes:
        pts = g.points(ln["points"], f"lane {ln['name']!r}")
        a, b = pts[1] - pts[0], pts[-1] - pts[-2]
        a, b = a / max(np.hypot(*a), 1e-9), b / max(np.hypot(*b), 1e-9)
        pts = np.concatenate([[pts[0] - LANE_RUN_M * a], pts, [pts[-1] + LANE_RUN_M * b]])
        out["lanes"].append({"name": ln["name"], "points": _r(pts), "width_m": ln["width_m"]})
    return out


def _r(a: np.ndarray) -> list:
    return np.asarray(a, float).round(4).tolist()


class Ground:
    """Back-projection of sketch pixels with located errors."""

    def __init__(self, cam: Camera, sketch: Sketch):
        self.cam, self.src = cam, sketch.source

    def points(self, uv: np.ndarray, what: str) -> np.ndarray:
        uv = np.asarray(uv, float).reshape(-1, 2)
        g = self.cam.ground_point(uv)
        dist = np.hypot(g[:, 0] - self.cam.C[0, 0], g[:, 1] - self.cam.C[0, 1])
        bad = ~np.isfinite(dist) | (dist > MAX_RANGE_M)
        if bad.any():
            u, v = uv[np.flatnonzero(bad)[0]]
            raise BadInput(f"{self.src}: {what} reaches above the horizon (pixel [{u:.0f}, {v:.0f}]; the horizon is "
                           f"near row {horizon_row(self.cam):.0f}); keep sketched shapes on the ground, below it")
        return g[:, :2]

    def polygon(self, uv: np.ndarray, what: str) -> np.ndarray:
        uv = np.asarray(uv, float)
        if self.cam.k1:                      # a straight pixel edge is a curve on the ground: densify
            dense = []
            for a, b in zip(uv, np.roll(uv, -1, 0)):
                n = max(int(np.hypot(*(b - a)) // 8), 1)
                dense.append(a + (b - a) * np.arange(n)[:, None] / n)
            uv = np.concatenate(dense)
        return self.points(uv, what)


    def off_frame(self, uv: np.ndarray, ground: np.ndarray, size: tuple[int, int]) -> np.ndarray:
        """A walkable polygon whose vertices lie on the image's edge continues out of view: each
        such vertex moves OFF_FRAME_M outwards on the ground (across the left/right/top edge, and
        towards the camera across the bottom edge, on under it to BEHIND_M past its foot: people
        walk in below a camera, as the shipped lobby clip's do)."""
        uv = np.asarray(uv, float)
        if self.cam.k1:                      # polygon() densified the outline: nothing to match
            return ground
        out = ground.copy()
        C = self.cam.C[0, :2]
        for k, (u, v) in enumerate(uv):
            push = self.outward(u, v, ground[k], size, 1.5)
            if push.any():
                room = OFF_FRAME_M
                if push @ (C - ground[k]) > 0:        # towards the camera: on under it, a little past
                    room = min(room, float(np.hypot(*(C - ground[k]))) + BEHIND_M)
                out[k] = ground[k] + push * room
        return out

    def outward(self, u: float, v: float, ground: np.ndarray, size: tuple[int, int], within: float) -> np.ndarray:
        """The unit ground direction out of view across the image edges that pixel (u, v), on the
        ground at `ground`, lies within `within` pixels of (towards the camera across the bottom
        edge); zeros away from the edges."""
        W, H = size
        push = np.zeros(2)
        for edge, step in ((u <= within, (-40.0, 0.0)), (u >= W - within, (40.0, 0.0)), (v <= within, (0.0, -40.0)),
                           (v >= H - within, (0.0, 40.0))):
            if edge:
                q = self.cam.ground_point(np.array([[u + step[0], v + step[1]]]))[0, :2]
                d = q - ground if np.all(np.isfinite(q)) else ground - self.cam.C[0, :2]
                push += d / max(np.hypot(*d), 1e-9)
        return push / max(np.hypot(*push), 1e-9) if push.any() else push

    def entry(self, uv: np.ndarray, size: tuple[int, int], what: str) -> np.ndarray:
        """An entry's ground point: under its dab, or, for a dab at the image's edge (a way in
        from beyond it), ENTRY_OUT_M on across that edge."""
        ground = self.points(np.asarray([uv]), what)[0]
        return ground + ENTRY_OUT_M * self.outward(float(uv[0]), float(uv[1]), ground, size, ENTRY_EDGE_PX)


def horizon_row(cam: Camera) -> float:
    """Image row of the horizon at the image's centre column."""
    vs = np.linspace(-3 * cam.height, 4 * cam.height, 4000)
    g = cam.ground_point(np.stack([np.full_like(vs, cam.cx), vs], 1))
    ok = np.isfinite(g[:, 0])
    return float(vs[ok].min()) if ok.any() else float(cam.height)


def default_walkable(cam: Camera, range_m: float = DEFAULT_RANGE_M) -> np.ndarray:
    """Convex hull of the ground seen in the image within range_m of the camera (x, y) (N, 2)."""
    W, H = cam.width, cam.height
    u, v = np.meshgrid(np.linspace(0, W, 49), np.linspace(0, H, 28))
    g = cam.ground_point(np.stack([u.ravel(), v.ravel()], 1))[:, :2]
    d = np.hypot(g[:, 0] - cam.C[0, 0], g[:, 1] - cam.C[0, 1])
    g = g[np.isfinite(d) & (d <= range_m)]
    if len(g) < 3:
        raise BadInput("the calibrated camera sees no ground within "
                       f"{range_m:g} m; check the plate's calibration (height, tilt)")
    return convex_hull(g)


def convex_hull(p: np.ndarray) -> np.ndarray:
    """Counter-clockwise hull (monotone chain)."""
    pts = sorted(map(tuple, np.asarray(p, float)))

    def half(seq):
        h: list = []
        for q in seq:
            while len(h) >= 2 and (h[-1][0] - h[-2][0]) * (q[1] - h[-2][1]) - (h[-1][1] - h[-2][1]) * (q[0] - h[-2][0]) <= 0:
                h.pop()
            h.append(q)
        return h
    lo, hi = half(pts), half(pts[::-1])
    return np.array(lo[:-1] + hi[:-1])
