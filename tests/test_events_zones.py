"""Zone events fire exactly when their geometric definition holds (scripted trajectories):
intrusion, line_crossing, illegal_parking, wrong_way, and camera_tamper from the schedule."""
from __future__ import annotations

import math

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from synthdata.world.appearance import Appearance
from synthdata.world.geometry.camera import Camera
from synthdata.world.security.events import EventConfig, detect_events
from synthdata.world.types import Actor, Ground, Lighting, Shapes, World, Zone

FPS = 10.0


def actor(tid: int, xy, category: str = "person", present=None, z=None, keypoints=None, **attrs) -> Actor:
    """An actor that is only a trajectory: (T, 2) ground positions, no geometry."""
    xy = np.asarray(xy, float)
    T = len(xy)
    pos = np.concatenate([xy, np.zeros((T, 1)) if z is None else np.asarray(z, float).reshape(T, 1)], 1)
    pres = np.ones(T, bool) if present is None else np.asarray(present, bool)
    return Actor(tid, category, Shapes.empty(T), pos, np.zeros(T), pres, keypoints, None, dict(attrs))


def world(actors: list[Actor], zones: list[Zone] = (), T: int | None = None, fps: float = FPS,
          appearance: dict | None = None) -> World:
    T = T or actors[0].num_frames
    cam = Camera.from_pose(64, 48, position=(0, -10, 6), pan_deg=0, tilt_deg=30, hfov_deg=60, num_frames=1)
    return World(T, fps, cam, Shapes.empty(), Ground(), Lighting(), list(actors), list(zones),
                 appearance=Appearance().with_values(**(appearance or {})))


def rect(x0, y0, x1, y1) -> np.ndarray:
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], float)


def of_type(events, kind: str):
    return [e for e in events if e.type == kind]


def line(T: int, start, step) -> np.ndarray:
    return np.asarray(start, float) + np.arange(T)[:, None] * np.asarray(step, float)


# ---- intrusion ---------------------------------------------------------------------------------
@settings(max_examples=40, deadline=None)
@given(k=st.integers(1, 40), stay=st.integers(0, 30), v=st.floats(0.05, 1.0), tail=st.integers(0, 10))
def test_intrusion_spans_exactly_the_frames_inside(k, stay, v, tail):
    # x[t] = (t - k + 0.5) v: outside (x < 0) up to frame k - 1, inside from frame k.
    m = k + stay                                      # last inside frame
    T = m + 1 + tail
    x = (np.arange(T) - k + 0.5) * v
    xmax = (m - k + 0.75) * v                         # x[m] < xmax < x[m + 1]
    zone = Zone("yard", "zone", rect(0, -5, xmax, 5), {"role": "restricted"})
    xy = np.stack([x, np.zeros(T)], 1)
    by = np.stack([x, np.full(T, 6.0)], 1)            # walks past beside the zone
    evs = of_type(detect_events(world([actor(1, xy), actor(2, by), actor(3, xy, "bag")], [zone])), "intrusion")
    assert [(e.track_id, e.start_frame, e.end_frame, e.zone) for e in evs] == [(1, k, min(m, T - 1), "yard")]


def test_intrusion_one_event_per_inside_interval_and_presence_splits_it():
    T = 40
    x = np.where((np.arange(T) % 20) < 10, -3.0, 3.0)   # inside frames 10-19 and 30-39
    present = np.ones(T, bool)
    present[33] = False
    zone = Zone("yard", "zone", rect(0, -5, 10, 5), {"role": "restricted"})
    car = actor(4, np.stack([x, np.zeros(T)], 1), "car", present)
    evs = of_type(detect_events(world([car], [zone])), "intrusion")
    assert [(e.start_frame, e.end_frame) for e in evs] == [(10, 19), (30, 32), (34, 39)]
    assert all(e.attributes["category"] == "car" for e in evs)


def test_intrusion_min_duration_and_zone_categories():
    T = 30
    x = np.where((np.arange(T) >= 10) & (np.arange(T) < 15), 1.0, -1.0)   # inside 5 frames
    xy = np.stack([x, np.zeros(T)], 1)
    zone = Zone("z", "zone", rect(0, -5, 10, 5), {"role": "restricted"})
    assert len(of_type(detect_events(world([actor(1, xy)], [zone]), EventConfig(intrusion_min_s=0.5)),
                       "intrusion")) == 1
    assert not of_type(detect_events(world([actor(1, xy)], [zone]), EventConfig(intrusion_min_s=0.6)),
                       "intrusion")
    cars_only = Zone("z", "zone", rect(0, -5, 10, 5), {"role": "restricted", "categories": ["car"]})
    assert not of_type(detect_events(world([actor(1, xy)], [cars_only])), "intrusion")


