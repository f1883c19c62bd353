"""Lighting and tone mapping: linear radiance from albedo, normals and the scene's lights.

Colours are linear RGB in 0..1 until `tonemap`, which applies exposure, a soft shoulder and the
sRGB-like gamma and returns uint8.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from synthdata.world.types import MATERIAL, MATERIALS, Lighting

# per material: (specular strength, shininess, emission)
_MATERIAL_PARAMS = {
    "default": (0.04, 16, 0.0), "cloth": (0.01, 4, 0.0), "skin": (0.05, 12, 0.0), "hair": (0.06, 24, 0.0),
    "paint": (0.35, 48, 0.0), "glass": (0.6, 96, 0.0), "rubber": (0.02, 8, 0.0), "metal": (0.5, 32, 0.0),
    "retroreflective": (0.2, 16, 0.0), "foliage": (0.02, 6, 0.0), "concrete": (0.02, 6, 0.0),
    "wood": (0.04, 10, 0.0), "light": (0.0, 1, 3.0),
}


@dataclass
class LightingT:
    """Lighting on the render device."""

    sun_dir: torch.Tensor        # (3,) towards the sun
    sun: torch.Tensor            # (3,) sun colour * intensity
    ambient: torch.Tensor        # (3,)
    lights_pos: torch.Tensor     # (L, 3)
    lights_col: torch.Tensor     # (L, 3) colour * intensity
    lights_range: torch.Tensor   # (L,)
    lights_dir: torch.Tensor     # (L, 3) spotlight axis (zero for omni)
    lights_cos: torch.Tensor     # (L,) cos of the half cone (-1 for omni)
    spec: torch.Tensor           # (M,) per material
    shininess: torch.Tensor      # (M,)
    emission: torch.Tensor       # (M,)
    exposure: float

    @staticmethod
    def from_lighting(light: Lighting, device: torch.device) -> "LightingT":
        def v(x) -> torch.Tensor:
            return torch.as_tensor(x, dtype=torch.float32, device=device)

        s = v(light.sun_direction)
        s = s / s.norm().clamp_min(1e-9)
        pls = light.point_lights
        dirs = []
        for p in pls:
            if p.direction is None:
                dirs.append((0.0, 0.0, 0.0))
            else:
                d = torch.tensor(p.direction, dtype=torch.float32)
                dirs.append(tuple((d / d.norm().clamp_min(1e-9)).tolist()))
        params = [_MATERIAL_PARAMS[m] for m in MATERIALS]
        return LightingT(
            sun_dir=s, sun=v(light.sun_color) * light.sun_intensity,
            ambient=v(light.ambient_color) * light.ambient_intensity,
            lights_pos=v([p.position for p in pls]).reshape(-1, 3),
            lights_col=v([[c * p.intensity for c in p.color] for p in pls]).reshape(-1, 3),
            lights_range=v([p.range_m for p in pls]).reshape(-1),
            lights_dir=v(dirs).reshape(-1, 3),
            lights_cos=v([(-1.0 if p.direction is None else float(torch.cos(torch.tensor(p.cone_deg / 2 * 3.14159265 / 180))))
                          for p in pls]).reshape(-1),
            spec=v([p[0] for p in params]), shininess=v([p[1] for p in params]), emission=v([p[2] for p in params]),
            exposure=float(light.exposure),
        )


def shade(albedo: torch.Tensor, normal: torch.Tensor, point: torch.Tensor, material: torch.Tensor,
          view_origin: torch.Tensor, light: LightingT, sunlit: torch.Tensor | float = 1.0) -> torch.Tensor:
    """Linear RGB (..., 3). `sunlit` is 1 where the sun reaches the surface, 0 in shadow."""
    n = normal
    ambient = light.ambient * (0.75 + 0.25 * n[..., 2:3])
    ndl = (n * light.sun_dir).sum(-1, keepdim=True).clamp_min(0)
    if not isinstance(sunlit, float):
        sunlit = sunlit.unsqueeze(-1)
    direct = light.sun * ndl * sunlit
    rgb_light = ambient + direct
    if light.lights_pos.shape[0]:
        rgb_light = rgb_light + point_lights(n, point, light)
    view = view_origin - point
    view = view / view.norm(dim=-1, keepdim=True).clamp_min(1e-9)
    half = light.sun_dir + view
    half = half / half.norm(dim=-1, keepdim=True).clamp_min(1e-9)
    ndh = (n * half).sum(-1).clamp_min(0)
    ks = light.spec[material]
    spec = (ks * ndh.pow(light.shininess[material]) * (ndl[..., 0] > 0)).unsqueeze(-1) * light.sun * sunlit
    emit = light.emission[material].unsqueeze(-1) * albedo
    return albedo * rgb_light + spec + emit


def point_lights(n: torch.Tensor, point: torch.Tensor, light: LightingT) -> torch.Tensor:
    """Irradiance (..., 3) from street lights, lamps and headlights (inverse square, smooth cut-off)."""
    out = torch.zeros_like(point)
    for i in range(light.lights_pos.shape[0]):
        vec = light.lights_pos[i] - point
        d2 = (vec * vec).sum(-1, keepdim=True)
        d = d2.sqrt().clamp_min(1e-6)
        ndl = ((n * vec).sum(-1, keepdim=True) / d).clamp_min(0)
        rng = light.lights_range[i]
        fall = (1 - (d / rng).clamp(max=1) ** 4) ** 2 / d2.clamp_min(0.25)
        if light.lights_cos[i] > -1:
            cosang = -(vec * light.lights_dir[i]).sum(-1, keepdim=True) / d
            c0 = light.lights_cos[i]
            fall = fall * ((cosang - c0) / (1 - c0).clamp_min(1e-3) * 3).clamp(0, 1)
        out = out + light.lights_col[i] * ndl * fall
    return out


def tonemap(rgb: torch.Tensor, exposure: float) -> torch.Tensor:
    """Linear RGB -> uint8 display values (exposure, soft shoulder, gamma 1/2.2)."""
    x = (rgb * exposure).clamp_min(0)
    y = 1.0 - torch.exp(-1.25 * x)
    return (y.pow(1 / 2.2) * 255.0 + 0.5).clamp(0, 255).to(torch.uint8)


def material_index(name: str) -> int:
    return MATERIAL[name]
