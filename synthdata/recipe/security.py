"""Recipe sections for security scenarios: `zones:`, `events:` and `scenario:`.

    zones:                          # ground polygons and tripwires (metres, world frame)
      - {name: yard, role: restricted, region: lot, at: [0.5, 0.8], size_m: [12, 6]}
      - {name: gate, kind: tripwire, points: [[-6, 20], [6, 20]], crossing: a_to_b}
    events: {loitering_s: 8, abandoned_s: 6}          # thresholds that define the labels
    scenario:                       # scripted behaviours, each happening with a probability
      loitering: {probability: 0.7, zone: lobby, duration_s: {uniform: [10, 14]}}
      abandoned_bag: {probability: 0.5, pickup_probability: 0.3}

A zone is placed either by fixed `points` (world metres) or relative to a named region of the
layout (`region`, default the whole layout): `at` is its centre as fractions of the region's
extent (x across, y from the near edge), `size_m` its size (default: the whole region), `yaw_deg`
its rotation. A tripwire is a line of `length_m` through `at`, drawn along `yaw_deg` (0 = +x);
its side "b" is to the left of the drawn direction. Region names per layout: parking_lot: lot,
walkway, aisle0.., bays_row0..; street: plaza, road, pavement_far, lane_eastbound0..,
lane_westbound0.., crossing, parking_lane; indoor: floor, entrance, desk.

Event thresholds are plain numbers (they define what a label means, so they do not vary per
clip); world/security/events.py documents each event's exact definition.
"""
from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from synthdata.recipe.types import Choice, Flag, Int, Model, Num

ZONE_ROLES = ("restricted", "no_parking", "lane", "loitering", "watch")
WATCHED = Literal["person", "car", "van", "truck", "bus", "bicycle", "motorcycle"]
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")


class ZoneSpec(Model):
    """A named ground polygon (kind: zone) or directed line (kind: tripwire)."""

    name: str
    kind: Literal["zone", "tripwire"] = "zone"
    role: Literal["restricted", "no_parking", "lane", "loitering", "watch"] = "restricted"
    points: list[tuple[float, float]] | None = None      # fixed ground points (x, y) in metres
    region: str = "layout"                               # layout region the placement is relative to
    at: tuple[Num(0, 1), Num(0, 1)] = (0.5, 0.5)         # centre as fractions of the region's extent
    size_m: tuple[Num(0.2, 1000), Num(0.2, 1000)] | None = None   # zone rectangle; None = whole region
    length_m: Num(0.2, 1000) | None = None               # tripwire length; None = across the region
    yaw_deg: Num(-360, 360) = 0.0                        # rotation (zone) / drawn direction (tripwire)
    direction_deg: Num(-360, 360) | None = None          # lane: allowed travel direction (0 = +x);
                                                         # None = the layout lane's own (region lane_*)
    crossing: Literal["both", "a_to_b", "b_to_a"] = "both"   # tripwire: which crossings are events
    categories: list[WATCHED] | None = None              # who the zone watches (default per event)
    painted: Flag = False                                # draw its outline on the ground

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not _NAME.fullmatch(v):
            raise ValueError(f"expected letters, digits, '-' or '_' (at most 64), got {v!r}")
        return v

    @model_validator(mode="after")
    def _shape(self) -> "ZoneSpec":
        if self.points is not None:
            need = 2 if self.kind == "tripwire" else 3
            if len(self.points) < need:
                raise ValueError(f"a {self.kind} needs at least {need} points, got {len(self.points)}")
        if self.kind == "zone" and self.role == "lane" and self.direction_deg is None \
                and not self.region.startswith("lane_"):
            raise ValueError("a lane zone needs direction_deg (or region: lane_<name> to use that lane's "
                             "direction)")
        return self


