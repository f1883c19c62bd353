"""The typed Appearance end to end: a recipe key reaches the pixels through named fields, every
field reaches a clips column (or the params JSON), and stored params regenerate the clip."""
from __future__ import annotations

import json
from dataclasses import fields, is_dataclass

import numpy as np
import pytest

from synthdata.io.contract import CONTRACT
from synthdata.io.tables import rows_to_table
from synthdata.pipeline import clip_from_world, generate_clip
from synthdata.recipe import load_recipe
from synthdata.world.appearance import APPEARANCE_COLUMNS, Appearance, appearance_columns
from synthdata.world.simulate import simulate
from synthdata.world.spec import ClipSpec

RECIPE = """\
name: look
seed: 11
output: {{clips: 1, frames_per_clip: 1, fps: 10, resolution: [64, 48]}}
scene:
  layout: {{type: parking_lot}}
  sensor: {{vignetting: {vignetting}, gain: 1, read_noise_e: 0, full_well_e: 200000, lens_dirt: 0, raindrops: 0,
            overlay: {{enabled: false}}}}
  weather: {{condition: clear}}
"""


def frame_and_row(vignetting: float):
    clip = generate_clip(load_recipe(RECIPE.format(vignetting=vignetting)), 0, device="cpu")
    rgb = next(clip.chunks).frames[0].numpy().astype(float)
    return rgb, clip.clip_row


def test_sensor_vignetting_goes_from_the_recipe_to_the_pixels_and_the_clips_row():
    flat, row0 = frame_and_row(0.0)
    dark, row = frame_and_row(0.8)
    assert row0["vignetting"] == 0.0 and row["vignetting"] == 0.8
    params = json.loads(row["params"])
    assert params["appearance"]["optics"]["vignetting"] == 0.8
    H, W = flat.shape[:2]
    centre = (slice(H // 2 - 4, H // 2 + 4), slice(W // 2 - 4, W // 2 + 4))
    corner = (slice(0, 6), slice(0, 6))
    # same clip otherwise (draws never shift): the centre keeps its light, the corners lose most of it
    assert abs(dark[centre].mean() - flat[centre].mean()) < 0.05 * flat[centre].mean() + 1
    assert dark[corner].mean() < 0.75 * flat[corner].mean()


def test_every_appearance_field_reaches_a_clips_column_or_the_params():
    columns = dict(appearance_columns())
    assert dict(APPEARANCE_COLUMNS) == columns and len(columns) == len(APPEARANCE_COLUMNS)
    schema = CONTRACT["clips"].schema
    # a distinct non-default value in every column field, so a dropped or crossed field shows
    values = {}
    for k, (name, tp) in enumerate(APPEARANCE_COLUMNS):
        values[name] = {bool: True, int: 100 + k, float: 0.5 + k, str: f"v{k}"}[tp]
    look = Appearance().with_values(**values, light_schedule=[[1, 0.5]], ptz_patrol=[[1.0, 2.0, 1.5]],
                                    tampering=[{"kind": "blur", "start_frame": 0, "end_frame": 0}])
    leaf_count = 0
    for group in fields(Appearance):
        sub = getattr(look, group.name)
        if not is_dataclass(sub):
            continue
        for f in fields(sub):
            leaf_count += 1
            col = f.metadata.get("column", f.name)
            if col is not None:
                assert col in schema.names, f"{group.name}.{f.name}: no clips column {col!r}"
                assert look.column_values()[col] == getattr(sub, f.name)
    assert leaf_count == len(APPEARANCE_COLUMNS) + 2          # the two schedules live in params only

    from tests.scenes import random_world
    world = random_world(0, T=1, width=32, height=24, n_people=0, n_boxes=0)
    world.appearance = look
    recipe = load_recipe(RECIPE.format(vignetting=0))
    row = clip_from_world(world, "c", 0, 1, {"x": 1}, recipe, __import__("torch").device("cpu")).clip_row
    table = rows_to_table("clips", [row]).to_pylist()[0]
    for name, _ in APPEARANCE_COLUMNS:
        assert table[name] == pytest.approx(values[name]), name


def test_params_round_trip_and_regenerate_the_world_alone():
    clip = generate_clip(load_recipe(RECIPE.format(vignetting=0.3)), 0, device="cpu")
    params = json.loads(clip.clip_row["params"])
    spec = ClipSpec.from_json(params)
    assert isinstance(spec.appearance, Appearance) and spec.to_json() == params
    again = simulate(spec)
    assert again.appearance == clip.world.appearance
    assert np.array_equal(again.camera.R, clip.world.camera.R)


def test_version_1_params_are_read_with_the_same_values():
    recipe = load_recipe(RECIPE.format(vignetting=0.3).replace("scene:\n", "scene:\n  lighting: {time_of_day: night}\n")
                         + "zones: [{name: yard, region: lot}]\nscenario:\n  tamper: {probability: 1, start_s: 0}\n"
                         "  loitering: {probability: 1}\n")
    from synthdata.world.sample import sample_clip
    spec = sample_clip(recipe, 0, seed=5, clip_id="c0")
    new = spec.to_json()
    old = dict(new, version=1)
    flat = {**spec.appearance.column_values(), "light_schedule": spec.appearance.lighting.light_schedule,
            "ptz_patrol": spec.appearance.mount.ptz_patrol}
    old["appearance"] = flat
    old["security"] = dict(new["security"], tampering=new["appearance"]["tampering"],
                           acts=[{"behaviour": a["behavior"], "start_s": a["start_s"], "track_ids": a["track_ids"]}
                                 for a in new["security"]["acts"]])
    assert spec.appearance.tampering and new["security"]["acts"]
    assert ClipSpec.from_json(old).to_json() == new
    with pytest.raises(ValueError, match="unknown appearance keys"):
        ClipSpec.from_json(dict(old, appearance={**flat, "gian": 2}))
