"""Recipe sections scene.weather / scene.sensor and the per-clip appearance values drawn from them."""
from __future__ import annotations

import json

import numpy as np
import pytest

from synthdata.errors import RecipeError
from synthdata.labels.rows import clip_row
from synthdata.recipe import load_recipe
from synthdata.world.appearance import APPEARANCE_COLUMNS, Appearance
from synthdata.world.appearance_sample import sample_appearance
from tests.scenes import random_world

BASE = """\
name: look
seed: 3
output: {clips: 2, frames_per_clip: 20, fps: 10, resolution: [96, 64]}
"""


def recipe(scene: str = ""):
    return load_recipe(BASE + scene)


def look(r, seed=0, tod="day", indoor=False, T=20) -> Appearance:
    return sample_appearance(r, np.random.default_rng(seed), time_of_day=tod, indoor=indoor, num_frames=T, fps=10)


def draw(r, seed=0, tod="day", indoor=False, T=20) -> dict:
    """The drawn values by their clips-column names, plus the two schedules."""
    a = look(r, seed, tod, indoor, T)
    return {**a.column_values(), "light_schedule": a.lighting.light_schedule, "ptz_patrol": a.mount.ptz_patrol}


def test_every_column_is_present_with_its_type_for_any_condition():
    r = recipe("scene:\n  weather: {condition: {choice: [clear, rain, snow, fog]}}\n"
               "  sensor: {ptz: {enabled: {bernoulli: 0.5}}, light_changes: {randint: [0, 3]}}\n")
    seen = set()
    for seed in range(12):
        for tod in ("day", "dusk", "night", "indoor"):
            a = draw(r, seed, tod, indoor=tod == "indoor")
            for name, typ in APPEARANCE_COLUMNS:
                assert name in a, name
                assert type(a[name]) is typ, (name, type(a[name]))
            json.dumps(a)                        # plain JSON values only
            assert look(r, seed, tod, indoor=tod == "indoor").tampering == []
            seen.add(a["weather"])
    assert seen == {"clear", "rain", "snow", "fog"}


def test_condition_switches_its_effects_and_indoor_is_dry():
    rain = draw(recipe("scene:\n  weather: {condition: rain}\n"))
    assert rain["rain_intensity"] > 0 and rain["wetness"] >= 0.6 and rain["snow_cover"] == 0
    assert rain["fog_visibility_m"] == 0 and rain["overcast"] >= 0.7
    fog = draw(recipe("scene:\n  weather: {condition: fog, fog_visibility_m: 40}\n"))
    assert fog["fog_visibility_m"] == 40 and fog["rain_intensity"] == 0 and fog["wetness"] == 0
    clear = draw(recipe())
    assert clear["weather"] == "clear" and clear["overcast"] == 0 and clear["raindrops"] == 0
    indoor = draw(recipe("scene:\n  weather: {condition: snow}\n"), tod="indoor", indoor=True)
    assert indoor["weather"] == "clear" and indoor["snow_cover"] == 0 and indoor["wetness"] == 0


def test_night_mode_is_near_infrared_only_at_night_and_vehicle_lights_follow_dusk():
    r = recipe("scene:\n  sensor: {night_mode: ir}\n")
    assert draw(r, tod="night")["nir"] and not draw(r, tod="day")["nir"] and not draw(r, tod="dusk")["nir"]
    assert not draw(recipe("scene:\n  sensor: {night_mode: color}\n"), tod="night")["nir"]
    assert draw(r, tod="dusk")["vehicle_lights"] and not draw(r, tod="day")["vehicle_lights"]
    assert draw(recipe("scene:\n  weather: {vehicle_lights: true}\n"), tod="day")["vehicle_lights"]


def test_gain_defaults_grow_towards_night_and_crf_defaults_to_output_video():
    r = recipe()
    day = [draw(r, s, "day")["sensor_gain"] for s in range(8)]
    night = [draw(r, s, "night")["sensor_gain"] for s in range(8)]
    assert max(day) <= 2.0 and min(night) >= 4.0
    assert draw(r)["video_crf"] == 23
    assert draw(recipe("scene:\n  sensor: {crf: {randint: [32, 38]}}\n"))["video_crf"] in range(32, 39)


