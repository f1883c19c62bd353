"""People events fire exactly when their definition holds (scripted trajectories and poses):
loitering, running, fall, crowd; never from the behaviour a person was scripted with."""
from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings, strategies as st

from synthdata.world.geometry.discs import dwell_cover, largest_group, may_group, min_enclosing_circle
from synthdata.world.security.events import EventConfig, detect_events
from synthdata.world.types import Zone
from tests.test_events_zones import FPS, actor, of_type, rect, world

CFG = EventConfig()


def far_walk(T: int, still: tuple[int, int], at=(0.0, 0.0), jitter: float = 0.0, seed: int = 0) -> np.ndarray:
    """Stands (within `jitter` m) at `at` for frames [still[0], still[1]], strides 5 m per frame
    elsewhere (so no other frame can join the dwell)."""
    rng = np.random.default_rng(seed)
    xy = np.zeros((T, 2))
    t = np.arange(T)
    after = np.where(t > still[1], at[0] + 5.0 * (t - still[1]), at[0])
    xy[:, 0] = np.where(t < still[0], at[0] - 5.0 * (still[0] - t), after)
    xy[:, 1] = at[1]
    ang = rng.uniform(0, 2 * np.pi, T)
    r = jitter * np.sqrt(rng.uniform(0, 1, T))
    inside = (t >= still[0]) & (t <= still[1])
    xy[inside] += np.stack([r * np.cos(ang), r * np.sin(ang)], 1)[inside]
    return xy


# ---- loitering ---------------------------------------------------------------------------------
def test_loitering_threshold_boundary_is_exact():
    n = math.ceil(CFG.loitering_s * FPS)           # 100 frames
    for length, expect in ((n, True), (n - 1, False)):
        T = 10 + length + 10
        xy = far_walk(T, (10, 10 + length - 1), jitter=1.9)
        evs = of_type(detect_events(world([actor(1, xy, behavior="loiter")])), "loitering")
        if expect:
            assert [(e.start_frame, e.end_frame, e.attributes["alarm_frame"]) for e in evs] == \
                   [(10, 10 + length - 1, 10 + n - 1)]
        else:
            assert evs == []


def test_loitering_is_geometry_not_the_behaviour_flag():
    T = 150
    xy = far_walk(T, (10, 60), jitter=1.5)         # scripted to loiter but walks off after 5.1 s
    assert not of_type(detect_events(world([actor(1, xy, behavior="loiter")])), "loitering")
    circle = lambda r: np.stack([r * np.cos(np.arange(T) * 0.3), r * np.sin(np.arange(T) * 0.3)], 1)
    assert of_type(detect_events(world([actor(1, circle(1.9), behavior="walk")])), "loitering")
    assert not of_type(detect_events(world([actor(1, circle(2.1), behavior="loiter")])), "loitering")


def test_loitering_counts_only_inside_loitering_zones_when_there_are_some():
    T = 130
    xy = far_walk(T, (10, 120), at=(20.0, 0.0), jitter=1.0)
    lobby = Zone("lobby", "zone", rect(15, -5, 25, 5), {"role": "loitering"})
    elsewhere = Zone("door", "zone", rect(-5, -5, 5, 5), {"role": "loitering"})
    evs = of_type(detect_events(world([actor(1, xy)], [lobby, elsewhere])), "loitering")
    assert [(e.zone, e.start_frame, e.end_frame) for e in evs] == [("lobby", 10, 120)]
    assert not of_type(detect_events(world([actor(1, xy)], [elsewhere])), "loitering")


def fits_brute(points: np.ndarray, radius: float) -> bool:
    """All points in one disc of `radius`: the largest group of radius-discs is everyone."""
    return len(largest_group(points, radius)) == len(points)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10**6), n_min=st.integers(2, 8), step=st.floats(0.05, 1.2))
