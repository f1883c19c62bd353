"""`synthdata draft` / `synthdata schema` on the command line: files, --from, stderr reports, bad input,
events of drafted scenarios, tiny previews, and the JSON Schema."""
from __future__ import annotations

import json
from pathlib import Path
import subprocess
import sys

import jsonschema
import numpy as np
import pytest
import yaml

import synthdata
from synthdata.errors import BadInput
from synthdata.recipe import load_recipe
from synthdata.recipe.draft.cli import rule_based
from synthdata.recipe.draft.grammar import read
from synthdata.recipe.draft.mapping import build

TINY = ["output.resolution=[160, 120]", "output.frames_per_clip=2", "output.clips=1"]


def synthdata_cli(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "synthdata.cli", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120)


def run_main(capsys, monkeypatch, *args: str, cwd=None) -> tuple[int, str, str]:
    """`synthdata ARGS` in this process (exit status, stdout, stderr): the same error handling."""
    from synthdata.cli import main

    if cwd is not None:
        monkeypatch.chdir(cwd)
    capsys.readouterr()
    with pytest.raises(SystemExit) as e:
        main(list(args))
    out, err = capsys.readouterr()
    return e.value.code, out, err


def test_draft_writes_a_valid_commented_recipe(tmp_path):
    out = tmp_path / "night.yaml"
    p = synthdata_cli("draft", "night car park, light rain, someone loiters by the gate", "--out", str(out))
    assert p.returncode == 0, p.stderr
    assert "wrote" in p.stdout and "clips" in p.stdout
    recipe = load_recipe(out)
    assert recipe.scene.lighting.time_of_day.args == ("night",)
    assert recipe.scenario.loitering is not None and recipe.scenario.loitering.zone == "gate"
    text = out.read_text()
    assert "# from 'night'" in text and "# default:" in text


def test_unknown_words_are_reported_on_stderr_never_dropped():
    p = synthdata_cli("draft", "a forklift and a dog in a warehose parking lot")
    assert p.returncode == 0, p.stderr
    err = p.stderr.splitlines()
    assert "ignored: 'forklift' — no such actor in synthdata; nearest: vehicle kind van" in err
    assert any(line.startswith("ignored: 'dog'") for line in err)
    assert any(line.startswith("ignored: 'warehose'") and "warehouse" in line for line in err)
    # and in the recipe itself, so the file says what was left out
    assert "# Not used: 'forklift'" in p.stdout
    load_recipe(p.stdout)


def test_stderr_lists_unused_numbers_places_and_durations():
    _, messages = rule_based("a quiet lobby, 7, near the fountain", None, None)
    assert any("'7'" in m for m in messages)
    assert any("near the fountain" in m and "no loitering" in m for m in messages)


