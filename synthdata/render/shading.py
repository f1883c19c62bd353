"""Lighting on the render device and tone mapping.

The shading maths itself (sun, sky, street and vehicle lights, near-infrared mode) is scalar code
in render/pixel.py, compiled for every device; this module holds the lighting tables it reads
and the tone curve for whole images. Colours are linear RGB in 0..1 until `tonemap`, which
applies exposure, a soft shoulder and the sRGB-like gamma and returns uint8.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
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
    nir: Any = None              # render/nir.py NirT when the camera is in near-infrared mode

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


def tonemap(rgb: torch.Tensor, exposure: float) -> torch.Tensor:
    """Linear RGB -> uint8 display values (exposure, soft shoulder, gamma 1/2.2)."""
    x = (rgb * exposure).clamp_min(0)
    y = 1.0 - torch.exp(-1.25 * x)
    return (y.pow(1 / 2.2) * 255.0 + 0.5).clamp(0, 255).to(torch.uint8)


def untonemap_lut(device: torch.device) -> torch.Tensor:
    """(256,) float32: the exposed linear value each uint8 display value came from (inverse of
    `tonemap` at exposure 1; 255 maps to the middle of its bin)."""
    y = (torch.arange(256, dtype=torch.float64) / 255.0).clamp(max=254.6 / 255).pow(2.2)
    return (-torch.log1p(-y) / 1.25).to(torch.float32).to(device)


# ---- lights that move with actors (vehicle head and tail lights) -----------------------------
VEHICLES = ("car", "van", "truck", "bus", "motorcycle")
HEADLIGHT = {"color": (1.0, 0.95, 0.85), "intensity": 14.0, "range_m": 40.0, "cone_deg": 70.0, "pitch_deg": 7.0}
TAILLIGHT = {"color": (0.9, 0.06, 0.03), "intensity": 0.35, "range_m": 5.0}


@dataclass
class DynamicLights:
    """Per-frame point/spot lights (L lights over the clip's T frames), on the render device.

    pos (L, T, 3); axis (L, T, 3) spot axis (zero for omni); col (L, T, 3) colour * intensity,
    zero in frames where the light is off; range (L,); cos (L,) cos of the half cone (-1 omni)."""

    pos: torch.Tensor
    axis: torch.Tensor
    col: torch.Tensor
    range: torch.Tensor
    cos: torch.Tensor

    def __len__(self) -> int:
        return int(self.pos.shape[0])


def vehicle_lights(world: Any, device: torch.device) -> DynamicLights | None:
    """Head lights (forward spots) and tail lights (dim red glows) of the moving vehicles, from
    their "light"-material parts, when World.appearance.lighting.vehicle_lights is on. Vehicles with
    attributes behavior == "parked" stay dark."""
    if not world.appearance.lighting.vehicle_lights:
        return None
    light_m = MATERIAL["light"]
    pos, axis, col, rng, cos = [], [], [], [], []
    T = world.num_frames
    for a in world.actors:
        if a.category not in VEHICLES or a.attributes.get("behavior") == "parked":
            continue
        idx = np.flatnonzero(a.shapes.material == light_m)
        if not len(idx):
            continue
        h = np.asarray(a.heading, float)
        fwd = np.stack([np.cos(h), np.sin(h), np.zeros_like(h)], -1)
        on = np.asarray(a.present, float)[:, None]
        for p in idx:
            c = np.broadcast_to(a.shapes.center[:, p], (T, 3))
            front = float(((c[0] - a.position[0]) * fwd[0]).sum()) > 0
            spec = HEADLIGHT if front else TAILLIGHT
            sgn = 1.0 if front else -1.0
            pos.append(c + sgn * 0.06 * fwd)
            if front:
                pitch = np.radians(spec["pitch_deg"])
                axis.append(fwd * np.cos(pitch) - np.array([0, 0, np.sin(pitch)]))
                cos.append(np.cos(np.radians(spec["cone_deg"] / 2)))
            else:
                axis.append(np.zeros((T, 3)))
                cos.append(-1.0)
            col.append(np.asarray(spec["color"]) * spec["intensity"] * on)
            rng.append(spec["range_m"])
    if not pos:
        return None
    def f(x: list) -> torch.Tensor:
        return torch.as_tensor(np.asarray(x), dtype=torch.float32, device=device)

    return DynamicLights(f(pos), f(axis), f(col), f(rng), f(cos))
