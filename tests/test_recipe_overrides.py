"""KEY=VALUE overrides: they change values, and bad ones are named as the override, not a line."""
from __future__ import annotations

import pytest

from synthdata.errors import RecipeError
from synthdata.recipe import load_recipe
from synthdata.recipe.overrides import apply_overrides, format_path, parse_path
from tests.recipe_texts import WITH_ACTORS

GOOD = WITH_ACTORS


def problems(overrides, text=GOOD) -> list[str]:
    with pytest.raises(RecipeError) as e:
        load_recipe(text, overrides, source="recipe.yaml")
    return e.value.problems


def test_overrides_change_values():
    r = load_recipe(GOOD, ["output.clips=8", "scene.camera.height_m=6.5", "actors[0].count={poisson: 3}",
                           "actors.1.count=5", "output.resolution=[128, 96]", "name=other"])
    assert r.output.clips == 8
    assert r.scene.camera.height_m.sample(None) == 6.5           # a constant needs no rng
    assert r.actors[0].count.to_yaml() == {"poisson": 3.0}
    assert r.actors[1].count.sample(None) == 5
    assert r.output.resolution == (128, 96)
    assert r.name == "other"


def test_later_override_wins_and_file_is_untouched():
    r = load_recipe(GOOD, ["output.clips=8", "output.clips=9"])
    assert r.output.clips == 9
    assert load_recipe(GOOD).output.clips == 4


def test_list_item_override():
    assert load_recipe(GOOD, ["output.resolution[0]=160"]).output.resolution == (160, 64)


def test_path_syntax():
    assert parse_path("actors[0].count") == ["actors", 0, "count"] == parse_path("actors.0.count")
    assert parse_path("a[1][2].b") == ["a", 1, 2, "b"]
    assert format_path(["actors", 1, "count"]) == "actors[1].count"
    for bad in ("a..b", "[0].a", "a.", "a[-1]"):
        with pytest.raises(ValueError):
            parse_path(bad)


def test_unknown_key_from_override_names_the_override():
    [line] = problems(["output.clipz=8"])
    assert line == ("override 'output.clipz=8': output.clipz: unknown key; expected one of clips, "
                    "clips_per_shard, frames_per_clip, fps, resolution, video, masks, modalities, chunk_frames "
                    "(did you mean clips?)")


def test_unknown_section_created_by_override_names_the_override():
    [line] = problems(["scene.camra.height_m=6"])
    assert line.startswith("override 'scene.camra.height_m=6': scene.camra: unknown key; expected one of "
                           "layout, camera, cameras, lighting")


def test_bad_override_value_names_the_override():
    assert problems(["output.clips=0", "actors[1].count=many"]) == [
        "override 'output.clips=0': output.clips: expected a number >= 1, got 0",
        "override 'actors[1].count=many': actors[1].count: expected a whole number or a distribution "
        "such as {randint: [1, 5]} or {poisson: 4}, got 'many'",
    ]


def test_override_replacing_a_mapping_reports_inner_problems_against_it():
    [line] = problems(["actors[0]={type: person, count: {uniform: [1, 2]}}"])
    assert line.startswith("override 'actors[0]={type: person, count: {uniform: [1, 2]}}': actors[0].count: ")


def test_structural_override_errors():
    assert problems(["output.clips", "output.clips.x=1", "actors[5].count=1", "actors.x=1",
                     "output.fps={a: [}"]) == [
        "override 'output.clips': expected KEY=VALUE such as output.clips=8 or scene.camera.height_m=6",
        "override 'output.clips.x=1': output.clips.x: output.clips is 4, not a mapping or list",
        "override 'actors[5].count=1': actors[5]: index out of range; "
        "it has 2 items (actors[0] to actors[1])",
        "override 'actors.x=1': actors.x: actors is a list; use an index such as actors[0]",
        "override 'output.fps={a: [}': YAML syntax error in the value: "
        "expected the node content, but found '}'",
    ]


def test_file_problems_and_override_problems_are_reported_together():
    text = GOOD.replace("seed: 7", "seed: seven")
    assert problems(["nokey"], text) == [
        "recipe.yaml:2: seed: expected a whole number, got 'seven'",
        "override 'nokey': expected KEY=VALUE such as output.clips=8 or scene.camera.height_m=6",
    ]


def test_override_values_are_read_safely():
    [line] = problems(["description=!!python/object/apply:os.system ['echo hi']"])
    assert "YAML syntax error in the value" in line


def test_apply_overrides_updates_line_map_and_copies():
    data = {"output": {"clips": 4}, "actors": [{"count": 1}]}
    lines = {"": 1, "output": 1, "output.clips": 2, "actors": 3, "actors[0]": 4, "actors[0].count": 4}
    out = apply_overrides(data, ["output.clips=8", "actors[0]={count: 2}"], lines)
    assert out == {"output": {"clips": 8}, "actors": [{"count": 2}]}
    assert data["output"]["clips"] == 4
    assert lines["output.clips"] == "override 'output.clips=8'"
    assert lines["actors[0]"] == "override 'actors[0]={count: 2}'" and "actors[0].count" not in lines
    with pytest.raises(RecipeError, match="index out of range"):
        apply_overrides(data, ["actors[1].count=1"], lines)
