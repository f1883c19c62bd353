"""People and vehicles as bodies: sizes, anatomy of the COCO-17 skeleton, gait, riders, bags."""
from __future__ import annotations

import numpy as np
import pytest

from synthdata.world.actors.bodies import ANKLE_Z, person_actor
from synthdata.world.actors.motion import frame_times, track_state
from synthdata.world.actors.props import bag_actor
from synthdata.world.actors.vehicles import rider_mount, vehicle_actor
from synthdata.world.spec import BagParams, PersonParams, Track, VehicleParams
from synthdata.world.types import BOX, CAPSULE, CONE, ELLIPSOID, MATERIAL

FPS = 30.0


def person(height=1.75, behavior="walk", speed=1.4, build=1.0, pose="arms_down", hair="short") -> PersonParams:
    return PersonParams(track_id=1, height_m=height, build=build, shoulders=1.0, top_color="#aa2222",
                        bottom_color="#222266", skin_color="#e0ac69", hair_color="#222222", shoe_color="#111111",
                        hair=hair, sleeves="long", behavior=behavior, speed_mps=speed, phase0=0.3, sway_phase=1.0,
                        idle_pose=pose, track=Track([0.0], [[0.0, 0.0]], [0.0]))


def moving(p: PersonParams, speed: float, seconds: float = 4.0, yaw: float = 0.7):
    T = int(seconds * FPS)
    times = frame_times(T, FPS)
    d = np.array([np.cos(yaw), np.sin(yaw)])
    p.track = Track([0.0, seconds], [[1.0, 2.0], list(np.array([1.0, 2.0]) + d * speed * seconds)], [yaw, yaw])
    st = track_state(p.track, times)
    actor, sk = person_actor(p, st, times, np.c_[st.xy, np.zeros(T)], st.yaw)
    return actor, sk, st


def tops(shapes) -> np.ndarray:
    """Highest point (T,) of a set of primitives."""
    z = []
    for k in range(shapes.num_shapes):
        c, e, ax, s = shapes.center[:, k], shapes.end[:, k], shapes.axes[:, k], shapes.size[:, k]
        if shapes.kind[k] == CAPSULE:
            z.append(np.maximum(c[:, 2], e[:, 2]) + s[:, 0])
        elif shapes.kind[k] == CONE:
            z.append(np.maximum(c[:, 2] + s[:, 0], e[:, 2] + s[:, 1]))
        elif shapes.kind[k] == ELLIPSOID:
            z.append(c[:, 2] + np.sqrt(((ax[:, 2, :] * s) ** 2).sum(-1)))
        else:
            z.append(c[:, 2] + (np.abs(ax[:, 2, :]) * s).sum(-1))
    return np.max(z, axis=0)


@pytest.mark.parametrize("height", [1.52, 1.75, 1.98])
def test_people_are_as_tall_as_their_attribute(height):
    actor, _, _ = moving(person(height, "stand", 0.0), 0.0, seconds=1.0)
    assert actor.attributes["height_m"] == pytest.approx(height, abs=1e-3)
    assert np.allclose(tops(actor.shapes), height, rtol=0.03)
    walker, _, _ = moving(person(height), 1.4, seconds=2.0)
    assert np.all(tops(walker.shapes) < height * 1.03) and np.all(tops(walker.shapes) > height * 0.93)


@pytest.mark.parametrize("behavior,speed", [("stand", 0.0), ("walk", 1.0), ("walk", 1.6), ("run", 3.5), ("run", 5.0)])
def test_keypoints_are_anatomically_ordered(behavior, speed):
    actor, _, st = moving(person(1.8, behavior, speed), speed)
    kp = actor.keypoints
    assert kp.shape == (len(st.yaw), 17, 3) and actor.keypoint_radius.shape == (17,)
    z = kp[..., 2]
    head = z[:, :5].min(1)
    shoulders, hips = z[:, 5:7].max(1), z[:, 11:13]
    assert np.all(head > shoulders) and np.all(z[:, 5:7].min(1) > hips.max(1))
    assert np.all(hips.min(1) > z[:, 13:15].max(1))
    if behavior == "run":      # a running leg kicks its heel up past the other knee: compare per leg
        assert np.all(z[:, 13:15] > z[:, 15:17])
    else:
        assert np.all(z[:, 13:15].min(1) > z[:, 15:17].max(1))
    # left is on the person's left: (left - right) x heading points up
    fwd = np.stack([np.cos(actor.heading), np.sin(actor.heading)], -1)
    for l, r in ((5, 6), (11, 12), (1, 2), (3, 4)):
        d = kp[:, l, :2] - kp[:, r, :2]
        assert np.all(fwd[:, 0] * d[:, 1] - fwd[:, 1] * d[:, 0] > 0)
    # the face looks where the body goes
    nose = kp[:, 0, :2] - (kp[:, 3, :2] + kp[:, 4, :2]) / 2
    assert np.all((nose * fwd).sum(1) > 0)


