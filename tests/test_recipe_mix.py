"""mix: recipes: weighted entries from files or inline blocks, one per clip; clear errors."""
from __future__ import annotations

import collections
import subprocess
import sys
from pathlib import Path

import pytest

from synthdata.errors import RecipeError
from synthdata.recipe.loader import load_recipe, recipe_to_yaml
from synthdata.world.sample import sample_clip

ROOT = Path(__file__).resolve().parent.parent
HEAD = "name: m\nseed: 3\noutput: {clips: 4, frames_per_clip: 2, fps: 5, resolution: [64, 48]}\n"
STREET = "scene: {layout: {type: street}, camera: {height_m: 2.0, tilt_deg: 5}}\nactors: [{type: person, count: 3}]\n"


@pytest.fixture
def files(tmp_path):
    (tmp_path / "subs").mkdir()
    (tmp_path / "subs" / "street.yaml").write_text("name: s\nseed: 1\noutput: {clips: 1, frames_per_clip: 1, fps: 1, "
                                                   "resolution: [32, 32]}\n" + STREET)
    return tmp_path


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_each_clip_is_drawn_from_one_entry_by_weight_deterministically(files):
    r = load_recipe(write(files / "mix.yaml", HEAD + """mix:
  - {weight: 3, recipe: subs/street.yaml}
  - weight: 1
    scene: {layout: {type: indoor}, camera: {height_m: 3.0}}
    actors: [{type: person, count: 2, behavior: stand}]
"""))
    assert [e.source for e in r.mix] == ["subs/street.yaml", ""]
    assert r.mix[0].scene.layout.type.args == ("street",) or str(r.mix[0].scene.layout.type)
    picks = [r.for_clip(s)[1] for s in range(400)]
    share = collections.Counter(picks)[0] / 400
    assert 0.68 < share < 0.82
    assert picks == [r.for_clip(s)[1] for s in range(400)]
    spec = sample_clip(r, 0, seed=7, clip_id="m-000000")
    assert spec.mix_entry == r.for_clip(7)[1]
    assert spec.layout.type == ("street" if spec.mix_entry == 0 else "indoor")
    assert spec.width == 64                                     # the mix recipe's output applies
    again = load_recipe(recipe_to_yaml(r))                        # the resolved recipe reloads alone
    assert again == r


@pytest.mark.parametrize("entries,line,words", [
    ("  - {weight: 1, recipe: subs/missing.yaml}\n", 5, "no such recipe file 'subs/missing.yaml'"),
    ("  - {weight: 1, recipe: subs/street.yaml, actors: []}\n", 5, "either recipe: FILE or inline actors"),
    ("  - {weight: 0, recipe: subs/street.yaml}\n", 5, "mix[0].weight"),
    ("  - {weight: 1, scene: {layout: {type: moon}}}\n", 5, "mix[0].scene.layout.type"),
    ("  - {weight: 1, recipe: 7}\n", 5, "expected the path of a recipe file"),
])
def test_bad_entries_are_one_located_line(files, entries, line, words):
    path = write(files / "mix.yaml", HEAD + "mix:\n" + entries)
    with pytest.raises(RecipeError) as e:
        load_recipe(path)
    msg = str(e.value)
    assert msg.startswith(f"{path}:{line}:") and words in msg and "\n" not in msg


def test_mix_with_top_level_actors_or_nested_mix_is_refused(files):
    with pytest.raises(RecipeError, match="mix recipe takes its scene"):
        load_recipe(write(files / "a.yaml", HEAD + "actors: [{type: person}]\nmix:\n  - {recipe: subs/street.yaml}\n"))
    write(files / "inner.yaml", HEAD + "mix:\n  - {recipe: subs/street.yaml}\n")
    with pytest.raises(RecipeError, match="mixes do not nest"):
        load_recipe(write(files / "b.yaml", HEAD + "mix:\n  - {recipe: inner.yaml}\n"))


def test_cli_validate_exits_2_with_the_line(files):
    path = write(files / "mix.yaml", HEAD + "mix:\n  - {weight: 1, recipe: nope.yaml}\n")
    proc = subprocess.run([sys.executable, "-m", "synthdata.cli", "validate", str(path)], capture_output=True,
                          text=True, cwd=files, check=False)
    assert proc.returncode == 2 and "mix.yaml:5: mix[0].recipe: no such recipe file" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_shipped_general_mix_spans_street_level_to_elevated_day_to_night():
    r = load_recipe(ROOT / "recipes" / "people_general_mix.yaml")
    specs = [sample_clip(r, i, seed=s, clip_id=f"g-{i:06d}") for i, s in enumerate(range(40))]
    heights = [s.camera.position[2] for s in specs]
    assert min(heights) < 3.5 and max(heights) > 5.0
    assert {"day", "night", "indoor"} <= {s.lighting.time_of_day for s in specs}
    assert {"street", "parking_lot", "indoor"} <= {s.layout.type for s in specs}
    assert any(s.randomize is not None and s.randomize.applied for s in specs)   # the randomised entry


def test_validate_summarises_the_mix_entries():
    from synthdata.recipe.cli import summarize

    text = summarize(load_recipe(ROOT / "recipes" / "people_general_mix.yaml"))
    assert "mix         8 entries" in text and "parking_lot_day.yaml, layout parking_lot" in text
    assert "none (empty scenes)" not in text


def test_shipped_camera_detector_mix_renders_plate_and_randomised_clips_at_the_camera_size():
    """plate_lobby_detector.yaml: a plate entry and a procedural entry in one mix, every clip at the
    plate's own frame size, the plate clips on the shipped lobby plate."""
    from synthdata.pipeline import clip_seed, render_clip

    r = load_recipe(ROOT / "recipes" / "plate_lobby_detector.yaml", ["output.frames_per_clip=2", "output.clips=16"])
    specs = [sample_clip(r, i, seed=clip_seed(r.seed, i), clip_id=f"d-{i:06d}") for i in range(16)]   # as runs draw them
    kinds = [s.layout.type for s in specs]
    assert "plate" in kinds and {"street", "parking_lot"} & set(kinds)
    assert any(s.randomize is not None and s.randomize.applied for s in specs if s.layout.type != "plate")
    assert all(s.layout.plate["dir"].endswith("lobby") for s in specs if s.layout.type == "plate")
    for i in (kinds.index("plate"), next(i for i, k in enumerate(kinds) if k != "plate")):
        clip = render_clip(r, i, device="cpu")
        assert clip.frames.shape == (2, 432, 768, 3) and (clip.world.backdrop is not None) == (kinds[i] == "plate")