def test_shutter_defaults_to_auto_exposure_from_the_light_and_a_set_shutter_wins():
    r = recipe()
    shutter = {tod: look(r, 0, tod, tod == "indoor").optics.shutter for tod in ("day", "dusk", "night", "indoor")}
    assert shutter["day"] == pytest.approx(10 / 150)               # 1/150 s at 10 fps, clear sky
    assert shutter["day"] < shutter["dusk"] == shutter["indoor"] < shutter["night"] == pytest.approx(10 / 25)
    fog = recipe("scene:\n  weather: {condition: fog, overcast: 1.0}\n")
    assert look(fog).optics.shutter == pytest.approx(3 * 10 / 150)   # dull daylight: a longer exposure
    fast = sample_appearance(r, np.random.default_rng(0), time_of_day="night", indoor=False, num_frames=20, fps=50)
    assert fast.optics.shutter == 1.0                                # never longer than the frame interval
    assert look(recipe("scene:\n  sensor: {shutter: 0.7}\n"), 0, "day").optics.shutter == 0.7
    same = [look(r, k, "day") for k in (1, 2)]                       # auto exposure draws nothing
    set_ = [look(recipe("scene:\n  sensor: {shutter: 0.5}\n"), k, "day") for k in (1, 2)]
    assert [a.sensor.seed for a in same] == [a.sensor.seed for a in set_]


def test_sampling_is_deterministic_and_schedules_are_well_formed():
    r = recipe("scene:\n  sensor: {light_changes: 3, ptz: {enabled: true, presets: 4}}\n")
    a, b = draw(r, 5), draw(r, 5)
    assert a == b and draw(r, 6) != a
    assert len(a["light_schedule"]) == 3 and all(1 <= f < 20 for f, _ in a["light_schedule"])
    assert [f for f, _ in a["light_schedule"]] == sorted(f for f, _ in a["light_schedule"])
    assert len(a["ptz_patrol"]) == 4 and a["ptz_presets"] == 4 and a["ptz"]
    assert all(abs(p) <= 30 and abs(t) <= 5 and 1 <= z <= 2 for p, t, z in a["ptz_patrol"])


def test_overlay_clock_matches_time_of_day_and_name_choice():
    r = recipe("scene:\n  sensor: {overlay: {camera_name: {choice: [GATE 2, DOCK 4]}, year: 2031}}\n")
    for seed in range(6):
        a = draw(r, seed, "night")
        hour = int(a["overlay_start"][11:13])
        assert a["overlay_start"].startswith("2031-") and (hour >= 21 or hour < 5)
        assert a["camera_name"] in ("GATE 2", "DOCK 4")


@pytest.mark.parametrize("bad, path", [
    ("scene:\n  sensor: {gian: 2}\n", "scene.sensor.gian"),
    ("scene:\n  weather: {condition: hail}\n", "scene.weather.condition"),
    ("scene:\n  sensor: {vignetting: 3}\n", "scene.sensor.vignetting"),
    ("scene:\n  sensor: {ptz: {presets: many}}\n", "scene.sensor.ptz.presets"),
])
def test_bad_values_are_reported_with_their_path(bad, path):
    with pytest.raises(RecipeError) as e:
        recipe(bad)
    assert path in str(e.value)


def test_appearance_values_become_clip_row_columns():
    world = random_world(0, T=2, width=96, height=64, n_people=1, n_boxes=0)
    world.appearance = look(recipe("scene:\n  weather: {condition: fog}\n  sensor: {ptz: {enabled: true}}\n"))
    row = clip_row(world, "c", 1, "{}")
    values = world.appearance.column_values()
    for name, _ in APPEARANCE_COLUMNS:
        assert row[name] == values[name], name
    assert row["weather"] == "fog" and row["ptz"] is True
    assert "ptz_patrol" not in row and "light_schedule" not in row      # lists stay in params
