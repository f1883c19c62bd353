"""Recipe sections `zones:`, `events:`, `scenario:`: shipped recipes load, mistakes get one
located line, thresholds reach world/security/events.py unchanged."""
from __future__ import annotations

import dataclasses
import pathlib
import textwrap

import pytest

from synthdata.errors import RecipeError
from synthdata.recipe import load_recipe
from synthdata.recipe.security import EventsSpec
from synthdata.world.security.events import EventConfig

ROOT = pathlib.Path(__file__).resolve().parents[1]
SHIPPED = sorted((ROOT / "recipes").glob("security_*.yaml"))
BASE = textwrap.dedent("""\
    name: sec
    seed: 1
    output: {clips: 1, frames_per_clip: 10, fps: 10, resolution: [64, 48]}
    """)


def problems(text: str) -> list[str]:
    with pytest.raises(RecipeError) as e:
        load_recipe(text)
    return e.value.problems


def test_five_shipped_security_recipes_load_with_a_scenario():
    assert {p.stem for p in SHIPPED} == {"security_perimeter_night", "security_lobby", "security_parking_illegal",
                                         "security_plaza_crowd", "security_corridor_fall"}
    for path in SHIPPED:
        r = load_recipe(path)
        assert any(v is not None for _, v in r.scenario), path.name


def test_event_thresholds_in_the_recipe_are_the_detector_config():
    spec_fields = {k: f.default for k, f in EventsSpec.model_fields.items()}
    config_fields = {f.name: f.default for f in dataclasses.fields(EventConfig)}
    assert spec_fields == config_fields
    r = load_recipe(BASE + "events: {loitering_s: 4.5, crowd_min_people: 3}\n")
    cfg = EventConfig.from_dict(r.events.model_dump())
    assert (cfg.loitering_s, cfg.crowd_min_people, cfg.abandoned_s) == (4.5, 3, EventConfig().abandoned_s)


def test_recipes_without_security_sections_still_load():
    r = load_recipe(BASE)
    assert r.zones == [] and r.scenario.intrusion is None and r.events.loitering_s == EventConfig().loitering_s


@pytest.mark.parametrize("extra, expect", [
    ("zones:\n  - {name: a, rol: restricted}\n", "<recipe>:5: zones[0].rol: unknown key"),
    ("zones:\n  - {name: a, kind: tripwire, points: [[0, 0]]}\n", "a tripwire needs at least 2 points, got 1"),
    ("zones:\n  - {name: a, role: lane}\n", "<recipe>:5: zones[0]: a lane zone needs direction_deg"),
    ("zones:\n  - {name: 'a b'}\n", "expected letters, digits"),
    ("zones:\n  - {name: a}\n  - {name: a}\n", "<recipe>:4: zones: [1].name: 'a' is used twice"),
    ("scenario:\n  intrusion: {zone: yard}\n", "<recipe>:4: scenario: intrusion.zone: no zone named 'yard'"),
    ("scenario:\n  intrusion: {}\n", "scenario: intrusion: needs a zone with role restricted"),
    ("zones:\n  - {name: a, role: loitering}\nscenario:\n  illegal_parking: {zone: a}\n",
     "scenario: illegal_parking.zone: 'a' is not a zone with role no_parking"),
    ("scenario:\n  loitering: {probability: 1.5}\n", "scenario.loitering.probability: expected a number <= 1"),
    ("scenario:\n  crowd: {size: many}\n", "scenario.crowd.size: expected a whole number"),
    ("events: {fall_height_fraction: 0.8}\n", "fall_height_fraction must be below fall_up_fraction"),
    ("zones:\n  - {name: l, role: lane, direction_deg: 0}\nscenario:\n  wrong_way: {actor: person}\n",
     "whose categories include person"),
])
def test_mistakes_get_one_clear_line(extra, expect):
    lines = problems(BASE + extra)
    assert len(lines) == 1 and expect in lines[0], lines


def test_distributions_round_trip_through_the_resolved_recipe():
    from synthdata.recipe import recipe_to_yaml
    r = load_recipe(BASE + textwrap.dedent("""\
        zones:
          - {name: yard, region: lot, at: [{uniform: [0.2, 0.8]}, 0.5], size_m: [8, {randint: [3, 5]}]}
        scenario:
          intrusion: {probability: 0.5, through: {bernoulli: 0.7}, start_s: {normal: [3, 1], clip: [0, 6]}}
        """))
    again = load_recipe(recipe_to_yaml(r))
    assert again == r
