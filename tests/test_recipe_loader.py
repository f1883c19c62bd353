"""Loading recipes: every problem reported as `file:line: dotted.path: what was expected`."""
from __future__ import annotations

import textwrap

import pytest

from synthdata.errors import BadInput, RecipeError
from synthdata.recipe import Dist, Recipe, load_recipe, recipe_to_yaml
from synthdata.recipe.loader import parse_yaml, validate
from synthdata.recipe.types import Choice, Flag, Int, Model, Num
from tests.recipe_texts import MINIMAL

GOOD = MINIMAL


@pytest.fixture
def recipe_file(tmp_path, monkeypatch):
    """Write YAML to ./recipe.yaml (so messages say 'recipe.yaml:LINE') and return its name."""
    monkeypatch.chdir(tmp_path)

    def write(text: str) -> str:
        (tmp_path / "recipe.yaml").write_text(textwrap.dedent(text))
        return "recipe.yaml"
    return write


def problems(path_or_text, overrides=()) -> list[str]:
    with pytest.raises(RecipeError) as e:
        load_recipe(path_or_text, list(overrides))
    assert str(e.value) == "\n".join(e.value.problems)
    return e.value.problems


def test_good_recipe_loads_with_defaults(recipe_file):
    r = load_recipe(recipe_file(GOOD))
    assert isinstance(r, Recipe)
    assert (r.name, r.seed, r.output.clips, r.output.resolution) == ("demo", 7, 4, (96, 64))
    assert r.output.fps == 10.0 and r.output.clips_per_shard == 16
    assert load_recipe(GOOD) == r                      # YAML text works as well as a path


def test_unknown_key_names_line_path_and_closest_key(recipe_file):
    path = recipe_file(GOOD + "scene:\n  camera:\n    heigth_m: 3\n")
    [line] = problems(path)
    assert line.startswith("recipe.yaml:10: scene.camera.heigth_m: unknown key; expected one of height_m, "
                           "tilt_deg, ")
    assert line.endswith("(did you mean height_m?)")


def test_unknown_top_level_key_without_close_match(recipe_file):
    [line] = problems(recipe_file(GOOD + "zzz: 1\n"))
    assert line == ("recipe.yaml:8: zzz: unknown key; expected one of version, name, description, seed, "
                    "output, scene, actors, zones, events, scenario, postprocess, mix")


def test_bad_count_in_second_actor_group(recipe_file):
    path = recipe_file(GOOD + textwrap.dedent("""\
        actors:
          - type: vehicle
            count: 2
          - type: person
            count: many
        """))
    assert problems(path) == [
        "recipe.yaml:12: actors[1].count: expected a whole number or a distribution such as "
        "{randint: [1, 5]} or {poisson: 4}, got 'many'"]


def test_integer_field_rejects_uniform(recipe_file):
    [line] = problems(recipe_file(GOOD + "actors:\n  - {type: person, count: {uniform: [1, 3]}}\n"))
    assert line.startswith("recipe.yaml:9: actors[0].count: expected a whole number")
    assert line.endswith("got {uniform: [1, 3]} (which gives fractions)")


def test_wrong_types_and_bad_distribution_each_reported(recipe_file):
    path = recipe_file("""\
        name: demo
        seed: seven
        output:
          clips: 0
          frames_per_clip: 8
          fps: 10
          resolution: [96, 63]
        scene:
          camera:
            tilt_deg: {uniform: [50, 10]}
        """)
    assert problems(path) == [
        "recipe.yaml:2: seed: expected a whole number, got 'seven'",
        "recipe.yaml:4: output.clips: expected a number >= 1, got 0",
        "recipe.yaml:7: output.resolution: expected [width, height], even numbers between 16 and 8192, "
        "got [96, 63]",
        "recipe.yaml:10: scene.camera.tilt_deg: {uniform: [a, b]} needs a <= b, got [50, 10]",
    ]


def test_list_item_error_points_at_the_item(recipe_file):
    path = recipe_file(GOOD.replace("[96, 64]", "\n    - 96\n    - wide"))
    assert problems(path) == ["recipe.yaml:9: output.resolution[1]: expected a whole number, got 'wide'"]


