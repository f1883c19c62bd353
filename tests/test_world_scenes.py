"""Whole simulated clips over many seeds and every layout: nobody walks or drives through anybody
or anything, vehicles stay on the road, people on walkable ground, entering actors appear out of
view. Geometry is checked here with its own small helpers, not the planner's."""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from synthdata.plan import clip_seed
from synthdata.recipe.loader import load_recipe
from synthdata.recipe.schema import Recipe
from synthdata.world.layouts.registry import build_layout
from synthdata.world.planning.visits import stand_gap
from synthdata.world.sample import sample_clip
from synthdata.world.simulate import simulate

LAYOUTS = ("parking_lot", "street", "indoor")
RECIPES = Path(__file__).resolve().parents[1] / "recipes"
SEEDS = range(6)


def crowded(layout: str, frames: int = 40) -> Recipe:
    actors = [{"type": "person", "count": 10, "behavior": {"choice": ["walk", "run", "loiter", "stand"]},
               "enters": {"bernoulli": 0.5}, "leaves": {"bernoulli": 0.5}, "carries_bag": {"bernoulli": 0.3}}]
    if layout != "indoor":
        actors += [{"type": "vehicle", "count": 4, "behavior": {"choice": ["drive", "park", "parked"]},
                    "kind": {"choice": ["car", "van", "truck", "bicycle", "motorcycle"]}}]
    return Recipe.model_validate({
        "name": "t", "seed": 1, "output": {"clips": 1, "frames_per_clip": frames, "fps": 10, "resolution": [160, 120]},
        "scene": {"layout": {"type": layout}, "camera": {"height_m": 7, "tilt_deg": 30}}, "actors": actors})


@pytest.fixture(scope="module")
def clips():
    out = []
    for layout in LAYOUTS:
        recipe = crowded(layout)
        for seed in SEEDS:
            spec = sample_clip(recipe, 0, seed=seed, clip_id="t-000000")
            out.append((layout, spec, simulate(spec)))
    for name, layout in (("parking_lot_day", "parking_lot"), ("street_plaza", "street"), ("indoor_lobby", "indoor")):
        recipe = load_recipe(RECIPES / f"{name}.yaml", ["output.resolution=[160, 120]", "output.frames_per_clip=40"])
        for index in range(2):
            spec = sample_clip(recipe, index, seed=clip_seed(recipe.seed, index), clip_id=f"{name}-{index:06d}")
            out.append((layout, spec, simulate(spec)))
    return out


# ---- independent geometry -----------------------------------------------------------------------
def rect_corners(cx, cy, yaw, length, width):
    c, s = np.cos(yaw), np.sin(yaw)
    local = np.array([[1, 1], [1, -1], [-1, -1], [-1, 1]]) * [length / 2, width / 2]
    return np.stack([cx + c * local[:, 0] - s * local[:, 1], cy + s * local[:, 0] + c * local[:, 1]], -1)


def rects_overlap(a: np.ndarray, b: np.ndarray) -> bool:
    """Separating-axis test for two convex quads (4, 2)."""
    for poly in (a, b):
        for i in range(4):
            e = poly[(i + 1) % 4] - poly[i]
            n = np.array([-e[1], e[0]])
            pa, pb = a @ n, b @ n
            if pa.max() < pb.min() or pb.max() < pa.min():
                return False
    return True


def point_rect_distance(p: np.ndarray, row: np.ndarray) -> np.ndarray:
    """Distance from points (N, 2) to rounded rectangles (cx, cy, hx, hy, yaw, r): one row (6,)
    gives (N,), several rows (O, 6) give (N, O); < 0 inside."""
    rows = np.atleast_2d(row)
    cx, cy, hx, hy, yaw, r = rows.T
    dx, dy = p[:, None, 0] - cx, p[:, None, 1] - cy
    lx = np.abs(dx * np.cos(yaw) + dy * np.sin(yaw)) - hx
    ly = np.abs(-dx * np.sin(yaw) + dy * np.cos(yaw)) - hy
    out = np.hypot(np.maximum(lx, 0), np.maximum(ly, 0)) + np.minimum(np.maximum(lx, ly), 0) - r
    return out[:, 0] if np.ndim(row) == 1 else out


def inside_polygons(p: np.ndarray, polys) -> np.ndarray:
    res = np.zeros(len(p), bool)
    for poly in polys:
        x, y = p[:, 0], p[:, 1]
        inside = np.zeros(len(p), bool)
        for (x0, y0), (x1, y1) in zip(poly, np.roll(poly, -1, 0)):
            cross = (y0 > y) != (y1 > y)
            xi = x0 + (y - y0) * (x1 - x0) / np.where(y1 != y0, y1 - y0, 1)
            inside ^= cross & (x < xi)
        res |= inside
    return res


