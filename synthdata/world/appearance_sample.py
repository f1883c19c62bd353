"""Draw one clip's `Appearance` from the recipe's `scene.weather` / `scene.sensor` sections.

Every value is drawn in a fixed order whether or not its effect ends up on, so changing one
distribution does not shift the others; effects that are off get neutral values, so the clips
table has the same columns for every clip. Frames are 0-based; angles in degrees.
"""
from __future__ import annotations

import datetime as _dt
from typing import Any

import numpy as np

from synthdata.recipe.appearance import OverlaySpec, PtzSpec, SensorSpec, WeatherSpec
from synthdata.recipe.distributions import sampler
from synthdata.world.appearance import (Appearance, LightingLook, MountMotion, OpticsLook, OverlayLook, SensorLook,
                                        WeatherLook)

_GAIN = {"day": (1.0, 2.0), "dusk": (2.0, 6.0), "night": (4.0, 16.0), "indoor": (1.0, 4.0)}
# auto exposure time (s) by light, as a camera's auto exposure picks it: short in daylight
# (1/150 s; up to 1/50 s under the dull sky of rain, snow or fog), longer at dusk and indoors,
# the longest usual CCTV shutter at night; never longer than the frame interval. It only sets
# motion blur (brightness is the gain's and the tone curve's).
EXPOSURE_S = {"day": 1 / 150, "dusk": 1 / 50, "night": 1 / 25, "indoor": 1 / 50}
_CLOCK = {"day": (8.0, 16.5), "dusk": (17.0, 19.5), "night": (21.0, 28.5), "indoor": (0.0, 24.0)}


def sample_appearance(recipe: Any, rng: np.random.Generator, *, time_of_day: str, indoor: bool,
                      num_frames: int, fps: float, sensor: SensorSpec | None = None) -> Appearance:
    """One clip's Appearance (no tampering: world/security/behaviours.py adds that); `sensor`:
    the camera's own sensor section (default the scene's)."""
    draw = sampler(rng)
    w: WeatherSpec = recipe.scene.weather
    s: SensorSpec = sensor if sensor is not None else recipe.scene.sensor
    cond = "clear" if indoor else draw(w.condition)
    rain, snow, fog = draw(w.rain_intensity), draw(w.snow_intensity), draw(w.fog_visibility_m)
    wet = draw(w.wet_ground) if w.wet_ground is not None else rng.uniform(0.6, 1.0)
    puddles, cover, wind = draw(w.puddles), draw(w.snow_cover), draw(w.wind_deg)
    overcast = draw(w.overcast) if w.overcast is not None else rng.uniform(0.7, 1.0)
    lights = draw(w.vehicle_lights) if w.vehicle_lights is not None else time_of_day in ("dusk", "night")
    if w.wet_ground is None and cond != "rain":
        wet = 0.0
    if w.overcast is None and cond == "clear":
        overcast = 0.0
    wetness = 0.0 if indoor else float(wet)
    weather = WeatherLook(condition=str(cond), rain_intensity=float(rain) if cond == "rain" else 0.0,
                          snow_intensity=float(snow) if cond == "snow" else 0.0,
                          fog_visibility_m=float(fog) if cond == "fog" else 0.0, wetness=wetness,
                          puddles=float(puddles) if wetness > 0 else 0.0,
                          snow_cover=float(cover) if cond == "snow" else 0.0, wind_deg=float(wind))
    mode = draw(s.night_mode)
    nir = time_of_day == "night" and not indoor and mode == "ir"
    ir_range = float(draw(s.ir_range_m))
    lo, hi = _GAIN.get(time_of_day, (1.0, 4.0))
    gain = draw(s.gain) if s.gain is not None else rng.uniform(lo, hi)
    full_well, read_noise, tau = draw(s.full_well_e), draw(s.read_noise_e), draw(s.auto_exposure_s)
    n_changes, schedule = draw(s.light_changes), []
    for _ in range(n_changes):
        schedule.append([int(rng.integers(1, max(num_frames, 2))), float(draw(s.light_change_stops))])
    lighting = LightingLook(overcast=0.0 if indoor else float(overcast), vehicle_lights=bool(lights),
                            light_changes=int(n_changes) if num_frames > 1 else 0,
                            light_schedule=sorted(schedule) if num_frames > 1 else [])
    vignetting, defocus = draw(s.vignetting), draw(s.defocus_px)
    focus = draw(s.focus_m) if s.focus_m is not None else 0.0
    shutter = draw(s.shutter) if s.shutter is not None else auto_shutter(time_of_day, overcast, fps)
    rolling = draw(s.rolling_shutter_ms)
    shake_deg, shake_hz, dirt = draw(s.shake_deg), draw(s.shake_hz), draw(s.lens_dirt)
    drops = draw(s.raindrops) if s.raindrops is not None else int(rng.integers(0, 13))
    optics = OpticsLook(vignetting=float(vignetting), defocus_px=float(defocus), focus_m=float(focus),
                        shutter=float(shutter), lens_dirt=float(dirt),
                        raindrops=int(drops) if (s.raindrops is not None or cond == "rain") else 0)
    crf = int(draw(s.crf)) if s.crf is not None else int(recipe.output.video.crf)
    mount = _sample_ptz(s.ptz, draw, rng, float(shake_deg), float(shake_hz))
    overlay = _sample_overlay(s.overlay, draw, rng, time_of_day)
    sensor = SensorLook(nir=bool(nir), ir_range_m=ir_range, gain=float(gain), full_well_e=float(full_well),
                        read_noise_e=float(read_noise), auto_exposure_s=float(tau),
                        rolling_shutter_ms=float(rolling), crf=crf, seed=int(rng.integers(0, 2**31 - 1)))
    return Appearance(weather=weather, lighting=lighting, sensor=sensor, optics=optics, mount=mount,
                      overlay=overlay)