# ---- line crossing -----------------------------------------------------------------------------
@settings(max_examples=60, deadline=None)
@given(k=st.integers(1, 30), frac=st.floats(0.05, 0.95), angle=st.floats(0, 2 * math.pi),
       speed=st.floats(0.1, 2.0), forward=st.booleans(), u=st.floats(-0.5, 1.5), skew=st.floats(-0.6, 0.6))
def test_line_crossing_fires_on_the_frame_after_the_crossing(k, frac, angle, speed, forward, u, skew):
    assume(min(abs(u), abs(u - 1)) > 1e-6)
    a = np.array([2.0, 3.0])
    d = np.array([math.cos(angle), math.sin(angle)]) * 4.0     # tripwire a -> a + d
    n = np.array([-d[1], d[0]]) / 4.0                          # unit left normal (towards side "b")
    heading = (1.0 if forward else -1.0) * n + skew * d / 4.0
    T = k + 12
    through = a + u * d                                         # where the path meets the wire's line
    # signed distance to the line is (t - k + frac) * speed * (+-1): the side changes between k - 1 and k
    xy = through + ((np.arange(T) - k + frac) * speed)[:, None] * heading[None]
    zone = Zone("gate", "tripwire", np.stack([a, a + d]), {})
    evs = of_type(detect_events(world([actor(1, xy)], [zone])), "line_crossing")
    if 0 <= u <= 1:
        assert [(e.start_frame, e.end_frame, e.zone, e.attributes["direction"]) for e in evs] == \
               [(k, k, "gate", "a_to_b" if forward else "b_to_a")]
    else:
        assert evs == []


def test_line_crossing_both_ways_filter_and_beyond_the_end():
    T = 30
    wire = np.array([[0.0, -2.0], [0.0, 2.0]])     # drawn towards +y: left normal points to -x
    x = np.concatenate([np.linspace(2, -2, 15), np.linspace(-2, 2, 15)])
    back_and_forth = np.stack([x, np.zeros(T)], 1)
    beyond = np.stack([x, np.full(T, 3.0)], 1)     # crosses the wire's line past its end
    both = detect_events(world([actor(1, back_and_forth), actor(2, beyond)], [Zone("w", "tripwire", wire, {})]))
    got = [(e.track_id, e.start_frame, e.attributes["direction"]) for e in of_type(both, "line_crossing")]
    # +x side -> -x side between frames 7 (x=0.286) and 8 (x=-0.286): a_to_b at 8; back at 22
    assert got == [(1, 8, "a_to_b"), (1, 22, "b_to_a")]
    only = detect_events(world([actor(1, back_and_forth)], [Zone("w", "tripwire", wire, {"crossing": "b_to_a"})]))
    assert [(e.start_frame, e.attributes["direction"]) for e in of_type(only, "line_crossing")] == [(22, "b_to_a")]


def test_line_crossing_needs_presence_on_both_sides_of_the_step():
    xy = np.array([[2.0, 0], [1, 0], [-1, 0], [-2, 0]])
    wire = Zone("w", "tripwire", np.array([[0.0, -2.0], [0.0, 2.0]]), {})
    assert len(detect_events(world([actor(1, xy)], [wire]))) == 1
    assert detect_events(world([actor(1, xy, present=[1, 1, 0, 1])], [wire])) == []


# ---- illegal parking ---------------------------------------------------------------------------
def parking_track(T: int, stop_frame: int, leave_frame: int, at=(5.0, 0.0)) -> np.ndarray:
    """Drives along +x at 1 m per frame, stands at `at` for frames [stop_frame, leave_frame),
    drives on from leave_frame. Stationary frames (zero backward step): stop_frame + 1 .. leave_frame - 1."""
    xy = np.zeros((T, 2))
    t = np.arange(T)
    xy[:, 0] = np.where(t < stop_frame, at[0] - (stop_frame - t), np.where(t < leave_frame, at[0],
                                                                           at[0] + (t - leave_frame + 1)))
    xy[:, 1] = at[1]
    return xy


