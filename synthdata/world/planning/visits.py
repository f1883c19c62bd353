"""Visitors: people who walk to a spot, stop there a while, and walk on (a `visit` plan).

Real cameras mostly see people who stop at something: a table, a counter, a ticket machine, a
notice board, a door. A visitor walks (in from an entrance, or from somewhere in view) to a stop
right beside an obstacle of the layout, on the side they reach first (people coming in under the
shipped lobby camera stand at the table's near side, backs to it, as its real clip's people do),
within arm's reach of its edge (closer than walkers pass it: the body, not the stride, keeps clear;
people at a table or a counter stand at it, as the shipped real lobby clip's visitors do, 0.17 m
from the table's foot), turns to face it and stands
`stop_s` seconds, steps back and walks out (or on to another spot in view). By a post, a pillar or
a tree (round footprints) they wait facing the way they came, as they do where no obstacle is in
view and the stop is anywhere in view. The track is an ordinary Track (keys, dwell, facing),
accepted by the planner's collision check like every other plan.
"""
from __future__ import annotations

import numpy as np

from synthdata.world.actors.motion import arrival_yaws, timed_keys
from synthdata.world.planning.navigation import view_masks
from synthdata.world.planning.planner import DELAYS, LATE_ENTRY, PERSON_TURN_S, SAMPLING_MARGIN, Planner
from synthdata.world.planning.walks import with_fallbacks
from synthdata.world.spec import Track

REACH_M = 0.2           # a stop is beside an obstacle within this beyond the closest a standing body comes
BESIDE_SHARE = 0.8      # share of visitors who stop beside something when anything is in view
CANDIDATES = 400        # random points tried per stop
FACE_STEP_M = 0.05      # finite difference for the direction to the nearest obstacle
ROUND_M = 0.05          # obstacles with both half sides under this are round (posts, pillars, trees)
MIN_WALK_M = 1.0        # a visitor walks at least this far to their stop
APPROACH_SLACK_M = 0.1  # a stop is on the side of what they visit that they reach first, give or take this


def stand_gap(radius: float) -> float:
    """How close to an obstacle's edge a standing person's centre may come: their body, not the
    stride `radius` that walkers keep clear."""
    return 0.5 * radius + 0.07


def beside_m(radius: float) -> float:
    """How far from an obstacle's edge the centre of a person of `radius` stands when at it: up to
    arm's reach beyond the closest their body comes (`stand_gap`)."""
    return stand_gap(radius) + REACH_M


