"""Domain randomisation textures on the static background (World.ground_texture / wall_texture,
drawn by world/randomize.py): the background's albedo is retextured in place before it is shaded.

The texture maths is render/patterns.py's (`pattern_mix` of the solid kinds SOLID_CHECKS .. MARBLE),
evaluated at each pixel's world point, so ground, walls and vehicle bodies share one source; a
pixel's footprint fades detail it cannot resolve to the pattern's average (no aliasing far away).
Runs on the host once per background (like render/background.py's ground paint).
"""
from __future__ import annotations

import numpy as np
import torch
from numba import njit

from synthdata.render.patterns import pattern_mix
from synthdata.world.geometry.camera import Camera
from synthdata.world.randomize_params import TextureParams
from synthdata.world.types import MATERIAL, World


@njit(cache=True, nogil=True)
def _retexture(albedo, point, mask, C, pixel_angle, kind, col, col2, scale, contrast, seed):
    """albedo (H, W, 3) at pixels where mask: (1 - contrast) * own + contrast * mix(col, col2)."""
    H, W = mask.shape
    for y in range(H):
        for x in range(W):
            if not mask[y, x]:
                continue
            px, py, pz = point[y, x, 0], point[y, x, 1], point[y, x, 2]
            d = np.sqrt((px - C[0]) ** 2 + (py - C[1]) ** 2 + (pz - C[2]) ** 2)
            w = pattern_mix(kind, px, py, pz, scale, seed, d * pixel_angle)
            for c in range(3):
                tex = col[c] + (col2[c] - col[c]) * w
                albedo[y, x, c] = (1.0 - contrast) * albedo[y, x, c] + contrast * tex


def _apply(albedo: np.ndarray, point: np.ndarray, mask: np.ndarray, camera: Camera, t: TextureParams) -> None:
    C = np.asarray(camera.C[0], np.float64)
    _retexture(albedo, point, mask, C, 1.0 / float(camera.fx[0]), int(t.pattern), np.asarray(t.color, np.float64),
               np.asarray(t.color2, np.float64), float(t.scale_m), float(t.contrast), int(t.seed))


def retexture(albedo: torch.Tensor, material: torch.Tensor, point: torch.Tensor, ground: torch.Tensor,
              surface: torch.Tensor, world: World, camera: Camera) -> None:
    """Apply the World's ground texture to `ground` pixels (not to painted markings: those keep
    their own material) and its wall texture to the other `surface` pixels (static scenery), in
    place on albedo (H, W, 3) float32 (material (H, W), point (H, W, 3) world metres)."""
    if world.ground_texture is None and world.wall_texture is None:
        return
    a_np = albedo.cpu().numpy()
    p_np = np.ascontiguousarray(point.cpu().numpy())
    g_np = ground.cpu().numpy()
    if world.ground_texture is not None:
        _apply(a_np, p_np, g_np & (material.cpu().numpy() == MATERIAL["concrete"]), camera, world.ground_texture)
    if world.wall_texture is not None:
        _apply(a_np, p_np, surface.cpu().numpy() & ~g_np, camera, world.wall_texture)
    if albedo.device.type != "cpu":
        albedo.copy_(torch.as_tensor(a_np, device=albedo.device))
