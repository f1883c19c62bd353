"""Near-infrared night mode: what most CCTV cameras deliver after dark.

The IR-cut filter is out and an IR illuminator beside the lens lights the scene, so the picture
is monochrome (R = G = B), bright near the camera and the optical axis and falling off with the
square of distance, and materials reflect by their near-infrared reflectance rather than their
colour: most textile dyes are transparent in NIR (dark clothing can look bright), foliage is
bright (the "Wood effect"), asphalt and glass stay dark, and retro-reflective material (number
plates, hi-vis strips, road studs) returns the coaxial illuminator very brightly.

Enabled by World.appearance.sensor.nir with the illuminator reach World.appearance.sensor.ir_range_m.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch

from synthdata.render.lights import point_lights
from synthdata.world.types import MATERIALS

LUMA = (0.2126, 0.7152, 0.0722)
# NIR reflectance = base + gain * visible luminance (linear albedo), per material
IR_REFLECTANCE = {
    "default": (0.20, 0.60), "cloth": (0.50, 0.40), "skin": (0.40, 0.35), "hair": (0.15, 0.50),
    "paint": (0.15, 0.60), "glass": (0.03, 0.10), "rubber": (0.03, 0.10), "metal": (0.35, 0.40),
    "retroreflective": (0.60, 0.30), "foliage": (0.60, 0.20), "concrete": (0.02, 0.75),
    "wood": (0.35, 0.40), "light": (0.30, 0.60),
}
RETRO_GAIN = {"retroreflective": 8.0}
IR_AT_RANGE = 0.10            # on-axis irradiance at ir_range_m (sets the illuminator power)
LAMP_IR_FRACTION = 0.35       # share of street/vehicle light that reaches the sensor in NIR mode
NIGHT_SKY_IR = 0.004


@dataclass
class NirT:
    """NIR mode on the render device."""

    base: torch.Tensor        # (M,)
    gain: torch.Tensor        # (M,)
    retro: torch.Tensor       # (M,)
    power: float              # illuminator intensity (irradiance at 1 m, normal incidence)
    cos_edge: float           # the beam fades out between cos_full and cos_edge off the axis
    cos_full: float

    @staticmethod
    def from_world(world: Any, device: torch.device) -> NirT:
        rng_m = float(world.appearance.sensor.ir_range_m)
        cam = world.camera
        half = math.atan(cam.width / 2 / float(cam.fx[0])) if cam.model != "fisheye" else cam.width / 2 / float(cam.fx[0])
        half = min(half, math.radians(80))
        v = lambda xs: torch.tensor(xs, dtype=torch.float32, device=device)
        return NirT(v([IR_REFLECTANCE[m][0] for m in MATERIALS]), v([IR_REFLECTANCE[m][1] for m in MATERIALS]),
                    v([RETRO_GAIN.get(m, 0.0) for m in MATERIALS]), IR_AT_RANGE * rng_m ** 2,
                    math.cos(min(half * 1.25, math.radians(85))), math.cos(half * 0.55))


def luminance(rgb: torch.Tensor) -> torch.Tensor:
    return rgb[..., 0] * LUMA[0] + rgb[..., 1] * LUMA[1] + rgb[..., 2] * LUMA[2]


def ir_albedo(albedo: torch.Tensor, material: torch.Tensor, nir: NirT) -> torch.Tensor:
    """(...) near-infrared reflectance from the visible albedo (..., 3) and material (...)."""
    return (nir.base[material] + nir.gain[material] * luminance(albedo)).clamp(0, 0.95)


def shade_nir(albedo: torch.Tensor, normal: torch.Tensor, point: torch.Tensor, material: torch.Tensor,
              view_origin: torch.Tensor, view_axis: torch.Tensor | None, light: Any, nir: NirT,
              sunlit: torch.Tensor | float = 1.0) -> torch.Tensor:
    """Grey linear radiance (..., 3) (equal channels) under the camera's IR illuminator plus the
    NIR share of the scene's other lights."""
    a = ir_albedo(albedo, material, nir)
    vec = view_origin - point
    d2 = (vec * vec).sum(-1)
    d = d2.sqrt().clamp_min(1e-6)
    l = vec / d.unsqueeze(-1)
    ndl = (normal * l).sum(-1).clamp_min(0)
    if view_axis is None:
        spot = torch.ones_like(d)
    else:
        cos_ax = -(l * view_axis).sum(-1)
        spot = ((cos_ax - nir.cos_edge) / max(nir.cos_full - nir.cos_edge, 1e-3)).clamp(0, 1)
        spot = spot * spot * (3 - 2 * spot)
    e_ir = nir.power * spot * ndl / d2.clamp_min(0.25)
    retro = nir.retro[material] * ndl.sqrt() * e_ir       # glass beads return light even at grazing angles
    lum = lambda c: luminance(c.unsqueeze(0))[0]
    sun_ndl = (normal * light.sun_dir).sum(-1).clamp_min(0)
    if not isinstance(sunlit, float):
        sun_ndl = sun_ndl * sunlit
    e = e_ir + lum(light.ambient) * (0.75 + 0.25 * normal[..., 2]) + lum(light.sun) * sun_ndl
    if light.lights_pos.shape[0]:
        e = e + LAMP_IR_FRACTION * luminance(point_lights(normal, point, light))
    emit = light.emission[material] * luminance(albedo)
    out = a * (e + retro) + emit
    return out.unsqueeze(-1).expand(*out.shape, 3)


def light_response_nir(albedo: torch.Tensor, material: torch.Tensor, irradiance: torch.Tensor, nir: NirT) -> torch.Tensor:
    """Grey radiance (..., 3) of surfaces under extra visible lights (vehicle lamps) in NIR mode."""
    out = ir_albedo(albedo, material, nir) * LAMP_IR_FRACTION * luminance(irradiance)
    return out.unsqueeze(-1).expand(*out.shape, 3)


def nir_sky(rays: torch.Tensor) -> torch.Tensor:
    return torch.full_like(rays, NIGHT_SKY_IR)
