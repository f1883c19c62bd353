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
  running          run through the scene
  crowd            size people converge on a spot, stand together, maybe disperse
  illegal_parking  a vehicle pulls off its lane into a no-parking zone and stands there
  wrong_way        drive (or walk) through a lane zone against its direction
  tamper           camera covered, sprayed/blurred or knocked to a new pose

It returns the planned actors (ids from `next_id` on), the ClipSpec's typed `security` scripts
(world/security/params.py: zones, event thresholds, falls, bag drops, acts) and the camera-tampering
schedule (Appearance.tampering), which world/security/enact.py applies after simulation. Scripts state intent only: the events table
comes from the final trajectories (world/security/events.py).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from synthdata.recipe.distributions import sampler
from synthdata.recipe.security import EventsSpec
from synthdata.world.actors import palettes
from synthdata.world.actors.bodies import footprint_radius
from synthdata.world.actors.motion import arrival_yaws, timed_keys
from synthdata.world.appearance import TamperEntry
from synthdata.world.geometry.shapes import points_in_polygon, polyline_length, resample_polyline
from synthdata.world.layouts.base import Layout
from synthdata.world.planning.planner import PERSON_TURN_S, VEHICLE_TURN_S, Occupant, Planner, vehicle_discs
from synthdata.world.security.events import EventConfig
from synthdata.world.security.params import ActRecord, BagDropScript, FallScript, SecurityParams, ZoneParams
from synthdata.world.security.zones import sample_zones
from synthdata.world.spec import BagParams, PersonParams, Track, VehicleParams

DELAYS = (0.0, 0.4, 0.8, 1.2, 1.6, 2.0)
ATTEMPTS = 12
PAUSE_S = 1.5            # a person stops this long to put a bag down or pick it up
LOWER_S = (0.3, 1.0)     # ... the bag moves between these times into the pause


@dataclass
class Cast:
    """What the scenario adds to a clip: actors (with track ids), the ClipSpec's security scripts
    and the camera-tampering schedule."""

    people: list[PersonParams] = field(default_factory=list)
    vehicles: list[VehicleParams] = field(default_factory=list)
    bags: list[BagParams] = field(default_factory=list)
    security: SecurityParams = field(default_factory=SecurityParams)
    tampering: list[TamperEntry] = field(default_factory=list)
    next_id: int = 1


