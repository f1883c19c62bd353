"""Security behaviour scripts: the recipe's `scenario:` -> planned actors and scripts for a ClipSpec.

`sample_security` runs inside sample_clip (all randomness from the rng passed in; with no zones
and no scenario it draws nothing). It resolves the zones, then for each behaviour that happens
(probability) plans `count` actors through the clip's collision-free Planner, anchored so the
key moment (entering the zone, crossing the line, starting to loiter, dropping the bag, falling,
the crowd having gathered, the vehicle stopping, entering the lane) falls at `start_s` (up to
2 s later when the Planner has to let others pass first):

  intrusion        walk (or drive) into a restricted zone, linger, walk out; or skirt around it
  line_crossing    walk across a tripwire in the chosen direction (or up to it and back)
  loitering        wander slowly within radius_m of a spot for duration_s, then leave
  abandoned_bag    carry a bag to a spot, put it down, walk away; maybe someone picks it up later
  fall             walk to a spot, fall forward/backward and lie still
  running          run through the view
  crowd            size people converge on a spot, stand together, maybe disperse
  illegal_parking  a vehicle pulls off its lane into a no-parking zone and stands there
  wrong_way        drive (or walk) through a lane zone against its direction
  tamper           camera covered, sprayed/blurred or knocked to a new pose

Each behaviour is an entry of the BEHAVIOURS registry (name -> how to plan it from its recipe
section, and the event type its actors must produce); the scripts themselves are in
world/security/people_scripts.py and world/security/vehicle_scripts.py, planning in a ScriptContext
(world/security/script_context.py). It returns the planned actors (ids from `next_id` on), the ClipSpec's
typed `security` scripts (world/security/params.py: zones, event thresholds, falls, bag drops, acts)
and the camera-tampering schedule (Appearance.tampering), which world/security/enact.py applies after
simulation. Scripts state intent only: the events table comes from the final trajectories
(world/security/events.py).
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from synthdata.world.actors import palettes
from synthdata.world.appearance import TamperEntry
from synthdata.world.layouts.base import Layout
from synthdata.world.planning.planner import Planner
from synthdata.world.security import people_scripts as ps
from synthdata.world.security import vehicle_scripts as vs
from synthdata.world.security.events import EventConfig
from synthdata.world.security.params import ActRecord, SecurityParams, ZoneParams
from synthdata.world.security.script_context import Cast, ScriptContext
from synthdata.world.security.zones import sample_zones
from synthdata.world.spec import PersonParams, VehicleParams


def _points(z) -> np.ndarray | None:
    return None if z is None else np.asarray(z.points, float)


@dataclass(frozen=True)
class Behaviour:
    """A scripted behaviour: `plan(ctx, spec, start_s)` draws its values from its recipe section
    `spec` (recipe/security.py) in a fixed order, plans its actors and returns their track ids
    (empty when none could be placed); `event` is the event type those actors produce."""

    name: str
    plan: Callable[[ScriptContext, Any, float], list[int]]
    event: str


def _intrusion(sc: ScriptContext, spec: Any, start: float) -> list[int]:
    draw = sc.draw
    z = _points(sc.zone(spec.zone, "zone", ("restricted",)))
    through, actor, speed = bool(draw(spec.through)), draw(spec.actor), float(draw(spec.speed_mps))
    return vs.intrusion_by_car(sc, z, speed, start) if actor == "car" else \
        ps.intrusion_on_foot(sc, z, through, speed, start)


def _line_crossing(sc: ScriptContext, spec: Any, start: float) -> list[int]:
    draw = sc.draw
    wire = _points(sc.zone(spec.tripwire, "tripwire"))[:2]
    return ps.line_crossing(sc, wire, draw(spec.direction) == "a_to_b", bool(draw(spec.turn_back)),
                            float(draw(spec.speed_mps)), start)


def _loitering(sc: ScriptContext, spec: Any, start: float) -> list[int]:
    z = sc.zone(spec.zone, "zone") if spec.zone else sc.zone(None, "zone", ("loitering",))
    return ps.loitering(sc, _points(z), float(sc.draw(spec.duration_s)), float(sc.draw(spec.radius_m)), start)


def _abandoned_bag(sc: ScriptContext, spec: Any, start: float) -> list[int]:
    draw = sc.draw
    style, away = draw(spec.style), float(draw(spec.walk_away_m))
    pickup = bool(sc.rng.random() < float(draw(spec.pickup_probability)))
    by_owner, after = draw(spec.pickup_by) == "owner", float(draw(spec.pickup_after_s))
    return ps.abandoned_bag(sc, style, away, pickup, by_owner, after, start)


def _fall(sc: ScriptContext, spec: Any, start: float) -> list[int]:
    return ps.fall(sc, sc.draw(spec.direction), float(sc.draw(spec.duration_s)), start)


def _running(sc: ScriptContext, spec: Any, start: float) -> list[int]:
    return ps.running(sc, float(sc.draw(spec.speed_mps)), start)


def _crowd(sc: ScriptContext, spec: Any, start: float) -> list[int]:
    draw = sc.draw
    z = sc.zone(spec.zone, "zone") if spec.zone else None
    return ps.crowd(sc, _points(z), int(draw(spec.size)), float(draw(spec.radius_m)), float(draw(spec.dwell_s)),
                    bool(draw(spec.disperse)), start)


def _illegal_parking(sc: ScriptContext, spec: Any, start: float) -> list[int]:
    draw = sc.draw
    z = _points(sc.zone(spec.zone, "zone", ("no_parking",)))
    return vs.illegal_parking(sc, z, draw(spec.kind), float(draw(spec.dwell_s)), float(draw(spec.speed_mps)), start)


def _wrong_way(sc: ScriptContext, spec: Any, start: float) -> list[int]:
    draw = sc.draw
    z = sc.zone(spec.zone, "zone", ("lane",))
    return vs.wrong_way(sc, _points(z), np.asarray(z.direction, float), draw(spec.actor),
                        float(draw(spec.speed_mps)), start)


# The registry, in the order a clip's behaviours are drawn (recipe section `scenario.<name>`).
BEHAVIOURS: dict[str, Behaviour] = {b.name: b for b in (
    Behaviour("intrusion", _intrusion, "intrusion"),
    Behaviour("line_crossing", _line_crossing, "line_crossing"),
    Behaviour("loitering", _loitering, "loitering"),
    Behaviour("abandoned_bag", _abandoned_bag, "abandoned_object"),
    Behaviour("fall", _fall, "fall"),
    Behaviour("running", _running, "running"),
    Behaviour("crowd", _crowd, "crowd"),
    Behaviour("illegal_parking", _illegal_parking, "illegal_parking"),
    Behaviour("wrong_way", _wrong_way, "wrong_way"),
)}


def sample_security(recipe, rng: np.random.Generator, layout: Layout, planner: Planner, next_id: int,
                    new_person: Callable[[str], PersonParams],
                    new_vehicle: Callable[[str, str], VehicleParams]) -> Cast:
    """Zones, scripted actors and tampering for one clip (see the module docstring).

    new_person(behavior) / new_vehicle(kind, behavior) make an actor's looks (sample.py's own
    factories); track ids are handed out from `next_id`, and Cast.next_id is the next free one."""
    zones = [ZoneParams(**z) for z in layout.zones] + (sample_zones(recipe.zones, layout, rng) if recipe.zones else [])
    sc = ScriptContext(rng, layout, planner, zones, next_id, new_person, new_vehicle, recipe.events)
    draw = sc.draw
    scen = recipe.scenario
    configured = [name for name in BEHAVIOURS if getattr(scen, name) is not None]
    for name in configured:
        spec = getattr(scen, name)
        if not rng.random() < float(draw(spec.probability)):
            continue
        for _ in range(int(draw(spec.count))):
            start = float(draw(spec.start_s))
            ids = BEHAVIOURS[name].plan(sc, spec, start)
            sc.acts.append(ActRecord(name, round(start, 3), ids))
    tampering = []
    if scen.tamper is not None and rng.random() < float(draw(scen.tamper.probability)):
        t = sample_tamper(scen.tamper, draw, rng, recipe.output.fps, recipe.output.frames_per_clip)
        tampering = [t] if t else []
        configured.append("tamper")
    sc.cast.security = SecurityParams(zones=zones, events=EventConfig(**recipe.events.model_dump()),
                                      falls=sc.falls, bag_drops=sc.drops, acts=sc.acts if configured else None)
    sc.cast.tampering = tampering
    return sc.cast


COVER_COLORS = ("#1a1a1a", "#2b2420", "#c68642", "#e0ac69", "#3a3f47")   # cloth, glove, palm
SPRAY_COLORS = ("#101010", "#303030", "#e8e8e8", "#1f3a5f", "#8b1a1a")


def sample_tamper(spec, draw, rng: np.random.Generator, fps: float, num_frames: int) -> TamperEntry | None:
    """One tampering entry: kind, frames [start_frame, end_frame] (inclusive) and its look.

    covered: an occluder slides in from `side` over ramp_frames to hide `coverage` of the image;
    blur: the lens is sprayed/smeared (blur and a `color` haze of `strength`); moved: the view
    turns by pan_deg/tilt_deg over ramp_frames and stays there (end_frame = end of the turn)."""
    kind = draw(spec.kind)
    start = int(round(float(draw(spec.start_s)) * fps))
    length = max(1, int(round(float(draw(spec.duration_s)) * fps)))
    coverage, strength, shift = float(draw(spec.coverage)), float(draw(spec.strength)), float(draw(spec.shift_deg))
    ramp = max(1, int(round(0.4 * fps)))
    side = str(rng.choice(["left", "right", "top", "bottom"]))
    angle = float(rng.uniform(0, 2 * np.pi))
    colour = palettes.pick(rng, list(COVER_COLORS if kind == "covered" else SPRAY_COLORS))
    if start >= num_frames:
        return None
    if kind == "moved":
        return TamperEntry(kind, start, min(start + ramp - 1, num_frames - 1), ramp,
                           pan_deg=shift * math.cos(angle), tilt_deg=0.5 * shift * math.sin(angle))
    end = min(start + length - 1, num_frames - 1)
    if kind == "covered":
        return TamperEntry(kind, start, end, ramp, color=colour, side=side, coverage=coverage)
    return TamperEntry(kind, start, end, ramp, color=colour, strength=strength)