def boundary_points(corners: np.ndarray, step: float = 0.1) -> np.ndarray:
    pts = [np.linspace(corners[i], corners[(i + 1) % 4], max(int(np.hypot(*(corners[(i + 1) % 4] - corners[i])) / step), 2))
           for i in range(4)]
    return np.concatenate(pts)


def ground_actors(world):
    """Actors with their own footprint: people not riding, and vehicles."""
    return [a for a in world.actors if a.category not in ("bag", "cart") and "riding_track_id" not in a.attributes]


def footprint(a, t):
    if a.category == "person":
        return ("disc", a.position[t, :2], a.attributes["footprint_radius_m"])
    return ("rect", rect_corners(*a.position[t, :2], a.heading[t], a.attributes["length_m"], a.attributes["width_m"]))


def overlap(f, g) -> bool:
    if f[0] == "disc" and g[0] == "disc":
        return np.hypot(*(f[1] - g[1])) <= f[2] + g[2]
    if f[0] == "rect" and g[0] == "rect":
        return rects_overlap(f[1], g[1])
    disc, rect = (f, g) if f[0] == "disc" else (g, f)
    c = rect[1]
    centre = c.mean(0)
    length, width = np.hypot(*(c[0] - c[3])), np.hypot(*(c[0] - c[1]))
    e = c[0] - c[3]
    row = np.array([centre[0], centre[1], length / 2, width / 2, np.arctan2(e[1], e[0]), 0.0])
    return point_rect_distance(disc[1][None], row)[0] <= disc[2]


# ---- tests ----------------------------------------------------------------------------------------
def test_clips_have_actors_of_every_kind(clips):
    for layout, spec, world in clips:
        cats = {a.category for a in world.actors}
        assert "person" in cats, (layout, spec.seed)
        if layout != "indoor":
            assert cats & {"car", "van", "truck", "bicycle", "motorcycle"}, (layout, spec.seed)
    assert sum(s.dropped_actors for _, s, _ in clips if _ != "indoor") < 0.2 * sum(
        len(s.people) + len(s.vehicles) for _, s, _ in clips)


def test_no_two_footprints_overlap_in_any_frame(clips):
    for layout, spec, world in clips:
        acts = ground_actors(world)
        for t in range(world.num_frames):
            live = [a for a in acts if a.present[t]]
            for i, a in enumerate(live):
                fa = footprint(a, t)
                for b in live[i + 1:]:
                    assert not overlap(fa, footprint(b, t)), \
                        f"{layout} seed {spec.seed} frame {t}: tracks {a.track_id} and {b.track_id} overlap"


def test_no_actor_passes_through_static_obstacles(clips):
    for layout, spec, world in clips:
        rows = build_layout(spec.layout).obstacles.rows
        assert len(rows)
        for a in ground_actors(world):
            for t in np.flatnonzero(a.present):
                f = footprint(a, t)
                if f[0] == "disc":
                    d = point_rect_distance(f[1][None], rows).min()
                    # a visitor steps up to what they visit: their body, not their stride, keeps clear
                    clear = stand_gap(f[2]) if a.attributes.get("behavior") == "visit" else f[2]
                    assert d > clear - 1e-6, f"{layout} seed {spec.seed}: person {a.track_id} in an obstacle at frame {t}"
                else:
                    assert point_rect_distance(boundary_points(f[1]), rows).min() > 0, \
                        f"{layout} seed {spec.seed}: {a.category} {a.track_id} hits an obstacle at frame {t}"
                    assert not inside_polygons(rows[:, :2], [f[1]]).any()


def test_vehicles_stay_on_drivable_ground_and_face_their_motion(clips):
    checked = 0
    for layout, spec, world in clips:
        drivable = build_layout(spec.layout).drivable
        for a in world.actors:
            if a.category in ("person", "bag", "cart"):
                continue
            frames = np.flatnonzero(a.present)
            pts = np.concatenate([np.concatenate([a.position[t:t + 1, :2], rect_corners(
                *a.position[t, :2], a.heading[t], a.attributes["length_m"], a.attributes["width_m"] * 0.9)])
                for t in frames])
            ok = inside_polygons(pts, drivable).reshape(len(frames), 5).all(1)
            assert ok.all(), f"{layout} seed {spec.seed}: {a.track_id} off road at frame {frames[~ok][0]}"
            checked += len(frames)
            step = np.diff(a.position[:, :2], axis=0)
            moving = (np.linalg.norm(step, axis=1) > 0.2) & a.present[1:]
            if moving.any():
                ang = np.arctan2(step[moving, 1], step[moving, 0]) - a.heading[1:][moving]
                assert np.abs(np.angle(np.exp(1j * ang))).max() < np.radians(30)
    assert checked > 100


