"""Recipe sections describing the scene: layout, camera and lighting.

Every number or choice may be a distribution (see distributions.py); `None` means "the layout
type's own default" (documented per field). Colours are sRGB hex strings such as "#6b6b6b", or a
{choice: [...]} over them.
"""
from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import (BeforeValidator, Field, PlainSerializer, WithJsonSchema, field_validator, model_serializer,
                      model_validator)

from synthdata.recipe.appearance import SensorSpec, WeatherSpec
from synthdata.recipe.distributions import Dist, DistError, parse_choice, show_value
from synthdata.recipe.json_schema import color_schema
from synthdata.recipe.randomize import RandomizeSpec
from synthdata.recipe.types import Choice, Flag, Int, Model, Num

LAYOUTS = ("parking_lot", "street", "indoor", "plate")
GROUND_TEXTURES = ("asphalt", "concrete", "tiles", "grass", "paving")
_HEX = re.compile(r"#[0-9a-fA-F]{6}")


def parse_color(value: Any) -> Dist:
    """'#rrggbb' or {choice: ['#rrggbb', ...]} (weighted maps allowed)."""
    d = parse_choice(value)
    for x in d.args:
        if not isinstance(x, str) or not _HEX.fullmatch(x):
            raise DistError(f"expected a colour '#rrggbb' (sRGB hex) or {{choice: [...]}} of them, got {x!r}")
    return d


Color = Annotated[Dist, BeforeValidator(parse_color), PlainSerializer(lambda d: d.to_yaml()),
                  WithJsonSchema(color_schema())]


class LayoutSpec(Model):
    """Static scene geometry. Sizes in metres; counts may be distributions; None = per-type default.

    The layout's near edge is y = 0 (the camera stands there), it extends to +y; x is across."""

    type: Choice(*LAYOUTS) = "parking_lot"
    size_m: tuple[Num(5, 500), Num(5, 500)] | None = Field(
        None, description="ground extent (across x, depth y); default per type")
    ground_color: Color | None = None          # asphalt / paving / floor tiles colour
    ground_texture: Choice(*GROUND_TEXTURES) | None = None
    line_color: Color | None = None            # painted lines (bays, lanes)
    trees: Int(0, 200) | None = None           # trees (indoor: potted plants)
    light_poles: Int(0, 100) | None = None     # outdoor lamp posts (lit at dusk/night)
    buildings: Int(0, 40) | None = None        # building facades along the far side
    fence: Flag | None = None                  # parking lot: fence around the far/side edges
    bay_rows: Int(0, 12) | None = None         # parking lot: rows of parking bays
    islands: Flag | None = None                # parking lot: kerbed planting islands between rows
    lanes_per_direction: Int(1, 4) | None = None   # street: traffic lanes each way
    street_parking: Flag | None = None         # street: parallel parking bays along the near kerb
    crossing: Flag | None = None               # street: zebra crossing
    benches: Int(0, 50) | None = None          # benches and bins (street plaza, indoor lobby)
    pillars: Int(0, 60) | None = None          # indoor: pillars
    doors: Int(1, 12) | None = None            # indoor: doors people enter and leave through
    ceiling_m: Num(2.4, 12) | None = None      # indoor: ceiling height
    wall_color: Color | None = None            # indoor walls / building facades
    plate: str | None = None                   # plate: PLATE_DIR from `synthdata plate init` (calibrated)
    sketch: str | None = None                  # plate: PNG layer or JSON of pixel shapes over the plate
    exposure_jitter: Num(0, 2) = 0.15          # plate: per-clip exposure variation of actors, stops (+-)
    white_balance_jitter: Num(0, 0.5) = 0.03   # plate: per-clip colour-balance variation of actors (+-)

    @model_validator(mode="after")
    def _plate(self) -> "LayoutSpec":
        kinds = set(self.type.args) if self.type.kind == "choice" else {self.type.args[0]}
        if "plate" in kinds:
            if len(kinds) > 1:
                raise ValueError("type: plate cannot be mixed with other layout types in one recipe")
            if not self.plate:
                raise ValueError("plate: a plate layout needs `plate: PLATE_DIR` (made by `synthdata plate init`)")
            self.plate_scene()                 # every problem of the plate and its sketch shows now
        elif self.plate or self.sketch:
            raise ValueError("plate/sketch only go with type: plate")
        return self

    def plate_scene(self) -> dict[str, Any]:
        """The compiled plate scene (plate/scene.py; cached per plate and sketch file)."""
        from synthdata.plate.scene import compile_scene
        return compile_scene(self.plate, self.sketch)