def test_feet_alternate_and_stay_planted_and_stride_grows_with_speed():
    reach = []
    for speed in (0.8, 1.3, 1.9):
        actor, _, st = moving(person(1.75, "walk", speed), speed)
        kp = actor.keypoints
        fwd = np.stack([np.cos(st.yaw), np.sin(st.yaw)], -1)
        ahead = ((kp[:, 15, :2] - kp[:, 16, :2]) * fwd).sum(1)      # left ankle ahead of right
        flips = np.count_nonzero(np.diff(np.sign(ahead)) != 0)
        seconds = len(st.yaw) / FPS
        assert 2.5 * seconds > flips >= 1.2 * seconds                # about two steps per second
        reach.append(np.abs(ahead).max())
        ankles = kp[:, 15:17]
        planted = ankles[..., 2] < ANKLE_Z * 1.75 + 0.005
        assert planted.any(1).mean() > 0.6                           # a walker always has a foot down...
        slide = np.linalg.norm(np.diff(ankles[..., :2], axis=0), axis=-1) * FPS
        still = planted[1:] & planted[:-1]
        assert slide[still].mean() < 0.3 * speed                      # ...that does not skate along
        assert np.all(ankles[..., 2].min(1) < ANKLE_Z * 1.75 + 0.14)
    assert reach[0] < reach[1] < reach[2]


def test_runners_have_a_flight_phase_and_walkers_do_not():
    runner, _, _ = moving(person(1.75, "run", 4.0), 4.0)
    walker, _, _ = moving(person(1.75, "walk", 1.4), 1.4)
    body = lambda a: a.keypoints[:, 11:13, 2].mean(1)
    lowest = lambda a: a.shapes.center[:, -2:, 2].min(1)   # feet are the last two primitives
    assert (lowest(runner) > lowest(walker).max() + 0.02).mean() > 0.1
    assert np.ptp(body(runner)) > np.ptp(body(walker)) * 0.8


def test_standing_people_sway_and_look_around_but_stay_put():
    actor, _, _ = moving(person(1.7, "stand", 0.0, pose="phone"), 0.0, seconds=6.0)
    kp = actor.keypoints
    assert np.ptp(kp[:, 0, :2], axis=0).max() > 0.01                   # head moves a little
    assert np.ptp(kp[:, 15:17, :2], axis=(0,)).max() < 0.02           # feet do not
    assert np.all(kp[:, 10, 2] > kp[:, 12, 2])                          # phone hand up by the chest


def test_person_primitives_have_people_materials_and_colours():
    actor, _, _ = moving(person(hair="long"), 1.2, seconds=1.0)
    mats = {k for k, v in MATERIAL.items() if v in set(actor.shapes.material.tolist())}
    assert {"skin", "cloth", "hair"} <= mats
    assert actor.shapes.num_shapes >= 17 and actor.shapes.num_frames == 30
    colors = {tuple(np.round(c, 3)) for c in actor.shapes.color}
    assert len(colors) >= 4


@pytest.mark.parametrize("style", ["backpack", "handbag"])
def test_bags_follow_their_owner(style):
    p = person()
    p.bag_track_id = 2
    actor, sk, st = moving(p, 1.3)
    bag = bag_actor(BagParams(2, 1, style, "#333333", [0.3, 0.15, 0.4], "right"), p, sk, actor.present)
    assert bag.category == "bag" and bag.attributes["owner_track_id"] == 1
    centre = bag.shapes.center[:, 0]
    fwd = np.stack([np.cos(st.yaw), np.sin(st.yaw)], -1)
    rel = centre[:, :2] - actor.position[:, :2]
    if style == "backpack":
        assert np.all((rel * fwd).sum(1) < -0.05)                        # on the back
        assert np.all(centre[:, 2] > actor.keypoints[:, 11, 2])        # above the hips
    else:
        wrist = actor.keypoints[:, 10]
        assert np.linalg.norm(centre[:, :2] - wrist[:, :2], axis=1).max() < 0.2   # hangs from the right hand
        assert np.all(centre[:, 2] < wrist[:, 2]) and np.all(centre[:, 2] > wrist[:, 2] - 0.5)
        assert np.all(bag.position[:, 2] > 0.1)


def vehicle(kind, length, width, height, rw=0.31, speed=6.0, seat=0.0) -> VehicleParams:
    return VehicleParams(1, kind, "x", length, width, height, "#224488", "drive", speed, rw,
                         Track([0.0, 2.0], [[0.0, 0.0], [speed * 2.0, 0.0]], [0.0, 0.0]), seat_height_m=seat)


@pytest.mark.parametrize("kind,dims", [("car", (4.5, 1.8, 1.5)), ("van", (5.3, 2.0, 2.3)), ("truck", (8.0, 2.4, 3.4)),
                                       ("bus", (12.0, 2.5, 3.1)), ("bicycle", (1.75, 0.6, 1.1)),
                                       ("motorcycle", (2.1, 0.8, 1.2))])
