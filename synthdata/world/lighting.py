"""LightingParams + the layout's lamps -> Lighting (sun, ambient, sky, point lights).

Sun direction from elevation and compass azimuth (0 = +y, 90 = +x). Day light dims and
softens with cloud cover; dusk is low, warm sun with street lights on; night is moonlight,
a dark sky and street-light pools; indoors only the ceiling lights and ambient light.
"""
from __future__ import annotations

import numpy as np

from synthdata.world.spec import LightingParams
from synthdata.world.types import Lighting, PointLight

LAMP_COLORS = {"sodium": (1.0, 0.72, 0.42), "led": (0.93, 0.95, 1.0)}


def sun_direction(elevation_deg: float, azimuth_deg: float) -> tuple[float, float, float]:
    el, az = np.radians(elevation_deg), np.radians(azimuth_deg)
    return (float(np.cos(el) * np.sin(az)), float(np.cos(el) * np.cos(az)), float(np.sin(el)))


def _mix(a, b, w: float) -> tuple[float, float, float]:
    return tuple(float((1 - w) * x + w * y) for x, y in zip(a, b))


def make_lighting(p: LightingParams, lamps: list[tuple[float, float, float]]) -> Lighting:
    sun = sun_direction(p.sun_elevation_deg, p.sun_azimuth_deg)
    cc = float(np.clip(p.cloud_cover, 0, 1))
    lamp = LAMP_COLORS.get(p.lamp_color, LAMP_COLORS["sodium"])
    if p.time_of_day == "indoor":
        return Lighting("indoor", sun_direction(80.0, p.sun_azimuth_deg), (1.0, 0.96, 0.9), 0.0, (1.0, 0.97, 0.92),
                        0.5, (0.8, 0.8, 0.78), (0.8, 0.8, 0.78), 1.2 * p.exposure,
                        [PointLight(l, _mix(lamp, (1.0, 1.0, 1.0), 0.6), 4.0, 12.0) for l in lamps], shadows=False)
    if p.time_of_day == "night":
        return Lighting("night", sun_direction(max(p.sun_elevation_deg, 20.0), p.sun_azimuth_deg), (0.6, 0.7, 1.0),
                        0.03 * (1 - 0.8 * cc), (0.3, 0.35, 0.5), 0.05, (0.004, 0.006, 0.015), (0.025, 0.03, 0.045),
                        3.0 * p.exposure, [PointLight(l, lamp, 20.0, 22.0) for l in lamps], shadows=False)
    if p.time_of_day == "dusk":
        return Lighting("dusk", sun, (1.0, 0.55, 0.3), 0.55 * (1 - 0.6 * cc), (0.45, 0.45, 0.62), 0.22 + 0.1 * cc,
                        _mix((0.16, 0.2, 0.4), (0.3, 0.3, 0.34), cc), _mix((0.95, 0.55, 0.35), (0.55, 0.5, 0.5), cc),
                        1.6 * p.exposure, [PointLight(l, lamp, 10.0, 20.0) for l in lamps], shadows=cc < 0.85)
    return Lighting("day", sun, (1.0, 0.96, 0.88), 1.0 - 0.75 * cc, _mix((0.55, 0.62, 0.75), (0.7, 0.7, 0.72), cc),
                    0.35 + 0.3 * cc, _mix((0.3, 0.5, 0.85), (0.62, 0.64, 0.67), cc),
                    _mix((0.75, 0.82, 0.9), (0.8, 0.81, 0.82), cc), p.exposure, [], shadows=cc < 0.85)
