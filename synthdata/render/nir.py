"""Near-infrared night mode: what most CCTV cameras deliver after dark.

The IR-cut filter is out and an IR illuminator beside the lens lights the scene, so the picture
is monochrome (R = G = B), bright near the camera and the optical axis and falling off with the
square of distance, and materials reflect by their near-infrared reflectance rather than their
colour: most textile dyes are transparent in NIR (dark clothing can look bright), foliage is
bright (the "Wood effect"), asphalt and glass stay dark, and retro-reflective material (number
plates, hi-vis strips, road studs) returns the coaxial illuminator very brightly.

Enabled by World.appearance.sensor.nir with the illuminator reach World.appearance.sensor.ir_range_m. The
tables here feed the compiled shading (render/pixel.py shade_pixel and lamp_response).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch

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


def nir_sky(rays: torch.Tensor) -> torch.Tensor:
    return torch.full_like(rays, NIGHT_SKY_IR)
