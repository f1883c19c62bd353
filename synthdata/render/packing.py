"""Scene data packed into the flat numpy arrays the compiled kernels read (render/pixel.py
layouts): primitive rows, light and material tables, the bodies of one chunk."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synthdata.render.hit_shading import NSURF, S_COLOR, S_COLOR2, S_MATERIAL2, S_PATTERN, S_SCALE, S_SEED
from synthdata.render.patterns import HIVIS, PLATE
from synthdata.render.pixel import NLIGHT, NPOINT, NPRM, PRM_AXES, PRM_CENTER, PRM_END, PRM_RAD, PRM_REF, PRM_SIZE
from synthdata.world.types import MATERIAL, MATERIALS, Shapes


def pack_shapes(s: Shapes) -> np.ndarray:
    """(T, P, NPRM) float64 primitive rows of `s` (T = s.num_frames)."""
    ref, rad = s.bounding_spheres()
    T, P = s.center.shape[:2]
    out = np.empty((T, P, NPRM))
    out[..., PRM_CENTER:PRM_CENTER + 3] = s.center
    out[..., PRM_END:PRM_END + 3] = s.end
    out[..., PRM_AXES:PRM_AXES + 9] = s.axes.reshape(T, P, 9)
    out[..., PRM_SIZE:PRM_SIZE + 3] = s.size
    out[..., PRM_REF:PRM_REF + 3] = ref
    out[..., PRM_RAD] = rad
    return out


def pack_surfaces(s: Shapes) -> np.ndarray:
    """(P, NSURF) float64 surface rows of `s` (render/hit_shading.py S_*): albedo and pattern."""
    kind, col2, scale, seed = s.patterns()
    out = np.zeros((s.num_shapes, NSURF))
    out[:, S_COLOR:S_COLOR + 3] = s.color
    out[:, S_PATTERN] = kind
    out[:, S_COLOR2:S_COLOR2 + 3] = col2
    out[:, S_SCALE] = scale
    out[:, S_SEED] = seed
    out[:, S_MATERIAL2] = np.where(kind == HIVIS, MATERIAL["retroreflective"],
                                   np.where(kind == PLATE, MATERIAL["default"], s.material))   # plate ink
    return out


@dataclass
class Bodies:
    """The primitives of several bodies (actors, or the static scene) for one chunk, in
    compositing order: rows (T or 1, P, NPRM), kinds (P,), windows (T, P, 4), prim_body (P,),
    body_track (B,), first (B,) index of each body's first primitive, color (P, 3), material (P,),
    surface (P, NSURF) albedo and pattern rows (pack_surfaces)."""

    prm: np.ndarray
    kinds: np.ndarray
    win: np.ndarray
    prim_body: np.ndarray
    body_track: np.ndarray
    first: np.ndarray
    color: np.ndarray
    material: np.ndarray
    surface: np.ndarray

    @staticmethod
    def build(shapes: list[Shapes], windows: list[np.ndarray], tracks: list[int], T: int) -> "Bodies":
        """Bodies from per-body shapes (T or 1 frames) and windows (T, P_b, 4)."""
        static = all(s.num_frames == 1 for s in shapes) and T == 1
        rows = [pack_shapes(s) for s in shapes]
        if not static:
            rows = [np.broadcast_to(r, (T,) + r.shape[1:]) for r in rows]
        counts = [s.num_shapes for s in shapes]
        first = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64) if counts else np.zeros(0, np.int64)
        cat = lambda xs, shape, dt: np.concatenate(xs).astype(dt) if xs else np.zeros(shape, dt)  # noqa: E731
        prm = np.ascontiguousarray(np.concatenate(rows, 1)) if rows else np.zeros((T, 0, NPRM))
        return Bodies(prm, cat([s.kind for s in shapes], 0, np.int64),
                      np.ascontiguousarray(np.concatenate(windows, 1)) if windows else np.zeros((T, 0, 4), np.int64),
                      np.repeat(np.arange(len(shapes)), counts).astype(np.int32),
                      np.asarray(tracks, np.int32), first,
                      cat([s.color for s in shapes], (0, 3), np.float64), cat([s.material for s in shapes], 0, np.int64),
                      cat([pack_surfaces(s) for s in shapes], (0, NSURF), np.float64))

    @property
    def num_prims(self) -> int:
        return int(self.kinds.shape[0])


def pack_lighting(light) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(light (NLIGHT,), materials (M, 6), point lights (L, NPOINT)) float64 from a LightingT
    (render/shading.py) and its NIR mode."""
    from synthdata.render.nir import IR_REFLECTANCE, RETRO_GAIN

    f = lambda t: np.asarray(t.detach().cpu().numpy(), np.float64)  # noqa: E731
    row = np.zeros(NLIGHT)
    row[0:3], row[3:6], row[6:9], row[9] = f(light.sun_dir), f(light.sun), f(light.ambient), light.exposure
    nir = light.nir
    if nir is not None:
        row[10], row[11], row[12], row[13] = 1.0, nir.power, nir.cos_edge, nir.cos_full
    mats = np.stack([f(light.spec), f(light.shininess), f(light.emission),
                     [IR_REFLECTANCE[m][0] for m in MATERIALS], [IR_REFLECTANCE[m][1] for m in MATERIALS],
                     [RETRO_GAIN.get(m, 0.0) for m in MATERIALS]], 1)
    L = light.lights_pos.shape[0]
    pts = np.zeros((L, NPOINT))
    if L:
        pts[:, 0:3], pts[:, 3:6], pts[:, 6] = f(light.lights_pos), f(light.lights_col), f(light.lights_range)
        pts[:, 7:10], pts[:, 10] = f(light.lights_dir), f(light.lights_cos)
    return row, mats, pts


def pack_moving_lights(dyn) -> tuple[np.ndarray, ...]:
    """(pos, axis, col (L, T, 3), range, cos (L,)) float64 of shading.DynamicLights (L = 0: none)."""
    if dyn is None:
        z3, z1 = np.zeros((0, 1, 3)), np.zeros(0)
        return z3, z3, z3, z1, z1
    f = lambda t: np.ascontiguousarray(t.detach().cpu().numpy(), np.float64)  # noqa: E731
    return f(dyn.pos), f(dyn.axis), f(dyn.col), f(dyn.range), f(dyn.cos)
