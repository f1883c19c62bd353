"""Scripted vehicles (and wrong-way walkers) for security scenarios (see behaviours.py).

Vehicles come in along a layout lane from out of view, do their part (pull off into a zone and
stand there, or drive against a lane's direction) and leave along the lane, out of view.
"""
from __future__ import annotations

import numpy as np

from synthdata.world.actors.motion import arrival_yaws, timed_keys
from synthdata.world.geometry.shapes import bezier, inside_any, points_in_polygon
from synthdata.world.planning.planner import in_image
from synthdata.world.security.script_context import ATTEMPTS, ScriptContext, first_entry_arc, time_at_arc
from synthdata.world.spec import Track, VehicleParams


def _unit(v: np.ndarray) -> np.ndarray:
    return v / max(float(np.linalg.norm(v)), 1e-12)


def nearest_lane(sc: ScriptContext, point: np.ndarray, direction: np.ndarray | None = None,
                 max_dist: float = np.inf) -> np.ndarray | None:
    """The straight layout lane (2, 2) closest to `point` (optionally heading along `direction`)."""
    best, best_d = None, max_dist
    for lane in sc.layout.lanes:
        p0, p1 = lane.points[0], lane.points[-1]
        u = _unit(p1 - p0)
        if direction is not None and float(u @ direction) < 0.7:
            continue
        s = float(np.clip((point - p0) @ u, 0, np.linalg.norm(p1 - p0)))
        d = float(np.hypot(*(point - (p0 + u * s))))
        if d < best_d:
            best, best_d = np.stack([p0, p1]), d
    return best


def point_in(sc: ScriptContext, poly: np.ndarray, v: VehicleParams) -> np.ndarray | None:
    """A spot in the polygon where the vehicle fits: drivable if possible, clear of obstacles."""
    lo, hi = poly.min(0), poly.max(0)
    xs, ys = np.meshgrid(np.arange(lo[0], hi[0], 0.5) + 0.25, np.arange(lo[1], hi[1], 0.5) + 0.25)
    pts = np.stack([xs.ravel(), ys.ravel()], 1)
    pts = pts[points_in_polygon(pts, poly)]
    if sc.layout.drivable and len(pts):
        drive = inside_any(pts, sc.layout.drivable)
        pts = pts[drive] if drive.any() else pts
    if len(sc.layout.obstacles) and len(pts):
        pts = pts[sc.layout.obstacles.distance(pts) > 0.5 * np.hypot(v.length_m, v.width_m) + 0.2]
    if not len(pts):
        return None
    return pts[int(sc.rng.integers(len(pts)))]


def drive(sc: ScriptContext, v: VehicleParams, lane: np.ndarray, core: list[np.ndarray], slow_core: bool,
          dwell_at: int | None, dwell_s: float, start: float, anchor) -> VehicleParams | None:
    """Enter along `lane` (driving direction) from out of view, pass through the `core` points,
    leave along the lane out of view. `anchor(pts)` gives the arc length reached at `start`, or
    an int: the core point reached at `start`."""
    p0, p1 = lane
    u = _unit(p1 - p0)
    L, W, H = v.length_m, v.width_m, v.height_m
    s = np.arange(0.0, float(np.linalg.norm(p1 - p0)), 1.0)
    seen = in_image(sc.planner.cam, p0 + u * s[:, None], np.full(len(s), np.arctan2(u[1], u[0])), L, W, H)
    s0, s1 = float((core[0] - p0) @ u), float((core[-1] - p0) @ u)
    if not seen.any():
        return None
    first, last = int(np.argmax(seen)), len(seen) - 1 - int(np.argmax(seen[::-1]))
    entering = first > 0 and float(s[first - 1]) - L / 2 - 1.0 < s0 - 1.0
    start_s = float(s[first - 1]) - L / 2 - 1.0 if entering else s0 - float(sc.rng.uniform(5.0, 15.0))
    leaving = last < len(s) - 1
    end_s = max(float(s[min(last + 1, len(s) - 1)]) + L / 2 + 1.0, s1 + 2.0)
    pts = np.array([p0 + u * max(start_s, 0.0)] + [np.asarray(c, float) for c in core] + [p0 + u * end_s])
    speeds = np.full(len(pts) - 1, v.speed_mps)
    if slow_core:
        speeds[1:-1] = min(v.speed_mps, 3.0)
    dwell = np.zeros(len(pts))
    if dwell_at is not None:
        dwell[1 + dwell_at] = dwell_s
    ts, xy = timed_keys(pts, speeds, 0.0, dwell)
    if isinstance(anchor, int):
        k = 1 + anchor
        t_anchor = ts[sum(1 + int(dwell[i] > 0) for i in range(k))]
    else:
        arc = anchor(pts)
        if arc is None:
            return None
        t_anchor = time_at_arc(ts, xy, arc)
    ts = [t + start - t_anchor for t in ts]
    yaw = arrival_yaws(xy, float(np.arctan2(u[1], u[0])))
    if not entering and ts[0] > 0:
        ts, xy, yaw = [0.0] + ts, [xy[0]] + xy, [yaw[0]] + yaw
    track = Track(ts, xy, yaw, ts[0], ts[-1] if leaving else None)
    return sc.add_vehicle(v, track)


