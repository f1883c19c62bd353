"""Layouts: the static place a clip plays in, built deterministically from LayoutParams.

Frame: the layout's near edge is y = 0 (the camera stands at or behind it), it extends to
y = depth; x runs across, -width/2 .. width/2. A Layout carries
- `static`: unlabelled occluders as Shapes (T = 1) and `ground` (texture and paint),
- `obstacles`: their ground footprints, which nobody may walk or drive through,
- `walkable` polygons (people), `drivable` polygons and directed `lanes` (vehicles), parking `bays`,
- `regions`: named ground polygons ("lot", "road", "crossing", "floor", ...) that zones can be
  placed relative to,
- `lamps`: light positions (street lights, ceiling lights) and indoor `doors`.
Fine detail (tree shapes, building heights) comes from `np.random.default_rng(params.seed)`.
The layout types themselves (parking lot, street, indoor, ...) are built by the modules
world/layout_*.py and registered in world/layouts/registry.py.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from synthdata.world.geometry.shapes import Footprints, ShapeBuilder, hex_to_linear
from synthdata.world.types import Backdrop, Ground, Shapes


@dataclass
class Lane:
    """A directed lane centreline (N, 2) in the driving direction."""

    points: np.ndarray
    width: float
    name: str


@dataclass
class Bay:
    """A parking bay. yaw: heading of a vehicle parked in it (nose-in: from the mouth inwards)."""

    center: np.ndarray
    yaw: float
    length: float
    width: float
    lane: int            # index of the lane it is reached from
    parallel: bool = False

    def polygon(self) -> np.ndarray:
        """The bay's painted rectangle (4, 2)."""
        c, s = np.cos(self.yaw), np.sin(self.yaw)
        local = np.array([[1, 1], [1, -1], [-1, -1], [-1, 1]]) * [self.length / 2, self.width / 2]
        return self.center + local @ np.array([[c, s], [-s, c]])

    def parked_center(self, length: float) -> np.ndarray:
        """Where a vehicle of this length stands: against the back line of a perpendicular bay
        (a long one overhangs the mouth, onto the aisle), centred in a parallel one."""
        if self.parallel:
            return self.center.copy()
        u = np.array([np.cos(self.yaw), np.sin(self.yaw)])
        return self.center + u * (self.length / 2 - 0.1 - length / 2)


@dataclass
class Layout:
    type: str
    bounds: tuple[float, float, float, float]      # xmin, ymin, xmax, ymax of the layout proper
    static: Shapes
    ground: Ground
    obstacles: Footprints
    walkable: list[np.ndarray]
    drivable: list[np.ndarray] = field(default_factory=list)
    lanes: list[Lane] = field(default_factory=list)
    bays: list[Bay] = field(default_factory=list)
    regions: dict[str, np.ndarray] = field(default_factory=dict)
    lamps: list[tuple[float, float, float]] = field(default_factory=list)
    doors: list[tuple[float, float, float]] = field(default_factory=list)   # x, y, inward yaw
    indoor: bool = False
    ceiling_m: float | None = None
    keep_out: list[np.ndarray] = field(default_factory=list)    # no-go ground polygons
    entries: list[np.ndarray] = field(default_factory=list)     # ground points people enter/leave at
    zones: list[dict] = field(default_factory=list)             # zones the layout brings (zones.py dicts)
    backdrop: Backdrop | None = None                            # a real plate (layout_plate.py)
    nav_cell_m: float = 0.5                                     # people's navigation grid cell

    @property
    def nav_bounds(self) -> tuple[float, float, float, float]:
        """Extent of everything walkable (people's navigation grid covers this)."""
        pts = np.concatenate(self.walkable)
        return (float(pts[:, 0].min()), float(pts[:, 1].min()), float(pts[:, 0].max()), float(pts[:, 1].max()))


