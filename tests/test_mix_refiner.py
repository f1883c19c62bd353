"""A mix entry's own refiner: a plate entry's clips refined with its camera's refiner, the other
entries' clips as the mix recipe says (recipe/mix.py)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from synthdata.refine.checkpoint import file_sha256
from synthdata.pipeline import render_clip
from synthdata.plan import clip_seed, recipe_sha256
from synthdata.recipe.loader import load_recipe, recipe_to_yaml
from synthdata.render.preview import render_some_frames
from tests.refine_fixtures import one_thread, strong, strong_refiner  # noqa: F401 (fixtures)

HEAD = "name: m\nseed: 3\noutput: {clips: 40, frames_per_clip: 2, fps: 5, resolution: [64, 48]}\n"
SCENE = ("scene: {layout: {type: parking_lot, size_m: [20, 20]}, camera: {height_m: 3, tilt_deg: 30, hfov_deg: 50, "
         "distance_m: 0}}\nactors: [{type: person, count: 4}]\n")
SUB = "name: s\nseed: 1\noutput: {clips: 1, frames_per_clip: 1, fps: 1, resolution: [32, 32]}\n" + SCENE


def entries(recipe) -> list[int]:
    """The mix entry each clip of the recipe is drawn from."""
    return [recipe.for_clip(clip_seed(recipe.seed, i))[1] for i in range(recipe.output.clips)]


def test_an_entrys_refiner_refines_its_clips_alone(tmp_path, strong):
    """A file entry brings its recipe's refiner (its path relative to that file), an inline entry
    its own (relative to the mix file), an entry without one the mix recipe's; each clip records
    the refiner that made it, its pixels change, its labels do not, and the preview refines it
    alike."""
    (tmp_path / "subs").mkdir()
    sub_ck = strong_refiner(tmp_path / "subs" / "cam.pt", seed=5)
    mix_ck = strong_refiner(tmp_path / "mixed.pt", seed=6)
    (tmp_path / "own.pt").write_bytes(Path(strong).read_bytes())
    (tmp_path / "subs" / "plate.yaml").write_text(SUB + "postprocess: {refiner: cam.pt}\n")
    (tmp_path / "subs" / "plain.yaml").write_text(SUB)
    inline = "  - weight: 1\n    " + SCENE.replace("\n", "\n    ").rstrip() + "\n"
    mix = HEAD + "mix:\n  - {recipe: subs/%s.yaml}\n  - {recipe: subs/plain.yaml}\n" + inline
    (tmp_path / "mix.yaml").write_text(mix % "plate" + "    postprocess: {refiner: own.pt, strength: 0.5}\n"
                                       "postprocess: {refiner: mixed.pt}\n")
    (tmp_path / "bare.yaml").write_text(mix % "plain")                 # the same clips, nothing refined
    recipe, bare = load_recipe(str(tmp_path / "mix.yaml")), load_recipe(str(tmp_path / "bare.yaml"))
    picked = entries(recipe)
    assert set(picked) == {0, 1, 2} and picked == entries(bare)
    expected = {0: (file_sha256(sub_ck), 1.0), 1: (file_sha256(mix_ck), 1.0), 2: (file_sha256(strong), 0.5)}
    for i in [picked.index(k) for k in (0, 1, 2)]:
        clip, ref = render_clip(recipe, i, device="cpu"), render_clip(bare, i, device="cpu")
        assert (clip.clip_row["refiner_sha256"], clip.clip_row["refiner_strength"]) == expected[picked[i]]
        assert "refiner_sha256" not in ref.clip_row
        assert clip.objects == ref.objects
        assert np.abs(clip.frames.astype(int) - ref.frames).mean() > 1, picked[i]
        shown, _, _ = render_some_frames(recipe, i, "cpu", pick=lambda T: [0])
        assert np.array_equal(shown[0], clip.frames[0])


def test_an_entrys_own_postprocess_wins_over_its_files(tmp_path, strong):
    (tmp_path / "cam.pt").write_bytes(Path(strong).read_bytes())
    other = strong_refiner(tmp_path / "other.pt", seed=9)
    (tmp_path / "plate.yaml").write_text(SUB + "postprocess: {refiner: cam.pt}\n")
    recipe = load_recipe(HEAD + "mix:\n  - {recipe: plate.yaml, postprocess: {refiner: other.pt, strength: 0.3}}\n"
                         .replace("plate.yaml", str(tmp_path / "plate.yaml")).replace("other.pt", str(other)))
    entry = recipe.mix[0]
    assert entry.postprocess.refiner == str(other) and entry.postprocess.strength == 0.3


def test_a_mix_without_entry_refiners_dumps_and_hashes_as_before(tmp_path):
    """No `postprocess` key in its entries: the resolved recipe and its hash (which a resumed run
    compares) are what they were before entries could hold a refiner."""
    (tmp_path / "plain.yaml").write_text(SUB)
    (tmp_path / "mix.yaml").write_text(HEAD + "mix:\n  - {recipe: plain.yaml}\n  - weight: 2\n    "
                                       + SCENE.replace("\n", "\n    ").rstrip() + "\n")
    recipe = load_recipe(str(tmp_path / "mix.yaml"))
    assert all(e.postprocess is None for e in recipe.mix)
    dumped = recipe.model_dump(mode="json")
    assert all("postprocess" not in e for e in dumped["mix"])
    assert "postprocess" not in recipe_to_yaml(recipe).split("\nmix:")[1]
    assert recipe_sha256(recipe) == recipe_sha256(load_recipe(recipe_to_yaml(recipe), source="<dumped>"))