def test_dwell_cover_matches_brute_force_windows(seed, n_min, step):
    rng = np.random.default_rng(seed)
    xy = np.cumsum(rng.normal(0, step, (24, 2)), axis=0)
    got = dwell_cover(xy, n_min, 1.0)
    want = np.zeros(len(xy), bool)
    for s in range(len(xy)):
        for e in range(s + n_min - 1, len(xy)):
            if fits_brute(xy[s:e + 1], 1.0):
                want[s:e + 1] = True
    assert np.array_equal(got, want)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10**6), n=st.integers(1, 30))
def test_min_enclosing_circle_contains_all_and_is_minimal(seed, n):
    pts = np.random.default_rng(seed).normal(0, 3, (n, 2))
    c, r = min_enclosing_circle(pts)
    assert np.hypot(*(pts - c).T).max() <= r + 1e-9
    assert fits_brute(pts, r + 1e-7) and (r < 1e-9 or not fits_brute(pts, r * (1 - 1e-6)))


# ---- running -----------------------------------------------------------------------------------
@settings(max_examples=30, deadline=None)
@given(a=st.integers(1, 30), length=st.integers(1, 30), speed=st.floats(0.5, 6.0))
def test_running_interval_is_the_fast_frames(a, length, speed):
    # still until frame a - 1, moves from a - 1 to a + length - 1, then still again
    T = a + length + 10
    t = np.arange(T)
    x = np.clip(t - (a - 1), 0, length) * speed / FPS
    evs = of_type(detect_events(world([actor(1, np.stack([x, np.zeros(T)], 1))])), "running")
    n = math.ceil(CFG.running_min_s * FPS)
    first = 0 if a == 1 else a          # frame 0 takes the forward difference: it moves on to frame 1
    if speed >= CFG.running_speed_mps and a + length - first >= n:
        assert [(e.start_frame, e.end_frame) for e in evs] == [(first, a + length - 1)]
    else:
        assert evs == []


def test_riders_do_not_run():
    T = 40
    xy = np.stack([np.arange(T) * 0.6, np.zeros(T)], 1)      # 6 m/s
    assert of_type(detect_events(world([actor(1, xy)])), "running")
    assert not of_type(detect_events(world([actor(1, xy, riding_track_id=2)])), "running")


# ---- fall --------------------------------------------------------------------------------------
def pose(head_z: np.ndarray) -> np.ndarray:
    """COCO-17 keypoints whose head joints sit at head_z, other joints lower."""
    T = len(head_z)
    kp = np.zeros((T, 17, 3))
    kp[:, :, 2] = head_z[:, None] * np.linspace(1.0, 0.05, 17)[None]
    kp[:, :5, 2] = head_z[:, None]
    return kp


def head_track(T: int, up_until: int, drop_frames: int, low: float = 0.2, up: float = 1.6,
               back_up_at: int | None = None) -> np.ndarray:
    z = np.full(T, up)
    t = np.arange(T)
    k = (t > up_until) & (t <= up_until + drop_frames)
    z[k] = up + (low - up) * (t[k] - up_until) / drop_frames
    z[t > up_until + drop_frames] = low
    if back_up_at is not None:
        z[t >= back_up_at] = up
    return z


def test_fall_frames_at_the_boundaries():
    T, H = 80, 1.75
    z = head_track(T, up_until=20, drop_frames=6)
    evs = of_type(detect_events(world([actor(1, np.zeros((T, 2)), keypoints=pose(z), height_m=H)])), "fall")
    up = np.flatnonzero(z >= CFG.fall_up_fraction * H)
    down = np.flatnonzero(z < CFG.fall_height_fraction * H)
    last_up = up[up < down[0]][-1]
    got = [(e.start_frame, e.end_frame, e.attributes["down_frame"]) for e in evs]
    assert got == [(last_up + 1, T - 1, down[0])]


