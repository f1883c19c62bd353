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

world/appearance_sample.py draws one clip's values from these sections into the typed
`Appearance` (world/appearance.py) that ClipSpec and World carry and render/ reads.
"""
from __future__ import annotations

from synthdata.recipe.types import Choice, Flag, Int, Model, Num

CONDITIONS = ("clear", "rain", "snow", "fog")


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
    shutter: Num(0, 1) | None = None          # exposure time / frame interval (motion blur); None: auto
                                              # exposure from the light (world/appearance_sample.py EXPOSURE_S)
    rolling_shutter_ms: Num(0, 60) = 0.0      # sensor read-out time, top row to bottom row
    shake_deg: Num(0, 5) = 0.0                # camera shake amplitude (wind on the pole)
    shake_hz: Num(0.1, 15) = 2.0
    lens_dirt: Num(0, 1) = 0.0
    raindrops: Int(0, 400) | None = None      # drops on the dome; None: rain 0-12, otherwise 0
    crf: Int(0, 51) | None = None             # per-clip H.264 CRF (low bitrate: 30-40); None: output.video.crf
    ptz: PtzSpec = PtzSpec()
    overlay: OverlaySpec = OverlaySpec()
