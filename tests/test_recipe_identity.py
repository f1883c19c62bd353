"""A recipe's identity (plan.recipe_sha256), which resume checks: the files a recipe names (a
plate folder, a sketch, a refiner) count by their contents, so the same recipe read from another
working directory resumes its dataset, and a file changed in place makes another dataset; a
dataset hashed by path, as synthdata did before, still resumes."""
from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import CliRunner

from synthdata.plan import plan, recipe_sha256
from synthdata.recipe.loader import load_recipe
from tests.fakes import fake_recipe

ROOT = Path(__file__).resolve().parents[1]
SMALL = ["output.clips=1", "output.frames_per_clip=4", "output.resolution=[64,36]"]


def test_the_same_plate_recipe_from_another_folder_has_the_same_hash(monkeypatch, tmp_path):
    monkeypatch.chdir(ROOT)
    a = load_recipe("recipes/plate_car_park_refined.yaml")
    shas = recipe_sha256(a), recipe_sha256(a, by_path=True)
    monkeypatch.chdir(tmp_path)
    b = load_recipe(str(ROOT / "recipes" / "plate_car_park_refined.yaml"))
    assert a.scene.layout.plate != b.scene.layout.plate                 # spelled differently
    assert recipe_sha256(b) == shas[0]
    assert recipe_sha256(b, by_path=True) != shas[1]                     # as hashed before


def test_a_plate_sketch_or_refiner_changed_in_place_changes_the_hash(tmp_path):
    shutil.copytree(ROOT / "examples" / "plates" / "car_park", tmp_path / "plate")
    shutil.copy(ROOT / "examples" / "refiners" / "car_park.pt", tmp_path / "refiner.pt")
    recipe = tmp_path / "r.yaml"
    text = (ROOT / "recipes" / "plate_car_park_refined.yaml").read_text()
    text = (text.replace("../examples/plates/car_park/sketch.json", "plate/sketch.json")
            .replace("../examples/plates/car_park", "plate")
            .replace("../examples/refiners/car_park.pt", "refiner.pt"))
    recipe.write_text(text)
    r = load_recipe(str(recipe))
    assert (r.scene.layout.plate, r.scene.layout.sketch, r.postprocess.refiner) == (
        str(tmp_path / "plate"), str(tmp_path / "plate" / "sketch.json"), str(tmp_path / "refiner.pt"))
    seen = [recipe_sha256(r)]
    for name, old, new in [("plate/plate.yaml", "tilt_deg: 80.0", "tilt_deg: 79.0"),
                           ("plate/sketch.json", "[", "[ "), ("refiner.pt", None, None)]:
        f = tmp_path / name
        if old is None:
            f.write_bytes(f.read_bytes() + b"\0")
        else:
            assert old in f.read_text()
            f.write_text(f.read_text().replace(old, new, 1))
        seen.append(recipe_sha256(load_recipe(str(recipe))))
    assert len(set(seen)) == 4


def test_a_recipe_naming_no_files_hashes_as_before():
    recipe = fake_recipe()
    assert recipe_sha256(recipe) == recipe_sha256(recipe, by_path=True)
    mix = load_recipe(str(ROOT / "recipes" / "people_general_mix.yaml"))
    assert recipe_sha256(mix) == recipe_sha256(mix, by_path=True)


def test_a_dataset_hashed_by_path_resumes_under_its_own_hash(tmp_path):
    from synthdata.io.records import VideoSettings
    from synthdata.io.shard import ShardWriter
    from synthdata.runner.submit import prepare_run
    from tests.fakes import fake_clip

    recipe = load_recipe(str(ROOT / "recipes" / "plate_lobby.yaml"),
                         SMALL + ["output.clips=4", "output.clips_per_shard=2"])
    old, new = recipe_sha256(recipe, by_path=True), recipe_sha256(recipe)
    assert old != new
    out = tmp_path / "out"
    spec = plan(recipe, sha=old)[0]                 # shard 0 as a synthdata of before committed it
    with ShardWriter(str(out), spec, VideoSettings()) as w:
        for i in spec.clip_indices:
            w.add_clip(fake_clip(i, name=recipe.name))
        w.commit()
    run = prepare_run(recipe, str(out))
    assert run.sha == old and sorted(run.committed) == [0] and [s.index for s in run.todo] == [1]
    assert {s.recipe_sha256 for s in run.specs} == {old}
    assert prepare_run(recipe, str(tmp_path / "fresh")).sha == new


def test_run_resumes_a_plate_recipe_from_another_working_directory(monkeypatch, tmp_path):
    from synthdata.cli import cli

    out = tmp_path / "out"
    monkeypatch.chdir(ROOT)
    first = CliRunner().invoke(cli, ["run", "recipes/plate_lobby.yaml", "--out", str(out), "--workers", "0",
                                     "--quiet", *SMALL])
    assert first.exit_code == 0, first.output
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    monkeypatch.chdir(tmp_path)
    again = CliRunner().invoke(cli, ["run", str(ROOT / "recipes" / "plate_lobby.yaml"), "--out", str(out),
                                     "--workers", "0", "--quiet", *SMALL])
    assert again.exit_code == 0, again.output                # before: "a different recipe", exit 2
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