class EventsSpec(Model):
    """Thresholds of the analytic events (seconds, metres, m/s); see world/security/events.py."""

    intrusion_min_s: float = Field(0.0, ge=0, description="shortest intrusion that counts")
    loitering_s: float = Field(10.0, gt=0, description="dwell time that makes loitering")
    loitering_radius_m: float = Field(2.0, gt=0, description="the dwell stays within a disc this wide")
    abandoned_distance_m: float = Field(3.0, gt=0, description="owner at least this far from the bag")
    abandoned_s: float = Field(5.0, gt=0, description="... for at least this long")
    static_speed_mps: float = Field(0.05, gt=0, description="a bag slower than this is at rest")
    removed_static_s: float = Field(2.0, gt=0, description="rest before a pick-up counts as a removal")
    fall_height_fraction: float = Field(0.35, gt=0, lt=1, description="head below this x standing height is down")
    fall_up_fraction: float = Field(0.7, gt=0, le=1, description="head above this x standing height is upright")
    fall_s: float = Field(1.5, gt=0, description="longest time from upright to down")
    fall_down_s: float = Field(1.0, gt=0, description="shortest time lying down after a fall")
    running_speed_mps: float = Field(2.5, gt=0)
    running_min_s: float = Field(1.0, gt=0)
    crowd_min_people: int = Field(5, ge=2)
    crowd_radius_m: float = Field(2.0, gt=0)
    crowd_min_s: float = Field(1.0, gt=0)
    parking_s: float = Field(5.0, gt=0, description="stationary time in a no-parking zone")
    stationary_speed_mps: float = Field(0.2, gt=0, description="a vehicle slower than this is stationary")
    wrong_way_s: float = Field(1.0, gt=0)
    wrong_way_angle_deg: float = Field(120.0, gt=90, le=180,
                                       description="velocity this far from the lane direction")
    wrong_way_min_speed_mps: float = Field(0.5, gt=0)

    @model_validator(mode="after")
    def _order(self) -> "EventsSpec":
        if self.fall_height_fraction >= self.fall_up_fraction:
            raise ValueError("fall_height_fraction must be below fall_up_fraction")
        return self


class Behaviour(Model):
    """A scripted behaviour: with `probability` a clip contains `count` actors acting it out,
    starting around `start_s` seconds into the clip."""

    probability: Num(0, 1) = 1.0
    count: Int(1, 50) = 1
    start_s: Num(0, 3600) = {"uniform": [0.0, 2.0]}


class IntrusionSpec(Behaviour):
    zone: str | None = None                 # a restricted zone's name; None = any restricted zone
    through: Flag = {"bernoulli": 0.8}      # walk into the zone, or only skirt around it
    actor: Choice("person", "car") = "person"
    speed_mps: Num(0.3, 15) = {"uniform": [1.1, 1.6]}


class LineCrossingSpec(Behaviour):
    tripwire: str | None = None             # a tripwire's name; None = any tripwire
    direction: Choice("a_to_b", "b_to_a") = {"choice": ["a_to_b", "b_to_a"]}
    turn_back: Flag = {"bernoulli": 0.0}    # walk up to the line and turn back before it
    speed_mps: Num(0.3, 8) = {"uniform": [1.1, 1.6]}


class LoiteringSpec(Behaviour):
    zone: str | None = None                 # a zone's name; None = a loitering zone, else anywhere
    duration_s: Num(0.5, 3600) = {"uniform": [12.0, 20.0]}
    radius_m: Num(0.3, 20) = {"uniform": [0.8, 1.6]}


class AbandonedBagSpec(Behaviour):
    style: Choice("backpack", "handbag") = {"choice": ["backpack", "handbag"]}
    walk_away_m: Num(1, 100) = {"uniform": [6.0, 10.0]}
    pickup_probability: Num(0, 1) = 0.0     # the bag is later picked up (object_removed)
    pickup_by: Choice("owner", "other") = {"choice": ["owner", "other"]}
    pickup_after_s: Num(0.5, 3600) = {"uniform": [7.0, 10.0]}   # time from the drop to the pick-up


class FallSpec(Behaviour):
    direction: Choice("forward", "backward") = {"choice": ["forward", "backward"]}
    duration_s: Num(0.3, 3) = {"uniform": [0.6, 1.1]}          # from upright to lying


class RunningSpec(Behaviour):
    speed_mps: Num(1, 10) = {"uniform": [3.0, 5.0]}


class CrowdSpec(Behaviour):
    zone: str | None = None
    size: Int(2, 40) = {"randint": [5, 8]}
    radius_m: Num(0.5, 10) = {"uniform": [1.0, 1.6]}           # people gather within this radius
    dwell_s: Num(0.5, 3600) = {"uniform": [4.0, 8.0]}
    disperse: Flag = {"bernoulli": 0.6}     # walk away again before the clip ends


class IllegalParkingSpec(Behaviour):
    zone: str | None = None                 # a no-parking zone's name; None = any
    kind: Choice("car", "van", "truck") = {"choice": {"car": 0.8, "van": 0.2}}
    dwell_s: Num(0.5, 3600) = {"uniform": [8.0, 15.0]}
    speed_mps: Num(1, 20) = {"uniform": [4.0, 7.0]}


class WrongWaySpec(Behaviour):
    zone: str | None = None                 # a lane zone's name; None = any lane zone
    actor: Choice("car", "van", "truck", "person") = "car"
    speed_mps: Num(0.5, 20) = {"uniform": [4.0, 7.0]}


