"""Scripted people for security scenarios (see behaviours.py for the contract).

Each function plans its actors through the clip's Planner and returns their track ids; the key
moment of the behaviour is anchored at `start` seconds. Randomness comes from `sc.rng`.
"""
from __future__ import annotations

import math

import numpy as np

from synthdata.world.actors import palettes
from synthdata.world.actors.bodies import footprint_radius
from synthdata.world.actors.motion import track_state
from synthdata.world.geometry.shapes import points_in_polygon
from synthdata.world.planning.planner import PERSON_TURN_S
from synthdata.world.security.events import runs
from synthdata.world.security.params import BagDropScript, FallScript, PickupScript
from synthdata.world.security.script_context import (ATTEMPTS, LOWER_S, PAUSE_S, ScriptContext, arc_of_index,
                                                     first_crossing_arc, first_entry_arc)
from synthdata.world.spec import PersonParams, Track

LEAVE_MARGIN_M = 0.5    # an owner leaving a bag walks this much beyond events.abandoned_distance_m
LEAVE_MARGIN_S = 1.0    # ... and nobody picks it up until this long after events.abandoned_s
RING_GAP_S = 1.0        # a crowd's inner ring arrives this much before the next one out, and leaves after it


def walker(sc: ScriptContext, speed: float, behavior: str | None = None) -> PersonParams:
    p = sc.new_person(behavior or ("run" if speed >= 2.5 else "walk"))
    p.speed_mps = float(speed)
    return p


def exit_or_far(sc: ScriptContext, radius: float, frm: np.ndarray, min_d: float,
                max_d: float = 60.0) -> tuple[np.ndarray | None, bool]:
    """An out-of-view spot to leave through (True), else a visible one, min_d to max_d away."""
    q = sc.pick(sc.spots(radius, hidden=True), frm, min_d, max_d)
    if q is not None:
        return q, True
    return sc.pick(sc.spots(radius), frm, min_d, max_d), False


def near_free(sc: ScriptContext, q: np.ndarray, radius: float) -> np.ndarray | None:
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


def _route(sc: ScriptContext, p: PersonParams, waypoints: list, dwell_at: dict[int, float], start: float,
           anchor: str | float, vanish: bool, arc_fn=None) -> Track | None:
    """The timed track (not yet accepted) through waypoints, pausing dwell_at[k] s at waypoint k
    and reaching the anchor (a waypoint index, or the arc length arc_fn(pts) returns) at `start`."""
    r = footprint_radius(p)
    got = sc.legs(waypoints, r)
    if got is None:
        return None
    pts, idx = got
    dwell = np.zeros(len(pts))
    for k, s in dwell_at.items():
        dwell[idx[k]] = s
    arc = arc_fn(pts) if arc_fn is not None else None
    if arc is None:
        arc = arc_of_index(pts, idx[int(anchor)])
    return sc.person_track(pts, dwell, p.speed_mps, start, arc, vanish)


def _accept(sc: ScriptContext, p: PersonParams, track: Track | None) -> float | None:
    """Add p on `track`; the delay (s) the Planner gave it to let others pass, None if no fit."""
    if track is None or sc.add_person(p, track) is None:
        return None
    return float(p.track.t[-1] - track.t[-1])


def _plan(sc: ScriptContext, p: PersonParams, waypoints: list, dwell_at: dict[int, float], start: float,
          anchor: str | float, vanish: bool, arc_fn=None) -> bool:
    """_route, then accept (for scripts whose timing needs nothing after the anchor)."""
    return _accept(sc, p, _route(sc, p, waypoints, dwell_at, start, anchor, vanish, arc_fn)) is not None


def _away(sc: ScriptContext, track: Track, xy: np.ndarray, dist: float, t0: float,
          t1: float = np.inf) -> list[tuple[float, float]]:
    """(start_s, length_s) of each stretch of clip time within [t0, t1) in which the track's
    person is gone or at least `dist` from xy (the end of the clip may cut the last one short)."""
    times = sc.planner.times
    st = track_state(track, times, PERSON_TURN_S)
    far = (~st.present | (np.hypot(*(st.xy - xy).T) >= dist)) & (times >= t0) & (times < t1)
    step = float(times[1] - times[0]) if len(times) > 1 else 1.0
    return [(float(times[s]), (e - s + 1) * step) for s, e in runs(far)]