def test_missing_required_key_points_at_parent_mapping(recipe_file):
    path = recipe_file(GOOD.replace("  fps: 10\n", ""))
    assert problems(path) == ["recipe.yaml:3: output.fps: missing required key"]


def test_actor_type_problems(recipe_file):
    path = recipe_file(GOOD + "actors:\n  - type: persn\n  - count: 3\n  - 5\n")
    assert problems(path) == [
        "recipe.yaml:9: actors[0].type: expected one of person, vehicle, got 'persn'",
        "recipe.yaml:10: actors[1]: missing key 'type' (one of person, vehicle)",
        "recipe.yaml:11: actors[2]: expected a mapping (key: value), got 5",
    ]


def test_messages_carry_no_pydantic_noise(recipe_file):
    path = recipe_file("name: 'a b'\nseed: -1\noutput: {clips: x}\nversion: 1\n")
    text = "\n".join(problems(path))
    assert "Value error" not in text and "For further information" not in text
    assert "errors.pydantic.dev" not in text and "Input should" not in text
    assert "recipe.yaml:1: name: expected letters, digits" in text


def test_version_other_than_1_is_refused(recipe_file):
    assert problems(recipe_file("version: 2\n" + GOOD)) == [
        "recipe.yaml:1: version: unsupported recipe version 2; this synthdata reads version 1 recipes"]


def test_yaml_syntax_error_has_line(recipe_file):
    [line] = problems(recipe_file(GOOD + "scene: [camera\n"))
    assert line.startswith("recipe.yaml:9: YAML syntax error: ")


def test_yaml_python_objects_are_refused(recipe_file, tmp_path):
    path = recipe_file(GOOD + "description: !!python/object/apply:os.system ['touch pwned']\n")
    [line] = problems(path)
    assert line == ("recipe.yaml:8: YAML syntax error: !!python/object/apply:os.system is not allowed "
                    "(a recipe never runs code)")
    assert not (tmp_path / "pwned").exists()


def test_not_a_mapping_and_empty(recipe_file):
    assert problems(recipe_file("- 1\n- 2\n")) == [
        "recipe.yaml:1: expected a mapping of recipe keys (name, seed, output, ...), got a list"]
    assert problems(recipe_file("# nothing\n")) == [
        "recipe.yaml: the recipe is empty; expected a mapping with name, seed and output"]


def test_missing_file_is_bad_input_in_one_line(tmp_path):
    with pytest.raises(BadInput) as e:
        load_recipe(tmp_path / "nope.yaml")
    assert str(e.value) == f"{tmp_path / 'nope.yaml'}: recipe file not found"
    assert not isinstance(e.value, RecipeError) or "\n" not in str(e.value)


def test_duplicate_key_reported_with_both_lines(recipe_file):
    assert problems(recipe_file(GOOD + "seed: 8\n")) == [
        "recipe.yaml:8: seed: duplicate key (first given on line 2)"]


def test_alias_bomb_refused_quickly():
    text = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 10)}]\n" for i in range(7))
    [line] = problems(text)
    assert "expands to more than" in line


def test_merge_keys_and_aliases_work(recipe_file):
    path = recipe_file("""\
        base: &out {clips: 4, frames_per_clip: 8, fps: 10, resolution: [96, 64]}
        name: demo
        seed: 1
        output:
          <<: *out
          clips: 0
        """)
    assert problems(path) == [
        "recipe.yaml:1: base: unknown key; expected one of version, name, description, seed, output, scene, "
        "actors, zones, events, scenario, postprocess, mix",
        "recipe.yaml:6: output.clips: expected a number >= 1, got 0"]


