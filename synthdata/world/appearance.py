"""How one clip looks: the typed `Appearance` carried by ClipSpec and World, read by render/.

`Appearance` groups the per-clip values drawn from the recipe's `scene.weather` / `scene.sensor`
sections (recipe/appearance.py; drawn by world/appearance_sample.py) and the clip's camera-tampering
schedule (world/security/behaviours.py):

    weather    condition and strength of rain / snow / fog, wet and snowy ground, wind
    lighting   overcast, vehicle lights, sudden scene-light changes
    sensor     near-infrared mode, gain and noise, auto-exposure, rolling shutter, H.264 CRF, seed
    optics     vignetting, defocus, shutter (motion blur), lens dirt, raindrops on the dome
    mount      camera shake and pan-tilt-zoom patrol (camera geometry, world/geometry/camera_motion.py)
    overlay    the burned-in timestamp / camera-name text
    tampering  covered / sprayed / moved camera entries (frames 0-based, inclusive)

Every scalar field is a clips-table column (`appearance_columns`, `Appearance.column_values`): the
column is named by the field's `column` metadata, or by the field itself. Fields marked
`column=None` (per-frame schedules and lists) live only in the clip's `params` JSON.
Units: metres, seconds, degrees; frames 0-based.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any, get_type_hints

_NO_COLUMN = {"column": None}


def _col(name: str) -> dict[str, str]:
    return {"column": name}


@dataclass(frozen=True)
class WeatherLook:
    """Weather in the scene (indoor clips are clear and dry)."""

    condition: str = field(default="clear", metadata=_col("weather"))   # clear | rain | snow | fog
    rain_intensity: float = 0.0         # density of rain streaks, 0..1 (0 unless raining)
    snow_intensity: float = 0.0         # density of snow flakes, 0..1
    fog_visibility_m: float = 0.0       # distance where contrast falls to 2 %; 0: no fog
    wetness: float = 0.0                # ground wetness 0..1
    puddles: float = 0.0                # share of wet ground under standing water
    snow_cover: float = 0.0             # share of the ground under snow
    wind_deg: float = 0.0               # slant of falling rain and snow


@dataclass(frozen=True)
class LightingLook:
    """Changes to the clip's light (the sun and lamps themselves are ClipSpec.lighting)."""

    overcast: float = 0.0               # sun hidden by cloud, 0..1
    vehicle_lights: bool = False        # head/tail lights of moving vehicles
    light_changes: int = 0              # number of sudden scene-light changes
    light_schedule: list[list[float]] = field(default_factory=list, metadata=_NO_COLUMN)  # [frame, stops]


@dataclass(frozen=True)
class SensorLook:
    """The image sensor and the recorder."""

    nir: bool = False                   # monochrome near-infrared with an IR illuminator
    ir_range_m: float = 25.0            # IR illuminator reach
    gain: float | None = field(default=None, metadata=_col("sensor_gain"))  # None: by time of day
    full_well_e: float = 8000.0         # electrons at full scale, gain 1
    read_noise_e: float = 3.0           # Gaussian read noise, electrons
    auto_exposure_s: float = 0.6        # auto-exposure time constant
    rolling_shutter_ms: float = 0.0     # read-out time, top row to bottom row
    crf: int | None = field(default=None, metadata=_col("video_crf"))   # None: output.video.crf
    seed: int | None = field(default=None, metadata=_col("effects_seed"))  # None: World.noise_seed


@dataclass(frozen=True)
class OpticsLook:
    """The lens and the dome in front of it."""

    vignetting: float = 0.0             # darkening of the corners, 0..1
    defocus_px: float = 0.0             # blur radius at half / twice the focus distance
    focus_m: float = 0.0                # 0: where the optical axis meets the ground
    shutter: float = 0.0                # exposure time / frame interval (motion blur)
    lens_dirt: float = 0.0
    raindrops: int = 0                  # drops on the dome


@dataclass(frozen=True)
class MountMotion:
    """How the camera mount moves: shake and a pan-tilt-zoom patrol (camera geometry)."""

    shake_deg: float = 0.0
    shake_hz: float = 2.0
    ptz: bool = False
    ptz_presets: int = 0
    ptz_dwell_s: float = 2.0
    ptz_speed_deg_s: float = 40.0
    ptz_phase_s: float = 0.0
    ptz_patrol: list[list[float]] = field(default_factory=list, metadata=_NO_COLUMN)  # [pan, tilt, zoom]


