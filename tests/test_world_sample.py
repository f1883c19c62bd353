"""Sampling a clip: deterministic in its seed, JSON round trip, shipped recipes, layouts, lighting."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from synthdata.recipe.schema import Recipe
from synthdata.world.geometry.shapes import inside_any
from synthdata.world.layouts.registry import build_layout
from synthdata.world.sample import sample_clip
from synthdata.world.simulate import simulate
from synthdata.world.spec import ClipSpec

RECIPES = Path(__file__).resolve().parents[1] / "recipes"
SHIPPED = ("parking_lot_day", "street_plaza", "indoor_lobby")


def recipe(layout: str = "parking_lot", **scene) -> Recipe:
    return Recipe.model_validate({
        "name": "t", "seed": 5, "output": {"clips": 2, "frames_per_clip": 20, "fps": 10, "resolution": [96, 64]},
        "scene": {"layout": {"type": layout}, **scene},
        "actors": [{"type": "person", "count": 5, "behavior": {"choice": ["walk", "stand", "loiter", "run"]},
                    "carries_bag": {"bernoulli": 0.5}},
                   {"type": "vehicle", "count": 3, "kind": {"choice": ["car", "bicycle", "motorcycle", "van"]},
                    "behavior": {"choice": ["drive", "park", "parked"]}}]})


def assert_worlds_equal(a, b) -> None:
    assert a.num_frames == b.num_frames and a.fps == b.fps
    for name in ("R", "C", "fx", "fy"):
        assert np.array_equal(getattr(a.camera, name), getattr(b.camera, name))
    assert a.lighting == b.lighting and a.ground.color == b.ground.color and len(a.ground.paint) == len(b.ground.paint)
    for name in ("kind", "center", "end", "axes", "size", "color", "material"):
        assert np.array_equal(getattr(a.static, name), getattr(b.static, name))
    assert [x.track_id for x in a.actors] == [x.track_id for x in b.actors]
    for x, y in zip(a.actors, b.actors):
        assert x.category == y.category and x.attributes == y.attributes
        for name in ("position", "heading", "present"):
            assert np.array_equal(getattr(x, name), getattr(y, name))
        for name in ("center", "end", "axes", "size", "color"):
            assert np.array_equal(getattr(x.shapes, name), getattr(y.shapes, name))
        assert (x.keypoints is None) == (y.keypoints is None)
        if x.keypoints is not None:
            assert np.array_equal(x.keypoints, y.keypoints)
    assert (a.texture_seed, a.noise_seed) == (b.texture_seed, b.noise_seed)


@pytest.mark.parametrize("layout", ["parking_lot", "street", "indoor"])
def test_same_seed_same_clip_and_other_seeds_differ(layout):
    r = recipe(layout)
    a = sample_clip(r, 0, seed=11, clip_id="t-000000").to_json()
    b = sample_clip(r, 0, seed=11, clip_id="t-000000").to_json()
    c = sample_clip(r, 0, seed=12, clip_id="t-000000").to_json()
    assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)
    assert a != c
    assert a["layout"] != c["layout"] and a["people"] != c["people"]


def test_sampling_does_not_touch_the_global_rng():
    np.random.seed(0)
    before = np.random.random(3)
    np.random.seed(0)
    sample_clip(recipe(), 0, seed=3, clip_id="t-000000")
    assert np.array_equal(np.random.random(3), before)


@pytest.mark.parametrize("layout", ["parking_lot", "street", "indoor"])
def test_clipspec_json_round_trip_simulates_the_same_world(layout):
    spec = sample_clip(recipe(layout), 1, seed=21, clip_id="t-000001")
    text = json.dumps(spec.to_json())
    again = ClipSpec.from_json(json.loads(text))
    assert again.to_json() == spec.to_json()
    assert_worlds_equal(simulate(spec), simulate(again))


def test_clipspec_rejects_unknown_keys_and_versions():
    d = sample_clip(recipe(), 0, seed=1, clip_id="t-000000").to_json()
    with pytest.raises(ValueError, match="unknown keys"):
        ClipSpec.from_json({**d, "surprise": 1})
    with pytest.raises(ValueError, match="version"):
        ClipSpec.from_json({**d, "version": 99})


def test_spec_holds_concrete_values_only():
    d = sample_clip(recipe("street"), 0, seed=4, clip_id="t-000000").to_json()

    def walk(v):
        if isinstance(v, dict):
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)
        else:
            assert v is None or type(v) in (int, float, str, bool), (type(v), v)
    walk(d)
    assert d["width"] == 96 and d["height"] == 64 and d["num_frames"] == 20 and d["fps"] == 10.0
    assert d["people"] and all(len(p["track"]["t"]) == len(p["track"]["xy"]) == len(p["track"]["yaw"])
                              for p in d["people"])


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_recipes_validate_and_generate(name):
    text = (RECIPES / f"{name}.yaml").read_text()
    r = Recipe.model_validate(yaml.safe_load(text))
    assert r.output.resolution == (640, 480)
    try:
        from synthdata.recipe.loader import load_recipe
    except ImportError:
        load_recipe = None
    if load_recipe is not None:
        assert load_recipe(RECIPES / f"{name}.yaml").model_dump() == r.model_dump()
    small = r.model_copy(update={"output": r.output.model_copy(update={"resolution": (160, 120), "frames_per_clip": 20})})
    spec = sample_clip(small, 0, seed=9, clip_id=f"{name}-000000")
    world = simulate(spec)
    assert spec.layout.type == {"parking_lot_day": "parking_lot", "street_plaza": "street",
                                "indoor_lobby": "indoor"}[name]
    people = [a for a in world.actors if a.category == "person"]
    assert len(people) >= 4 and spec.dropped_actors == 0


@pytest.mark.parametrize("layout", ["parking_lot", "street", "indoor"])
def test_layouts_build_occluders_paint_and_regions(layout):
    spec = sample_clip(recipe(layout), 0, seed=2, clip_id="t-000000")
    lay = build_layout(spec.layout)
    assert lay.static.num_shapes >= 10 and lay.static.num_frames == 1
    assert len(lay.obstacles) >= 3 and lay.ground.paint and lay.walkable and lay.regions
    assert lay.indoor == (layout == "indoor")
    if layout == "indoor":
        assert lay.doors and lay.ceiling_m and not lay.lanes
    else:
        assert lay.lanes and lay.drivable
    key = {"parking_lot": "lot", "street": "road", "indoor": "floor"}[layout]
    assert key in lay.regions
    # Bays are drivable, free of obstacles and do not overlap each other.
    for bay in lay.bays:
        poly = bay.polygon()
        inner = bay.center + 0.95 * (poly - bay.center)
        assert inside_any(inner, lay.drivable).all() and lay.obstacles.distance(inner).min() > 0
    centres = np.array([b.center for b in lay.bays]).reshape(-1, 2)
    if len(centres) > 1:
        gaps = np.linalg.norm(centres[:, None] - centres[None], axis=-1) + np.eye(len(centres)) * 99
        assert gaps.min() >= min(min(b.width, b.length) for b in lay.bays) - 1e-9
    # Obstacles stand clear of every lane centreline.
    for lane in lay.lanes:
        s = np.linspace(0, 1, 400)[:, None]
        pts = lane.points[0] * (1 - s) + lane.points[-1] * s
        assert lay.obstacles.distance(pts).min() > 1.0


def test_layout_is_varied_by_the_recipe():
    r = recipe("parking_lot")
    r = r.model_copy(update={"scene": r.scene.model_copy(update={"layout": r.scene.layout.model_copy(update={
        "size_m": None})})})
    sizes = {tuple(sample_clip(r, 0, seed=s, clip_id="t").layout.size_m) for s in range(5)}
    assert len(sizes) == 5
    fixed = Recipe.model_validate({**r.model_dump(mode="json"), "scene": {"layout": {
        "type": "parking_lot", "size_m": [30, 40], "trees": 0, "light_poles": 0, "bay_rows": 2}}})
    lay = build_layout(sample_clip(fixed, 0, seed=1, clip_id="t").layout)
    assert lay.bounds == (-15.0, 0.0, 15.0, 40.0) and not lay.lamps
    assert len({tuple(b.center[1:]) for b in lay.bays}) == 2      # two rows


@pytest.mark.parametrize("tod", ["day", "dusk", "night"])
def test_lighting_follows_time_of_day(tod):
    r = recipe("street", lighting={"time_of_day": tod, "sun_azimuth_deg": 90})
    spec = sample_clip(r, 0, seed=3, clip_id="t")
    light = simulate(spec).lighting
    assert light.time_of_day == tod
    sun = np.asarray(light.sun_direction)
    assert abs(np.linalg.norm(sun) - 1) < 1e-9 and sun[0] > 0 and abs(sun[1]) < 1e-9
    if tod == "day":
        assert 25 <= spec.lighting.sun_elevation_deg <= 65 and light.sun_intensity > 0.2 and not light.point_lights
    if tod == "dusk":
        assert spec.lighting.sun_elevation_deg <= 10 and light.point_lights
    if tod == "night":
        assert light.sun_intensity < 0.05 and light.ambient_intensity < 0.1 and light.point_lights
        assert max(light.sky_top) < 0.05


def test_indoor_is_lit_by_ceiling_lights_and_drops_vehicles():
    spec = sample_clip(recipe("indoor"), 0, seed=3, clip_id="t")
    world = simulate(spec)
    assert world.indoor and world.lighting.time_of_day == "indoor" and world.lighting.point_lights
    ceiling = spec.layout.ceiling_m
    assert all(0 < p.position[2] < ceiling for p in world.lighting.point_lights)
    assert spec.camera.position[2] < ceiling and 0 < spec.camera.position[1] < spec.layout.size_m[1]
    assert not spec.vehicles and spec.dropped_actors == 3
