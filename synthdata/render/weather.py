"""Weather on surfaces and in the air: overcast light, wet ground and puddles with reflections
of the sky and the lights, snow cover, falling rain and snow.

Settings come from World.appearance (world/appearance.py: weather.wetness, .puddles, .snow_cover,
.rain_intensity, .snow_intensity, .wind_deg, lighting.overcast) and its seed (sensor.seed);
nothing random is decided here. Colours are linear RGB; particles are drawn in the linear-light
domain before the sensor (render/effects.py), depth-tested against the depth buffer.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from synthdata.render.noise import value_noise
from synthdata.world.appearance import Appearance
from synthdata.world.types import Lighting

SNOW_ALBEDO = (0.80, 0.82, 0.86)
RAIN_SPEED_MPS = 8.0          # terminal speed of rain drops
SNOW_SPEED_MPS = 1.0
PARTICLE_NEAR_M, PARTICLE_FAR_M = 0.8, 30.0
RAIN_STEPS = np.linspace(-0.5, 0.5, 12)      # a streak's samples along its length
RAIN_WEIGHTS = np.ones(12)
SNOW_OFFSETS = np.array([[0, 0], [1, 0], [-1, 0], [0, 1], [0, -1], [0.7, 0.7], [-0.7, 0.7], [0.7, -0.7], [-0.7, -0.7]])
SNOW_DU, SNOW_DV = (np.ascontiguousarray(SNOW_OFFSETS[:, k]) for k in (0, 1))    # a flake's samples across and down
SNOW_WEIGHTS = np.r_[1.0, [0.6] * 8]          # a flake's centre, then its rim


@dataclass
class WeatherT:
    wetness: float = 0.0
    puddles: float = 0.0
    snow_cover: float = 0.0
    rain: float = 0.0
    snow: float = 0.0
    wind_deg: float = 0.0
    seed: int = 0

    @staticmethod
    def from_world(world: Any) -> WeatherT:
        w, seed = world.appearance.weather, world.appearance.sensor.seed
        return WeatherT(float(w.wetness), float(w.puddles), float(w.snow_cover), float(w.rain_intensity),
                        float(w.snow_intensity), float(w.wind_deg), int(seed if seed is not None else world.noise_seed))

    @property
    def on_ground(self) -> bool:
        return self.wetness > 0 or self.snow_cover > 0


def adjust_lighting(lighting: Lighting, appearance: Appearance) -> Lighting:
    """Lighting under cloud: `appearance.lighting.overcast` (0..1) dims the sun, brightens the diffuse
    sky light, greys the sky, and the camera's exposure partly compensates (steady-state auto-exposure)."""
    o = float(appearance.lighting.overcast)
    if o <= 0:
        return lighting
    sun_z = max(float(np.asarray(lighting.sun_direction)[2]), 0.0)
    before = lighting.sun_intensity * sun_z + lighting.ambient_intensity
    sun = lighting.sun_intensity * (1 - 0.9 * o)
    amb = lighting.ambient_intensity * (1 + 0.5 * o)
    after = sun * sun_z + amb
    level = min(before, 1.2) * (1 - 0.45 * o)

    def grey(c: tuple[float, float, float]) -> tuple[float, float, float]:
        g = (0.62 * level,) * 3
        return tuple(float(x * (1 - o) + y * o) for x, y in zip(c, g))

    return dataclasses.replace(
        lighting, sun_intensity=sun, ambient_intensity=amb, ambient_color=grey(lighting.ambient_color),
        sky_top=grey(lighting.sky_top), sky_horizon=grey(lighting.sky_horizon),
        exposure=lighting.exposure * (before / max(after, 1e-6)) ** 0.7)


def _noise(gx: torch.Tensor, gy: torch.Tensor, seed: int, scale: float) -> torch.Tensor:
    gen = torch.Generator().manual_seed(int(seed) & 0x7FFFFFFF)
    lat = (torch.rand((2, 64, 64), generator=gen) * 2 - 1).to(gx.device)
    return 0.7 * value_noise(gx / scale, gy / scale, lat[0]) + 0.3 * value_noise(gx / (scale * 0.3), gy / (scale * 0.3), lat[1])


