"""Street with a plaza: a paved plaza and pavement near the camera, a road across the view
with lane markings, parallel parking and a zebra crossing, a far pavement and building facades
(see layouts.py for the frame)."""
from __future__ import annotations

import numpy as np

from synthdata.world.geometry.shapes import hex_to_linear, rect_polygon
from synthdata.world.layouts.base import Bay, Lane, Layout, Scenery
from synthdata.world.spec import LayoutParams
from synthdata.world.types import Ground, GroundPaint

LANE_W, PARK_W, BAY_LEN, KERB = 3.3, 2.3, 6.0, 0.3
ROAD_BEYOND = 60.0


def build_street(p: LayoutParams) -> Layout:
    rng = np.random.default_rng(p.seed)
    W, D = p.size_m
    x0, x1 = -W / 2, W / 2
    n = p.lanes_per_direction
    park = PARK_W if p.street_parking else 0.0
    far_walk = rng.uniform(3.5, 5.0)
    road_w = 2 * n * LANE_W + park
    D = max(D, road_w + far_walk + 6.0)             # at least 6 m of plaza in front
    yr1 = D - far_walk                               # road's far edge
    yr0 = yr1 - road_w                               # road's near edge
    ymid = yr0 + park + n * LANE_W                   # centre line
    rx0, rx1 = x0 - ROAD_BEYOND, x1 + ROAD_BEYOND
    sc = Scenery(rng)
    line = hex_to_linear(p.line_color)
    paving = hex_to_linear(p.ground_color)
    asphalt = tuple(float(c) for c in np.array([0.05, 0.05, 0.055]) * rng.uniform(0.8, 1.3))
    paint: list[GroundPaint] = [GroundPaint("polygon", rect_polygon(rx0, yr0, rx1, yr1), asphalt)]
    regions: dict[str, np.ndarray] = {}

    # Lanes: right-hand traffic, +x lanes on the near (low-y) side.
    lanes: list[Lane] = []
    for i in range(n):
        y = yr0 + park + LANE_W * (i + 0.5)
        lanes.append(Lane(np.array([[rx0, y], [rx1, y]]), LANE_W, f"eastbound{i}"))
    for i in range(n):
        y = ymid + LANE_W * (i + 0.5)
        lanes.append(Lane(np.array([[rx1, y], [rx0, y]]), LANE_W, f"westbound{i}"))
    for k, lane in enumerate(lanes):
        y = lane.points[0, 1]
        regions[f"lane_{lane.name}"] = rect_polygon(x0, y - LANE_W / 2, x1, y + LANE_W / 2)

    # Markings: double centre line, dashed dividers, edge line of the parking lane.
    for dy in (-0.12, 0.12):
        paint.append(GroundPaint("line", np.array([[rx0, ymid + dy], [rx1, ymid + dy]]), line, 0.1, "retroreflective"))
    for i in range(1, n):
        for y in (ymid - i * LANE_W, ymid + i * LANE_W):
            for xd in np.arange(x0 - 20, x1 + 20, 9.0):
                paint.append(GroundPaint("line", np.array([[xd, y], [xd + 3.0, y]]), line, 0.12, "retroreflective"))
    if park:
        paint.append(GroundPaint("line", np.array([[rx0, yr0 + park], [rx1, yr0 + park]]), line, 0.1))

    # Zebra crossing.
    xc = float(rng.uniform(x0 + 0.25 * W, x1 - 0.25 * W)) if p.crossing else None
    if xc is not None:
        for y in np.arange(yr0 + 0.3, yr1 - 0.4, 1.0):
            paint.append(GroundPaint("polygon", rect_polygon(xc - 2.0, y, xc + 2.0, y + 0.5), (0.82, 0.82, 0.8),
                                     material="retroreflective"))
        paint.append(GroundPaint("line", np.array([[xc - 4.0, yr0 + park], [xc - 4.0, ymid]]), line, 0.3))
        paint.append(GroundPaint("line", np.array([[xc + 4.0, ymid], [xc + 4.0, yr1]]), line, 0.3))
        regions["crossing"] = rect_polygon(xc - 2.0, yr0, xc + 2.0, yr1)

    # Parallel parking bays along the near kerb, clear of the crossing.
    bays: list[Bay] = []
    if park:
        for xb in np.arange(x0 + 2.0, x1 - BAY_LEN, BAY_LEN):
            if xc is not None and xb + BAY_LEN > xc - 6.0 and xb < xc + 3.0:
                continue
            bays.append(Bay(np.array([xb + BAY_LEN / 2, yr0 + park / 2]), 0.0, BAY_LEN, park, 0, parallel=True))
            paint.append(GroundPaint("line", np.array([[xb, yr0], [xb, yr0 + park]]), line, 0.1))
        regions["parking_lane"] = rect_polygon(x0, yr0, x1, yr0 + park)

    # Kerbs (with a gap at the crossing).
    kerb = (0.5, 0.5, 0.48)
    gaps = [(xc - 2.0, xc + 2.0)] if xc is not None else []
    for ya, yb in ((yr0 - KERB, yr0), (yr1, yr1 + KERB)):
        xa = rx0
        for g0, g1 in gaps + [(rx1, rx1)]:
            if g0 > xa:
                sc.box(xa, ya, 0.0, g0, yb, 0.13, kerb, "concrete")
            xa = g1

    # Lamp posts along both kerbs, arms over the road.
    spots = [(x, yr0 - 0.7, np.pi / 2) for x in np.arange(x0 + 6, x1 - 4, 22.0)]
    spots += [(x, yr1 + 0.7, -np.pi / 2) for x in np.arange(x0 + 17, x1 - 4, 22.0)]
    spots = [s for s in spots if xc is None or abs(s[0] - xc) > 3.5]
    for i in rng.permutation(len(spots))[:p.light_poles]:
        x, y, yaw = spots[i]
        sc.lamp_post(x, y, rng.uniform(6.5, 8.5), yaw)

    # Plaza furniture: trees (clear of the road), benches and bins; buildings behind the far pavement.
    placed: list[np.ndarray] = [np.array([x, y]) for x, y, _ in sc.lamps]
    plaza_top = yr0 - KERB - 0.3

    def free_spot(margin: float, ymin: float, ymax: float) -> np.ndarray | None:
        for _ in range(30):
            q = np.array([rng.uniform(x0 + 2, x1 - 2), rng.uniform(ymin, ymax)])
            if all(np.hypot(*(q - o)) > margin for o in placed) and (xc is None or abs(q[0] - xc) > margin):
                placed.append(q)
                return q
        return None

    for _ in range(p.trees):            # not right in front of the camera, canopies clear of the road
        if plaza_top - 2.8 > 7.0:
            q = free_spot(4.0, 7.0, plaza_top - 2.8)
            if q is not None:
                sc.tree(*q)
    for _ in range(p.benches):
        q = free_spot(2.5, 2.0, plaza_top - 1.0)
        if q is None:
            continue
        if rng.random() < 0.65:
            sc.bench(q[0], q[1], float(rng.choice([0.0, np.pi / 2, np.pi, -np.pi / 2])))
        else:
            sc.bin(q[0], q[1])
    sc.buildings(p.buildings, x0 - 30, x1 + 30, D, p.wall_color)

    static, obstacles = sc.build()
    ground = Ground(texture=p.ground_texture, color=paving, texture_scale_m=0.6, texture_contrast=0.15,
                    tile_m=float(rng.uniform(0.3, 0.6)), paint=paint, extent=(rx0, -5.0, rx1, D + 30),
                    beyond_color=(0.09, 0.12, 0.06))
    walkable = [rect_polygon(x0, 0.0, x1, yr0 - KERB), rect_polygon(x0, yr1 + KERB, x1, D - 0.15)]
    if xc is not None:
        walkable.append(rect_polygon(xc - 1.8, yr0 - KERB - 0.2, xc + 1.8, yr1 + KERB + 0.2))
    regions.update(plaza=rect_polygon(x0, 0.0, x1, yr0 - KERB), pavement_far=rect_polygon(x0, yr1 + KERB, x1, D),
                   road=rect_polygon(x0, yr0, x1, yr1))
    drivable = [rect_polygon(rx0, yr0, rx1, yr1)]
    return Layout("street", (x0, 0.0, x1, D), static, ground, obstacles, walkable, drivable, lanes, bays,
                  regions, sc.lamps)
