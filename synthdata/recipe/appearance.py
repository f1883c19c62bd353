"""Recipe sections for how a clip looks: `scene.weather` and `scene.sensor`.

    scene:
      weather:
        condition: {choice: {clear: 0.6, rain: 0.2, snow: 0.1, fog: 0.1}}
        fog_visibility_m: {uniform: [30, 120]}
      sensor:
        night_mode: ir                       # monochrome near-infrared at night
        gain: {uniform: [1, 8]}
        shake_deg: {uniform: [0, 0.3]}
        ptz: {enabled: {bernoulli: 0.2}, presets: 3}
        overlay: {camera_name: {choice: ["CAM 01", "GATE 2"]}}

`sample_appearance` draws one clip's values (with the rng the caller passes) into a flat dict of
plain values that becomes `World.appearance`; every key of `APPEARANCE_COLUMNS` is always present
(neutral values when an effect is off), so the clips table has the same columns for every clip.
"""
from __future__ import annotations

import datetime as _dt
from typing import Any

import numpy as np

from synthdata.recipe.distributions import sampler
from synthdata.recipe.types import Choice, Flag, Int, Model, Num

CONDITIONS = ("clear", "rain", "snow", "fog")

# clips-table columns this module guarantees, with their Python types (io/ maps them to Arrow)
APPEARANCE_COLUMNS: tuple[tuple[str, type], ...] = (
    ("weather", str), ("rain_intensity", float), ("snow_intensity", float), ("fog_visibility_m", float),
    ("wetness", float), ("puddles", float), ("snow_cover", float), ("wind_deg", float), ("overcast", float),
    ("vehicle_lights", bool), ("nir", bool), ("ir_range_m", float), ("sensor_gain", float),
    ("full_well_e", float), ("read_noise_e", float), ("auto_exposure_s", float), ("light_changes", int),
    ("vignetting", float), ("defocus_px", float), ("focus_m", float), ("shutter", float),
    ("rolling_shutter_ms", float), ("shake_deg", float), ("shake_hz", float), ("ptz", bool),
    ("ptz_presets", int), ("ptz_dwell_s", float), ("ptz_speed_deg_s", float), ("lens_dirt", float),
    ("raindrops", int), ("overlay", bool), ("camera_name", str), ("overlay_start", str),
    ("overlay_position", str), ("ptz_phase_s", float), ("video_crf", int), ("effects_seed", int),
)


class WeatherSpec(Model):
    """Weather and outdoor conditions (indoor clips are always clear and dry).

    `condition` picks the dominant weather; the other fields say how strong it is when drawn."""

    condition: Choice(*CONDITIONS) = "clear"
    rain_intensity: Num(0, 1) = {"uniform": [0.3, 1.0]}      # rain: density of streaks
    snow_intensity: Num(0, 1) = {"uniform": [0.3, 1.0]}      # snow: density of flakes
    fog_visibility_m: Num(5, 5000) = {"uniform": [30, 150]}  # fog: distance where contrast falls to 2 %
    wet_ground: Num(0, 1) | None = None       # ground wetness 0..1; None: rain 0.6-1, otherwise dry
    puddles: Num(0, 1) = {"uniform": [0.0, 0.5]}             # share of wet ground under standing water
    snow_cover: Num(0, 1) = {"uniform": [0.4, 1.0]}          # snow: share of the ground covered
    wind_deg: Num(-60, 60) = {"uniform": [-20, 20]}          # slant of falling rain and snow
    overcast: Num(0, 1) | None = None         # sun hidden by cloud; None: rain/snow/fog 0.7-1, clear 0
    vehicle_lights: Flag | None = None        # head/tail lights of moving vehicles; None: dusk and night


class PtzSpec(Model):
    """A pan-tilt-zoom patrol: dwell at each preset, then slew to the next one."""

    enabled: Flag = False
    presets: Int(2, 8) = 3
    pan_range_deg: Num(0, 180) = 30.0         # presets are spread within +- this of the base view
    tilt_range_deg: Num(0, 30) = 5.0
    zoom: Num(1, 30) = {"uniform": [1.0, 2.0]}   # per preset
    dwell_s: Num(0.1, 600) = 2.0
    speed_deg_s: Num(1, 400) = 40.0