def test_slow_sitting_down_or_a_brief_crouch_is_not_a_fall():
    T, H = 120, 1.75
    n_fall = math.ceil(CFG.fall_s * FPS)
    slow = head_track(T, 20, drop_frames=60)                     # 6 s to get down
    crouch = head_track(T, 20, drop_frames=3, back_up_at=20 + 3 + math.ceil(CFG.fall_down_s * FPS) - 2)
    for z in (slow, crouch):
        person = actor(1, np.zeros((T, 2)), keypoints=pose(z), height_m=H)
        assert not of_type(detect_events(world([person])), "fall")
    # the fastest drop that is still too slow: last upright and first down frame n_fall + 1 apart
    lo, hi = CFG.fall_height_fraction * H, CFG.fall_up_fraction * H
    for gap, expect in ((n_fall, True), (n_fall + 1, False)):
        z = np.full(T, 1.6)
        z[21:21 + gap - 1] = (lo + hi) / 2                       # in between for gap - 1 frames
        z[20 + gap:] = 0.2                                       # first down frame = 20 + gap
        evs = of_type(detect_events(world([actor(1, np.zeros((T, 2)), keypoints=pose(z), height_m=H)])), "fall")
        assert bool(evs) == expect


def test_lying_from_the_start_is_not_a_fall():
    T = 50
    z = np.full(T, 0.2)
    assert not detect_events(world([actor(1, np.zeros((T, 2)), keypoints=pose(z), height_m=1.7)]))


# ---- crowd -------------------------------------------------------------------------------------
def gathering(T: int, n_people: int, together: tuple[int, int], r_close: float) -> list:
    """n people on a ring around the origin: radius 10 m, r_close during `together` (inclusive)."""
    t = np.arange(T)
    r = np.where((t >= together[0]) & (t <= together[1]), r_close, 10.0)
    out = []
    for i in range(n_people):
        a = 2 * np.pi * i / n_people
        out.append(actor(i + 1, np.stack([r * np.cos(a), r * np.sin(a)], 1)))
    return out


def test_crowd_needs_enough_people_close_enough_for_long_enough():
    T, need, R = 60, CFG.crowd_min_people, CFG.crowd_radius_m
    n = math.ceil(CFG.crowd_min_s * FPS)
    evs = of_type(detect_events(world(gathering(T, need, (20, 40), 0.95 * R))), "crowd")
    assert [(e.start_frame, e.end_frame, e.track_ids, e.track_id) for e in evs] == \
           [(20, 40, list(range(1, need + 1)), None)]
    assert not of_type(detect_events(world(gathering(T, need - 1, (20, 40), 0.5 * R))), "crowd")
    assert not of_type(detect_events(world(gathering(T, need, (20, 40), 1.05 * R))), "crowd")
    assert not of_type(detect_events(world(gathering(T, need, (20, 20 + n - 2), 0.5 * R))), "crowd")
    assert of_type(detect_events(world(gathering(T, need, (20, 20 + n - 1), 0.5 * R))), "crowd")


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10**6), n=st.integers(1, 12), radius=st.floats(0.3, 3.0))
def test_largest_group_beats_every_disc_we_can_find(seed, n, radius):
    rng = np.random.default_rng(seed)
    xy = rng.uniform(-4, 4, (n, 2))
    idx = largest_group(xy, radius)
    c, r = min_enclosing_circle(xy[idx])
    assert r <= radius + 1e-7
    probes = np.concatenate([rng.uniform(-5, 5, (400, 2)), xy])
    counts = (np.hypot(*(probes[:, None] - xy[None]).transpose(2, 0, 1)) <= radius).sum(1)
    assert counts.max() <= len(idx)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10**6), n=st.integers(2, 9), need=st.integers(2, 6), radius=st.floats(0.3, 3.0))
def test_frames_left_out_of_the_crowd_search_hold_no_group_of_that_size(seed, n, need, radius):
    # crowds() runs largest_group only in may_group's frames: every other frame must hold no group of `need`
    rng = np.random.default_rng(seed)
    T = 30
    xy = rng.uniform(-4, 4, (T, n, 2)) * rng.uniform(0.2, 1.0, (T, 1, 1))     # some frames tight, some spread
    present = rng.random((T, n)) < 0.8
    maybe = may_group(xy, present, need, radius)
    for f in range(T):
        pts = xy[f][present[f]]
        found = len(largest_group(pts, radius)) if len(pts) else 0
        assert maybe[f] or found < need, (f, found)
    assert may_group(xy[:, :0], present[:, :0], need, radius).shape == (T,)