def surface_weather(albedo: torch.Tensor, point: torch.Tensor, normal: torch.Tensor, is_ground: torch.Tensor,
                    w: WeatherT) -> tuple[torch.Tensor, torch.Tensor]:
    """Wet/snowy albedo (H, W, 3) and gloss (H, W) in 0..1 (0 dry, ~0.5 wet, 1 standing water).

    Wet ground is darker; puddles (where the ground's noise is low) darker still and mirror-like;
    snow covers the ground and upward-facing static surfaces in drifts."""
    gloss = torch.zeros(albedo.shape[:-1], device=albedo.device)
    gx, gy = point[..., 0], point[..., 1]
    if w.snow_cover > 0:
        n = _noise(gx, gy, w.seed + 11, 2.5)
        cover = ((w.snow_cover * 1.6 - 0.35) + 0.6 * n).clamp(0, 1)
        up = is_ground | (normal[..., 2] > 0.6)
        cover = torch.where(up, cover, torch.zeros_like(cover))
        snow = torch.tensor(SNOW_ALBEDO, device=albedo.device)
        albedo = albedo * (1 - cover.unsqueeze(-1)) + snow * cover.unsqueeze(-1)
    if w.wetness > 0:
        wet = torch.where(is_ground, torch.full_like(gloss, w.wetness), torch.zeros_like(gloss))
        puddle = torch.zeros_like(gloss)
        if w.puddles > 0:
            n = _noise(gx, gy, w.seed + 23, 1.8)
            thr = 1.0 - 2.0 * w.puddles            # noise in about [-1, 1]: share below -thr
            puddle = ((-n - thr) * 8).clamp(0, 1) * is_ground
        albedo = albedo * (1 - 0.45 * wet - 0.35 * puddle).unsqueeze(-1)
        gloss = (0.5 * wet * (1 - puddle) + puddle).clamp(0, 1)
    return albedo, gloss


def fresnel_water(cos_v: torch.Tensor) -> torch.Tensor:
    return 0.02 + 0.98 * (1 - cos_v.clamp(0, 1)) ** 5


def wet_reflections(point: torch.Tensor, view_origin: torch.Tensor, gloss: torch.Tensor, light: Any,
                    sky_fn: Any, sunlit: torch.Tensor | float = 1.0) -> torch.Tensor:
    """Linear radiance (H, W, 3) reflected by wet ground: the sky in puddles and glints of the sun
    and point lights, stretched towards the camera as on a wet road (Blinn lobe sharpening with
    gloss). Zero where gloss is 0. `sunlit` (H, W) or scalar masks the sun's glint."""
    out = torch.zeros_like(point)
    m = gloss > 0
    if not bool(m.any()):
        return out
    p, g = point[m], gloss[m]
    v = view_origin - p
    v = v / v.norm(dim=-1, keepdim=True).clamp_min(1e-9)
    F = fresnel_water(v[:, 2])
    refl = torch.stack([-v[:, 0], -v[:, 1], v[:, 2]], -1)
    acc = sky_fn(refl) * (F * g * g).unsqueeze(-1)
    shin = 30 + 600 * g
    norm = (shin + 8) / (8 * math.pi)

    def glint(l: torch.Tensor, irr: torch.Tensor) -> torch.Tensor:
        h = l + v
        h = h / h.norm(dim=-1, keepdim=True).clamp_min(1e-9)
        return (F * g * norm * h[:, 2].clamp_min(0) ** shin * l[:, 2].clamp_min(0)).unsqueeze(-1) * irr

    sun = light.sun * (sunlit[m].unsqueeze(-1) if isinstance(sunlit, torch.Tensor) else sunlit)
    acc = acc + glint(light.sun_dir.expand_as(p), sun)
    for i in range(light.lights_pos.shape[0]):
        vec = light.lights_pos[i] - p
        d2 = (vec * vec).sum(-1, keepdim=True)
        d = d2.sqrt().clamp_min(1e-6)
        fall = (1 - (d / light.lights_range[i]).clamp(max=1) ** 4) ** 2 / d2.clamp_min(0.25)
        acc = acc + glint(vec / d, light.lights_col[i] * fall)
    out[m] = acc
    return out