def intrusion_on_foot(sc: ScriptContext, poly: np.ndarray, through: bool, speed: float, start: float) -> list[int]:
    p = walker(sc, speed)
    r = footprint_radius(p)
    for _ in range(ATTEMPTS):
        if through:                                       # well inside: pick()'s jitter stays in the zone
            inner = sc.spots(r, inside=poly)
            goal = sc.pick(inner[dist_to_polygon(inner, poly) > 0.5]) if len(inner) else None
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
        track = _route(sc, p, [a, goal, b], {1: linger}, start, 1, leaves,
                       (lambda pts: first_entry_arc(pts, poly)) if through else None)
        if track is None or not through and first_entry_arc(np.asarray(track.xy), poly) is not None:
            continue                                      # skirting the zone must not cut through it
        if _accept(sc, p, track) is not None:
            return [p.track_id]
    return []


def line_crossing(sc: ScriptContext, wire: np.ndarray, forward: bool, back: bool, speed: float,
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


def loitering(sc: ScriptContext, poly: np.ndarray | None, length: float, area: float, start: float) -> list[int]:
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


def abandoned_bag(sc: ScriptContext, style: str, away: float, pickup: bool, by_owner: bool, after: float,
                  start: float) -> list[int]:
    """Owner walks in carrying a bag, puts it down at `start`, walks away; maybe a pick-up.

    The bag is really left: the owner walks beyond events.abandoned_distance_m (plus a margin)
    and a pick-up waits, past `after` s from the bag coming to rest when it must, until the owner
    has been that far away (or out of view) for events.abandoned_s plus a margin. The script's
    times follow any delay the Planner gives the owner or the picker to let others pass."""
    far_m = sc.events.abandoned_distance_m + LEAVE_MARGIN_M
    need_s = sc.events.abandoned_s + LEAVE_MARGIN_S
    owner = walker(sc, float(sc.rng.uniform(1.1, 1.5)))
    r = footprint_radius(owner)
    bag = palettes.bag(style, sc.rng)
    for _ in range(ATTEMPTS):
        q = sc.pick(sc.spots(r + 0.5))
        if q is None:
            return []
        a, _ = sc.way_in(r, q)
        away = max(away, far_m + 1.0)
        b, leaves = exit_or_far(sc, r, q, away, away + 1.5 if pickup and by_owner else 60.0)   # back in time
        if a is None or b is None:
            continue
        approach = sc.nav.route(a, q, r)
        if approach is None:
            continue
        h = q - approach[-2]
        h = h / max(np.linalg.norm(h), 1e-9)
        side = np.array([h[1], -h[0]]) * (1.0 if bag.hand == "right" else -1.0)     # the hand's side
        rest = q + side * 0.3 + h * 0.1
        t_rest = start + LOWER_S[1]
        t_pick = t_rest + after
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
        track = _route(sc, owner, waypoints, dwell, start, 1, leaves)
        tries = 3 if pickup and by_owner else 0     # the owner comes back for it: wait longer at b if need be
        while track is not None and tries:
            short = need_s - max((n for _, n in _away(sc, track, rest, far_m, t_rest, t_pick)), default=0.0)
            if short <= 0:
                break
            t_pick, dwell[2], tries = t_pick + short, dwell[2] + short, tries - 1
            track = _route(sc, owner, waypoints, dwell, start, 1, leaves)
        late = _accept(sc, owner, track)
        if late is None:
            continue
        start, t_rest, t_pick = start + late, t_rest + late, t_pick + late
        if pickup and not by_owner:                 # the owner never comes back: wait for the last leaving
            gone = _away(sc, owner.track, rest, far_m, t_rest)
            t_pick = max(t_pick, gone[-1][0] + need_s) if gone else t_pick
        bag.track_id, bag.owner_track_id = sc.take_id(), owner.track_id
        owner.bag_track_id = bag.track_id
        sc.cast.bags.append(bag)
        ids = [owner.track_id, bag.track_id]
        script = BagDropScript(bag.track_id, owner.track_id, start + LOWER_S[0], t_rest,
                               [float(rest[0]), float(rest[1])], float(math.atan2(h[1], h[0])))
        if pickup:
            if by_owner:
                picker = owner
            else:
                picker = walker(sc, float(sc.rng.uniform(1.1, 1.5)))
                rp = footprint_radius(picker)
                a2, _ = sc.way_in(rp, stand)
                b2, leaves2 = exit_or_far(sc, rp, stand, 6.0)
                late = None if a2 is None or b2 is None else \
                    _accept(sc, picker, _route(sc, picker, [a2, stand, b2], {1: PAUSE_S}, t_pick, 1, leaves2))
                picker, t_pick = (None, t_pick) if late is None else (picker, t_pick + late)
            if picker is not None:
                script.pickup = PickupScript(picker.track_id, t_pick + LOWER_S[0], t_pick + LOWER_S[1])
                if picker is not owner:
                    ids.append(picker.track_id)
        sc.drops.append(script)
        sc.block(rest, 0.3, script.rest_s, script.pickup.held_s if script.pickup else None)
        return ids
    return []


def fall(sc: ScriptContext, direction: str, duration: float, start: float) -> list[int]:
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
        late = _accept(sc, p, _route(sc, p, [a, q], {}, start, 1, False))
        if late is not None:
            start += late                      # fall when there, after any wait the Planner added
            sc.falls.append(FallScript(p.track_id, start, float(duration), direction))
            sc.block(q + f * H / 2, H / 2 + 0.15, start, None)
            return [p.track_id]
    return []


def running(sc: ScriptContext, speed: float, start: float) -> list[int]:
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


def outside_spot(sc: ScriptContext, radius: float, goal: np.ndarray, centre: np.ndarray, hidden: bool,
                 min_d: float = 5.0) -> np.ndarray | None:
    """A spot at least min_d from `goal` on its side away from `centre` (within about 25 deg),
    so whoever walks between it and goal keeps clear of a group standing around centre."""
    out = np.asarray(goal, float) - centre
    pts = sc.spots(radius, hidden=hidden)
    if len(pts) and np.hypot(*out) > 1e-6:
        v = pts - centre
        pts = pts[(v @ out) > 0.9 * np.hypot(*v.T) * np.hypot(*out)]
    q = sc.pick(pts, goal, min_d, 40.0)
    return q if q is not None and sc.nav.point_ok(q, radius).all() else None


def crowd(sc: ScriptContext, poly: np.ndarray | None, size: int, radius: float, dwell: float, disperse: bool,
          start: float) -> list[int]:
    """`size` people arrive at slots around one spot by `start`, stand there `dwell` s facing it.
    Each walks in from, and leaves to, its own side of the group, inner rings arriving first and
    leaving last, so nobody has to walk through the others."""
    spacing = 0.85
    for _ in range(ATTEMPTS):
        c = sc.pick(sc.spots(1.0, inside=poly))
        if c is None:
            return []
        slots, rings, ring = [c], [0], 1
        while len(slots) < size:
            rr = spacing * ring
            n = int(2 * np.pi * rr / spacing)
            rot = sc.rng.uniform(0, 2 * np.pi)
            for k in range(n):
                ang = rot + 2 * np.pi * k / n
                slots.append(c + rr * np.array([math.cos(ang), math.sin(ang)]))
                rings.append(ring)
            ring += 1
            if rr > max(radius, 3 * spacing):
                break
        free = [k for k, s in enumerate(slots) if sc.nav.point_ok(s, 0.35).all()]   # spares stand in for misses
        if len(free) < max(2, size // 2):
            continue
        last = max(rings[k] for k in free)
        ids = []
        for s, ring in ((slots[k], rings[k]) for k in free):
            if len(ids) == size:
                break
            p = walker(sc, float(sc.rng.uniform(1.0, 1.5)))
            r = footprint_radius(p)
            a = outside_spot(sc, r, s, c, True)
            a = a if a is not None else outside_spot(sc, r, s, c, False)
            if a is None:
                continue
            arrive = start - float(sc.rng.uniform(0.0, 1.0)) - RING_GAP_S * (last - ring)
            stay = start + dwell + float(sc.rng.uniform(0.0, 0.5)) + RING_GAP_S * (last - ring) - arrive
            to_c = c - s
            facing = float(math.atan2(to_c[1], to_c[0])) if np.hypot(*to_c) > 1e-6 \
                else float(sc.rng.uniform(-3, 3))
            if disperse:
                b = outside_spot(sc, r, s, c, True, 6.0)
                gone = b is not None
                b = b if gone else outside_spot(sc, r, s, c, False, 6.0)
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