@pytest.mark.parametrize("args,expected", [
    (("draft", ""), "TEXT is empty"),
    (("draft", "   "), "TEXT is empty"),
    (("draft", "night", "--from", "missing.yaml"), "--from missing.yaml: recipe file not found"),
    (("draft", "night", "--from", "."), "is a directory"),
    (("draft", "night", "--llm", "http://127.0.0.1:9"), "--llm needs --model"),
    (("draft", "night", "--out", "no/such/dir/r.yaml"), "--out no/such/dir/r.yaml: cannot write"),
    (("schema", "--out", "no/such/dir/s.json"), "cannot write the schema"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, monkeypatch, args, expected):
    code, out, err = run_main(capsys, monkeypatch, *args, cwd=tmp_path)
    assert code == 2, (out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], err


def test_bad_input_from_the_real_entry_point(tmp_path):
    p = synthdata_cli("draft", "", cwd=tmp_path)
    assert p.returncode == 2 and p.stderr.count("\n") == 1 and "TEXT is empty" in p.stderr


def test_unreadable_or_invalid_from_recipe(tmp_path, capsys, monkeypatch):
    (tmp_path / "bad.yaml").write_bytes(b"\xff\xfe\x00 not text")
    code, _, err = run_main(capsys, monkeypatch, "draft", "night", "--from", "bad.yaml", cwd=tmp_path)
    assert code == 2 and "not a UTF-8 text file" in err
    (tmp_path / "invalid.yaml").write_text("name: x\nseed: 1\n")
    code, _, err = run_main(capsys, monkeypatch, "draft", "night", "--from", "invalid.yaml", cwd=tmp_path)
    assert code == 2 and "invalid.yaml" in err and "output" in err


def test_from_changes_only_what_the_text_says(tmp_path):
    base_path = "recipes/parking_lot_day.yaml"
    import pathlib
    root = pathlib.Path(__file__).resolve().parents[1]
    base = yaml.safe_load((root / base_path).read_text())
    text, messages = rule_based("make it night with light fog; 30 people walking; 3 vans parked",
                                base, base_path)
    new = yaml.safe_load(text)
    load_recipe(text)
    assert new["scene"]["lighting"]["time_of_day"] == "night"
    assert new["scene"]["weather"] == {"condition": "fog", "fog_visibility_m": {"uniform": [200, 600]}}
    assert new["actors"][0]["count"] == 30 and new["actors"][0]["behavior"] == "walk"
    assert new["actors"][2] == {"type": "vehicle", "count": 3, "kind": "van", "behavior": "parked"}
    # everything the text did not mention is exactly the base's
    for key in ("name", "seed", "description", "output"):
        assert new[key] == base[key]
    assert new["scene"]["layout"] == base["scene"]["layout"]
    assert new["scene"]["camera"] == base["scene"]["camera"]
    for k, v in base["scene"]["lighting"].items():
        if k != "time_of_day":
            assert new["scene"]["lighting"][k] == v
    assert {k: v for k, v in new["actors"][0].items() if k not in ("count", "behavior")} == \
        {k: v for k, v in base["actors"][0].items() if k not in ("count", "behavior")}
    assert new["actors"][1] == base["actors"][1]
    assert not messages


def test_from_edits_the_base_text_in_place_keeping_its_comments():
    import pathlib
    root = pathlib.Path(__file__).resolve().parents[1]
    base_text = (root / "recipes/parking_lot_day.yaml").read_text()
    base = yaml.safe_load(base_text)
    said = "make it night with light fog; 30 people walking; 3 vans parked; someone falls sometimes"
    patched, _ = rule_based(said, base, "parking_lot_day.yaml", base_text)
    rewritten, _ = rule_based(said, base, "parking_lot_day.yaml")
    assert yaml.safe_load(patched) == yaml.safe_load(rewritten)       # the same recipe either way
    load_recipe(patched)
    assert "# rows of painted bays between two-way aisles" in patched   # the base's own comments stay
    assert "# Anywhere a number or a choice may vary" in patched
    assert "time_of_day: night" in patched and "# from 'night' (was day)" in patched
    assert "count: 30" in patched and "(was {randint: [6, 10]})" in patched
    kept = [line for line in base_text.splitlines() if "time_of_day" not in line and "count: {randint: [6, 10]}"
            not in line and "behavior: {choice: {walk" not in line and "frames_per_clip" not in line]
    assert all(line in patched.splitlines() for line in kept)           # every other line is untouched
    assert "only what the text names was changed (marked 'was ...')" in patched


def test_from_adds_a_scenario_with_its_zone_and_keeps_existing_zones(tmp_path):
    import pathlib
    root = pathlib.Path(__file__).resolve().parents[1]
    base = yaml.safe_load((root / "recipes/security_lobby.yaml").read_text())
    text, _ = rule_based("sometimes someone falls; an intruder sneaks into the restricted area", base, "x")
    new = yaml.safe_load(text)
    recipe = load_recipe(text)
    assert new["zones"] == base["zones"]                 # staff_only is already a restricted zone
    assert recipe.scenario.fall.probability.args == (0.4,)
    assert recipe.scenario.intrusion is not None and new["scenario"]["loitering"] == base["scenario"]["loitering"]


def test_from_on_the_command_line(tmp_path, capsys, monkeypatch):
    import pathlib
    root = pathlib.Path(__file__).resolve().parents[1]
    out = tmp_path / "r.yaml"
    code, _, err = run_main(capsys, monkeypatch, "draft", "at dusk, 1080p", "--from",
                            str(root / "recipes/street_plaza.yaml"), "--out", str(out))
    assert code == 0, err
    r = load_recipe(out)
    assert r.output.resolution == (1920, 1080) and r.scene.lighting.time_of_day.args == ("dusk",)
    assert r.name == "street_plaza" and r.seed == 7


# Scenario drafts are simulated for real (clip 0 at 5 fps): the scripted behaviour happens and its
# event is labelled, so the zones the draft placed exist in the layout.
@pytest.mark.parametrize("text,event", [
    ("night car park, light rain, someone loiters by the gate", "loitering"),
    ("people walking the wrong way in a corridor", "wrong_way"),
    ("somebody sprays paint on the camera in a car park", "camera_tamper"),
    ("someone leaves a backpack in the lobby and it is later picked up by someone else", "object_removed"),
    ("an intruder enters the restricted area at night", "intrusion"),
])
def test_drafted_scenarios_produce_their_events(text, event):
    recipe_text, _ = rule_based(text, None, None)
    recipe = load_recipe(recipe_text, ["output.fps=5", "output.resolution=[160, 120]"])
    world = synthdata.simulate(synthdata.sample_clip(recipe, 0))
    assert event in {e.type for e in world.events}


@pytest.mark.parametrize("text", [
    "night car park, light rain, someone loiters by the gate",
    "a van goes the wrong way down a one-way street at dusk, 1080p",
    "corridor with a fisheye ptz camera, a person falls, someone covers the camera",
])
def test_drafts_preview(text):
    recipe_text, _ = rule_based(text, None, None)
    clip = synthdata.render_clip(load_recipe(recipe_text, TINY), 0, device="cpu")
    assert clip.frames.shape == (2, 120, 160, 3)
    assert np.ptp(clip.frames) > 0


def test_plate_directory(tmp_path):
    from synthdata.recipe.draft.plates import PlateFacts

    reading = read("night footage, plate plates/gate_cam/, someone loiters, an intruder, 1080p")
    assert reading.plate is not None and reading.plate.value == "plates/gate_cam/"
    draft = build(reading, None, plate=None)          # a synthdata without plate layouts
    assert any("plate" in w and "no plate layout" in why for w, why in draft.ignored)
    facts = PlateFacts("plates/gate_cam/", "plates/gate_cam/sketch.json", (768, 432),
                       [{"name": "yard", "kind": "zone", "role": "restricted"}])
    draft = build(read("night footage, plate plates/gate_cam/, someone loiters, an intruder, 1080p"), None,
                  plate=facts)
    assert draft.data["scene"]["layout"] == {"type": "plate", "plate": "plates/gate_cam/",
                                             "sketch": "plates/gate_cam/sketch.json"}
    assert "camera" not in draft.data["scene"]                    # the plate's calibration decides
    assert draft.data["output"]["resolution"] == [1920, 1080]     # 16:9 like the plate
    assert "zones" not in draft.data and "intrusion" in draft.data["scenario"]   # the sketch's yard
    draft = build(read("plate plates/gate_cam/, vga"), None, plate=facts)
    assert draft.data["output"]["resolution"] == [854, 480] and draft.warnings


def test_plate_folder_problems_are_one_line(tmp_path):
    from synthdata.recipe.draft.plates import plate_supported, read_plate

    if not plate_supported():
        pytest.skip("this synthdata has no plate layout")
    with pytest.raises(BadInput, match="no such folder"):
        read_plate(str(tmp_path / "missing"))
    with pytest.raises(BadInput, match="plate"):
        read_plate(str(tmp_path))


def test_schema_command_is_valid_json_schema_and_checks_recipes(tmp_path, capsys, monkeypatch):
    code, out, err = run_main(capsys, monkeypatch, "schema")
    assert code == 0, err
    schema = json.loads(out)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    import pathlib
    root = pathlib.Path(__file__).resolve().parents[1]
    for path in sorted((root / "recipes").glob("*.yaml")):
        data = json.loads(json.dumps(yaml.safe_load(path.read_text())))
        assert not list(validator.iter_errors(data)), path.name
    text, _ = rule_based("night car park, light rain, someone loiters by the gate", None, None)
    assert not list(validator.iter_errors(json.loads(json.dumps(yaml.safe_load(text)))))
    bad = json.loads(json.dumps(yaml.safe_load((root / "recipes/indoor_lobby.yaml").read_text())))
    bad["scene"]["camera"]["heigth_m"] = 3
    bad["scene"]["camera"]["tilt_deg"] = {"uniform": [1]}
    bad["scene"]["lighting"]["time_of_day"] = "noon"
    bad["output"]["clips"] = 0
    assert len(list(validator.iter_errors(bad))) == 4
    path = tmp_path / "recipe.schema.json"
    assert run_main(capsys, monkeypatch, "schema", "--out", str(path))[0] == 0
    assert json.loads(path.read_text()) == schema


def test_several_cameras_are_drafted_as_scene_cameras(tmp_path):
    """"N cameras": one `scene.cameras` block per camera, the drafted camera spread along the near
    edge; refused (reported, never dropped silently) on a plate or a base that lists cameras."""
    text, messages = rule_based("4 ptz cameras over a street", None, None)
    recipe = load_recipe(text, source="draft")
    assert [c.name for c in recipe.scene.cameras] == ["cam0", "cam1", "cam2", "cam3"]
    cams = yaml.safe_load(text)["scene"]["cameras"]
    lateral = [c["lateral"] for c in cams]
    assert lateral == sorted(lateral) and lateral[0] == -0.8 and lateral[-1] == 0.8
    assert all(np.sign(c["pan_deg"]) == -np.sign(c["lateral"]) for c in cams)
    assert recipe.scene.sensor.ptz.enabled.args == (True,)     # "ptz" still read after the count
    assert "scene:\n  layout:" in text and text.index("cameras:") < text.index("lighting:")
    assert "# from '4 ptz cameras'" in text
    one, _ = rule_based("one camera over a street", None, None)
    assert load_recipe(one, source="draft").scene.cameras is None and "camera" in yaml.safe_load(one)["scene"]
    many, messages = rule_based("20 cameras over a street", None, None)
    assert len(load_recipe(many, source="draft").scene.cameras) == 8
    assert any("at most 8" in m for m in messages)
    root = Path(__file__).resolve().parents[1]
    base = yaml.safe_load((root / "recipes" / "plaza_multicam.yaml").read_text())
    draft = build(read("two cameras"), base)
    assert draft.data["scene"]["cameras"] == base["scene"]["cameras"]
    assert any("already lists its cameras" in why for _, why in draft.ignored)
    plate, messages = rule_based(f"two cameras, plate at {root / 'examples' / 'plates' / 'lobby'}", None, None)
    scene = yaml.safe_load(plate)["scene"]
    assert "cameras" not in scene and scene["layout"]["type"] == "plate"
    load_recipe(plate, source="draft")
    assert any("'2 cameras'" in m and "one calibrated camera" in m for m in messages)
