"""Parking lot: asphalt, rows of painted bays between two-way aisles, lamp posts, trees,
planting islands, fences and buildings beyond (see layouts.py for the frame)."""
from __future__ import annotations

import numpy as np

from synthdata.world.geometry.shapes import hex_to_linear, rect_polygon
from synthdata.world.layouts.base import Bay, Lane, Layout, Scenery
from synthdata.world.spec import LayoutParams
from synthdata.world.types import Ground, GroundPaint

WALKWAY, AISLE, BAY_DEPTH, BAY_WIDTH, SIDE, ISLAND = 3.0, 7.0, 5.0, 2.5, 6.0, 1.6
LANE_OFFSET = 1.75          # lane centre from the aisle centre
ROAD_BEYOND = 45.0          # entry roads run this far past the lot's sides


def _plan_rows(n_rows: int, island: float) -> tuple[list[float], list[tuple[float, int, int]], list[float], float]:
    """Aisle centres, rows (y_start, facing, aisle index), island starts and the depth used."""
    y, aisles, rows, islands = WALKWAY, [], [], []
    r = 0
    while True:
        aisles.append(y + AISLE / 2)
        y += AISLE
        if r >= n_rows:
            break
        rows.append((y, +1, len(aisles) - 1))      # mouth on its low-y side, faces the aisle below
        y += BAY_DEPTH
        r += 1
        if r >= n_rows:
            break
        if island:
            islands.append(y)
            y += island
        rows.append((y, -1, len(aisles)))          # mouth on its high-y side, faces the next aisle
        y += BAY_DEPTH
        r += 1
    return aisles, rows, islands, y


