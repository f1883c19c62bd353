"""People's walks, and what the planner tries before it drops someone (used by sample.py and
visits.py).

A walk (or run) is planned as a few random routes, each at later starts (Planner.try_accept). When
every one meets someone whatever the start, the person waits on the way instead, just short of the
first meeting, until the way is clear (`try_yield`), as people let others pass; and someone in
view from the start is planned again from where nobody stands at the first frame (`free_at_start`).
Only plans that would otherwise be dropped go through these fallbacks, so clips where nobody was
dropped are unchanged by them.
"""
from __future__ import annotations

import numpy as np

from synthdata.world.actors.motion import arrival_yaws, timed_keys
from synthdata.world.geometry.shapes import polyline_length
from synthdata.world.planning.planner import MARGIN, MIN_PRESENT, PERSON_TURN_S, SAMPLING_MARGIN, Planner
from synthdata.world.spec import Track

YIELD_STEP_S, YIELD_MAX_S = 0.7, 6.3   # waits on the way for someone to pass (try_yield)
YIELD_LEAD_S = 0.5               # ... starting this long before they would meet


def wait_at(track: Track, at: float, wait: float) -> Track:
    """`track` stopping where it is at time `at` (between its first and last key) for `wait`
    seconds, facing the way it goes; everything after comes `wait` seconds later. A wait that
    starts where a stop ends makes that stop longer."""
    t, xy, yaw = [float(x) for x in track.t], [list(map(float, q)) for q in track.xy], list(track.yaw)
    i = int(np.searchsorted(t, at, side="right"))           # keys [0, i) are at or before `at`
    vanish = None if track.vanish_s is None else track.vanish_s + wait
    if abs(t[i - 1] - at) < 1e-9 and i >= 2 and xy[i - 2] == xy[i - 1]:        # the end of a stop: longer
        return Track(t[:i - 1] + [x + wait for x in t[i - 1:]], xy, yaw, track.appear_s, vanish)
    here = [float(np.interp(at, t, [q[0] for q in xy])), float(np.interp(at, t, [q[1] for q in xy]))]
    step = np.subtract(xy[i], xy[i - 1])
    face = float(np.arctan2(step[1], step[0])) if np.hypot(*step) > 1e-6 else float(yaw[i])
    return Track(t[:i] + [at, at + wait] + [x + wait for x in t[i:]], xy[:i] + [here, here] + xy[i:],
                 yaw[:i] + [face, face] + yaw[i:], track.appear_s, vanish)


def try_yield(planner: Planner, track: Track, offsets, radii, turn_s: float) -> Track | None:
    """A person's last resort when `track` meets someone at every start tried: stop on the way
    just before each meeting and wait (YIELD_STEP_S at a time, YIELD_MAX_S in all) for the way
    to clear, as people let others pass; the first conflict-free result is accepted."""
    offsets, radii = np.asarray(offsets, float), np.asarray(radii, float)
    cand, waited, met = track, 0.0, -1
    while True:
        occ = planner.occupant(cand, offsets, radii, turn_s)
        if occ.present.sum() < min(MIN_PRESENT, len(planner.times)):
            return None
        f = planner.first_conflict(occ)
        if f is None:
            planner.occupants.append(occ)
            return cand
        at = float(planner.times[f]) - YIELD_LEAD_S
        if f <= met or waited + YIELD_STEP_S > YIELD_MAX_S + 1e-9 or not cand.t[0] < at < cand.t[-1]:
            return None     # someone comes to where they wait, or they meet at the start or the end
        cand, waited, met = wait_at(cand, at, YIELD_STEP_S), waited + YIELD_STEP_S, f


def plan_walk(planner: Planner, radius: float, speed: float, enters: bool,
              leaves: bool) -> tuple[Track, bool, bool] | None:
    """A walk (or run) through the scene; returns the track and whether it really enters/leaves."""
    return with_fallbacks(planner, lambda starts, missed: _walk(planner, radius, speed, enters, leaves, starts, missed),
                          radius, enters)