def precipitation(x: torch.Tensor, depth: torch.Tensor, frames: np.ndarray, fps: float, fy: np.ndarray,
                  w: WeatherT, shutter: float, colour: torch.Tensor, near_boost: float = 0.0,
                  compiled: bool | None = None) -> None:
    """Draw falling rain streaks / snow flakes into linear-light frames x (T, H, W, C) in place.

    Particles sit at depths PARTICLE_NEAR_M..PARTICLE_FAR_M in front of the camera, keep their
    seeded positions from frame to frame (absolute frame numbers, so chunks agree) and are hidden
    behind anything nearer (depth test). Rain: streaks as long as the drop falls during the
    exposure; snow: soft flakes drifting down. `near_boost` brightens near particles (an IR
    illuminator beside the lens lights close drops brightly). On the CPU without near_boost the
    samples are drawn by a compiled pass (render/precip_pass.py), the same bits as the torch
    operations here (`compiled`: None chooses so, False forces the torch operations)."""
    _T, H, W = depth.shape
    dev = x.device
    if compiled is None:
        compiled = dev.type == "cpu" and near_boost <= 0
    if compiled:
        from synthdata.render.precip_pass import splat_particles
        col32 = np.ascontiguousarray(colour.detach().cpu().numpy(), np.float32)
    for kind, amount in (("rain", w.rain), ("snow", w.snow)):
        if amount <= 0:
            continue
        n = int(amount * H * W / (130 if kind == "rain" else 160)) + 1
        rng = np.random.default_rng(np.random.SeedSequence([w.seed, 0xA1 if kind == "rain" else 0x5E]))
        u0, v0, ph = rng.uniform(0, W, n), rng.uniform(0, H, n), rng.uniform(0, 2 * np.pi, n)
        z = PARTICLE_NEAR_M + (PARTICLE_FAR_M - PARTICLE_NEAR_M) * rng.uniform(0, 1, n) ** 1.5
        z32 = z.astype(np.float32)
        speed = RAIN_SPEED_MPS if kind == "rain" else SNOW_SPEED_MPS
        slant = math.radians(w.wind_deg)
        for i, f in enumerate(frames):
            f_px = float(fy[min(i, len(fy) - 1)])
            drop = speed * f_px / z                                   # px per second
            tsec = f / fps
            v = (v0 + drop * tsec * math.cos(slant)) % H
            u = (u0 + drop * tsec * math.sin(slant) + (np.sin(ph + tsec * 1.3) * 0.4 * f_px / z if kind == "snow" else 0)) % W
            # sample j of particle k: (u + du[j] grow[k] cx, v + dv[j] grow[k] cy), alpha amp[k] weight[j]
            if kind == "rain":
                grow = np.clip(drop * max(shutter, 0.1) / fps, 1.5, H / 3)      # the streak's length
                du = dv = RAIN_STEPS
                cx, cy = math.sin(slant), math.cos(slant)
                # nearer drops are brighter but, out of focus, fainter again right at the lens
                amp, weight = 0.2 * np.clip(4.0 / z, 0.1, 1.0) * np.clip(z / 2.5, 0.3, 1.0), RAIN_WEIGHTS
            else:
                grow = np.clip(0.012 * f_px / z, 0.5, 4.0)                        # the flake's radius
                du, dv = SNOW_DU, SNOW_DV
                cx = cy = 0.8
                amp, weight = 0.9 * np.clip(grow / 2, 0.3, 1.0), SNOW_WEIGHTS
            if compiled:
                splat_particles(x[i].numpy(), np.ascontiguousarray(depth[i].numpy()), u, v, z32, grow, du, dv, cx, cy,
                                amp, weight, col32)
                continue
            pu = u[:, None] + du[None, :] * grow[:, None] * cx
            pv = v[:, None] + dv[None, :] * grow[:, None] * cy
            alpha = amp[:, None] * weight[None, :]
            zz = np.broadcast_to(z[:, None], pu.shape)
            iu, iv = np.floor(pu).astype(np.int64), np.floor(pv).astype(np.int64)
            ok = (iu >= 0) & (iu < W) & (iv >= 0) & (iv < H)
            idx = torch.as_tensor(iv[ok] * W + iu[ok], device=dev)
            zt = torch.as_tensor(zz[ok], dtype=torch.float32, device=dev)
            at = torch.as_tensor(alpha[ok], dtype=torch.float32, device=dev)
            at = torch.where(zt < depth[i].reshape(-1)[idx], at, torch.zeros_like(at))
            a = torch.zeros(H * W, device=dev).scatter_reduce(0, idx, at, "amax").view(H, W, 1)
            col = colour
            if near_boost > 0:
                zn = torch.full((H * W,), PARTICLE_FAR_M, device=dev).scatter_reduce(0, idx, zt, "amin").view(H, W, 1)
                col = colour + near_boost / zn.clamp_min(PARTICLE_NEAR_M) ** 2
            x[i] = x[i] * (1 - a) + col * a
