"""ClipSpec: every random choice of one clip, resolved to plain values (DESIGN.md §1).

A ClipSpec is what `sample_clip` produces and `simulate` consumes. It holds only JSON-friendly
values (numbers, strings, lists, None), so `ClipSpec.from_json(spec.to_json())` simulates to
exactly the same World. Units: metres, seconds, degrees where a name says `_deg`, radians for
yaw; colours are sRGB hex strings.
"""
from __future__ import annotations

import types
from dataclasses import asdict, dataclass, field, fields, is_dataclass
from typing import Any, Union, get_args, get_origin, get_type_hints

import numpy as np

from synthdata.world.appearance import Appearance, flat_names
from synthdata.world.randomize_params import RandomizeParams
from synthdata.world.security.params import SecurityParams

SPEC_VERSION = 2            # 2: typed appearance (nested groups, tampering in it) and security scripts


@dataclass
class Track:
    """A timed ground path: at key time t[k] (s) the actor is at xy[k] (m); between keys it
    moves in a straight line. yaw[k] is the facing while standing at key k (rad, 0 = +x).
    The actor exists from appear_s and, if vanish_s is set, until vanish_s."""

    t: list[float]
    xy: list[list[float]]
    yaw: list[float]
    appear_s: float = 0.0
    vanish_s: float | None = None


@dataclass
class LayoutParams:
    type: str
    size_m: list[float]
    seed: int                       # fine detail (tree shapes, building heights, ...) comes from here
    ground_color: str
    ground_texture: str
    line_color: str
    wall_color: str
    trees: int = 0
    light_poles: int = 0
    buildings: int = 0
    fence: bool = False
    bay_rows: int = 0
    islands: bool = False
    lanes_per_direction: int = 1
    street_parking: bool = False
    crossing: bool = False
    benches: int = 0
    pillars: int = 0
    doors: int = 1
    ceiling_m: float = 3.5
    plate: dict | None = None       # plate layout: the compiled plate scene (plate/scene.py)


@dataclass
class CameraParams:
    position: list[float]
    pan_deg: float
    tilt_deg: float
    roll_deg: float
    hfov_deg: float
    model: str = "pinhole"
    k1: float = 0.0
    k2: float = 0.0


@dataclass
class ViewParams:
    """A further camera over the same scene (recipe `scene.cameras[1:]`): its pose and its own
    look (sensor, optics, mount, overlay; weather and light are the clip's). Tampering scripts act
    on the clip's first camera only."""

    name: str
    camera: CameraParams
    appearance: Appearance


@dataclass
class LightingParams:
    time_of_day: str                # day | dusk | night | indoor
    sun_elevation_deg: float
    sun_azimuth_deg: float
    cloud_cover: float
    exposure: float
    lamp_color: str = "sodium"


@dataclass
class Outfit:
    """What one person wears (world/actors/outfits.py samples it; world/actors/clothing.py builds it).

    Styles: top tshirt | shirt | sweater | hoodie | jacket | coat | dress; bottom trousers |
    jeans | shorts | skirt; hat none | cap | beanie | hood; fabrics (render/patterns.py FABRICS)
    plain | denim | knit | stripes | checks | print | two_tone | hivis. Colours sRGB hex; `*_color2`
    is the second colour a fabric mixes in (stripes, yoke, print, reflective bands)."""

    top: str = "tshirt"
    top_fabric: str = "plain"
    top_color2: str = "#202020"
    loose: float = 1.0              # top girth factor over the body (1 = fitted)
    coat_open: bool = False         # coat/jacket worn open: the top shows down the front
    inner_color: str = "#d0d0d0"    # the top under an open coat
    bottom: str = "trousers"
    bottom_fabric: str = "plain"
    bottom_color2: str = "#202020"
    hat: str = "none"
    hat_color: str = "#202020"
    scarf: bool = False
    scarf_color: str = "#802020"
    fabric_scale_m: float = 0.05    # stripe / check size
    seed: int = 0                   # varies patterns and folds from person to person


@dataclass
class PersonParams:
    track_id: int
    height_m: float
    build: float                    # girth factor, 1 = average
    shoulders: float                # shoulder width factor
    top_color: str
    bottom_color: str
    skin_color: str
    hair_color: str
    shoe_color: str
    hair: str                       # short | long | ponytail | bald | covered | helmet
    sleeves: str                    # long | short
    behavior: str                   # walk | run | loiter | stand | visit | ride
    speed_mps: float
    phase0: float                   # gait phase at the start, cycles
    sway_phase: float               # idle sway phase, rad
    idle_pose: str                  # arms_down | phone
    track: Track
    enters: bool = False
    leaves: bool = False
    riding_track_id: int | None = None
    bag_track_id: int | None = None
    age: str = "adult"              # child | adult | elderly
    head_scale: float = 1.0         # head size relative to an adult's share of height
    leg_ratio: float = 1.0          # leg length relative to an adult's share of height
    hips: float = 1.0               # hip width factor
    stoop: float = 0.0              # forward bend of the upper body, rad (elderly)
    outfit: Outfit | None = None    # None: a plain top and trousers in top/bottom_color
    action: str = "none"            # world/actors/actions.py ACTIONS
    companion_track_id: int | None = None   # walking side by side with this person
    prop_track_id: int | None = None        # the box, pram or trolley this person carries or pushes