def test_round_trip_of_resolved_recipe(recipe_file):
    path = recipe_file(GOOD + textwrap.dedent("""\
        scene:
          camera:
            height_m: {normal: [5, 1], clip: [2, 8]}
            tilt_deg: {choice: [20, 30.5]}
            model: {choice: {pinhole: 3, fisheye: 1}}
        actors:
          - {type: person, count: {poisson: 3}, carries_bag: {choice: {true: 1, false: 3}}}
          - {type: vehicle, count: {choice: {1: 0.1, 2: 0.2, 3: 0.7}}}
          - {type: person, count: {randint: [1, 4]}, carries_bag: true}
        """))
    r = load_recipe(path, ["output.clips=9"])
    text = recipe_to_yaml(r)
    again = load_recipe(text)
    assert again == r
    assert again.output.clips == 9
    assert recipe_to_yaml(again) == text
    assert "height_m: {normal: [5.0, 1.0], clip: [2.0, 8.0]}" in text     # distributions stay readable
    assert "carries_bag: {bernoulli: 0.2}" not in text                     # the group's own value kept
    assert "clips_per_shard: 16" in text                                   # defaults written out


class AllKinds(Model):
    """One field of each recipe value type, to check the generic loader machinery."""

    ratio: Num(0, 1) = 0.5
    count: Int(0, 10) = 1
    mood: Choice("calm", "busy") = "calm"
    lit: Flag = True
    size: tuple[float, float] = (1.0, 2.0)


@pytest.mark.parametrize("body", [
    "ratio: 0.25\ncount: 3\nmood: busy\nlit: false\n",
    "ratio: {uniform: [0.1, 0.9]}\ncount: {randint: [1, 4]}\nmood: {choice: [calm, busy]}\n"
    "lit: {bernoulli: 0.3}\n",
    "ratio: {normal: [0.5, 0.1], clip: [0, 1]}\ncount: {poisson: 2}\nmood: {choice: {calm: 2, busy: 1}}\n"
    "lit: {choice: {true: 0.7, false: 0.3}}\n",
    "ratio: {choice: {0.1: 0.1, 0.2: 0.2, 0.7: 0.7}}\ncount: {choice: [0, 10]}\n",
])
def test_every_field_kind_round_trips(body):
    data, lines, dups = parse_yaml(body, "t.yaml")
    m = validate(data, lines, "t.yaml", AllKinds, dups)
    text = recipe_to_yaml(m)
    data2, lines2, _ = parse_yaml(text, "t2.yaml")
    assert validate(data2, lines2, "t2.yaml", AllKinds) == m
    assert all(isinstance(getattr(m, f), Dist) for f in ("ratio", "count", "mood", "lit"))


def test_generic_model_messages():
    body = "ratio: 2\ncount: 1.5\nmood: angry\nlit: maybe\nsize: [1, 2, 3]\n"
    data, lines, _ = parse_yaml(body, "t.yaml")
    with pytest.raises(RecipeError) as e:
        validate(data, lines, "t.yaml", AllKinds)
    assert e.value.problems == [
        "t.yaml:1: ratio: expected a number <= 1, got 2",
        "t.yaml:2: count: expected a whole number or a distribution such as {randint: [1, 5]} or "
        "{poisson: 4}, got 1.5",
        "t.yaml:3: mood: expected one of calm, busy, got 'angry'",
        "t.yaml:4: lit: expected true, false or {bernoulli: p}, got 'maybe'",
        "t.yaml:5: size: expected at most 2 items, got 3",
    ]


def test_plate_paths_come_from_the_recipe_folder_when_they_exist_there(tmp_path, monkeypatch):
    """Shipped plate recipes run from any directory; a path that only exists relative to the
    working directory (how older recipes were written) still means that."""
    from synthdata.recipe.loader import _paths_from_recipe_dir

    (tmp_path / "recipes").mkdir()
    (tmp_path / "plates" / "a").mkdir(parents=True)
    recipe = tmp_path / "recipes" / "r.yaml"
    data = {"scene": {"layout": {"type": "plate", "plate": "../plates/a", "sketch": "plates/a/s.json"}}}
    monkeypatch.chdir(tmp_path)
    out = _paths_from_recipe_dir(data, str(recipe))["scene"]["layout"]
    assert out["plate"] == str(tmp_path / "recipes" / "../plates/a")       # exists from the recipe's folder
    assert out["sketch"] == "plates/a/s.json"                              # kept: relative to where you run