class Scenery:
    """Collects static primitives and their footprints while a layout is built."""

    def __init__(self, rng: np.random.Generator):
        self.rng = rng
        self.b = ShapeBuilder(1)
        self.footprints: list[np.ndarray] = []
        self.lamps: list[tuple[float, float, float]] = []

    def block(self, row: np.ndarray) -> None:
        self.footprints.append(row)

    def box(self, x0, y0, z0, x1, y1, z1, color, material="concrete", solid=True) -> None:
        """Axis-aligned box; `solid` ones are obstacles on the ground."""
        c = [(x0 + x1) / 2, (y0 + y1) / 2, (z0 + z1) / 2]
        h = [abs(x1 - x0) / 2, abs(y1 - y0) / 2, abs(z1 - z0) / 2]
        self.b.box(c, h, color, material)
        if solid and z0 < 2.2:
            self.block(Footprints.rect(c[0], c[1], h[0], h[1]))

    def tree(self, x: float, y: float, scale: float = 1.0) -> None:
        rng = self.rng
        trunk_h = rng.uniform(1.8, 2.8) * scale
        trunk_r = rng.uniform(0.1, 0.18) * scale
        bark = np.array([0.10, 0.07, 0.045]) * rng.uniform(0.8, 1.2)
        leaf = np.array([rng.uniform(0.03, 0.08), rng.uniform(0.10, 0.2), rng.uniform(0.02, 0.06)])
        cr = rng.uniform(1.3, 2.3) * scale
        cz = rng.uniform(1.0, 1.4) * cr
        self.b.capsule([x, y, 0.0], [x, y, trunk_h + 0.5 * cz], trunk_r, bark, "wood")
        self.b.ellipsoid([x, y, trunk_h + cz], [cr, cr * rng.uniform(0.85, 1.0), cz], leaf, "foliage")
        if rng.random() < 0.6:    # a second lobe breaks the perfect ellipsoid silhouette
            a = rng.uniform(0, 2 * np.pi)
            self.b.ellipsoid([x + 0.45 * cr * np.cos(a), y + 0.45 * cr * np.sin(a), trunk_h + 1.4 * cz],
                             [0.7 * cr, 0.7 * cr, 0.6 * cz], leaf * 1.15, "foliage")
        self.block(Footprints.disc(x, y, trunk_r + 0.05))

    def lamp_post(self, x: float, y: float, height: float, arm_yaw: float) -> None:
        grey = (0.16, 0.17, 0.18)
        self.b.capsule([x, y, 0.0], [x, y, height], 0.07, grey, "metal")
        self.b.box([x, y, 0.3], [0.14, 0.14, 0.3], grey, "metal")
        d = np.array([np.cos(arm_yaw), np.sin(arm_yaw)])
        ax, ay = x + 1.2 * d[0], y + 1.2 * d[1]
        self.b.capsule([x, y, height], [ax, ay, height + 0.15], 0.045, grey, "metal")
        self.b.yawed_box([ax, ay, height + 0.05], [0.32, 0.14, 0.07], arm_yaw, (0.95, 0.92, 0.8), "light")
        self.lamps.append((float(ax), float(ay), float(height - 0.05)))
        self.block(Footprints.disc(x, y, 0.22))

    def fence(self, p0, p1, height: float = 1.6, color=(0.2, 0.22, 0.2)) -> None:
        """Posts every ~2.5 m and two rails: see-through, an obstacle along its line."""
        p0, p1 = np.asarray(p0, float), np.asarray(p1, float)
        d = p1 - p0
        length = float(np.hypot(*d))
        if length < 0.5:
            return
        yaw = float(np.arctan2(d[1], d[0]))
        n = max(int(np.ceil(length / 2.5)), 1)
        for k in range(n + 1):
            p = p0 + d * k / n
            self.b.box([p[0], p[1], height / 2], [0.04, 0.04, height / 2], color, "metal")
        mid = (p0 + p1) / 2
        for z in (0.35 * height, 0.92 * height):
            self.b.yawed_box([mid[0], mid[1], z], [length / 2, 0.025, 0.04], yaw, color, "metal")
        self.block(Footprints.segment(p0, p1, 0.08))

    def bench(self, x: float, y: float, yaw: float, color=(0.25, 0.15, 0.08)) -> None:
        c, s = np.cos(yaw), np.sin(yaw)
        self.b.yawed_box([x, y, 0.43], [0.9, 0.22, 0.04], yaw, color, "wood")
        self.b.yawed_box([x + 0.22 * s, y - 0.22 * c, 0.68], [0.9, 0.03, 0.2], yaw, color, "wood")  # backrest
        for k in (-0.75, 0.75):
            self.b.yawed_box([x + k * c, y + k * s, 0.2], [0.04, 0.2, 0.2], yaw, (0.12, 0.12, 0.12), "metal")
        self.block(Footprints.rect(x, y, 0.95, 0.3, yaw))

    def bin(self, x: float, y: float) -> None:
        self.b.capsule([x, y, 0.0], [x, y, 0.7], 0.25, (0.12, 0.2, 0.14), "metal")
        self.block(Footprints.disc(x, y, 0.3))

    def building(self, x0: float, x1: float, y0: float, depth: float, height: float, color) -> None:
        """A facade block whose front face is at y = y0, extending to +y."""
        rng = self.rng
        self.box(x0, y0, 0, x1, y0 + depth, height, color, "concrete")
        glass = (0.05, 0.07, 0.09) if rng.random() < 0.6 else (0.12, 0.14, 0.16)
        floor_h = rng.uniform(3.0, 3.6)
        margin = 0.6
        z = floor_h + 0.9
        while z + 1.3 < height - 0.3:     # one window band per upper floor
            self.b.box([(x0 + x1) / 2, y0 - 0.03, z + 0.7], [(x1 - x0) / 2 - margin, 0.05, 0.65], glass, "glass")
            z += floor_h
        shop = rng.random() < 0.5
        if shop:                           # shop window at street level
            self.b.box([(x0 + x1) / 2, y0 - 0.03, 1.5], [(x1 - x0) / 2 - margin, 0.05, 1.0], glass, "glass")
        door_x = rng.uniform(x0 + 1.5, x1 - 1.5)
        self.b.box([door_x, y0 - 0.06, 1.1], [0.6, 0.06, 1.1], np.asarray(color) * 0.35, "wood")

    def buildings(self, n: int, xa: float, xb: float, y0: float, wall_color: str) -> None:
        """`n` facades spread along x in [xa, xb], fronts at y >= y0."""
        rng = self.rng
        if n <= 0:
            return
        cuts = np.concatenate([[xa], np.sort(rng.uniform(xa, xb, n - 1)), [xb]])
        base = np.array(hex_to_linear(wall_color))
        for a, b in zip(cuts[:-1], cuts[1:]):
            if b - a < 6:
                continue
            gap = rng.uniform(0, 2.0)
            color = np.clip(base * rng.uniform(0.7, 1.3, 3) ** 0.5, 0, 1)
            self.building(a + gap / 2, b - gap / 2, y0 + rng.uniform(0, 3), rng.uniform(8, 14),
                          rng.uniform(6, 22), color)

    def build(self, extra: list[np.ndarray] | None = None) -> tuple[Shapes, Footprints]:
        rows = self.footprints + (extra or [])
        return self.b.build(), Footprints(np.array(rows) if rows else None)
