"""Indoor lobby / corridor: tiled floor, walls and ceiling, doors people come and go through,
pillars, a reception desk, benches and potted plants, ceiling lights (see layouts.py for the frame;
the camera hangs on the near wall, y = 0)."""
from __future__ import annotations

import numpy as np

from synthdata.world.geometry.shapes import Footprints, hex_to_linear, rect_polygon
from synthdata.world.layouts.base import Layout, Scenery
from synthdata.world.spec import LayoutParams
from synthdata.world.types import Ground, GroundPaint

WALL = 0.3


def build_indoor(p: LayoutParams) -> Layout:
    rng = np.random.default_rng(p.seed)
    W, D = p.size_m
    H = p.ceiling_m
    x0, x1 = -W / 2, W / 2
    sc = Scenery(rng)
    wall = hex_to_linear(p.wall_color)
    floor = hex_to_linear(p.ground_color)
    regions: dict[str, np.ndarray] = {"floor": rect_polygon(x0, 0, x1, D)}
    paint: list[GroundPaint] = []

    # Walls and ceiling.
    sc.box(x0 - WALL, D, 0, x1 + WALL, D + WALL, H, wall, "concrete")
    sc.box(x0 - WALL, -WALL, 0, x1 + WALL, 0, H, wall, "concrete")
    sc.box(x0 - WALL, 0, 0, x0, D, H, wall, "concrete")
    sc.box(x1, 0, 0, x1 + WALL, D, H, wall, "concrete")
    sc.box(x0 - WALL, -WALL, H, x1 + WALL, D + WALL, H + 0.2, tuple(min(1.0, c * 1.1) for c in wall), "concrete", solid=False)
    skirting = tuple(c * 0.45 for c in wall)
    for a in ((x0, D - 0.02, x1, D), (x0, 0, x0 + 0.02, D), (x1 - 0.02, 0, x1, D)):
        sc.b.box([(a[0] + a[2]) / 2, (a[1] + a[3]) / 2, 0.06], [(a[2] - a[0]) / 2, (a[3] - a[1]) / 2, 0.06],
                 skirting, "wood")

    # Doors: the main (glass) entrance on the far wall, the others on the side and near walls.
    doors: list[tuple[float, float, float]] = []
    walls = ["far"] + list(rng.choice(["left", "right", "near", "far"], size=max(p.doors - 1, 0)))
    for i, side in enumerate(walls):
        w = rng.uniform(1.6, 2.4) if i == 0 else rng.uniform(0.9, 1.2)
        h = min(2.1 + rng.uniform(0, 0.4), H - 0.2)
        glass = i == 0 or rng.random() < 0.3
        col = (0.1, 0.12, 0.13) if glass else tuple(np.array([0.25, 0.16, 0.1]) * rng.uniform(0.6, 1.4))
        mat = "glass" if glass else "wood"
        if side in ("far", "near"):
            xd = float(rng.uniform(x0 + w / 2 + 1.0, x1 - w / 2 - 1.0))
            yf, inward = (D - 0.04, -np.pi / 2) if side == "far" else (0.04, np.pi / 2)
            sc.b.box([xd, yf, h / 2], [w / 2, 0.05, h / 2], col, mat)
            doors.append((xd, D - 0.9 if side == "far" else 0.9, inward))
        else:
            yd = float(rng.uniform(3.0, D - w / 2 - 1.0))
            xf, inward = (x0 + 0.04, 0.0) if side == "left" else (x1 - 0.04, np.pi)
            sc.b.box([xf, yd, h / 2], [0.05, w / 2, h / 2], col, mat)
            doors.append((x0 + 0.9 if side == "left" else x1 - 0.9, yd, inward))
    xm = doors[0][0]
    paint.append(GroundPaint("polygon", rect_polygon(xm - 1.3, D - 1.6, xm + 1.3, D - 0.05), (0.04, 0.04, 0.045)))
    regions["entrance"] = rect_polygon(xm - 2.0, D - 3.0, xm + 2.0, D)
    keep_clear = [np.array(d[:2]) for d in doors]

    def clear(q: np.ndarray, r: float) -> bool:
        return all(np.hypot(*(q - c)) > r for c in keep_clear)

    # Reception desk along one side wall.
    if rng.random() < 0.8:
        side = rng.choice([-1, 1])
        length = rng.uniform(2.5, min(4.5, D / 3))
        yc = rng.uniform(0.45 * D, 0.8 * D)
        xc = side * (W / 2 - 1.9)
        q = np.array([xc, yc])
        if clear(q, length / 2 + 2.0):
            wood = tuple(np.array([0.3, 0.2, 0.12]) * rng.uniform(0.6, 1.3))
            sc.box(xc - 0.4, yc - length / 2, 0, xc + 0.4, yc + length / 2, 1.05, wood, "wood")
            sc.b.box([xc, yc, 1.08], [0.5, length / 2 + 0.05, 0.03], (0.7, 0.7, 0.68), "default")
            regions["desk"] = rect_polygon(xc - 1.5, yc - length / 2 - 0.5, xc + 1.5, yc + length / 2 + 0.5)
            keep_clear.append(q)

    # Pillars on a grid, away from the camera and the doors.
    round_pillars = rng.random() < 0.5
    pcol = tuple(min(1.0, c * rng.uniform(0.85, 1.15)) for c in wall)
    spacing = rng.uniform(4.5, 6.5)
    xs = np.arange(x0 + spacing * 0.75, x1 - 1.5, spacing)
    ys = np.arange(4.5, D - 2.0, spacing)
    grid = [np.array([x, y]) for x in xs for y in ys]
    for i in rng.permutation(len(grid))[:p.pillars]:
        q = grid[i]
        if not clear(q, 2.5):
            continue
        r = rng.uniform(0.22, 0.4)
        if round_pillars:
            sc.b.capsule([q[0], q[1], 0.0], [q[0], q[1], H], r, pcol, "concrete")
            sc.block(Footprints.disc(q[0], q[1], r))
        else:
            sc.box(q[0] - r, q[1] - r, 0, q[0] + r, q[1] + r, H, pcol, "concrete")
        keep_clear.append(q)

    # Benches along the walls, potted plants in corners.
    for _ in range(p.benches):
        for _ in range(20):
            side = rng.choice(["left", "right", "far"])
            if side == "far":
                q, yaw = np.array([rng.uniform(x0 + 1.5, x1 - 1.5), D - 0.45]), 0.0
            else:
                s = -1 if side == "left" else 1
                q, yaw = np.array([s * (W / 2 - 0.45), rng.uniform(3.0, D - 1.5)]), np.pi / 2 * s
            if clear(q, 1.8):
                sc.bench(q[0], q[1], float(yaw) + (np.pi if side == "far" else 0.0))
                keep_clear.append(q)
                break
    corners = [np.array([x0 + 0.6, D - 0.6]), np.array([x1 - 0.6, D - 0.6]),     # not under the camera
               np.array([x0 + 0.6, 0.55 * D]), np.array([x1 - 0.6, 0.55 * D])]
    for i in rng.permutation(4)[:p.trees]:
        q = corners[i]
        if not clear(q, 1.2):
            continue
        sc.box(q[0] - 0.25, q[1] - 0.25, 0, q[0] + 0.25, q[1] + 0.25, 0.5, (0.3, 0.25, 0.2), "concrete")
        sc.b.ellipsoid([q[0], q[1], 1.05], [0.45, 0.45, 0.6], (0.04, 0.14, 0.04), "foliage")

    # Ceiling lights on a grid.
    for x in np.arange(x0 + 2.5, x1 - 1.0, 4.5):
        for y in np.arange(2.5, D - 1.0, 4.5):
            sc.b.box([x, y, H - 0.03], [0.6, 0.15, 0.03], (1.0, 0.98, 0.92), "light")
            sc.lamps.append((float(x), float(y), float(H - 0.1)))

    static, obstacles = sc.build()
    ground = Ground(texture=p.ground_texture, color=floor, texture_scale_m=0.3, texture_contrast=0.08,
                    tile_m=float(rng.choice([0.4, 0.5, 0.6, 0.8])), paint=paint, extent=(x0, 0.0, x1, D),
                    beyond_color=tuple(c * 0.6 for c in floor))
    walkable = [rect_polygon(x0 + 0.25, 0.25, x1 - 0.25, D - 0.25)]
    return Layout("indoor", (x0, 0.0, x1, D), static, ground, obstacles, walkable, regions=regions,
                  lamps=sc.lamps, doors=doors, indoor=True, ceiling_m=H)