def test_vehicles_have_their_dimensions_wheels_and_lights(kind, dims):
    v = vehicle(kind, *dims, rw=0.34 if kind == "bicycle" else 0.31, seat=0.88 if kind == "bicycle" else 0.82)
    times = frame_times(40, 20.0)
    a = vehicle_actor(v, track_state(v.track, times, 0.3))
    s = a.shapes
    assert a.category == kind and s.num_frames == 40
    # body extent in its own frame at frame 0 (heading 0): length along x, width along y
    lo, hi = [], []
    for k in range(s.num_shapes):
        c, e, ax, sz = s.center[0, k], s.end[0, k], s.axes[0, k], s.size[0, k]
        ext = np.full(3, sz[0]) if s.kind[k] == CAPSULE else np.abs(ax) @ sz if s.kind[k] == BOX else np.sqrt((ax ** 2) @ (sz ** 2))
        lo.append(np.minimum(c, e) - ext)
        hi.append(np.maximum(c, e) + ext)
    lo, hi = np.min(lo, 0), np.max(hi, 0)
    L, W, H = dims
    assert hi[0] - lo[0] == pytest.approx(L, abs=0.15)
    if kind in ("bicycle", "motorcycle"):                                # handlebars may be wider
        assert W - 0.25 < hi[1] - lo[1] < W + 0.25
    else:                                                                # mirrors stick out a little
        assert W - 0.02 < hi[1] - lo[1] < W + 0.2
    if kind not in ("bicycle", "motorcycle"):
        assert hi[2] == pytest.approx(H, abs=0.05)
    assert lo[2] == pytest.approx(0.0, abs=0.01)                      # wheels on the ground
    rubber = s.material == MATERIAL["rubber"]
    assert rubber.sum() >= (2 if kind in ("bicycle", "motorcycle") else 4)
    assert (s.material == MATERIAL["light"]).sum() >= (0 if kind == "bicycle" else 2)
    assert np.allclose(a.position[:, 0], np.linspace(0, 6.0 * 39 / 20.0, 40))


def test_riders_sit_on_their_two_wheeler_and_pedal():
    v = vehicle("bicycle", 1.75, 0.6, 1.1, rw=0.34, speed=5.0, seat=0.13 + 0.431 * 1.75)
    times = frame_times(40, 20.0)
    st = track_state(v.track, times, 0.3)
    p = person(1.75, "ride", 5.0)
    rider, _ = person_actor(p, st, times, np.c_[st.xy, np.zeros(40)], st.yaw, rider_mount(v, st, 1.75))
    kp = rider.keypoints
    hips = kp[:, 11:13, 2].mean(1)
    assert np.allclose(hips, v.seat_height_m + 0.06 * 1.75, atol=0.02)
    assert np.all(kp[:, 0, 2] > hips + 0.4) and np.all(kp[:, 0, 2] < 1.9)   # seated: head lower than standing
    ankles = kp[:, 15:17]
    assert np.ptp(ankles[:, 0, 2]) > 0.15                                    # pedalling
    assert np.all(ankles[:, :, 2] > 0.05)
    wrists = kp[:, 9:11, 0] - st.xy[:, None, 0]
    assert np.all(wrists > 0.2)                                              # hands forward on the bars


def test_shoulders_slope_down_from_the_neck():
    """The clothed outline over the shoulders falls from the base of the neck to the joints (a
    level bar across the joints reads as shoulder pads, not as a person)."""
    H = 1.75
    actor, _, st = moving(person(H, "stand", 0.0), 0.0, seconds=1.0)
    s, kp = actor.shapes, actor.keypoints
    mid = kp[:, 5:7].mean(1)                                            # between the shoulder joints
    side = np.stack([-np.sin(st.yaw), np.cos(st.yaw)], -1)               # the body's lateral axis

    def outline(y: float) -> np.ndarray:
        """Top (T,) of the swept capsules and cones of the upper torso at lateral offset y * H."""
        top = np.full(len(mid), -np.inf)
        u = np.linspace(0, 1, 201)[:, None]
        for k in range(s.num_shapes):
            c, e = s.center[:, k], s.end[:, k]
            if s.kind[k] not in (CAPSULE, CONE) or not (0.75 * H < min(c[0, 2], e[0, 2]) and max(c[0, 2], e[0, 2]) < 0.9 * H):
                continue
            r = s.size[:, k, 0] if s.kind[k] == CAPSULE else (1 - u) * s.size[:, k, 0] + u * s.size[:, k, 1]
            p = (1 - u)[..., None] * c + u[..., None] * e                 # (201, T, 3) along the axis
            lat = ((p[..., :2] - mid[:, :2]) * side).sum(-1)
            dy = np.abs(lat) - y * H
            z = p[..., 2] + np.sqrt(np.clip(r ** 2 - dy ** 2, 0, None)) - np.where(r > np.abs(dy), 0, np.inf)
            top = np.maximum(top, z.max(0))
        return top

    near_neck, over_joint = outline(0.05), outline(0.11)
    assert np.all(np.isfinite(near_neck)) and np.all(np.isfinite(over_joint))
    assert np.all(near_neck - over_joint > 0.01 * H)