class OverlaySpec(Model):
    """The timestamp / camera-name text burned into the picture, as CCTV recorders do."""

    enabled: Flag = True
    camera_name: Choice() | None = None       # None: "CAM 01" .. "CAM 32"
    year: Int(1970, 2099) = 2024              # the timestamp falls on a random day of this year
    position: Choice("top_left", "top_right", "bottom_left", "bottom_right") = "top_left"


class SensorSpec(Model):
    """The camera: sensor noise and exposure, optics, mount motion, overlay and compression."""

    night_mode: Choice("ir", "color") = "ir"  # at night: monochrome near-infrared with an IR illuminator
    ir_range_m: Num(2, 300) = {"uniform": [15, 40]}          # IR illuminator reach
    gain: Num(1, 256) | None = None           # analogue gain; None: day 1-2, dusk 2-6, night 4-16
    full_well_e: Num(500, 200000) = 8000.0    # electrons at full scale, gain 1 (shot noise)
    read_noise_e: Num(0, 100) = 3.0           # read noise in electrons (Gaussian floor)
    auto_exposure_s: Num(0, 30) = 0.6         # auto-exposure time constant (0: adapts at once)
    light_changes: Int(0, 20) = 0             # sudden changes of scene light (lights switched, clouds)
    light_change_stops: Num(-5, 5) = {"choice": [-1.5, 1.5]}  # size of each change, in stops
    vignetting: Num(0, 1) = {"uniform": [0.0, 0.35]}         # darkening of the image corners
    defocus_px: Num(0, 12) = 0.0              # blur radius at half / twice the focus distance
    focus_m: Num(0.5, 1000) | None = None     # None: where the optical axis meets the ground
    shutter: Num(0, 1) = 0.5                  # exposure time / frame interval (motion blur)
    rolling_shutter_ms: Num(0, 60) = 0.0      # sensor read-out time, top row to bottom row
    shake_deg: Num(0, 5) = 0.0                # camera shake amplitude (wind on the pole)
    shake_hz: Num(0.1, 15) = 2.0
    lens_dirt: Num(0, 1) = 0.0
    raindrops: Int(0, 400) | None = None      # drops on the dome; None: rain 0-12, otherwise 0
    crf: Int(0, 51) | None = None             # per-clip H.264 CRF (low bitrate: 30-40); None: output.video.crf
    ptz: PtzSpec = PtzSpec()
    overlay: OverlaySpec = OverlaySpec()


_GAIN = {"day": (1.0, 2.0), "dusk": (2.0, 6.0), "night": (4.0, 16.0), "indoor": (1.0, 4.0)}
_CLOCK = {"day": (8.0, 16.5), "dusk": (17.0, 19.5), "night": (21.0, 28.5), "indoor": (0.0, 24.0)}


