"""Bag events from geometry: abandoned_object (owner away long enough while the bag rests) and
object_removed (a rested, unattended bag picked up), frames exact at the boundaries."""
from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings, strategies as st

from synthdata.world.security.events import EventConfig, detect_events
from tests.test_events_zones import FPS, actor, of_type, world

CFG = EventConfig()
N_AB = math.ceil(CFG.abandoned_s * FPS)
N_REST = math.ceil(CFG.removed_static_s * FPS)


def owner_walks_off(T: int, leave: int, back: int | None = None, speed: float = 1.5) -> np.ndarray:
    """Owner stands at the bag (0.4 m away) until `leave`, walks off along +x at `speed` m/s,
    and (if `back` is set) is next to the bag again from frame `back`."""
    t = np.arange(T)
    x = 0.4 + np.clip(t - leave, 0, None) * speed / FPS
    if back is not None:
        x[t >= back] = 0.4
    return np.stack([x, np.zeros(T)], 1)


@settings(max_examples=30, deadline=None)
@given(leave=st.integers(0, 40), extra=st.integers(-5, 60))
def test_abandoned_when_the_owner_has_been_away_long_enough(leave, extra):
    speed = 1.5
    away_from = leave + math.ceil(round((CFG.abandoned_distance_m - 0.4) * FPS / speed, 9))   # first frame >= D
    T = away_from + N_AB + extra
    owner = actor(1, owner_walks_off(T, leave, speed=speed))
    bag = actor(2, np.zeros((T, 2)), "bag", owner_track_id=1)
    evs = of_type(detect_events(world([owner, bag])), "abandoned_object")
    if extra >= 0:
        got = [(e.track_id, e.track_ids, e.start_frame, e.end_frame, e.attributes["alarm_frame"]) for e in evs]
        assert got == \
               [(2, [2, 1], away_from, T - 1, away_from + N_AB - 1)]
    else:
        assert evs == []


def test_owner_coming_back_ends_it_and_leaving_the_scene_counts_as_away():
    T = 120
    owner = actor(1, owner_walks_off(T, 10, back=90))
    bag = actor(2, np.zeros((T, 2)), "bag", owner_track_id=1)
    (ev,) = of_type(detect_events(world([owner, bag])), "abandoned_object")
    assert ev.end_frame == 89
    present = np.arange(T) < 15                      # leaves the scene at frame 15, still 1.15 m away
    gone = actor(1, owner_walks_off(T, 10), present=present)
    (ev,) = of_type(detect_events(world([gone, bag])), "abandoned_object")
    assert (ev.start_frame, ev.end_frame) == (15, T - 1)


def test_a_carried_or_moving_bag_is_not_abandoned():
    T = 120
    owner = actor(1, owner_walks_off(T, 10))
    lifted = actor(2, np.zeros((T, 2)), "bag", z=np.full(T, 0.6), owner_track_id=1)   # on a table / in a hand
    sliding = actor(2, np.stack([np.arange(T) * 0.01, np.zeros(T)], 1), "bag", owner_track_id=1)  # 0.1 m/s
    for bag in (lifted, sliding):
        assert not of_type(detect_events(world([owner, bag])), "abandoned_object")


def test_ownerless_bag_is_unattended_while_nobody_is_near():
    T = 100
    passer = actor(1, np.stack([np.full(T, 1.0), np.zeros(T)], 1), present=np.arange(T) < 30)
    bag = actor(2, np.zeros((T, 2)), "bag")
    (ev,) = of_type(detect_events(world([passer, bag])), "abandoned_object")
    assert (ev.start_frame, ev.end_frame, ev.track_ids) == (30, T - 1, [2])


def pickup_scene(T: int, pickup: int, owner_away: bool = True) -> list:
    """Bag rests at the origin from frame 0; from `pickup` it moves with a second person."""
    owner = actor(1, owner_walks_off(T, 0) if owner_away else np.full((T, 2), [0.4, 0.0]))
    t = np.arange(T)
    thief_x = np.where(t < pickup, -0.3 - (pickup - t) * 0.15, -0.3 + (t - pickup + 1) * 0.15)
    thief = actor(3, np.stack([thief_x, np.zeros(T)], 1))
    bag_x = np.where(t < pickup, 0.0, thief_x + 0.3)
    bag = actor(2, np.stack([bag_x, np.zeros(T)], 1), "bag", owner_track_id=1)
    return [owner, bag, thief]


def test_object_removed_at_the_pickup_frame():
    T = 90
    evs = of_type(detect_events(world(pickup_scene(T, 60))), "object_removed")
    assert [(e.start_frame, e.end_frame, e.track_id, e.track_ids, e.attributes["picked_by"]) for e in evs] == \
           [(60, 60, 2, [2, 3], 3)]


def test_no_removal_after_a_short_rest_or_while_the_owner_stays():
    T = 90
    assert of_type(detect_events(world(pickup_scene(T, N_REST))), "object_removed")
    assert not of_type(detect_events(world(pickup_scene(T, N_REST - 1))), "object_removed")
    assert not of_type(detect_events(world(pickup_scene(T, 60, owner_away=False))), "object_removed")