def test_people_stay_on_walkable_ground(clips):
    for layout, spec, world in clips:
        walkable = build_layout(spec.layout).walkable
        for a in ground_actors(world):
            if a.category == "person":
                pos = a.position[a.present, :2]
                assert inside_polygons(pos, walkable).all(), f"{layout} seed {spec.seed}: {a.track_id}"


def test_entering_actors_appear_out_of_view_and_exist_only_from_then(clips):
    entered = 0
    for layout, spec, world in clips:
        cam = world.camera
        for a in ground_actors(world):
            present = a.present
            first = int(np.argmax(present))
            runs = np.flatnonzero(np.diff(present.astype(int)))
            assert len(runs) <= 2 and (len(runs) < 2 or present[first]), "present is one block of frames"
            if not a.attributes.get("enters") or first == 0:
                continue
            entered += 1
            assert not present[:first].any()
            if a.keypoints is not None:
                pts = a.keypoints[first]
            else:
                c = rect_corners(*a.position[first, :2], a.heading[first], a.attributes["length_m"], a.attributes["width_m"])
                pts = np.concatenate([np.c_[c, np.zeros(4)], np.c_[c, np.full(4, a.attributes["height_m"])]])
            uv, z = cam.project(pts, 0)
            inside = (z > 0) & (uv[:, 0] >= 0) & (uv[:, 0] < cam.width) & (uv[:, 1] >= 0) & (uv[:, 1] < cam.height)
            assert not inside.any(), f"{layout} seed {spec.seed}: {a.track_id} pops up inside the image at {first}"
    assert entered >= 5


def test_riders_and_bags_follow_their_vehicle_or_owner(clips):
    riders = bags = 0
    for layout, spec, world in clips:
        for a in world.actors:
            if "riding_track_id" in a.attributes:
                v = world.actor(a.attributes["riding_track_id"])
                assert v.category in ("bicycle", "motorcycle") and v.attributes["rider_track_id"] == a.track_id
                assert np.array_equal(a.present, v.present)
                assert np.allclose(a.position[:, :2], v.position[:, :2])
                hip = a.keypoints[:, 11:13, 2].mean(1)
                assert np.all((hip > 0.6) & (hip < 1.3)), "riders sit on their saddle"
                riders += 1
            if a.category in ("bag", "cart"):        # carried bags and boxes, pushed prams and trolleys
                o = world.actor(a.attributes["owner_track_id"])
                key = "bag_track_id" if a.attributes["style"] in ("backpack", "handbag") else "prop_track_id"
                assert o.attributes[key] == a.track_id and np.array_equal(a.present, o.present)
                assert o.present.sum() >= 10, "every actor exists for at least 10 frames"
                gap = np.linalg.norm(a.position[:, :2] - o.position[:, :2], axis=1)[o.present]
                assert gap.max() < (0.8 if a.category == "bag" else 1.0)
                bags += 1
    assert riders >= 1 and bags >= 3


def test_people_spread_over_the_image(clips):
    """Placement is even in the image, not only far away where the ground area is large."""
    low = total = 0
    for layout, spec, world in clips:
        for a in ground_actors(world):
            if a.category == "person" and a.present[0]:
                uv, _ = world.camera.project(a.position[0], 0)
                if np.isfinite(uv).all() and 0 <= uv[1] < world.height:
                    total += 1
                    low += uv[1] > world.height / 2
    assert total > 30 and low / total > 0.25


def test_simulate_is_fast():
    recipe = Recipe.model_validate({
        "name": "t", "seed": 1, "output": {"clips": 1, "frames_per_clip": 60, "fps": 10, "resolution": [640, 480]},
        "scene": {"layout": {"type": "parking_lot"}},
        "actors": [{"type": "person", "count": 8, "carries_bag": False},
                   {"type": "vehicle", "count": 3, "behavior": {"choice": ["drive", "parked"]}}]})
    spec = sample_clip(recipe, 0, seed=3, clip_id="t-000000")
    assert len(spec.people) + len(spec.vehicles) == 11
    best = min(_timed(simulate, spec) for _ in range(3))
    assert best < 0.15, f"simulate took {best * 1000:.0f} ms for 11 actors x 60 frames"


def _timed(fn, *args) -> float:
    """CPU seconds of this thread: a busy shared machine stretches wall time, not this."""
    t = time.thread_time()
    fn(*args)
    return time.thread_time() - t