class CameraSpec(Model):
    """An elevated CCTV camera at the layout's near edge, looking into it.

    pan_deg turns the view from its base direction: straight into the layout (+y) for
    `placement: edge`, towards the layout's centre for `corner`. Outdoors the camera stands
    `distance_m` outside the near edge; indoors it hangs on the near wall, below the ceiling."""

    height_m: Num(0.5, 60) = 6.0
    tilt_deg: Num(0, 90) = 35.0
    pan_deg: Num(-180, 180) = 0.0
    roll_deg: Num(-45, 45) = 0.0
    hfov_deg: Num(10, 200) = 60.0  # pinhole: below 180; fisheye up to 200 (over 180: looking straight down)
    model: Choice("pinhole", "fisheye") = "pinhole"
    k1: Num(-1, 1) = 0.0
    k2: Num(-1, 1) = 0.0
    distance_m: Num(0, 200) = 2.0   # how far outside the layout's near edge the camera stands
    placement: Choice("edge", "corner") = "edge"
    lateral: Num(-1, 1) = 0.0       # edge placement: position along the near edge, -1..1 of half the width

    @model_validator(mode="after")
    def _field_of_view(self) -> CameraSpec:
        models = set(self.model.args) if isinstance(self.model, Dist) else {self.model}
        hfov = self.hfov_deg.bounds() if isinstance(self.hfov_deg, Dist) else (self.hfov_deg, self.hfov_deg)
        widest = 200.0 if hfov is None else float(hfov[1])
        if "pinhole" in models and widest > 179:
            raise ValueError(f"hfov_deg up to {widest:g} needs model: fisheye (a pinhole camera sees at most 179 "
                             f"degrees)")
        tilt = self.tilt_deg.bounds() if isinstance(self.tilt_deg, Dist) else (self.tilt_deg, self.tilt_deg)
        if widest > 180 and tilt != (90, 90):
            raise ValueError(f"hfov_deg up to {widest:g}: a fisheye wider than 180 degrees needs tilt_deg: 90 "
                             f"(looking straight down, as ceiling and pole domes do), got {show_value(self.tilt_deg)}")
        return self


CAMERA_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,31}")
SINGLE_CAMERA = "cam0"          # the camera's name when the recipe has one `scene.camera`


class NamedCameraSpec(CameraSpec):
    """One of several cameras over the same scene (`scene.cameras`): everything `scene.camera`
    has, a name (tar member names and the `camera` column) and optionally its own `sensor`
    (noise, optics, shake, PTZ, overlay, CRF; default: the scene's `sensor`). Weather and light are
    the scene's."""

    name: str = Field(..., description="letters, digits, '-' or '_' (no dots: WebDataset keys), at most 32")
    sensor: SensorSpec | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not CAMERA_NAME.fullmatch(v):
            raise ValueError(f"expected a camera name of letters, digits, '-' or '_' (no dots, slashes or "
                             f"spaces; at most 32, starting with a letter or digit), got {v!r}")
        return v


class LightingSpec(Model):
    """Daylight, dusk or night outdoors (indoor layouts are always lit by ceiling lights)."""

    time_of_day: Choice("day", "dusk", "night") = "day"
    sun_elevation_deg: Num(1, 90) | None = None   # default: day 25-65, dusk 3-10
    sun_azimuth_deg: Num(-360, 360) = 135.0       # compass: 0 = +y (into the scene), 90 = +x
    cloud_cover: Num(0, 1) = 0.2                  # 0 clear (hard shadows) .. 1 overcast
    exposure: Num(0.05, 20) = 1.0
    lamp_color: Choice("sodium", "led") = {"choice": ["sodium", "led"]}


class SceneSpec(Model):
    layout: LayoutSpec = LayoutSpec()
    camera: CameraSpec = CameraSpec()
    cameras: list[NamedCameraSpec] | None = Field(
        None, description="several named cameras over the same scene, instead of `camera`")
    lighting: LightingSpec = LightingSpec()
    weather: WeatherSpec = WeatherSpec()      # recipe/appearance.py
    sensor: SensorSpec = SensorSpec()         # recipe/appearance.py
    randomize: RandomizeSpec = RandomizeSpec()   # domain randomisation (recipe/randomize.py)

    @field_validator("cameras")
    @classmethod
    def _cameras(cls, v: list[NamedCameraSpec] | None) -> list[NamedCameraSpec] | None:
        if v is None:
            return v
        if not v:
            raise ValueError("expected a list of one or more camera blocks, each with a `name`")
        first: dict[str, int] = {}
        for i, c in enumerate(v):
            if c.name in first:
                raise ValueError(f"camera names must be unique: cameras[{i}].name {c.name!r} repeats "
                                 f"cameras[{first[c.name]}].name")
            first[c.name] = i
        return v

    @model_validator(mode="after")
    def _one_camera_section(self) -> "SceneSpec":
        if self.cameras is not None:
            if "camera" in self.model_fields_set:
                raise ValueError("give either `camera` (one camera) or `cameras` (a list of named cameras), "
                                 "not both")
            if self.layout.plate is not None:
                raise ValueError("cameras: a plate layout is seen by its one calibrated camera; use `camera` "
                                 "(or leave it out) with type: plate")
        return self

    @model_serializer(mode="wrap")
    def _dump(self, handler: Any) -> dict[str, Any]:
        """Dumped (resolved recipes, recipe.yaml, the recipe hash) with only the camera section in
        use: `camera`, or `cameras` when given; so a resolved recipe loads again, and one-camera
        recipes dump as before cameras existed; `randomize` only when some option can apply."""
        out = handler(self)
        out.pop("cameras" if self.cameras is None else "camera", None)
        if not self.randomize.active:         # recipes without randomisation dump (and hash) as before
            out.pop("randomize", None)
        return out

    def camera_list(self) -> list[tuple[str, CameraSpec, SensorSpec]]:
        """(name, camera, sensor) of every camera, in recipe order: `cameras`, or the one `camera`
        named "cam0" with the scene's sensor."""
        if self.cameras is None:
            return [(SINGLE_CAMERA, self.camera, self.sensor)]
        return [(c.name, c, c.sensor if c.sensor is not None else self.sensor) for c in self.cameras]