def with_fallbacks(planner: Planner, attempts, radius: float, enters: bool) -> tuple[Track, bool, bool] | None:
    """A person's plan from `attempts(starts, missed)` (random plans starting in the cells
    `starts` when in view from the start; those that met someone whatever the start go to
    `missed`), else one of the missed by waiting on the way (`yield_any`); else, for someone
    in view from the start, the same again starting only where nobody stands at the first frame."""
    missed: list[tuple[Track, bool, bool]] = []
    got = attempts(planner.visible, missed) or yield_any(planner, missed, radius)
    if got is None and not (enters and planner.entry.any()):
        starts = planner.visible & free_at_start(planner, radius + SAMPLING_MARGIN)
        if starts.any():
            missed = []
            got = attempts(starts, missed) or yield_any(planner, missed, radius)
    return got


def free_at_start(planner: Planner, clearance: float) -> np.ndarray:
    """Navigation cells where a person keeping `clearance` clear stays clear of everyone
    accepted at the first frame, wherever in the cell `random_cell` puts them."""
    free = np.ones(planner.nav.free.shape, bool)
    slack = 0.3 * planner.nav.cell                    # random_cell's jitter, up to 0.2 cells a side
    for o in planner.occupants:
        if o.present[0]:
            for k, r in enumerate(o.radii):
                d = np.hypot(*(planner.nav.centers - o.centers[0, k]).transpose(2, 0, 1))
                free &= d >= clearance + r + MARGIN + slack
    return free


def _walk(planner: Planner, radius: float, speed: float, enters: bool, leaves: bool, starts: np.ndarray,
          missed: list) -> tuple[Track, bool, bool] | None:
    rng = planner.rng
    for attempt in range(8):
        entering = enters and planner.entry.any()
        clear_r = radius + SAMPLING_MARGIN
        start = (planner.random_cell(planner.entry, clear_r) if entering
                 else planner.random_cell(starts, clear_r, planner.weight))
        if start is None:
            return None
        appear = planner.snap(rng.uniform(0, 0.5 * planner.duration)) if entering else 0.0
        pts, dwell, t, exited = [start], [0.0], appear, False
        for leg in range(6):
            exit_leg = leaves and planner.entry.any() and (leg > 0 or not entering)
            goal = planner.goal(planner.entry if exit_leg else planner.visible, pts[-1], clear_r,
                              far=8.0 if exit_leg else 5.0)
            if goal is None:
                continue
            path = planner.nav.route(pts[-1], goal, clear_r)
            if path is None:
                continue
            pts.extend(path[1:])
            dwell.extend([0.0] * (len(path) - 1))
            t += float(polyline_length(path)[-1] / speed)
            if exit_leg:
                exited = True
                break
            if rng.random() < 0.25 and t < planner.duration:
                pause = float(rng.uniform(0.5, 2.0))
                dwell[-1] = pause
                t += pause
            if t > planner.duration:
                break
        if len(pts) < 2:
            continue
        ts, xy = timed_keys(np.array(pts), speed, appear, np.array(dwell))
        first = np.subtract(xy[1], xy[0]) if len(xy) > 1 else (1.0, 0.0)
        track = Track(ts, xy, arrival_yaws(xy, float(np.arctan2(first[1], first[0]))), appear,
                      ts[-1] if exited else None)
        got = planner.try_accept(track, [0.0], [radius], PERSON_TURN_S, keep_appear=not entering)
        if got is not None:
            return got, bool(entering), bool(exited)
        missed.append((track, bool(entering), bool(exited)))
    return None


def yield_any(planner: Planner, missed: list[tuple[Track, bool, bool]],
              radius: float) -> tuple[Track, bool, bool] | None:
    """The first of a person's plans that met someone at every start which works by waiting on
    the way (`try_yield`), with whether it enters and leaves; None if none does."""
    for track, entering, exited in missed:
        got = try_yield(planner, track, [0.0], [radius], PERSON_TURN_S)
        if got is not None:
            return got, entering, exited
    return None
