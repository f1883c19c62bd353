"""Irradiance from the scene's point and spot lights, shared by visible shading (render/shading.py)
and near-infrared shading (render/nir.py). Linear RGB, metres."""
from __future__ import annotations

from typing import Any

import torch


def point_lights(n: torch.Tensor, point: torch.Tensor, light: Any) -> torch.Tensor:
    """Irradiance (..., 3) from street lights, lamps and headlights (inverse square, smooth cut-off);
    `light` is a render/shading.py LightingT (lights_pos, lights_dir, lights_col, lights_range, lights_cos)."""
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