def _seen(planner: Planner, pts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For ground points (N, 2): a person there is in view of a camera from the feet to the hips,
    and the planner's placement weight (pixel area of a person there, as Planner.weight)."""
    cams = planner.cam if isinstance(planner.cam, list) else [planner.cam]
    seen, weight = np.zeros(len(pts), bool), np.zeros(len(pts))
    for cam in cams:
        ends = np.concatenate([np.repeat(pts[:, None, :], 2, 1), np.array([[[0.0], [1.2]]]).repeat(len(pts), 0)], -1)
        uv, z = cam.project(ends, 0)
        with np.errstate(invalid="ignore"):
            inside = ((z > 1e-6) & (uv[..., 0] >= 2) & (uv[..., 0] < cam.width - 2) & (uv[..., 1] >= 2)
                      & (uv[..., 1] < cam.height - 2)).all(1)
        _, _, tall = view_masks(cam, pts, 2.3, 0.45)
        ok = inside & (tall >= 0.05 * cam.height)
        seen |= ok
        weight = np.maximum(weight, np.where(ok, tall * tall, 0.0))
    return seen, weight


def beside_spot(planner: Planner, radius: float, start: np.ndarray | None = None) -> np.ndarray | None:
    """A point in view where a person of `radius` stands close beside an obstacle (a table, a
    counter, a pillar, a parked car), closer than people keep when walking past; None if none.
    Coming from `start`, on the side they reach first: among the points no more than
    APPROACH_SLACK_M farther from it than the nearest."""
    obstacles = planner.nav.obstacles
    if not len(obstacles):
        return None
    rng = planner.rng
    rows = obstacles.rows
    k = rng.integers(len(rows), size=CANDIDATES)
    reach = rows[k, 2:4].max(1) + rows[k, 5] + beside_m(radius)
    pts = rows[k, :2] + rng.uniform(-1, 1, (CANDIDATES, 2)) * reach[:, None]
    d = obstacles.distance(pts)
    ok = (d >= stand_gap(radius)) & (d <= beside_m(radius))
    ok[ok] &= planner.nav.point_ok(pts[ok], stand_gap(radius))
    if not ok.any():
        return None
    seen, weight = _seen(planner, pts[ok])
    if not seen.any():
        return None
    cand, w = pts[ok][seen], weight[seen]
    if start is not None:                   # a walk of at least MIN_WALK_M, to the side reached first
        d = np.hypot(*(cand - start).T)
        far = d >= MIN_WALK_M
        if not far.any():
            return None
        near = far & (d <= d[far].min() + APPROACH_SLACK_M)
        cand, w = cand[near], w[near]
    return cand[rng.choice(len(cand), p=w / w.sum())]


def approach(planner: Planner, stop: np.ndarray, radius: float, clearance: float) -> np.ndarray | None:
    """Where the last straight step to a stop close to an obstacle starts: the first point straight
    back from the obstacle with walking `clearance` (the stop itself when it has that room)."""
    if planner.nav.point_ok(stop, clearance).all():
        return stop
    to = towards_obstacle(planner, stop)
    if to is None:
        return None
    back = -np.array([np.cos(to), np.sin(to)])
    for s in np.arange(0.05, 1.0, 0.05):
        q = stop + s * back
        if planner.nav.point_ok(q, clearance).all():
            return q if planner.nav.segment_ok(q, stop, stand_gap(radius) - 1e-3, step=0.05) else None
    return None


def towards_obstacle(planner: Planner, q: np.ndarray) -> float | None:
    """Heading (rad) from q towards the nearest obstacle (None without obstacles)."""
    obstacles = planner.nav.obstacles
    if not len(obstacles):
        return None
    e = FACE_STEP_M
    d = obstacles.distance(np.array([q + (e, 0), q - (e, 0), q + (0, e), q - (0, e)], float))
    g = np.array([d[0] - d[1], d[2] - d[3]])
    if not np.isfinite(g).all() or np.hypot(*g) < 1e-9:
        return None
    return float(np.arctan2(-g[1], -g[0]))


def facing_obstacle(planner: Planner, q: np.ndarray, radius: float) -> float | None:
    """Heading (rad) from q towards the nearest obstacle when q is beside it and it is something
    to face (a table, a counter, a wall, a car); None otherwise, and beside a post, a pillar or a
    tree (round footprints), which people wait by rather than look at."""
    obstacles = planner.nav.obstacles
    if not len(obstacles):
        return None
    d = obstacles.distances(q)[0]
    nearest = obstacles.rows[int(np.argmin(d))]
    if not d.min() <= beside_m(radius) or max(nearest[2], nearest[3]) < ROUND_M:
        return None
    return towards_obstacle(planner, q)


def plan_visit(planner: Planner, radius: float, speed: float, enters: bool, leaves: bool,
               stop_s: float) -> tuple[Track, bool, bool] | None:
    """Walk to a stop, stand `stop_s` seconds facing what is there, walk on; returns the track
    and whether it really enters/leaves (as walks.plan_walk, with its fallbacks)."""
    return with_fallbacks(
        planner, lambda starts, missed: _visit(planner, radius, speed, enters, leaves, stop_s, starts, missed), radius,
        enters)


def _visit(planner: Planner, radius: float, speed: float, enters: bool, leaves: bool, stop_s: float,
           starts: np.ndarray, missed: list) -> tuple[Track, bool, bool] | None:
    rng = planner.rng
    clear_r = radius + SAMPLING_MARGIN
    for _ in range(8):
        entering = enters and planner.entry.any()
        start = (planner.random_cell(planner.entry, clear_r) if entering
                 else planner.random_cell(starts, clear_r, planner.weight))
        if start is None:
            return None
        stop = beside_spot(planner, radius, start) if rng.random() < BESIDE_SHARE else None
        if stop is None:
            stop = planner.random_cell(planner.visible, clear_r, planner.weight)
        if stop is None or np.hypot(*(stop - start)) < MIN_WALK_M:
            continue
        stage = approach(planner, stop, radius, clear_r)
        path = planner.nav.route(start, stage, clear_r) if stage is not None else None
        if path is None:
            continue
        if stage is not stop:
            path = np.concatenate([path, stop[None]])
        appear = planner.snap(rng.uniform(0, 0.4 * planner.duration)) if entering else 0.0
        pts, dwell = list(path), [0.0] * len(path)
        dwell[-1] = stop_s
        if stage is not stop:             # step back from the obstacle before walking on
            pts.append(stage), dwell.append(0.0)
        exit_leg = leaves and planner.entry.any()
        goal = planner.goal(planner.entry if exit_leg else planner.visible, stage, clear_r,
                             far=8.0 if exit_leg else 4.0)
        onward = planner.nav.route(stage, goal, clear_r) if goal is not None else None
        if onward is not None:
            pts.extend(onward[1:])
            dwell.extend([0.0] * (len(onward) - 1))
        exited = exit_leg and onward is not None
        ts, xy = timed_keys(np.array(pts), speed, appear, np.array(dwell))
        first = np.subtract(xy[1], xy[0]) if len(xy) > 1 else (1.0, 0.0)
        yaws = arrival_yaws(xy, float(np.arctan2(first[1], first[0])))
        k = len(path)               # the key that ends the stop: its yaw is the facing while stopped
        face = facing_obstacle(planner, np.asarray(xy[k]), radius)
        if face is None:
            face = yaws[k] + float(rng.uniform(-0.6, 0.6))
        yaws[k] = face
        track = Track(ts, xy, yaws, appear, ts[-1] if exited else None)
        # coming in later for the way to clear, they still reach their stop a second before the clip ends
        delays = DELAYS + tuple(d for d in LATE_ENTRY if entering and ts[k - 1] + d <= planner.duration - 1.0)
        got = planner.try_accept(track, [0.0], [radius], PERSON_TURN_S, delays, keep_appear=not entering)
        if got is not None:
            return got, bool(entering), bool(exited)
        missed.append((track, bool(entering), bool(exited)))
    return None