class _Scene:
    def __init__(self, rng, layout, planner, zones, next_id, new_person, new_vehicle, events=None):
        self.rng, self.draw, self.layout, self.planner = rng, sampler(rng), layout, planner
        self.zones = zones
        self.events = events if events is not None else EventsSpec()    # thresholds scripts are timed to
        self.nav = planner.nav
        self.duration = planner.duration
        self.new_person, self.new_vehicle = new_person, new_vehicle
        self.cast = Cast(next_id=next_id)
        self.falls: list[FallScript] = []
        self.drops: list[BagDropScript] = []
        self.acts: list[ActRecord] = []

    def take_id(self) -> int:
        self.cast.next_id += 1
        return self.cast.next_id - 1

    def zone(self, name: str | None, kind: str = "zone",
             roles: tuple[str, ...] | None = None) -> ZoneParams | None:
        cands = [z for z in self.zones if z.kind == kind and (roles is None or z.role in roles)
                 and (name is None or z.name == name)]
        return cands[int(self.rng.integers(len(cands)))] if cands else None

    # ---- places ------------------------------------------------------------------------------
    def spots(self, radius: float, inside: np.ndarray | None = None, outside: np.ndarray | None = None,
              hidden: bool = False) -> np.ndarray:
        mask = self.planner.entry if hidden else self.planner.visible
        pts = self.nav.centers[mask]
        if inside is not None and len(pts):
            pts = pts[points_in_polygon(pts, inside)]
        if outside is not None and len(pts):
            pts = pts[~points_in_polygon(pts, outside)]
        if len(pts):
            pts = pts[self.nav.point_ok(pts, radius)]
        return pts

    def pick(self, pts: np.ndarray, near: np.ndarray | None = None, min_d: float = 0.0,
             max_d: float = np.inf) -> np.ndarray | None:
        if near is not None and len(pts):
            d = np.hypot(*(pts - near).T)
            pts = pts[(d >= min_d) & (d <= max_d)]
        if not len(pts):
            return None
        return pts[int(self.rng.integers(len(pts)))] + self.rng.uniform(-0.2, 0.2, 2) * self.nav.cell

    def way_in(self, radius: float, goal: np.ndarray, min_d: float = 6.0) -> tuple[np.ndarray | None, bool]:
        """A start point: out of view when possible (the actor walks in), else a visible one."""
        for hidden in (True, False):
            q = self.pick(self.spots(radius, hidden=hidden), goal, min_d, 40.0)
            if q is not None and self.nav.point_ok(q, radius).all():
                return q, hidden
        return None, False

    def legs(self, waypoints: list[np.ndarray], radius: float) -> tuple[np.ndarray, list[int]] | None:
        """Routed polyline through the waypoints and the index of each waypoint in it."""
        pts, idx = [np.asarray(waypoints[0], float)], [0]
        for a, b in zip(waypoints[:-1], waypoints[1:]):
            r = self.nav.route(a, b, radius)
            if r is None:
                return None
            pts.extend(r[1:])
            idx.append(len(pts) - 1)
        return np.array(pts), idx

    # ---- acceptance ----------------------------------------------------------------------------
    def person_track(self, pts: np.ndarray, dwell: np.ndarray, speed: float, anchor_time: float,
                     anchor_arc: float, vanish: bool) -> Track:
        """Timed keys with the point at arc length `anchor_arc` reached at `anchor_time`."""
        ts, xy = timed_keys(pts, speed, 0.0, dwell)
        t_anchor = time_at_arc(ts, xy, anchor_arc)
        return self.track([t + anchor_time - t_anchor for t in ts], xy, vanish)

    def track(self, ts: list[float], xy: list[list[float]], vanish: bool) -> Track:
        """A Track over timed keys. An actor starting at a visible spot stands there from time 0
        (nobody pops into view); one ending at a visible spot stays instead of vanishing."""
        first = np.subtract(xy[1], xy[0]) if len(xy) > 1 else (1.0, 0.0)
        yaw = arrival_yaws(xy, float(np.arctan2(first[1], first[0])))
        if ts[0] > 0 and not self.hidden(xy[0]):
            ts, xy, yaw = [0.0] + list(ts), [list(xy[0])] + list(xy), [yaw[0]] + yaw
        vanish = vanish and self.hidden(xy[-1])
        return Track(list(ts), xy, yaw, ts[0], ts[-1] if vanish else None)

    def retime(self, pts: np.ndarray, dwell: np.ndarray, speeds: list[float], anchor_time: float,
               anchor_index: int, vanish: bool) -> Track:
        """Keys along pts with per-segment speeds, reaching point `anchor_index` at anchor_time."""
        ts, xy = timed_keys(pts, np.asarray(speeds, float), 0.0, dwell)
        k = sum(1 + int(dwell[i] > 0) for i in range(anchor_index))    # timed_keys repeats dwelt keys
        return self.track([t + anchor_time - ts[k] for t in ts], xy, vanish)

    def hidden(self, xy) -> bool:
        i, j = self.nav.cell_of(np.asarray(xy, float))
        return bool(self.planner.hidden[i, j])

    def face(self, p: PersonParams, xy: np.ndarray, yaw: float) -> None:
        """Face `yaw` while standing at `xy` (keys at that spot)."""
        for k, q in enumerate(p.track.xy):
            if np.hypot(q[0] - xy[0], q[1] - xy[1]) < 1e-6 and k > 0:
                p.track.yaw[k] = float(yaw)

    def accept(self, track: Track, offsets, radii, turn_s: float) -> Track | None:
        return self.planner.try_accept(track, offsets, radii, turn_s, delays=DELAYS)

    def add_person(self, p: PersonParams, track: Track) -> PersonParams | None:
        got = self.accept(track, [0.0], [footprint_radius(p)], PERSON_TURN_S)
        if got is None:
            return None
        p.track, p.track_id = got, self.take_id()
        self.cast.people.append(p)
        return p

    def add_vehicle(self, v: VehicleParams, track: Track) -> VehicleParams | None:
        offsets, radii = vehicle_discs(v.length_m, v.width_m)
        got = self.accept(track, offsets, radii, VEHICLE_TURN_S)
        if got is None:
            return None
        v.track, v.track_id = got, self.take_id()
        self.cast.vehicles.append(v)
        return v

    def block(self, xy: np.ndarray, radius: float, t0: float, t1: float | None) -> None:
        """Keep later actors clear of a disc (a bag on the floor, a person lying) from t0 to t1."""
        times = self.planner.times
        present = (times >= t0) & (times <= (np.inf if t1 is None else t1))
        centers = np.broadcast_to(np.asarray(xy, float), (len(times), 1, 2)).copy()
        self.planner.occupants.append(Occupant(centers, np.array([radius]), present))


def time_at_arc(ts: list[float], xy: list[list[float]], arc: float) -> float:
    """Time at which arc length `arc` along the keyed path is first reached."""
    cum = polyline_length(np.asarray(xy, float))
    k = int(np.searchsorted(cum, arc, side="left"))
    if k <= 0:
        return ts[0]
    if k >= len(cum):
        return ts[-1]
    seg = cum[k] - cum[k - 1]
    u = 0.0 if seg <= 0 else (arc - cum[k - 1]) / seg
    return ts[k - 1] + u * (ts[k] - ts[k - 1])