def pull_over(sc: ScriptContext, v: VehicleParams, target: np.ndarray, dwell: float, stop_time: float
              ) -> VehicleParams | None:
    """Leave the nearest lane for `target`, stand there `dwell` s (arriving at stop_time), rejoin."""
    lane = nearest_lane(sc, target)
    if lane is None:
        return None
    p0, p1 = lane
    u = _unit(p1 - p0)
    s_t = float((target - p0) @ u)
    lead = max(6.0, 1.5 * v.length_m)
    off, on = p0 + u * (s_t - lead), p0 + u * (s_t + lead)
    k = 0.45 * float(np.hypot(*(target - off)))
    into = bezier(off, off + u * k, target - u * k, target, 10)
    back = bezier(target, target + u * k, on - u * k, on, 10)
    core = list(into) + list(back[1:])
    return drive(sc, v, lane, core, True, len(into) - 1, dwell, stop_time, len(into) - 1)


def illegal_parking(sc: ScriptContext, poly: np.ndarray, kind: str, dwell: float, speed: float,
                    start: float) -> list[int]:
    for _ in range(ATTEMPTS):
        v = sc.new_vehicle(kind, "park")
        v.speed_mps = speed
        target = point_in(sc, poly, v)
        if target is None:
            return []
        got = pull_over(sc, v, target, dwell, start)
        if got is not None:
            return [got.track_id]
    return []


def intrusion_by_car(sc: ScriptContext, poly: np.ndarray, speed: float, start: float) -> list[int]:
    for _ in range(ATTEMPTS):
        v = sc.new_vehicle("car", "drive")
        v.speed_mps = speed if speed > 2.0 else 5.0
        target = point_in(sc, poly, v)
        if target is None:
            return []
        got = pull_over(sc, v, target, float(sc.rng.uniform(1.0, 3.0)), start)
        if got is not None:
            return [got.track_id]
    return []


def wrong_way(sc: ScriptContext, poly: np.ndarray, direction: np.ndarray, actor: str, speed: float,
              start: float) -> list[int]:
    """Travel through the lane zone against `direction`, entering it at `start`."""
    d = _unit(np.asarray(direction, float))
    c = poly.mean(0)
    if actor == "person":
        from synthdata.world.actors.bodies import footprint_radius
        from synthdata.world.security.people_scripts import _plan, near_free, walker
        proj = (poly - c) @ d
        for _ in range(ATTEMPTS):
            p = walker(sc, min(speed, 2.0))
            r = footprint_radius(p)
            jitter = np.array([-d[1], d[0]]) * sc.rng.normal(0, 0.5)
            a = near_free(sc, c + d * (proj.max() + 2.0) + jitter, r)
            b = near_free(sc, c + d * (proj.min() - 2.0) + jitter, r)
            if a is not None and b is not None and _plan(sc, p, [a, b], {}, start, 0, False,
                                                         lambda pts: first_entry_arc(pts, poly)):
                return [p.track_id]
        return []
    lane = nearest_lane(sc, c, d, max_dist=6.0)
    if lane is None:
        lane = np.stack([c - d * 80.0, c + d * 80.0])
    rev = lane[::-1].copy()
    for _ in range(ATTEMPTS):
        v = sc.new_vehicle(actor, "drive")
        v.speed_mps = speed
        u = _unit(rev[1] - rev[0])
        mid = rev[0] + u * float((c - rev[0]) @ u)
        got = drive(sc, v, rev, [mid], False, None, 0.0, start, lambda pts: first_entry_arc(pts, poly))
        if got is not None:
            return [got.track_id]
    return []