def sample_appearance(recipe: Any, rng: np.random.Generator, *, time_of_day: str, indoor: bool,
                      num_frames: int, fps: float) -> dict[str, Any]:
    """One clip's weather/sensor values as plain JSON values (World.appearance).

    Every field is drawn in a fixed order whether or not its effect ends up on, so changing one
    distribution does not shift the others. Frames are 0-based; angles in degrees."""
    draw = sampler(rng)
    w: WeatherSpec = recipe.scene.weather
    s: SensorSpec = recipe.scene.sensor
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
    a: dict[str, Any] = {
        "weather": cond, "rain_intensity": rain if cond == "rain" else 0.0,
        "snow_intensity": snow if cond == "snow" else 0.0, "fog_visibility_m": fog if cond == "fog" else 0.0,
        "wetness": 0.0 if indoor else wet, "snow_cover": cover if cond == "snow" else 0.0,
        "wind_deg": wind, "overcast": 0.0 if indoor else overcast,
        "vehicle_lights": bool(lights),
    }
    a["puddles"] = puddles if a["wetness"] > 0 else 0.0
    mode = draw(s.night_mode)
    a["nir"] = time_of_day == "night" and not indoor and mode == "ir"
    a["ir_range_m"] = draw(s.ir_range_m)
    lo, hi = _GAIN.get(time_of_day, (1.0, 4.0))
    gain = draw(s.gain) if s.gain is not None else rng.uniform(lo, hi)
    a.update(sensor_gain=gain, full_well_e=draw(s.full_well_e), read_noise_e=draw(s.read_noise_e),
             auto_exposure_s=draw(s.auto_exposure_s))
    n_changes, schedule = draw(s.light_changes), []
    for _ in range(n_changes):
        schedule.append([int(rng.integers(1, max(num_frames, 2))), float(draw(s.light_change_stops))])
    a["light_changes"] = n_changes if num_frames > 1 else 0
    a["light_schedule"] = sorted(schedule) if num_frames > 1 else []
    a.update(vignetting=draw(s.vignetting), defocus_px=draw(s.defocus_px),
             focus_m=draw(s.focus_m) if s.focus_m is not None else 0.0, shutter=draw(s.shutter),
             rolling_shutter_ms=draw(s.rolling_shutter_ms), shake_deg=draw(s.shake_deg),
             shake_hz=draw(s.shake_hz), lens_dirt=draw(s.lens_dirt))
    drops = draw(s.raindrops) if s.raindrops is not None else int(rng.integers(0, 13))
    a["raindrops"] = drops if (s.raindrops is not None or cond == "rain") else 0
    a["video_crf"] = int(draw(s.crf)) if s.crf is not None else int(recipe.output.video.crf)
    a.update(_sample_ptz(s.ptz, draw, rng, num_frames, fps))
    a.update(_sample_overlay(s.overlay, draw, rng, time_of_day))
    a["effects_seed"] = int(rng.integers(0, 2**31 - 1))
    return a


def _sample_ptz(p: PtzSpec, draw, rng: np.random.Generator, num_frames: int, fps: float) -> dict[str, Any]:
    on = bool(draw(p.enabled))
    n, pan, tilt = draw(p.presets), draw(p.pan_range_deg), draw(p.tilt_range_deg)
    dwell, speed = draw(p.dwell_s), draw(p.speed_deg_s)
    patrol = [[0.0, 0.0, float(draw(p.zoom))]]
    for _ in range(n - 1):
        patrol.append([float(rng.uniform(-pan, pan)), float(rng.uniform(-tilt, tilt)), float(draw(p.zoom))])
    cycle = sum(dwell + max(abs(b[0] - a[0]), abs(b[1] - a[1])) / speed
                for a, b in zip(patrol, patrol[1:] + patrol[:1]))
    phase = float(rng.uniform(0, cycle))
    return {"ptz": on, "ptz_presets": n if on else 0, "ptz_dwell_s": dwell if on else 0.0,
            "ptz_speed_deg_s": speed if on else 0.0, "ptz_patrol": patrol if on else [],
            "ptz_phase_s": phase if on else 0.0}


def _sample_overlay(o: OverlaySpec, draw, rng: np.random.Generator, time_of_day: str) -> dict[str, Any]:
    on = bool(draw(o.enabled))
    name = draw(o.camera_name) if o.camera_name is not None else f"CAM {int(rng.integers(1, 33)):02d}"
    year = int(draw(o.year))
    day = int(rng.integers(0, 365))
    lo, hi = _CLOCK.get(time_of_day, (0.0, 24.0))
    seconds = int(rng.uniform(lo, hi) * 3600)
    start = _dt.datetime(year, 1, 1) + _dt.timedelta(days=day, seconds=seconds)
    return {"overlay": on, "camera_name": str(name), "overlay_start": start.strftime("%Y-%m-%d %H:%M:%S"),
            "overlay_position": draw(o.position)}