@dataclass
class VehicleParams:
    track_id: int
    kind: str                       # car | van | truck | bus | bicycle | motorcycle
    subtype: str
    length_m: float
    width_m: float
    height_m: float
    color: str
    behavior: str                   # drive | park | parked
    speed_mps: float
    wheel_radius_m: float
    track: Track
    seat_height_m: float = 0.0      # two-wheelers: saddle height
    enters: bool = False
    rider_track_id: int | None = None


@dataclass
class BagParams:
    track_id: int
    owner_track_id: int
    style: str                      # backpack | handbag | box | pram | trolley
    color: str
    size_m: list[float]             # width, depth, height
    hand: str = "right"             # handbag side


@dataclass
class ClipSpec:
    clip_id: str
    index: int
    seed: int
    width: int
    height: int
    fps: float
    num_frames: int
    layout: LayoutParams
    camera: CameraParams
    lighting: LightingParams
    people: list[PersonParams] = field(default_factory=list)
    vehicles: list[VehicleParams] = field(default_factory=list)
    bags: list[BagParams] = field(default_factory=list)
    texture_seed: int = 0
    noise_seed: int = 0
    dropped_actors: int = 0         # actors the recipe asked for that found no collision-free plan
    security: SecurityParams | None = None    # zones, event thresholds, scripts (world/security/params.py)
    appearance: Appearance = field(default_factory=Appearance)   # how the clip looks (world/appearance.py)
    mix_entry: int | None = None    # a mix recipe: the index of the entry this clip was drawn from
    version: int = SPEC_VERSION
    camera_name: str = "cam0"       # the name of `camera` (recipe scene.cameras[0].name)
    more_views: list[ViewParams] = field(default_factory=list)   # further cameras (scene.cameras[1:])
    randomize: RandomizeParams | None = None   # domain randomisation drawn for this clip (world/randomize.py)

    @property
    def duration_s(self) -> float:
        return self.num_frames / self.fps

    def to_json(self) -> dict:
        """Plain JSON-serialisable dict (numbers, strings, lists, None). A one-camera clip named
        "cam0" leaves out the camera fields (its params read as before cameras existed), and a clip
        without domain randomisation leaves out `randomize`."""
        d = _plain(asdict(self))
        if not self.more_views and self.camera_name == "cam0":
            del d["camera_name"], d["more_views"]
        if self.randomize is None:
            del d["randomize"]
        return d

    @staticmethod
    def from_json(d: dict) -> ClipSpec:
        """The ClipSpec of `to_json` output; params stored by version 1 (flat appearance dict,
        tampering among the security scripts) are read too."""
        version = d.get("version", SPEC_VERSION)
        if version == 1:
            d = _from_version_1(d)
        elif version != SPEC_VERSION:
            raise ValueError(f"ClipSpec version {version!r} is not supported (expected {SPEC_VERSION})")
        return _load(ClipSpec, d)


def _from_version_1(d: dict) -> dict:
    """Version-1 params in the version-2 shape (same values, nested appearance)."""
    d = dict(d, version=SPEC_VERSION)
    flat = dict(d.get("appearance") or {})
    nested: dict[str, dict] = {}
    for key, (group, name) in flat_names().items():
        if key in flat:
            nested.setdefault(group, {})[name] = flat.pop(key)
    security = dict(d["security"]) if d.get("security") is not None else None
    tampering = flat.pop("tampering", None) or (security.pop("tampering", None) if security else None) or []
    if flat:
        raise ValueError(f"ClipSpec version 1: unknown appearance keys {sorted(flat)}")
    nested["tampering"] = [tampering] if isinstance(tampering, dict) else tampering
    d["appearance"] = nested
    if security is not None:
        security["acts"] = None if security.get("acts") is None else [
            {("behavior" if k == "behaviour" else k): v for k, v in a.items()} for a in security["acts"]]
        d["security"] = security
    return d


def _plain(v: Any) -> Any:
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple, np.ndarray)):
        return [_plain(x) for x in v]
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return float(v)
    return v


def _load(cls: type, d: dict) -> Any:
    hints = get_type_hints(cls)
    names = {f.name for f in fields(cls)}
    unknown = set(d) - names
    if unknown:
        raise ValueError(f"{cls.__name__}: unknown keys {sorted(unknown)}")
    return cls(**{k: _load_value(hints[k], v) for k, v in d.items()})


def _load_value(tp: Any, v: Any) -> Any:
    if v is None:
        return None
    if is_dataclass(tp):
        return _load(tp, v)
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        inner = [a for a in get_args(tp) if a is not type(None)]
        return _load_value(inner[0], v)
    if origin is list:
        (arg,) = get_args(tp)
        return [_load_value(arg, x) for x in v]
    return v
