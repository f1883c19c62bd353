"""Scripted people for security scenarios (see behaviours.py for the contract).

Each function plans its actors through the clip's Planner and returns their track ids; the key
moment of the behaviour is anchored at `start` seconds. Randomness comes from `sc.rng`.
"""
from __future__ import annotations

import math

import numpy as np

from synthdata.world import palettes
from synthdata.world.behaviours import (ATTEMPTS, LOWER_S, PAUSE_S, _Scene, arc_of_index, first_crossing_arc,
                                        first_entry_arc)
from synthdata.world.bodies import footprint_radius
from synthdata.world.geometry import points_in_polygon
from synthdata.world.spec import PersonParams


def walker(sc: _Scene, speed: float, behavior: str | None = None) -> PersonParams:
    p = sc.new_person(behavior or ("run" if speed >= 2.5 else "walk"))
    p.speed_mps = float(speed)
    return p


def exit_or_far(sc: _Scene, radius: float, frm: np.ndarray, min_d: float) -> tuple[np.ndarray | None, bool]:
    """An out-of-view spot to leave through (True), else a visible one at least min_d away."""
    q = sc.pick(sc.spots(radius, hidden=True), frm, min_d, 60.0)
    if q is not None:
        return q, True
    return sc.pick(sc.spots(radius), frm, min_d, 60.0), False


def near_free(sc: _Scene, q: np.ndarray, radius: float) -> np.ndarray | None:
    """`q` if it is walkable and clear, else the nearest visible clear spot within 2 m."""
    if sc.nav.point_ok(q, radius).all():
        return np.asarray(q, float)
    pts = sc.spots(radius)
    if not len(pts):
        return None
    d = np.hypot(*(pts - q).T)
    return pts[int(np.argmin(d))] if d.min() < 2.0 else None


def dist_to_polygon(pts: np.ndarray, poly: np.ndarray) -> np.ndarray:
    a, b = poly, np.roll(poly, -1, axis=0)
    ab = b - a
    t = np.clip(((pts[:, None] - a[None]) * ab[None]).sum(-1) / np.maximum((ab * ab).sum(-1), 1e-12), 0, 1)
    proj = a[None] + t[..., None] * ab[None]
    return np.hypot(*(pts[:, None] - proj).transpose(2, 0, 1)).min(1)


def path_length(pts: np.ndarray) -> float:
    return float(np.sum(np.hypot(*np.diff(np.asarray(pts, float), axis=0).T)))


def _plan(sc: _Scene, p: PersonParams, waypoints: list, dwell_at: dict[int, float], start: float,
          anchor: str | float, vanish: bool, arc_fn=None) -> bool:
    """Route through waypoints, pause at waypoint k for dwell_at[k] s, and reach the anchor (a
    waypoint index, or the arc length returned by arc_fn(pts)) at `start`."""
    r = footprint_radius(p)
    got = sc.legs(waypoints, r)
    if got is None:
        return False
    pts, idx = got
    dwell = np.zeros(len(pts))
    for k, s in dwell_at.items():
        dwell[idx[k]] = s
    arc = arc_fn(pts) if arc_fn is not None else None
    if arc is None:
        arc = arc_of_index(pts, idx[int(anchor)])
    track = sc.person_track(pts, dwell, p.speed_mps, start, arc, vanish)
    return sc.add_person(p, track) is not None


def intrusion_on_foot(sc: _Scene, poly: np.ndarray, through: bool, speed: float, start: float) -> list[int]:
    p = walker(sc, speed)
    r = footprint_radius(p)
    for _ in range(ATTEMPTS):
        if through:
            goal = sc.pick(sc.spots(r, inside=poly))
        else:
            out = sc.spots(r, outside=poly)
            goal = sc.pick(out[(dist_to_polygon(out, poly) > 0.8) & (dist_to_polygon(out, poly) < 2.2)]) \
                if len(out) else None
        if goal is None:
            continue
        a, _ = sc.way_in(r, goal)
        b, leaves = exit_or_far(sc, r, goal, 6.0)
        if a is None or b is None:
            continue
        linger = float(sc.rng.uniform(1.0, 4.0)) if through else 0.0
        if _plan(sc, p, [a, goal, b], {1: linger}, start, 1, leaves,
                 (lambda pts: first_entry_arc(pts, poly)) if through else None):
            return [p.track_id]
    return []


def line_crossing(sc: _Scene, wire: np.ndarray, forward: bool, back: bool, speed: float,
                  start: float) -> list[int]:
    p = walker(sc, speed)
    r = footprint_radius(p)
    d = wire[1] - wire[0]
    along = d / np.linalg.norm(d)
    to = np.array([-along[1], along[0]]) * (1.0 if forward else -1.0)     # towards the far side
    for _ in range(ATTEMPTS):
        c = wire[0] + d * sc.rng.uniform(0.2, 0.8)
        a = near_free(sc, c - to * sc.rng.uniform(4.0, 9.0) + along * sc.rng.normal(0, 1.5), r)
        goal = c - to * 0.8 if back else c
        b = a if back else near_free(sc, c + to * sc.rng.uniform(4.0, 9.0) + along * sc.rng.normal(0, 1.5), r)
        if a is None or b is None or not sc.nav.point_ok(goal, r).all():
            continue
        pause = {1: float(sc.rng.uniform(0.5, 2.0))} if back else {}
        if _plan(sc, p, [a, goal, b], pause, start, 1, False,
                 None if back else (lambda pts: first_crossing_arc(pts, wire))):
            return [p.track_id]
    return []