@settings(max_examples=30, deadline=None)
@given(stop=st.integers(2, 20), still=st.integers(1, 70))
def test_illegal_parking_needs_the_full_stationary_time_in_the_zone(stop, still):
    T = stop + still + 10
    xy = parking_track(T, stop, stop + still + 1)      # stationary frames stop+1 .. stop+still
    zone = Zone("red_kerb", "zone", rect(3, -2, 7, 2), {"role": "no_parking"})
    evs = of_type(detect_events(world([actor(7, xy, "car")], [zone])), "illegal_parking")
    n = math.ceil(EventConfig().parking_s * FPS)
    if still >= n:
        assert [(e.start_frame, e.end_frame, e.attributes["alarm_frame"]) for e in evs] == \
               [(stop + 1, stop + still, stop + n)]
    else:
        assert evs == []


def test_parking_outside_the_zone_or_by_a_person_is_no_event():
    T = 100
    xy = parking_track(T, 5, 90)
    zone = Zone("red_kerb", "zone", rect(20, -2, 30, 2), {"role": "no_parking"})
    assert not detect_events(world([actor(1, xy, "car")], [zone]))
    zone_here = Zone("red_kerb", "zone", rect(3, -2, 7, 2), {"role": "no_parking"})
    assert of_type(detect_events(world([actor(1, xy, "car")], [zone_here])), "illegal_parking")
    assert not of_type(detect_events(world([actor(1, xy, "person")], [zone_here])), "illegal_parking")


# ---- wrong way ---------------------------------------------------------------------------------
def test_wrong_way_by_angle_to_the_lane_direction():
    T = 80
    lane = Zone("eastbound", "zone", rect(-50, -2.1, 50, 2.1), {"role": "lane", "direction": [1.0, 0.0]})

    def drive(angle_deg: float) -> list:
        v = 0.3 * np.array([math.cos(math.radians(angle_deg)), math.sin(math.radians(angle_deg))])
        xy = line(T, -v * T / 2, v)          # passes through the lane's middle
        return of_type(detect_events(world([actor(1, xy, "car")], [lane])), "wrong_way")

    assert drive(0) == [] and drive(100) == [] and drive(-119) == []
    for ang in (180, 150, -130):
        evs = drive(ang)
        assert len(evs) == 1 and evs[0].zone == "eastbound"
        inside = [t for t in range(T) if abs((-0.15 * T + 0.3 * t) * math.sin(math.radians(ang))) < 2.1]
        assert (evs[0].start_frame, evs[0].end_frame) == (inside[0], inside[-1])


def test_wrong_way_needs_speed_and_duration():
    lane = Zone("l", "zone", rect(-50, -2, 50, 2), {"role": "lane", "direction": [1.0, 0.0]})
    n = math.ceil(EventConfig().wrong_way_s * FPS)
    slow = line(40, (10, 0), (-0.04, 0))                          # 0.4 m/s < 0.5 m/s
    assert not detect_events(world([actor(1, slow, "car")], [lane]))
    brief = np.concatenate([line(n - 1, (0, 0), (-1, 0)), np.full((10, 2), [-(n - 2), 0.0])])
    assert not detect_events(world([actor(1, brief, "car")], [lane]))
    enough = np.concatenate([line(n, (0, 0), (-1, 0)), np.full((10, 2), [-(n - 1), 0.0])])
    evs = detect_events(world([actor(1, enough, "car")], [lane]))
    assert [(e.type, e.start_frame, e.end_frame) for e in evs] == [("wrong_way", 0, n - 1)]


# ---- camera tamper -----------------------------------------------------------------------------
def test_camera_tamper_comes_from_the_schedule_clamped_to_the_clip():
    w = world([actor(1, np.zeros((20, 2)))], appearance={"tampering": [
        {"kind": "covered", "start_frame": 5, "end_frame": 30},
        {"kind": "moved", "start_frame": 25, "end_frame": 40}]})
    evs = detect_events(w)
    assert [(e.type, e.track_id, e.start_frame, e.end_frame, e.attributes["kind"]) for e in evs] == \
           [("camera_tamper", None, 5, 19, "covered")]