def arc_of_index(pts: np.ndarray, i: int) -> float:
    return float(polyline_length(pts)[i])


def first_entry_arc(pts: np.ndarray, poly: np.ndarray, step: float = 0.1) -> float | None:
    total = float(polyline_length(pts)[-1])
    s = np.arange(0.0, total + step, step)
    inside = points_in_polygon(resample_polyline(pts, s), poly)
    return float(s[int(np.argmax(inside))]) if inside.any() else None


def first_crossing_arc(pts: np.ndarray, wire: np.ndarray, step: float = 0.05) -> float | None:
    a, b = wire[0], wire[1]
    d = b - a
    total = float(polyline_length(pts)[-1])
    s = np.arange(0.0, total + step, step)
    q = resample_polyline(pts, s)
    side = (q - a) @ np.array([-d[1], d[0]]) > 0
    k = np.flatnonzero(side[1:] != side[:-1])
    return float(s[k[0] + 1]) if len(k) else None




# ---- the scenario ----------------------------------------------------------------------------
BEHAVIOURS = ("intrusion", "line_crossing", "loitering", "abandoned_bag", "fall", "running", "crowd",
              "illegal_parking", "wrong_way")


def sample_security(recipe, rng: np.random.Generator, layout: Layout, planner: Planner, next_id: int,
                    new_person: Callable[[str], PersonParams],
                    new_vehicle: Callable[[str, str], VehicleParams]) -> Cast:
    """Zones, scripted actors and tampering for one clip (see the module docstring).

    new_person(behavior) / new_vehicle(kind, behavior) make an actor's looks (sample.py's own
    factories); track ids are handed out from `next_id`, and Cast.next_id is the next free one."""
    from synthdata.world.security import people_scripts as ps
    from synthdata.world.security import vehicle_scripts as vs

    zones = sample_zones(recipe.zones, layout, rng) if recipe.zones else []
    sc = _Scene(rng, layout, planner, zones, next_id, new_person, new_vehicle, recipe.events)
    draw = sc.draw
    scen = recipe.scenario
    configured = [name for name in BEHAVIOURS if getattr(scen, name) is not None]
    for name in configured:
        spec = getattr(scen, name)
        if not rng.random() < float(draw(spec.probability)):
            continue
        for _ in range(int(draw(spec.count))):
            start = float(draw(spec.start_s))
            poly = lambda z: None if z is None else np.asarray(z.points, float)   # noqa: E731
            if name == "intrusion":
                z = poly(sc.zone(spec.zone, "zone", ("restricted",)))
                through, actor, speed = bool(draw(spec.through)), draw(spec.actor), float(draw(spec.speed_mps))
                ids = vs.intrusion_by_car(sc, z, speed, start) if actor == "car" else \
                    ps.intrusion_on_foot(sc, z, through, speed, start)
            elif name == "line_crossing":
                wire = poly(sc.zone(spec.tripwire, "tripwire"))[:2]
                ids = ps.line_crossing(sc, wire, draw(spec.direction) == "a_to_b", bool(draw(spec.turn_back)),
                                       float(draw(spec.speed_mps)), start)
            elif name == "loitering":
                z = sc.zone(spec.zone, "zone") if spec.zone else sc.zone(None, "zone", ("loitering",))
                ids = ps.loitering(sc, poly(z), float(draw(spec.duration_s)), float(draw(spec.radius_m)), start)
            elif name == "abandoned_bag":
                style, away = draw(spec.style), float(draw(spec.walk_away_m))
                pickup = bool(rng.random() < float(draw(spec.pickup_probability)))
                by_owner, after = draw(spec.pickup_by) == "owner", float(draw(spec.pickup_after_s))
                ids = ps.abandoned_bag(sc, style, away, pickup, by_owner, after, start)
            elif name == "fall":
                ids = ps.fall(sc, draw(spec.direction), float(draw(spec.duration_s)), start)
            elif name == "running":
                ids = ps.running(sc, float(draw(spec.speed_mps)), start)
            elif name == "crowd":
                z = sc.zone(spec.zone, "zone") if spec.zone else None
                ids = ps.crowd(sc, poly(z), int(draw(spec.size)), float(draw(spec.radius_m)),
                               float(draw(spec.dwell_s)), bool(draw(spec.disperse)), start)
            elif name == "illegal_parking":
                z = poly(sc.zone(spec.zone, "zone", ("no_parking",)))
                ids = vs.illegal_parking(sc, z, draw(spec.kind), float(draw(spec.dwell_s)),
                                         float(draw(spec.speed_mps)), start)
            else:
                z = sc.zone(spec.zone, "zone", ("lane",))
                ids = vs.wrong_way(sc, poly(z), np.asarray(z.direction, float), draw(spec.actor),
                                   float(draw(spec.speed_mps)), start)
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