def loitering(sc: _Scene, poly: np.ndarray | None, length: float, area: float, start: float) -> list[int]:
    p = walker(sc, float(sc.rng.uniform(1.0, 1.4)), "loiter")
    r = footprint_radius(p)
    for _ in range(ATTEMPTS):
        c = sc.pick(sc.spots(r, inside=poly))
        if c is None:
            return []
        a, _ = sc.way_in(r, c)
        if a is None:
            continue
        slow = float(sc.rng.uniform(0.4, 0.7))
        keys, pauses, cur = [c], [min(float(sc.rng.uniform(1.0, 3.0)), length)], c
        t = pauses[0]
        for _ in range(200):                   # wander until the loiter has lasted about `length`
            if t >= length:
                break
            q = c + sc.rng.uniform(-area, area, 2)
            if np.hypot(*(q - c)) > area or not sc.nav.point_ok(q, r).all() or not sc.nav.segment_ok(cur, q, r) \
                    or (poly is not None and not points_in_polygon(q, poly)):
                continue
            step = float(np.hypot(*(q - cur))) / slow
            if t + step > length:
                break
            pauses.append(min(float(sc.rng.uniform(1.0, 4.0)), length - t - step))
            t += step + pauses[-1]
            keys.append(q)
            cur = q
        b, leaves = exit_or_far(sc, r, cur, 6.0)
        approach = sc.nav.route(a, c, r)
        out = sc.nav.route(cur, b, r) if b is not None else None
        if approach is None or out is None:
            continue
        pts = np.concatenate([approach, np.array(keys[1:]).reshape(-1, 2), out[1:]])
        n_in, n_k = len(approach) - 1, len(keys) - 1
        dwell = np.zeros(len(pts))
        dwell[n_in:n_in + len(pauses)] = pauses
        speeds = [p.speed_mps] * n_in + [slow] * n_k + [p.speed_mps] * (len(out) - 1)
        if sc.add_person(p, sc.retime(pts, dwell, speeds, start, n_in, leaves)):
            return [p.track_id]
    return []


def abandoned_bag(sc: _Scene, style: str, away: float, pickup: bool, by_owner: bool, after: float,
                  start: float) -> list[int]:
    """Owner walks in carrying a bag, puts it down at `start`, walks away; maybe a pick-up."""
    owner = walker(sc, float(sc.rng.uniform(1.1, 1.5)))
    r = footprint_radius(owner)
    bag = palettes.bag(style, sc.rng)
    for _ in range(ATTEMPTS):
        q = sc.pick(sc.spots(r + 0.5))
        if q is None:
            return []
        a, _ = sc.way_in(r, q)
        b, leaves = exit_or_far(sc, r, q, away)
        if a is None or b is None:
            continue
        approach = sc.nav.route(a, q, r)
        if approach is None:
            continue
        h = q - approach[-2]
        h = h / max(np.linalg.norm(h), 1e-9)
        side = np.array([h[1], -h[0]]) * (1.0 if bag.hand == "right" else -1.0)     # the hand's side
        rest = q + side * 0.3 + h * 0.1
        t_pick = start + LOWER_S[1] + after
        picker, stand = None, None
        if pickup:
            ang = sc.rng.uniform(0, 2 * np.pi)
            stand = near_free(sc, rest + 0.45 * np.array([math.cos(ang), math.sin(ang)]), r)
            if stand is None or np.hypot(*(stand - rest)) > 0.8:
                continue
        waypoints, dwell = [a, q, b], {1: PAUSE_S}
        if pickup and by_owner:
            exit2, leaves = exit_or_far(sc, r, stand, away)
            away_leg, back = sc.nav.route(q, b, r), sc.nav.route(b, stand, r)
            if exit2 is None or away_leg is None or back is None:
                continue
            arrive_b = start + PAUSE_S + path_length(away_leg) / owner.speed_mps
            back_s = path_length(back) / owner.speed_mps
            t_pick = max(t_pick, arrive_b + back_s + 0.5)
            waypoints, dwell = [a, q, b, stand, exit2], {1: PAUSE_S, 2: t_pick - back_s - arrive_b, 3: PAUSE_S}
        if not _plan(sc, owner, waypoints, dwell, start, 1, leaves):
            continue
        bag.track_id, bag.owner_track_id = sc.take_id(), owner.track_id
        owner.bag_track_id = bag.track_id
        sc.cast.bags.append(bag)
        ids = [owner.track_id, bag.track_id]
        script = {"bag_track_id": bag.track_id, "owner_track_id": owner.track_id, "drop_s": start + LOWER_S[0],
                  "rest_s": start + LOWER_S[1], "rest_xy": [float(rest[0]), float(rest[1])],
                  "yaw": float(math.atan2(h[1], h[0])), "pickup": None}
        if pickup:
            if by_owner:
                picker = owner
            else:
                picker = walker(sc, float(sc.rng.uniform(1.1, 1.5)))
                rp = footprint_radius(picker)
                a2, _ = sc.way_in(rp, stand)
                b2, gone = exit_or_far(sc, rp, stand, 6.0)
                if a2 is None or b2 is None or \
                        not _plan(sc, picker, [a2, stand, b2], {1: PAUSE_S}, t_pick, 1, gone):
                    picker = None
            if picker is not None:
                script["pickup"] = {"by_track_id": picker.track_id, "lift_s": t_pick + LOWER_S[0],
                                    "held_s": t_pick + LOWER_S[1]}
                if picker is not owner:
                    ids.append(picker.track_id)
        sc.drops.append(script)
        sc.block(rest, 0.3, script["rest_s"], script["pickup"]["held_s"] if script["pickup"] else None)
        return ids
    return []