@dataclass(frozen=True)
class OverlayLook:
    """The timestamp / camera-name text burned into the picture."""

    enabled: bool = field(default=False, metadata=_col("overlay"))
    camera_name: str = "CAM 01"
    start: str = field(default="2024-01-01 12:00:00", metadata=_col("overlay_start"))
    position: str = field(default="top_left", metadata=_col("overlay_position"))


@dataclass(frozen=True)
class TamperEntry:
    """One camera-tampering incident over frames [start_frame, end_frame] (inclusive).

    covered: an occluder slides in from `side` over ramp_frames to hide `coverage` of the image;
    blur: the lens is sprayed (blur and a `color` haze of `strength`); moved: the view turns by
    pan_deg / tilt_deg over ramp_frames and stays there."""

    kind: str                           # covered | blur | moved
    start_frame: int
    end_frame: int
    ramp_frames: int = 1
    color: str = "#202020"
    side: str = "left"
    coverage: float = 1.0
    strength: float = 1.0
    pan_deg: float = 0.0
    tilt_deg: float = 0.0


@dataclass(frozen=True)
class Appearance:
    """Everything about how a clip looks besides its geometry and its sun/lamps (module docstring).
    The defaults are a clean, static, clear-weather camera with sensor noise."""

    weather: WeatherLook = field(default_factory=WeatherLook)
    lighting: LightingLook = field(default_factory=LightingLook)
    sensor: SensorLook = field(default_factory=SensorLook)
    optics: OpticsLook = field(default_factory=OpticsLook)
    mount: MountMotion = field(default_factory=MountMotion)
    overlay: OverlayLook = field(default_factory=OverlayLook)
    tampering: list[TamperEntry] = field(default_factory=list, metadata=_NO_COLUMN)

    def column_values(self) -> dict[str, Any]:
        """{clips column: value} for every column field (see `appearance_columns`)."""
        return {col: getattr(getattr(self, group), name) for col, group, name, _ in column_fields()}

    def with_values(self, **values: Any) -> Appearance:
        """A copy with values replaced by their flat names: a clips column (`sensor_gain`,
        `weather`, ...), a list leaf (`light_schedule`, `ptz_patrol`) or `tampering`.
        An unknown name raises TypeError."""
        where = flat_names()
        unknown = sorted(set(values) - set(where) - {"tampering"})
        if unknown:
            raise TypeError(f"Appearance has no value {', '.join(unknown)}; known: {', '.join(sorted(where))}")
        groups: dict[str, dict[str, Any]] = {}
        for key, v in values.items():
            if key != "tampering":
                group, leaf = where[key]
                groups.setdefault(group, {})[leaf] = v
        changes: dict[str, Any] = {g: replace(getattr(self, g), **kv) for g, kv in groups.items()}
        if "tampering" in values:
            changes["tampering"] = [t if isinstance(t, TamperEntry) else TamperEntry(**t) for t in values["tampering"]]
        return replace(self, **changes)


def column_fields() -> list[tuple[str, str, str, type]]:
    """(column, group field, leaf field, python type) for every column leaf of Appearance."""
    out = []
    for g in fields(Appearance):
        if g.metadata.get("column", "") is None:
            continue
        group_type = get_type_hints(Appearance)[g.name]
        hints = get_type_hints(group_type)
        for f in fields(group_type):
            col = f.metadata.get("column", f.name)
            if col is None:
                continue
            out.append((col, g.name, f.name, _scalar(hints[f.name])))
    return out


def flat_names() -> dict[str, tuple[str, str]]:
    """{flat name: (group field, leaf field)}: clips columns and the list leaves by their own name."""
    out = {col: (group, name) for col, group, name, _ in column_fields()}
    for g in fields(Appearance):
        if g.name != "tampering":
            for f in fields(get_type_hints(Appearance)[g.name]):
                if f.metadata.get("column", "") is None:
                    out[f.name] = (g.name, f.name)
    return out


def _scalar(tp: Any) -> type:
    """The Python scalar type of a field annotation (`float | None` -> float)."""
    for t in (bool, int, float, str):
        if tp is t or t in getattr(tp, "__args__", ()):
            return t
    raise TypeError(f"appearance column of unsupported type {tp!r}")


def appearance_columns() -> tuple[tuple[str, type], ...]:
    """((clips column, python type), ...) generated from the Appearance fields, in field order."""
    return tuple((col, tp) for col, _, _, tp in column_fields())


APPEARANCE_COLUMNS: tuple[tuple[str, type], ...] = appearance_columns()
