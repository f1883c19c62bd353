"""The context behaviour scripts plan in (world/security/behaviours.py runs them; world/security/people_scripts.py
and world/security/vehicle_scripts.py implement them): `ScriptContext` hands scripts the clip's rng,
layout, collision-free Planner and zones, finds spots and routes, times tracks so a key moment
falls at a given time, and collects what they add in a `Cast`. Metres, seconds.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from synthdata.recipe.distributions import sampler
from synthdata.recipe.security import EventsSpec
from synthdata.world.actors.bodies import footprint_radius
from synthdata.world.actors.motion import arrival_yaws, timed_keys
from synthdata.world.appearance import TamperEntry
from synthdata.world.geometry.shapes import points_in_polygon, polyline_length, resample_polyline
from synthdata.world.planning.planner import PERSON_TURN_S, VEHICLE_TURN_S, Occupant, vehicle_discs
from synthdata.world.security.params import ActRecord, BagDropScript, FallScript, SecurityParams, ZoneParams
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


class ScriptContext:
    """What a behaviour script plans with: the clip's rng and draw, layout, Planner and zones, and
    the Cast it adds actors and scripts to (track ids handed out by `take_id`)."""

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
