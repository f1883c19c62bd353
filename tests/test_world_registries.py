"""One battery for every entry of the world/ registries (the torchvision habit): each layout type
builds a usable, deterministic Layout that a clip can be planned in, and each scripted behaviour
produces the event its registry entry names. A new entry without a setup here fails the suite."""
from __future__ import annotations

import pathlib

import numpy as np
import pytest

from synthdata.plan import clip_seed
from synthdata.recipe import load_recipe
from synthdata.recipe.scene import LAYOUTS as RECIPE_LAYOUTS
from synthdata.world.geometry.shapes import points_in_polygon
from synthdata.world.layouts.registry import LAYOUTS, build_layout
from synthdata.world.sample import LAYOUT_DEFAULTS, sample_clip
from synthdata.world.security.behaviours import BEHAVIOURS
from synthdata.world.security.events import EVENT_TYPES
from synthdata.world.simulate import simulate

RECIPES = pathlib.Path(__file__).resolve().parents[1] / "recipes"
LAYOUT_RECIPE = """\
name: layout-battery
seed: 4
output: {{clips: 2, frames_per_clip: 8, fps: 5, resolution: {resolution}}}
scene: {{layout: {{type: {kind}{extra}}}}}
actors:
  - {{type: person, count: 4}}
"""
PLATES = pathlib.Path(__file__).resolve().parents[1] / "examples" / "plates"
# layout type -> (extra layout keys, resolution) it needs; default: none, [64, 48]
LAYOUT_SETUPS = {"plate": (f", plate: {PLATES / 'car_park'}, sketch: {PLATES / 'car_park' / 'sketch.json'}", "[64, 36]")}
# behaviour -> (shipped recipe, overrides) that make it happen in the first clips
BEHAVIOUR_SETUPS = {
    "intrusion": ("security_perimeter_night", ["scenario.intrusion.probability=1", "scenario.intrusion.through=true"]),
    "line_crossing": ("security_perimeter_night", ["scenario.line_crossing.probability=1",
                                                   "scenario.line_crossing.turn_back=false"]),
    "loitering": ("security_lobby", ["scenario.loitering.probability=1"]),
    "abandoned_bag": ("security_lobby", ["scenario.abandoned_bag.probability=1"]),
    "fall": ("security_corridor_fall", ["scenario.fall.probability=1"]),
    "running": ("security_plaza_crowd", ["scenario.running.probability=1"]),
    "crowd": ("security_plaza_crowd", ["scenario.crowd.probability=1"]),
    "illegal_parking": ("security_parking_illegal", ["scenario.illegal_parking.probability=1"]),
    "wrong_way": ("security_plaza_crowd", ["scenario.wrong_way.probability=1"]),
}


def test_every_registered_layout_is_a_recipe_choice_with_defaults():
    assert set(LAYOUTS) == set(RECIPE_LAYOUTS) == set(LAYOUT_DEFAULTS)


@pytest.mark.parametrize("kind", sorted(LAYOUTS))
def test_layout_battery(kind):
    extra, resolution = LAYOUT_SETUPS.get(kind, ("", "[64, 48]"))
    recipe = load_recipe(LAYOUT_RECIPE.format(kind=kind, extra=extra, resolution=resolution))
    spec = sample_clip(recipe, 0, seed=clip_seed(recipe.seed, 0), clip_id="b-000000")
    assert spec.layout.type == kind
    a, b = build_layout(spec.layout), build_layout(spec.layout)
    assert a.type == kind and a.indoor == LAYOUTS[kind].indoor
    assert np.array_equal(a.static.center, b.static.center) and a.static.center.shape[0] == 1   # static, deterministic
    xmin, ymin, xmax, ymax = a.bounds
    assert xmin < xmax and ymin < ymax and a.walkable and a.regions
    for poly in a.walkable:
        assert poly.ndim == 2 and poly.shape[1] == 2 and len(poly) >= 3
    for lane in a.lanes:
        assert len(lane.points) >= 2 and lane.width > 0
    world = simulate(spec)
    people = [x for x in world.actors if x.category == "person"]
    assert len(people) >= 2, "a layout must leave room for people"
    walk = a.walkable
    for p in people:
        xy = p.position[p.present][:, :2]
        inside = np.zeros(len(xy), bool)
        for poly in walk:
            inside |= points_in_polygon(xy, poly)
        assert inside.mean() > 0.9, f"{kind}: person {p.track_id} walks off the walkable ground"


def test_every_registered_behaviour_has_a_setup_and_a_known_event():
    assert set(BEHAVIOUR_SETUPS) == set(BEHAVIOURS)
    assert {b.event for b in BEHAVIOURS.values()} <= set(EVENT_TYPES)


@pytest.mark.parametrize("name", sorted(BEHAVIOURS))
def test_behaviour_battery(name):
    """The actors a behaviour plans produce its event, in at least one of the first clips."""
    recipe_name, overrides = BEHAVIOUR_SETUPS[name]
    recipe = load_recipe(RECIPES / f"{recipe_name}.yaml", ["output.resolution=[64,48]"] + overrides)
    event = BEHAVIOURS[name].event
    for i in range(3):
        spec = sample_clip(recipe, i, seed=clip_seed(recipe.seed, i), clip_id=f"b-{i:06d}")
        acts = [a for a in spec.security.acts if a.behavior == name and a.track_ids]
        if not acts:
            continue
        world = simulate(spec)
        ids = {t for a in acts for t in a.track_ids}
        hits = [e for e in world.events if e.type == event and ({e.track_id} | set(e.track_ids)) & ids]
        assert hits, f"{name}: planned tracks {sorted(ids)} produced no {event} event"
        return
    pytest.fail(f"{name} was never planned in the first clips of {recipe_name}")
