"""Security events derived from final trajectories and zone geometry (never from intent flags).

`detect_events(world, config)` reads each actor's ground position (Actor.position[:, :2]),
presence, category, keypoints (falls), bag ownership (attributes["owner_track_id"]), the World's
zones and its camera-tampering schedule (World.appearance.tampering) and returns Events. A
person scripted to loiter who walks off too early produces no loitering event.

Conventions
- Frames are 0-based; every interval is inclusive: [start_frame, end_frame].
- A run of n consecutive frames lasts n / fps seconds, so a threshold of S seconds needs
  n >= ceil(S * fps) frames: one frame short gives no event.
- Velocity at frame t is (p[t] - p[t-1]) * fps when the actor is present in both frames; at the
  first frame of a presence run it is the forward difference. Speed is its length (m/s).
- Distances are measured on the ground plane (x, y).
- Duration events span their whole qualifying interval; attributes["alarm_frame"] is the frame
  at which the duration threshold is first met (where a causal detector could first alarm).

Zones (World.zones) are read through their attributes: role "restricted" (intrusion),
"no_parking" (illegal_parking), "lane" (wrong_way; direction [dx, dy] = allowed direction),
"loitering" (where loitering counts; with no such zone, anywhere); optional "categories"
(the actor categories the zone watches). Tripwires (kind "tripwire") are polylines; their
optional "crossing" attribute ("both" | "a_to_b" | "b_to_a") keeps one direction only.

Event types
- intrusion: a person or vehicle's ground point is inside a restricted zone polygon for at
  least intrusion_min_s; one event per continuous inside interval (first to last inside frame).
- line_crossing: the step p[t-1] -> p[t] crosses a tripwire segment; start = end = t. The
  side of a point is "b" when it lies strictly left of the segment's drawn direction (where its
  normal n = (-dy, dx) points) and "a" otherwise; direction is "a_to_b" or "b_to_a".
- loitering: a person's positions over a window of >= loitering_s all fit inside a disc of
  radius loitering_radius_m (and inside a loitering zone when there is one) while upright (not
  down as defined for falls); the event covers every frame of such windows, one event per
  continuous covered interval.
- abandoned_object: a bag that is static (speed < static_speed_mps), resting on the ground
  (z <= 0.05 m) and present while its owner is >= abandoned_distance_m away or absent (a bag
  with no owner: while no person is that close), for >= abandoned_s. The event spans the whole
  unattended interval; alarm_frame = start + ceil(abandoned_s * fps) - 1.
- object_removed: a bag that was static for >= removed_static_s, unattended (as above) in at
  least one frame of that rest, leaves its resting place at frame t (moves or is lifted off the
  ground while present): start = end = t; track_ids = [bag, nearest person at t].
- fall: a person's head height (mean z of COCO nose, eyes, ears) drops from >= fall_up_fraction
  to < fall_height_fraction of the standing height (attributes["height_m"], else the highest
  head z in the clip) within <= fall_s and stays below for >= fall_down_s. start = the first
  frame after the last upright frame, end = the last frame down; attributes["down_frame"].
- running: a person's speed >= running_speed_mps for >= running_min_s (riders excluded).
- crowd: >= crowd_min_people people fit within one disc of radius crowd_radius_m for
  >= crowd_min_s; track_ids = everyone who was in the largest group in any of those frames.
- illegal_parking: a motor vehicle's speed < stationary_speed_mps with its ground point in a
  no-parking zone for >= parking_s.
- wrong_way: an actor moving at >= wrong_way_min_speed_mps inside a lane zone, its velocity
  more than wrong_way_angle_deg away from the lane's direction, for >= wrong_way_s.
- camera_tamper: each entry of the World's tampering schedule; track_id None,
  attributes["kind"] = covered | blur | moved.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from synthdata.world.geometry.discs import dwell_cover, largest_group, may_group
from synthdata.world.geometry.shapes import points_in_polygon
from synthdata.world.types import Actor, Event, World, Zone

VEHICLES = ("car", "van", "truck", "bus", "bicycle", "motorcycle")
MOTOR_VEHICLES = ("car", "van", "truck", "bus", "motorcycle")
MOVERS = ("person",) + VEHICLES
HEAD_JOINTS = (0, 1, 2, 3, 4)
ON_GROUND_M = 0.05
EVENT_TYPES = ("intrusion", "line_crossing", "loitering", "abandoned_object", "object_removed", "fall",
               "running", "crowd", "illegal_parking", "wrong_way", "camera_tamper")


@dataclass(frozen=True)
class EventConfig:
    """Thresholds that define the events (seconds, metres, m/s); recipe section `events:`."""

    intrusion_min_s: float = 0.0
    loitering_s: float = 10.0
    loitering_radius_m: float = 2.0
    abandoned_distance_m: float = 3.0
    abandoned_s: float = 5.0
    static_speed_mps: float = 0.05
    removed_static_s: float = 2.0
    fall_height_fraction: float = 0.35
    fall_up_fraction: float = 0.7
    fall_s: float = 1.5
    fall_down_s: float = 1.0
    running_speed_mps: float = 2.5
    running_min_s: float = 1.0
    crowd_min_people: int = 5
    crowd_radius_m: float = 2.0
    crowd_min_s: float = 1.0
    parking_s: float = 5.0
    stationary_speed_mps: float = 0.2
    wrong_way_s: float = 1.0
    wrong_way_angle_deg: float = 120.0
    wrong_way_min_speed_mps: float = 0.5

    @staticmethod
    def from_dict(d: dict[str, Any] | None) -> "EventConfig":
        names = {f.name for f in fields(EventConfig)}
        unknown = set(d or {}) - names
        if unknown:
            raise ValueError(f"EventConfig: unknown keys {sorted(unknown)}")
        return EventConfig(**(d or {}))


def frames_for(seconds: float, fps: float) -> int:
    """Frames a run needs to last `seconds` (n frames last n / fps s); at least 1."""
    return max(1, math.ceil(round(seconds * fps, 6)))


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """Maximal runs of True as inclusive (start, end) frame pairs."""
    m = np.concatenate([[0], np.asarray(mask, np.int8), [0]])
    d = np.diff(m)
    return [(int(s), int(e) - 1) for s, e in zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1))]


def velocity(xy: np.ndarray, present: np.ndarray, fps: float) -> np.ndarray:
    """(T, 2) ground velocity in m/s (see module conventions); 0 where absent."""
    T = len(xy)
    v = np.zeros((T, 2))
    if T < 2:
        return v
    d = (xy[1:] - xy[:-1]) * fps
    both = present[1:] & present[:-1]
    v[1:][both] = d[both]
    first = present & ~np.concatenate([[False], present[:-1]])
    fwd = np.flatnonzero(first[:-1] & present[1:])
    v[fwd] = d[fwd]
    return v


@dataclass
class _Track:
    actor: Actor
    xy: np.ndarray
    present: np.ndarray
    vel: np.ndarray
    speed: np.ndarray

    @staticmethod
    def of(actor: Actor, fps: float) -> "_Track":
        xy = np.asarray(actor.position, float)[:, :2]
        present = np.asarray(actor.present, bool)
        vel = velocity(xy, present, fps)
        return _Track(actor, xy, present, vel, np.linalg.norm(vel, axis=1))

    @property
    def id(self) -> int:
        return int(self.actor.track_id)

    @property
    def is_rider(self) -> bool:
        a = self.actor.attributes
        return a.get("riding_track_id") is not None or a.get("behavior") == "ride"


def detect_events(world: World, config: EventConfig | None = None) -> list[Event]:
    """Every event of the clip, sorted by (start_frame, type, track_id)."""
    cfg = config or EventConfig()
    fps = float(world.fps)
    tracks = [_Track.of(a, fps) for a in world.actors]
    people = [t for t in tracks if t.actor.category == "person"]
    bags = [t for t in tracks if t.actor.category == "bag"]
    out: list[Event] = []
    for zone in world.zones:
        role = zone.attributes.get("role")
        if zone.kind == "tripwire":
            out += line_crossings(zone, tracks)
        elif role == "restricted":
            out += intrusions(zone, tracks, frames_for(cfg.intrusion_min_s, fps))
        elif role == "no_parking":
            out += illegal_parking(zone, tracks, cfg, fps)
        elif role == "lane":
            out += wrong_way(zone, tracks, cfg, fps)
    loiter_zones = [z for z in world.zones if z.kind != "tripwire" and z.attributes.get("role") == "loitering"]
    out += loitering(people, loiter_zones, cfg, fps)
    out += abandoned_and_removed(bags, people, tracks, cfg, fps)
    out += falls(people, cfg, fps)
    out += running(people, cfg, fps)
    out += crowds(people, world.num_frames, cfg, fps)
    out += camera_tamper(world)
    return sorted(out, key=lambda e: (e.start_frame, e.type, -1 if e.track_id is None else e.track_id,
                                      e.end_frame, e.zone or ""))


# ---- zones -------------------------------------------------------------------------------
def _watched(zone: Zone, tracks: list[_Track], default: tuple[str, ...]) -> list[_Track]:
    cats = tuple(zone.attributes.get("categories") or default)
    return [t for t in tracks if t.actor.category in cats]


def _inside(zone: Zone, t: _Track) -> np.ndarray:
    return t.present & points_in_polygon(t.xy, np.asarray(zone.points, float))


def _interval_events(kind: str, mask: np.ndarray, n_min: int, track: _Track | None, zone: str | None,
                     **attrs: Any) -> list[Event]:
    evs = []
    for s, e in runs(mask):
        if e - s + 1 >= n_min:
            evs.append(Event(kind, s, e, track.id if track else None, [track.id] if track else [], zone,
                             {"alarm_frame": s + n_min - 1, **attrs}))
    return evs


def intrusions(zone: Zone, tracks: list[_Track], n_min: int = 1) -> list[Event]:
    out = []
    for t in _watched(zone, tracks, MOVERS):
        out += _interval_events("intrusion", _inside(zone, t), n_min, t, zone.name, category=t.actor.category)
    return out


def line_crossings(zone: Zone, tracks: list[_Track]) -> list[Event]:
    pts = np.asarray(zone.points, float)
    keep = zone.attributes.get("crossing", "both")
    out = []
    for t in _watched(zone, tracks, MOVERS):
        step = t.present[1:] & t.present[:-1]
        found: dict[int, str] = {}
        for a, b in zip(pts[:-1], pts[1:]):
            d = b - a
            s = (t.xy - a) @ np.array([-d[1], d[0]])
            side_b = s > 0
            cand = np.flatnonzero(step & (side_b[1:] != side_b[:-1]))
            for k in cand:
                lam = s[k] / (s[k] - s[k + 1])
                x = t.xy[k] + lam * (t.xy[k + 1] - t.xy[k])
                u = float((x - a) @ d) / float(d @ d)
                if 0.0 <= u <= 1.0 and int(k) + 1 not in found:
                    found[int(k) + 1] = "a_to_b" if side_b[k + 1] else "b_to_a"
        for f, direction in sorted(found.items()):
            if keep in ("both", direction):
                out.append(Event("line_crossing", f, f, t.id, [t.id], zone.name,
                                 {"direction": direction, "category": t.actor.category}))
    return out


def illegal_parking(zone: Zone, tracks: list[_Track], cfg: EventConfig, fps: float) -> list[Event]:
    n = frames_for(cfg.parking_s, fps)
    out = []
    for t in _watched(zone, tracks, MOTOR_VEHICLES):
        mask = _inside(zone, t) & (t.speed < cfg.stationary_speed_mps)
        out += _interval_events("illegal_parking", mask, n, t, zone.name, category=t.actor.category)
    return out


def wrong_way(zone: Zone, tracks: list[_Track], cfg: EventConfig, fps: float) -> list[Event]:
    direction = np.asarray(zone.attributes.get("direction", (1.0, 0.0)), float)
    direction = direction / max(float(np.linalg.norm(direction)), 1e-12)
    cos_max = math.cos(math.radians(cfg.wrong_way_angle_deg))
    n = frames_for(cfg.wrong_way_s, fps)
    out = []
    for t in _watched(zone, tracks, VEHICLES):
        moving = t.speed >= cfg.wrong_way_min_speed_mps
        cos = (t.vel @ direction) / np.maximum(t.speed, 1e-12)
        mask = _inside(zone, t) & moving & (cos < cos_max)
        out += _interval_events("wrong_way", mask, n, t, zone.name, category=t.actor.category)
    return out


# ---- people -------------------------------------------------------------------------------
def loitering(people: list[_Track], zones: list[Zone], cfg: EventConfig, fps: float) -> list[Event]:
    n = frames_for(cfg.loitering_s, fps)
    out = []
    for t in people:
        upright = t.present & ~_down(t, cfg)
        areas = [(z.name, _inside(z, t) & upright) for z in zones] if zones else [(None, upright)]
        for name, allowed in areas:
            cover = np.zeros(len(t.xy), bool)
            for s, e in runs(allowed):
                cover[s:e + 1] = dwell_cover(t.xy[s:e + 1], n, cfg.loitering_radius_m)
            out += _interval_events("loitering", cover, n, t, name)
    return out


def running(people: list[_Track], cfg: EventConfig, fps: float) -> list[Event]:
    n = frames_for(cfg.running_min_s, fps)
    out = []
    for t in people:
        if not t.is_rider:
            out += _interval_events("running", t.present & (t.speed >= cfg.running_speed_mps), n, t, None,
                                    max_speed_mps=round(float(t.speed.max()), 3))
    return out


def _head_height(t: _Track) -> tuple[np.ndarray, float] | None:
    """Head height per frame (mean z of the COCO face joints) and the standing reference."""
    kp = t.actor.keypoints
    if kp is None or not t.present.any():
        return None
    head = np.asarray(kp, float)[:, HEAD_JOINTS, 2].mean(axis=1)
    return head, float(t.actor.attributes.get("height_m") or head[t.present].max())


def _down(t: _Track, cfg: EventConfig) -> np.ndarray:
    got = _head_height(t)
    if got is None:
        return np.zeros(len(t.xy), bool)
    head, ref = got
    return t.present & (head < cfg.fall_height_fraction * ref)


def falls(people: list[_Track], cfg: EventConfig, fps: float) -> list[Event]:
    n_fall, n_down = frames_for(cfg.fall_s, fps), frames_for(cfg.fall_down_s, fps)
    out = []
    for t in people:
        got = _head_height(t)
        if got is None:
            continue
        head, ref = got
        up = t.present & (head >= cfg.fall_up_fraction * ref)
        down = _down(t, cfg)
        for s, e in runs(down):
            if e - s + 1 < n_down:
                continue
            before = np.flatnonzero(up[:s])
            if not len(before):
                continue
            u = int(before[-1])
            if s - u <= n_fall and t.present[u:s + 1].all():
                out.append(Event("fall", u + 1, e, t.id, [t.id], None,
                                 {"down_frame": s, "alarm_frame": s + n_down - 1}))
    return out


def crowds(people: list[_Track], num_frames: int, cfg: EventConfig, fps: float) -> list[Event]:
    n_min = frames_for(cfg.crowd_min_s, fps)
    need = int(cfg.crowd_min_people)
    members: list[list[int]] = [[] for _ in range(num_frames)]
    walkers = [t for t in people if not t.is_rider]
    maybe = (may_group(np.stack([t.xy[:num_frames] for t in walkers], 1),
                       np.stack([t.present[:num_frames] for t in walkers], 1), need, cfg.crowd_radius_m)
             if len(walkers) >= need else np.zeros(num_frames, bool))
    for f in np.flatnonzero(maybe).tolist():      # `largest_group` where a crowd may be
        here = [t for t in walkers if t.present[f]]
        if len(here) >= need:
            idx = largest_group(np.array([t.xy[f] for t in here]), cfg.crowd_radius_m)
            if len(idx) >= need:
                members[f] = [here[i].id for i in idx]
    mask = np.array([len(m) > 0 for m in members], bool)
    out = []
    for s, e in runs(mask):
        if e - s + 1 >= n_min:
            ids = sorted({i for m in members[s:e + 1] for i in m})
            out.append(Event("crowd", s, e, None, ids, None,
                             {"alarm_frame": s + n_min - 1,
                              "max_people": max(len(m) for m in members[s:e + 1])}))
    return out


# ---- bags -----------------------------------------------------------------------------------
def abandoned_and_removed(bags: list[_Track], people: list[_Track], tracks: list[_Track], cfg: EventConfig,
                          fps: float) -> list[Event]:
    n_ab, n_rest = frames_for(cfg.abandoned_s, fps), frames_for(cfg.removed_static_s, fps)
    by_id = {t.id: t for t in tracks}
    out = []
    for b in bags:
        owner = by_id.get(b.actor.attributes.get("owner_track_id"))
        if owner is not None:
            gap = np.where(owner.present, np.hypot(*(owner.xy - b.xy).T), np.inf)
        else:
            gap = np.full(len(b.xy), np.inf)
            for p in people:
                gap = np.minimum(gap, np.where(p.present, np.hypot(*(p.xy - b.xy).T), np.inf))
        z = np.asarray(b.actor.position, float)[:, 2]
        rest = b.present & (b.speed < cfg.static_speed_mps) & (z <= ON_GROUND_M)
        away = gap >= cfg.abandoned_distance_m
        ids = [b.id] + ([owner.id] if owner is not None else [])
        for s, e in runs(rest & away):
            if e - s + 1 >= n_ab:
                out.append(Event("abandoned_object", s, e, b.id, ids, None,
                                 {"alarm_frame": s + n_ab - 1, "owner_track_id": owner.id if owner else None}))
        for s, e in runs(rest):
            t = e + 1
            if e - s + 1 >= n_rest and t < len(b.xy) and b.present[t] and away[s:e + 1].any():
                near = [(float(np.hypot(*(p.xy[t] - b.xy[t]))), p.id) for p in people if p.present[t]]
                picker = min(near)[1] if near else None
                out.append(Event("object_removed", t, t, b.id, [b.id] + ([picker] if picker else []), None,
                                 {"rest_start_frame": s, "picked_by": picker}))
    return out


def camera_tamper(world: World) -> list[Event]:
    """Events from World.appearance.tampering (kind, start_frame, end_frame inclusive)."""
    out = []
    for item in world.appearance.tampering:
        s = max(0, int(item.start_frame))
        e = min(world.num_frames - 1, int(item.end_frame))
        if s <= e:
            out.append(Event("camera_tamper", s, e, None, [], None, {"kind": str(item.kind)}))
    return out
