"""The `plate` layout: the user's own camera view (a real background plate) as a Layout.

Everything comes from LayoutParams.plate, the scene plate/scene.py compiled from a plate folder
and a sketch, plus `match` (this clip's exposure / white-balance variation, world/sample.py) (ground polygons in metres, zones and tripwires, entry points, occluders): no
static geometry is built, the plate image is the background (render/backdrop.py). Walkable
ground is the sketch's; no-go areas are kept out of; an occluder's ground contact line is an
obstacle (nobody walks through the base of a pillar) and hides what stands behind it.
"""
from __future__ import annotations

import numpy as np

from synthdata.world.geometry.shapes import Footprints, polygon_area
from synthdata.world.layouts.base import Lane, Layout
from synthdata.world.spec import LayoutParams
from synthdata.world.types import Backdrop, Ground, Shapes

CONTACT_HALF_WIDTH_M = 0.2


def build_plate(p: LayoutParams) -> Layout:
    sc = p.plate
    if not sc:
        raise ValueError("a plate layout needs LayoutParams.plate (the compiled plate scene)")
    walkable = [np.asarray(q, float) for q in sc["walkable"]]
    keep_out = [np.asarray(q, float) for q in sc["no_go"]]
    rows = []
    for o in sc["occluders"]:
        c = np.asarray(o["contact"], float)
        rows += [Footprints.segment(a, b, CONTACT_HALF_WIDTH_M) for a, b in zip(c[:-1], c[1:])]
    lanes = [Lane(np.asarray(ln["points"], float), float(ln["width_m"]), ln["name"]) for ln in sc.get("lanes", [])]
    drivable = [corridor(ln.points, ln.width) for ln in lanes]
    pts = np.concatenate(walkable + keep_out)
    bounds = (float(pts[:, 0].min()), float(pts[:, 1].min()), float(pts[:, 0].max()), float(pts[:, 1].max()))
    regions = {"ground": walkable[0]}
    for i, q in enumerate(walkable[1:]):
        regions[f"ground_{i + 2}"] = q
    for z in sc["zones"]:
        if z["kind"] == "zone":
            regions[z["name"]] = np.asarray(z["points"], float)
    stats = sc.get("statistics") or {}
    match = sc.get("match") or {}
    backdrop = Backdrop(sc["image"], sc["sha256"], (int(sc["size"][0]), int(sc["size"][1])),
                        [dict(o) for o in sc["occluders"]], walkable + keep_out, dict(stats),
                        float(match.get("exposure", 1.0)),
                        tuple(float(x) for x in match.get("white_balance", (1.0, 1.0, 1.0))))
    for ln, q in zip(lanes, drivable):
        regions[f"lane_{ln.name}"] = q
    return Layout("plate", bounds, Shapes.empty(), Ground(), Footprints(np.array(rows) if rows else None), walkable,
                  drivable=drivable, lanes=lanes, regions=regions, keep_out=keep_out, entries=[np.asarray(e, float) for e in sc["entries"]],
                  zones=[dict(z) for z in sc["zones"]], backdrop=backdrop,
                  nav_cell_m=nav_cell(walkable, sc.get("view_area_m2")))


def nav_cell(walkable: list[np.ndarray], view_area: float | None = None) -> float:
    """Navigation cell: 0.5 m, finer for a small floor (a few metres across) so it still has room.
    The floor is what the camera sees (`view_area`, m^2) when the scene says: walkable ground
    continued out of view (plate/scene.py OFF_FRAME_M) would make a small room's grid as coarse as
    a car park's (a lobby's few square metres in view were a handful of cells, all on one side of
    its table). Scenes compiled before it was recorded count the whole walkable ground."""
    area = view_area if view_area is not None else sum(polygon_area(q) for q in walkable)
    return float(np.clip(np.sqrt(area) / 16, 0.15, 0.5))


def corridor(points: np.ndarray, width: float) -> np.ndarray:
    """The polygon `width` wide around a polyline (mitred corners), (2N, 2)."""
    p = np.asarray(points, float)
    d = np.diff(p, axis=0)
    d /= np.maximum(np.linalg.norm(d, axis=1, keepdims=True), 1e-9)
    t = np.concatenate([d[:1], d[:-1] + d[1:], d[-1:]])
    t /= np.maximum(np.linalg.norm(t, axis=1, keepdims=True), 1e-9)
    n = np.stack([-t[:, 1], t[:, 0]], 1) * (width / 2)
    return np.concatenate([p + n, (p - n)[::-1]])