def _sample_ptz(p: PtzSpec, draw, rng: np.random.Generator, shake_deg: float, shake_hz: float) -> MountMotion:
    on = bool(draw(p.enabled))
    n, pan, tilt = draw(p.presets), draw(p.pan_range_deg), draw(p.tilt_range_deg)
    dwell, speed = draw(p.dwell_s), draw(p.speed_deg_s)
    patrol = [[0.0, 0.0, float(draw(p.zoom))]]
    for _ in range(n - 1):
        patrol.append([float(rng.uniform(-pan, pan)), float(rng.uniform(-tilt, tilt)), float(draw(p.zoom))])
    cycle = sum(dwell + max(abs(b[0] - a[0]), abs(b[1] - a[1])) / speed
                for a, b in zip(patrol, patrol[1:] + patrol[:1]))
    phase = float(rng.uniform(0, cycle))
    return MountMotion(shake_deg=shake_deg, shake_hz=shake_hz, ptz=on, ptz_presets=int(n) if on else 0,
                       ptz_dwell_s=float(dwell) if on else 0.0, ptz_speed_deg_s=float(speed) if on else 0.0,
                       ptz_phase_s=phase if on else 0.0, ptz_patrol=patrol if on else [])


def _sample_overlay(o: OverlaySpec, draw, rng: np.random.Generator, time_of_day: str) -> OverlayLook:
    on = bool(draw(o.enabled))
    name = draw(o.camera_name) if o.camera_name is not None else f"CAM {int(rng.integers(1, 33)):02d}"
    year = int(draw(o.year))
    day = int(rng.integers(0, 365))
    lo, hi = _CLOCK.get(time_of_day, (0.0, 24.0))
    seconds = int(rng.uniform(lo, hi) * 3600)
    start = _dt.datetime(year, 1, 1) + _dt.timedelta(days=day, seconds=seconds)
    return OverlayLook(enabled=on, camera_name=str(name), start=start.strftime("%Y-%m-%d %H:%M:%S"),
                       position=str(draw(o.position)))


def auto_shutter(time_of_day: str, overcast: float, fps: float) -> float:
    """The shutter (exposure / frame interval) an auto-exposing camera uses in this light."""
    exposure = EXPOSURE_S.get(time_of_day, EXPOSURE_S["day"])
    if time_of_day == "day":
        exposure *= 1.0 + 2.0 * float(np.clip(overcast, 0.0, 1.0))
    return float(min(1.0, exposure * fps))