def build_parking_lot(p: LayoutParams) -> Layout:
    rng = np.random.default_rng(p.seed)
    W, D = p.size_m
    x0, x1 = -W / 2, W / 2
    island = ISLAND if p.islands else 0.0
    n_rows = p.bay_rows
    while n_rows > 0 and _plan_rows(n_rows, island)[3] > D - 2.0:
        n_rows -= 1
    aisles, rows, islands, y_used = _plan_rows(n_rows, island)
    D = max(D, y_used + 2.0)
    sc = Scenery(rng)
    line = hex_to_linear(p.line_color)
    asphalt = hex_to_linear(p.ground_color)
    paint: list[GroundPaint] = []
    regions: dict[str, np.ndarray] = {}

    # Entry roads beyond the sides and the near walkway.
    for ya in aisles:
        for a, b in ((x0 - ROAD_BEYOND, x0), (x1, x1 + ROAD_BEYOND)):
            paint.append(GroundPaint("polygon", rect_polygon(a, ya - AISLE / 2, b, ya + AISLE / 2), asphalt))
    walk_col = tuple(min(1.0, c * 2.2 + 0.05) for c in asphalt)
    paint.append(GroundPaint("polygon", rect_polygon(x0 - 20, 0, x1 + 20, WALKWAY), walk_col))
    paint.append(GroundPaint("line", np.array([[x0 - 20, WALKWAY], [x1 + 20, WALKWAY]]), (0.5, 0.5, 0.48), 0.25))
    regions["walkway"] = rect_polygon(x0, 0, x1, WALKWAY)

    # Aisles: two lanes each (right-hand traffic: +x on the low-y side), dashed centre line.
    lanes: list[Lane] = []
    drivable: list[np.ndarray] = []
    for k, ya in enumerate(aisles):
        lanes.append(Lane(np.array([[x0 - ROAD_BEYOND, ya - LANE_OFFSET], [x1 + ROAD_BEYOND, ya - LANE_OFFSET]]),
                          3.5, f"aisle{k}_east"))
        lanes.append(Lane(np.array([[x1 + ROAD_BEYOND, ya + LANE_OFFSET], [x0 - ROAD_BEYOND, ya + LANE_OFFSET]]),
                          3.5, f"aisle{k}_west"))
        drivable.append(rect_polygon(x0 - ROAD_BEYOND, ya - AISLE / 2, x1 + ROAD_BEYOND, ya + AISLE / 2))
        regions[f"aisle{k}"] = rect_polygon(x0, ya - AISLE / 2, x1, ya + AISLE / 2)
        for xd in np.arange(x0 + 1.0, x1 - 2.0, 5.0):
            paint.append(GroundPaint("line", np.array([[xd, ya], [xd + 2.0, ya]]), line, 0.12, "retroreflective"))

    # Bays.
    n_bays = max(int((W - 2 * SIDE) // BAY_WIDTH), 0)
    bx0 = -n_bays * BAY_WIDTH / 2
    bays: list[Bay] = []
    for r, (ys, facing, ai) in enumerate(rows):
        yc = ys + BAY_DEPTH / 2
        lane = 2 * ai + 1 if facing > 0 else 2 * ai
        for j in range(n_bays):
            xc = bx0 + (j + 0.5) * BAY_WIDTH
            bays.append(Bay(np.array([xc, yc]), np.pi / 2 if facing > 0 else -np.pi / 2, BAY_DEPTH, BAY_WIDTH, lane))
            drivable.append(rect_polygon(xc - BAY_WIDTH / 2, ys, xc + BAY_WIDTH / 2, ys + BAY_DEPTH))
        for j in range(n_bays + 1):
            xl = bx0 + j * BAY_WIDTH
            paint.append(GroundPaint("line", np.array([[xl, ys + 0.15], [xl, ys + BAY_DEPTH]]), line, 0.12))
        yb = ys + BAY_DEPTH if facing > 0 else ys
        paint.append(GroundPaint("line", np.array([[bx0, yb], [-bx0, yb]]), line, 0.12))
        regions[f"bays_row{r}"] = rect_polygon(bx0, ys, -bx0, ys + BAY_DEPTH)

    # A pedestrian crossing over the first aisle, sometimes.
    if rng.random() < 0.5 and aisles:
        xz = rng.uniform(x0 + 4, x1 - 4)
        ya = aisles[0]
        for yy in np.arange(ya - AISLE / 2 + 0.3, ya + AISLE / 2 - 0.4, 1.0):
            paint.append(GroundPaint("polygon", rect_polygon(xz - 1.5, yy, xz + 1.5, yy + 0.5), (0.8, 0.8, 0.78),
                                     material="retroreflective"))
        regions["crossing"] = rect_polygon(xz - 1.5, ya - AISLE / 2, xz + 1.5, ya + AISLE / 2)

    # Islands (kerbed strips with gaps for pedestrians) between back-to-back rows.
    spots: list[tuple[float, float, float]] = []       # x, y, room for a canopy
    kerb = (0.42, 0.42, 0.4)
    for yi in islands:
        xs = bx0
        while xs < -bx0 - 3:
            xe = min(xs + rng.uniform(10, 16), -bx0)
            sc.box(xs, yi + 0.05, 0, xe, yi + ISLAND - 0.05, 0.15, kerb, "concrete")
            paint.append(GroundPaint("polygon", rect_polygon(xs + 0.1, yi + 0.1, xe - 0.1, yi + ISLAND - 0.1),
                                     (0.09, 0.13, 0.05)))
            for xt in np.arange(xs + 3.0, xe - 2.0, 7.0):
                spots.append((xt, yi + ISLAND / 2, 2.4))
            xs = xe + 2.0
    # Row ends (away from the lanes) and the far strip.
    for ys, facing, _ in rows:
        for xe in (x0 + SIDE / 2, x1 - SIDE / 2):
            spots.append((xe, ys + BAY_DEPTH / 2, 1.6))
    if D - y_used > 3.0:
        for xt in np.arange(x0 + 4, x1 - 3, 8.0):
            spots.append((xt, (y_used + D) / 2, min(2.4, (D - y_used) / 2)))
    for xs_ in (x0 - 3.5, x1 + 3.5):                 # just outside the lot, between entry roads
        for yt in np.arange(WALKWAY + 1.0, D - 1, 4.0):
            if all(abs(yt - ya) > AISLE / 2 + 2.0 for ya in aisles):
                spots.append((xs_, yt, 2.0))
    order = rng.permutation(len(spots))
    chosen = [spots[i] for i in order]
    for x, y, _ in chosen[:p.light_poles]:
        sc.lamp_post(x, y, rng.uniform(6.0, 8.0), float(rng.choice([np.pi / 2, -np.pi / 2])))
    for x, y, room in chosen[p.light_poles:p.light_poles + p.trees]:
        sc.tree(x, y, scale=min(1.0, room / 2.4))

    if p.fence:
        sc.fence([x0 + 0.3, D - 0.3], [x1 - 0.3, D - 0.3])
        gaps = sorted((ya - AISLE / 2, ya + AISLE / 2) for ya in aisles)
        for xf in (x0 + 0.3, x1 - 0.3):
            y = WALKWAY + 0.5
            for g0, g1 in gaps + [(D - 0.3, D)]:
                if g0 - y > 1.0:
                    sc.fence([xf, y], [xf, g0])
                y = g1
    sc.buildings(p.buildings, x0 - 12, x1 + 12, D + 6.0, p.wall_color)

    static, obstacles = sc.build()
    ground = Ground(texture=p.ground_texture, color=asphalt, texture_scale_m=0.4, texture_contrast=0.18,
                    paint=paint, extent=(x0, -3.0, x1, D), beyond_color=(0.09, 0.13, 0.05))
    regions["lot"] = rect_polygon(x0, 0, x1, D)
    walkable = [rect_polygon(x0 + 0.2, 0.0, x1 - 0.2, D - 0.6), rect_polygon(x0 - 20, 0.0, x1 + 20, WALKWAY)]
    return Layout("parking_lot", (x0, 0.0, x1, D), static, ground, obstacles, walkable, drivable, lanes, bays,
                  regions, sc.lamps)