def fall(sc: _Scene, direction: str, duration: float, start: float) -> list[int]:
    p = walker(sc, float(sc.rng.uniform(1.0, 1.4)))
    r, H = footprint_radius(p), p.height_m
    sign = 1.0 if direction == "forward" else -1.0
    for _ in range(ATTEMPTS):
        q = sc.pick(sc.spots(r))
        if q is None:
            return []
        a, _ = sc.way_in(r, q)
        approach = sc.nav.route(a, q, r) if a is not None else None
        if approach is None:
            continue
        h = q - approach[-2]
        f = sign * h / max(np.linalg.norm(h), 1e-9)
        body = q + f[None] * np.linspace(0.3, H, 5)[:, None]
        if not sc.nav.point_ok(body, 0.3).all():
            continue
        if _plan(sc, p, [a, q], {}, start, 1, False):
            sc.falls.append({"track_id": p.track_id, "start_s": start, "duration_s": float(duration),
                             "direction": direction})
            sc.block(q + f * H / 2, H / 2 + 0.15, start, None)
            return [p.track_id]
    return []


def running(sc: _Scene, speed: float, start: float) -> list[int]:
    p = walker(sc, speed, "run")
    r = footprint_radius(p)
    for _ in range(ATTEMPTS):
        a = sc.pick(sc.spots(r, hidden=True)) if sc.planner.entry.any() else None
        a = a if a is not None else sc.pick(sc.spots(r))
        if a is None:
            return []
        b, leaves = exit_or_far(sc, r, a, 15.0)
        if b is None:
            continue
        mid = sc.pick(sc.spots(r), (a + b) / 2, 0.0, 6.0)
        if _plan(sc, p, [a] + ([mid] if mid is not None else []) + [b], {}, start, 0, leaves):
            return [p.track_id]
    return []


def crowd(sc: _Scene, poly: np.ndarray | None, size: int, radius: float, dwell: float, disperse: bool,
          start: float) -> list[int]:
    """`size` people arrive at slots around one spot by `start`, stand there `dwell` s facing it."""
    spacing = 0.85
    for _ in range(ATTEMPTS):
        c = sc.pick(sc.spots(1.0, inside=poly))
        if c is None:
            return []
        slots, ring = [c], 1
        while len(slots) < size:
            rr = spacing * ring
            n = int(2 * np.pi * rr / spacing)
            rot = sc.rng.uniform(0, 2 * np.pi)
            for k in range(n):
                ang = rot + 2 * np.pi * k / n
                slots.append(c + rr * np.array([math.cos(ang), math.sin(ang)]))
            ring += 1
            if rr > max(radius, 3 * spacing):
                break
        slots = [s for s in slots if sc.nav.point_ok(s, 0.35).all()][:size]
        if len(slots) < max(2, size // 2):
            continue
        ids = []
        for s in slots:
            p = walker(sc, float(sc.rng.uniform(1.0, 1.5)))
            r = footprint_radius(p)
            a, _ = sc.way_in(r, s, 5.0)
            if a is None:
                continue
            arrive = start - float(sc.rng.uniform(0.0, 2.5))
            stay = start + dwell + float(sc.rng.uniform(0.0, 1.5)) - arrive
            to_c = c - s
            facing = float(math.atan2(to_c[1], to_c[0])) if np.hypot(*to_c) > 1e-6 \
                else float(sc.rng.uniform(-3, 3))
            if disperse:
                b, gone = exit_or_far(sc, r, s, 6.0)
                if b is None:
                    continue
                ok = _plan(sc, p, [a, s, b], {1: stay}, arrive, 1, gone)
            else:
                ok = _plan(sc, p, [a, s], {}, arrive, 1, False)
            if ok:
                sc.face(p, s, facing)
                ids.append(p.track_id)
        if ids:
            return ids
    return []
