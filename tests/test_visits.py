"""Visitors (`behavior: visit`): walk to a spot, stop there `stop_s` seconds facing what is there,
walk on; labelled as such, deterministic, and a bad `stop_s` is one clear line."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from synthdata.errors import BadInput
from synthdata.recipe.loader import load_recipe
from synthdata.world.actors.bodies import plan_radius
from synthdata.world.actors.motion import frame_times, track_state
from synthdata.world.layouts.registry import build_layout
from synthdata.world.planning.visits import beside_m, stand_gap
from synthdata.world.planning.walks import YIELD_MAX_S, YIELD_STEP_S
from synthdata.world.sample import sample_clip

LOBBY = Path(__file__).resolve().parents[1] / "recipes" / "plate_lobby.yaml"
STOP_S = 4.0


def lobby(*extra: str):
    return load_recipe(LOBBY, ["output.clips=12", "output.frames_per_clip=150", "actors.0.count=2",
                               "actors.0.behavior=visit", f"actors.0.stop_s={STOP_S}", *extra])


def stops(track) -> list[tuple[int, float]]:
    """(key index ending the stop, seconds) for each pause: two consecutive keys at one place."""
    return [(k + 1, track.t[k + 1] - track.t[k]) for k in range(len(track.t) - 1)
            if track.xy[k] == track.xy[k + 1] and track.t[k + 1] > track.t[k]]


def steps(w: float) -> bool:
    """Whether w seconds is a whole number (0 too) of the planner's waits for someone to pass."""
    return w > -1e-9 and abs(w / YIELD_STEP_S - round(w / YIELD_STEP_S)) < 1e-6


def angle(a: float, b: float) -> float:
    return abs((a - b + np.pi) % (2 * np.pi) - np.pi)


def test_visitors_stop_beside_the_table_facing_it_then_walk_on():
    r = lobby()
    seen = beside = 0
    for i in range(r.output.clips):
        spec = sample_clip(r, i, seed=1000 + i, clip_id=f"c{i}")
        obstacles = build_layout(spec.layout).obstacles
        times = frame_times(r.output.frames_per_clip, r.output.fps)
        for p in spec.people:
            if p.behavior != "visit":           # the recipe's scripted line crosser walks
                continue
            paused = stops(p.track)
            # one stop as long as asked, and any waits for others to pass (whole steps; one that
            # starts as the stop ends makes the stop longer)
            visit = [s for s in paused if steps(s[1] - STOP_S) and not steps(s[1])]
            assert len(visit) == 1, paused
            waits = [s[1] for s in paused if s is not visit[0]] + [visit[0][1] - STOP_S]
            assert all(steps(w) for w in waits) and sum(waits) <= YIELD_MAX_S + 1e-6
            k = visit[0][0]
            xy, t0, t1 = np.array(p.track.xy[k]), p.track.t[k - 1], p.track.t[k]
            st = track_state(p.track, times)
            during = (times > t0 + 0.5) & (times < t1 - 0.5)
            assert during.any() and np.all(st.speed[during] == 0)                # standing still
            assert np.all(np.abs(st.xy[during] - xy) < 1e-9)
            face = p.track.yaw[k]
            assert max(angle(y, face) for y in st.yaw[during]) < 1e-6            # facing one way
            assert (st.speed > 0.5).any() and len(p.track.t) > 2                  # walked to it
            seen += 1
            d = float(obstacles.distance(xy[None])[0])
            if d <= beside_m(plan_radius(p)) + 1e-6:                               # at the table
                beside += 1
                assert d >= stand_gap(plan_radius(p)) - 1e-6                          # close, not inside
                e = 0.02
                grad = obstacles.distance(np.array([xy + (e, 0), xy - (e, 0), xy + (0, e), xy - (0, e)]))
                towards = np.arctan2(-(grad[2] - grad[3]), -(grad[0] - grad[1]))
                assert angle(face, towards) < 0.1
    assert seen >= 8 and beside >= 0.6 * seen


def test_visits_are_deterministic_and_recorded(tmp_path):
    from synthdata.pipeline import generate_clip

    r = lobby("output.frames_per_clip=40", "output.clips=2")
    a = sample_clip(r, 0, seed=7, clip_id="x")
    b = sample_clip(r, 0, seed=7, clip_id="x")
    assert [p.track for p in a.people] == [p.track for p in b.people]
    clip = generate_clip(r, 0, device="cpu")
    rows = [json.loads(t["attributes"]) for t in clip.tracks if t["category"] == "person"]
    assert any(t["behavior"] == "visit" for t in rows)


@pytest.mark.parametrize("value,expect", [("0.1", "stop_s"), ("nope", "stop_s")])
def test_bad_stop_is_one_clear_line(value, expect):
    with pytest.raises(BadInput) as e:
        load_recipe(LOBBY, ["actors.0.behavior=visit", f"actors.0.stop_s={value}"])
    assert expect in str(e.value) and "\n" not in str(e.value)
