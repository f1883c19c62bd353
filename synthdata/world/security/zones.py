"""Security zones and tripwires: recipe placement -> ground polygons -> World.zones.

`sample_zones` resolves each recipe ZoneSpec against the clip's Layout (its bounds, named
regions and lanes) into a ZoneParams stored in the ClipSpec (world/security/params.py: name,
kind zone | tripwire, points [[x, y], ...] metres, role, direction [dx, dy] for lanes, crossing,
categories, painted). `build_zones` turns those into World Zones (the attributes world/security/events.py reads), and
`zone_paint` into ground markings for zones drawn on the ground.

Placement frame: a region's extent is its bounding box [xmin, xmax] x [ymin, ymax]; `at` = (u, v)
puts the centre at (xmin + u (xmax - xmin), ymin + v (ymax - ymin)). Tripwires are drawn along
yaw_deg (0 = +x); their side "b" is left of the drawn direction.
"""
from __future__ import annotations

import math

import numpy as np

from synthdata.errors import BadInput
from synthdata.recipe.distributions import sampler
from synthdata.world.geometry.shapes import rect_polygon
from synthdata.world.layouts.base import Layout
from synthdata.world.security.params import ZoneParams
from synthdata.world.types import GroundPaint, Zone

PAINT = {"restricted": (0.75, 0.08, 0.05), "no_parking": (0.85, 0.65, 0.05), "lane": (0.85, 0.85, 0.8),
         "loitering": (0.1, 0.35, 0.75), "watch": (0.8, 0.8, 0.8), "tripwire": (0.85, 0.1, 0.1)}


def layout_regions(layout: Layout) -> dict[str, np.ndarray]:
    """Named ground polygons a zone may be placed in: the layout's regions plus "layout"."""
    return {"layout": rect_polygon(*layout.bounds), **layout.regions}


def lane_direction(layout: Layout, region: str) -> list[float] | None:
    """Driving direction of the layout lane behind region "lane_<name>" (unit [dx, dy])."""
    for lane in layout.lanes:
        if region == f"lane_{lane.name}":
            d = lane.points[-1] - lane.points[0]
            return [float(x) for x in d / np.linalg.norm(d)]
    return None


def sample_zones(specs: list, layout: Layout, rng: np.random.Generator) -> list[ZoneParams]:
    """Resolve recipe zones (recipe.security.ZoneSpec) for one clip's layout."""
    draw = sampler(rng)
    regions = layout_regions(layout)
    out = []
    for i, z in enumerate(specs):
        # draw every value in a fixed order, whether used or not, so adding a field to one
        # zone never changes another's sample
        at = (float(draw(z.at[0])), float(draw(z.at[1])))
        size = None if z.size_m is None else (float(draw(z.size_m[0])), float(draw(z.size_m[1])))
        length = None if z.length_m is None else float(draw(z.length_m))
        yaw = math.radians(float(draw(z.yaw_deg)))
        direction_deg = None if z.direction_deg is None else float(draw(z.direction_deg))
        painted = bool(draw(z.painted))
        if z.points is not None:
            pts = np.asarray(z.points, float)
        else:
            if z.region not in regions:
                raise BadInput(f"zones[{i}].region: the {layout.type} layout has no region {z.region!r}; "
                               f"it has {', '.join(sorted(regions))}")
            pts = place(regions[z.region], z.kind, at, size, length, yaw)
        d = ZoneParams(z.name, z.kind, pts.round(4).tolist(), painted)
        if z.kind == "zone":
            d.role = z.role
            if z.role == "lane":
                if direction_deg is not None:
                    r = math.radians(direction_deg)
                    d.direction = [math.cos(r), math.sin(r)]
                else:
                    d.direction = lane_direction(layout, z.region)
                    if d.direction is None:
                        raise BadInput(f"zones[{i}].region: {z.region!r} is not one of this layout's lanes; "
                                       "give direction_deg")
        else:
            d.crossing = z.crossing
        if z.categories:
            d.categories = list(z.categories)
        out.append(d)
    return out


def place(region: np.ndarray, kind: str, at: tuple[float, float], size: tuple[float, float] | None,
          length: float | None, yaw: float) -> np.ndarray:
    """Points of a zone rectangle (4, 2) or tripwire segment (2, 2) placed in a region."""
    lo, hi = region.min(axis=0), region.max(axis=0)
    c = lo + np.asarray(at) * (hi - lo)
    u = np.array([math.cos(yaw), math.sin(yaw)])
    v = np.array([-u[1], u[0]])
    if kind == "tripwire":
        if length is None:                   # across the whole region along u
            ext = np.abs(u) @ (hi - lo)
            length = float(ext)
        return np.stack([c - u * length / 2, c + u * length / 2])
    if size is None:
        return np.asarray(region, float).copy()
    w, h = size
    return np.stack([c - u * w / 2 - v * h / 2, c + u * w / 2 - v * h / 2, c + u * w / 2 + v * h / 2,
                     c - u * w / 2 + v * h / 2])


def build_zones(params: list[ZoneParams]) -> list[Zone]:
    """World Zones from resolved zones (see module docstring)."""
    return [Zone(z.name, z.kind, np.asarray(z.points, float), z.attributes()) for z in params]


def zone_paint(zones: list[Zone]) -> list[GroundPaint]:
    """Outlines (and a tripwire's line) for zones marked `painted`, on top of the layout's paint."""
    out = []
    for z in zones:
        if not z.attributes.get("painted"):
            continue
        color = PAINT["tripwire" if z.kind == "tripwire" else z.attributes.get("role", "watch")]
        pts = np.asarray(z.points, float)
        if z.kind == "zone":
            pts = np.concatenate([pts, pts[:1]])
        out.append(GroundPaint("line", pts, color, 0.15, "retroreflective"))
    return out