class TamperSpec(Model):
    """Camera tampering: lens covered, sprayed/blurred, or the camera knocked to a new pose."""

    probability: Num(0, 1) = 1.0
    kind: Choice("covered", "blur", "moved") = {"choice": ["covered", "blur", "moved"]}
    start_s: Num(0, 3600) = {"uniform": [2.0, 5.0]}
    duration_s: Num(0.1, 3600) = {"uniform": [2.0, 5.0]}       # covered / blur; moved stays moved
    coverage: Num(0.2, 1) = {"uniform": [0.7, 1.0]}           # covered: fraction of the image hidden
    strength: Num(0, 1) = {"uniform": [0.6, 1.0]}             # blur: how strong
    shift_deg: Num(1, 60) = {"uniform": [8.0, 20.0]}          # moved: how far the view turns


class ScenarioSpec(Model):
    """Scripted security behaviours; events are still derived from the resulting geometry."""

    intrusion: IntrusionSpec | None = None
    line_crossing: LineCrossingSpec | None = None
    loitering: LoiteringSpec | None = None
    abandoned_bag: AbandonedBagSpec | None = None
    fall: FallSpec | None = None
    running: RunningSpec | None = None
    crowd: CrowdSpec | None = None
    illegal_parking: IllegalParkingSpec | None = None
    wrong_way: WrongWaySpec | None = None
    tamper: TamperSpec | None = None


def check_unique_zones(zones: list[ZoneSpec]) -> None:
    seen: set[str] = set()
    for i, z in enumerate(zones):
        if z.name in seen:
            raise ValueError(f"[{i}].name: {z.name!r} is used twice")
        seen.add(z.name)


def check_zone_refs(zones: list[ZoneSpec], scenario: ScenarioSpec) -> None:
    """Every zone a behaviour names exists with a fitting kind and role."""
    by_name = {z.name: z for z in zones}
    wanted = {"intrusion": ("zone", "zone", ("restricted",)), "line_crossing": ("tripwire", "tripwire", None),
              "loitering": ("zone", "zone", None), "crowd": ("zone", "zone", None),
              "illegal_parking": ("zone", "zone", ("no_parking",)), "wrong_way": ("zone", "zone", ("lane",))}
    for key, (field, kind, roles) in wanted.items():
        spec = getattr(scenario, key)
        if spec is None:
            continue
        name = getattr(spec, field)
        if name is None:
            if roles and not any(z.kind == kind and z.role in roles for z in zones):
                raise ValueError(f"{key}: needs a {kind} with role {'/'.join(roles)} in zones")
            if kind == "tripwire" and not any(z.kind == "tripwire" for z in zones):
                raise ValueError(f"{key}: needs a tripwire in zones")
            continue
        z = by_name.get(name)
        if z is None:
            raise ValueError(f"{key}.{field}: no zone named {name!r} (zones: {', '.join(by_name) or 'none'})")
        if z.kind != kind or (roles and z.role not in roles):
            what = kind if not roles else f"{kind} with role {'/'.join(roles)}"
            raise ValueError(f"{key}.{field}: {name!r} is not a {what}")
    ww = scenario.wrong_way
    if ww is not None and "person" in ww.actor.args:
        lanes = [z for z in zones if z.role == "lane" and (ww.zone is None or z.name == ww.zone)]
        if any(not z.categories or "person" not in z.categories for z in lanes):
            raise ValueError("wrong_way.actor: a person going the wrong way is only an event in a lane zone "
                             "whose categories include person")


def unique_zones(cls, v: list[ZoneSpec]) -> list[ZoneSpec]:
    """pydantic field validator of `zones` (Recipe, mix entries): names are unique."""
    check_unique_zones(v)
    return v


def layout_zones(scene: Any) -> list[ZoneSpec]:
    """Zones and tripwires the layout of a SceneSpec brings (a plate's sketch), for checking
    scenario references."""
    if scene is None or scene.layout.plate is None:
        return []
    out = []
    for z in scene.layout.plate_scene()["zones"]:
        extra = {"role": z["role"]} if z["kind"] == "zone" else {"crossing": z["crossing"]}
        out.append(ZoneSpec(name=z["name"], kind=z["kind"], points=[tuple(p) for p in z["points"]], **extra))
    return out


def scenario_zone_refs(cls, v: ScenarioSpec, info: Any) -> ScenarioSpec:
    """pydantic field validator of `scenario` (Recipe, mix entries): the zones it names exist in
    `zones` or in the layout (declare `scene` before `scenario`)."""
    check_zone_refs((info.data.get("zones") or []) + layout_zones(info.data.get("scene")), v)
    return v
