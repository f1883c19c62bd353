"""The exporters' shared battery on clips made by the real pipeline (sample, simulate, render,
label, write): several people with keypoints and bags, a vehicle, occlusion between them."""
from __future__ import annotations

import pytest

import tests.test_export_coco as coco_tests
import tests.test_export_mot as mot_tests
import tests.test_export_yolo as yolo_tests

RECIPE = {
    "name": "tiny", "seed": 3,
    "output": {"clips": 2, "clips_per_shard": 1, "frames_per_clip": 4, "fps": 10, "resolution": [96, 64]},
    "scene": {"camera": {"height_m": 5, "tilt_deg": 30}},
    "actors": [{"type": "person", "count": 4, "enters": False, "carries_bag": {"bernoulli": 0.5}},
               {"type": "vehicle", "count": 1, "enters": False}],
}


@pytest.fixture(scope="module")
def dataset_dir(tmp_path_factory: pytest.TempPathFactory) -> str:
    from synthdata.pipeline import finalize_dataset, generate_shard
    from synthdata.plan import plan
    from synthdata.recipe.schema import Recipe

    recipe = Recipe.model_validate(RECIPE)
    out = str(tmp_path_factory.mktemp("rendered") / "ds")
    markers = {s.index: generate_shard(recipe, s, out, device="cpu") for s in plan(recipe)}
    finalize_dataset(out, recipe, markers, {})
    return out


class TestCocoVideoOnRenderedClips(coco_tests.CocoVideoReadBack):
    pass


class TestMotOnRenderedClips(mot_tests.MotReadBack):
    pass


class TestYoloOnRenderedClips(yolo_tests.YoloReadBack):
    pass
