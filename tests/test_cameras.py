"""Several cameras over one scene (issue 15): the recipe's `scene.cameras`, one World rendered by
every camera, the `camera` column, per-camera tar members, readers and verify."""
from __future__ import annotations

import json
import subprocess
import sys
import tarfile
from collections import defaultdict

import numpy as np
import pytest

from synthdata.errors import RecipeError
from synthdata.recipe import load_recipe
from tests.recipe_texts import MINIMAL

CAMERAS = [
    {"name": "north", "height_m": 6, "tilt_deg": 32, "hfov_deg": 70},
    {"name": "west", "height_m": 7, "tilt_deg": 38, "pan_deg": 10, "placement": "corner", "hfov_deg": 70},
    {"name": "east", "height_m": 5, "tilt_deg": 28, "lateral": 0.7, "pan_deg": -20, "hfov_deg": 70,
     "sensor": {"gain": 3, "overlay": {"enabled": False}}},
]
RECIPE = {
    "name": "multicam", "seed": 11,
    "output": {"clips": 2, "clips_per_shard": 2, "frames_per_clip": 4, "fps": 5, "resolution": [128, 96]},
    "scene": {"layout": {"type": "street", "size_m": [40, 24]}, "cameras": CAMERAS},
    "actors": [{"type": "person", "count": 7, "enters": False}],
}


@pytest.fixture(scope="module")
def multicam(tmp_path_factory: pytest.TempPathFactory) -> str:
    """RECIPE rendered once per test session (modules importing this fixture share the folder)."""
    import os

    from synthdata.pipeline import finalize_dataset, generate_shard
    from synthdata.plan import plan
    from synthdata.recipe.schema import Recipe

    out = str(tmp_path_factory.getbasetemp() / "multicam-dataset")
    if not os.path.exists(os.path.join(out, "dataset.json")):
        recipe = Recipe.model_validate(RECIPE)
        markers = {s.index: generate_shard(recipe, s, out, device="cpu") for s in plan(recipe)}
        finalize_dataset(out, recipe, markers, {})
    return out


def _rows(out: str, table: str) -> list[dict]:
    import pyarrow.dataset as pads
    return pads.dataset(f"{out}/tables/{table}").to_table().to_pylist()


# ---- recipe --------------------------------------------------------------------------------------
@pytest.mark.parametrize("block, expected", [
    ("  cameras: []\n", ":9: scene.cameras: expected a list of one or more camera blocks"),
    ("  cameras:\n    - {name: a}\n    - {name: b}\n    - {name: a}\n",
     ":9: scene.cameras: camera names must be unique: cameras[2].name 'a' repeats cameras[0].name"),
    ("  cameras:\n    - {name: ok}\n    - {name: gate.2}\n", ":11: scene.cameras[1].name: expected a camera name"),
    ("  cameras:\n    - {name: 'a/b'}\n", ":10: scene.cameras[0].name: expected a camera name"),
    ("  camera: {height_m: 4}\n  cameras:\n    - {name: a}\n", ":8: scene: give either `camera`"),
    ("  cameras:\n    - {height_m: 4}\n", ":10: scene.cameras[0].name: missing required key"),
])
def test_bad_camera_lists_are_one_located_line(block, expected):
    with pytest.raises(RecipeError) as e:
        load_recipe(MINIMAL + "scene:\n" + block)
    assert len(e.value.problems) == 1 and expected in e.value.problems[0], e.value.problems


def test_bad_camera_list_exits_2_from_the_cli(tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text(MINIMAL + "scene:\n  cameras:\n    - {name: a}\n    - {name: a}\n")
    proc = subprocess.run([sys.executable, "-m", "synthdata.cli", "validate", str(path)], capture_output=True,
                          text=True)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert [ln for ln in proc.stderr.splitlines() if ln.strip()] == [
        f"error: {path}:9: scene.cameras: camera names must be unique: cameras[1].name 'a' repeats "
        f"cameras[0].name"]


def test_single_camera_clip_params_are_unchanged():
    from synthdata.recipe.schema import Recipe
    from synthdata.world.sample import sample_clip
    first = {k: v for k, v in CAMERAS[0].items() if k != "name"}
    one = Recipe.model_validate({**RECIPE, "scene": {"layout": RECIPE["scene"]["layout"], "camera": first}})
    many = Recipe.model_validate(RECIPE)
    a, b = sample_clip(one, 0, seed=5, clip_id="c"), sample_clip(many, 0, seed=5, clip_id="c")
    assert "camera_name" not in a.to_json() and "more_views" not in a.to_json()
    assert a.camera == b.camera                          # the first camera draws as a single one does
    assert [v.name for v in b.more_views] == ["west", "east"] and b.camera_name == "north"
    assert b.more_views[1].appearance.sensor.gain == 3.0 and not b.more_views[1].appearance.overlay.enabled
    assert b.more_views[0].appearance.weather == b.appearance.weather      # one scene, one weather
    assert b.more_views[1].appearance.overlay.start == b.appearance.overlay.start   # one clock
    from synthdata.world.spec import ClipSpec
    assert ClipSpec.from_json(json.loads(json.dumps(b.to_json()))) == b
    assert sample_clip(many, 0, seed=5, clip_id="c") == b                 # deterministic for a seed


# ---- dataset -------------------------------------------------------------------------------------
def test_one_video_per_camera_with_valid_webdataset_keys(multicam):
    with tarfile.open(f"{multicam}/videos/shard-000000.tar") as tar:
        names = tar.getnames()
    clips = _rows(multicam, "clips")
    assert len(clips) == 6 and {(c["clip_id"], c["camera"]) for c in clips} == {
        (f"multicam-{i:06d}", c["name"]) for i in range(2) for c in CAMERAS}
    for c in clips:
        assert c["video_member"] == f"{c['clip_id']}.{c['camera']}.mp4" and c["video_member"] in names
        assert f"{c['clip_id']}.{c['camera']}.json" in names
    assert {n.split(".")[0] for n in names} == {"multicam-000000", "multicam-000001"}  # one sample per clip
    from synthdata.io.verify import verify_dataset
    report, _ = verify_dataset(multicam)
    assert report.ok, report.lines()


def test_cameras_differ_but_share_one_world(multicam):
    clips = _rows(multicam, "clips")
    per = defaultdict(dict)
    for c in clips:
        per[c["clip_id"]][c["camera"]] = c
    for cams in per.values():
        assert len({c["params"] for c in cams.values()}) == 1            # one ClipSpec: one simulation
        assert len({(c["cam_x"], c["cam_y"], c["cam_z"]) for c in cams.values()}) == 3
        assert cams["east"]["sensor_gain"] == 3.0 and cams["east"]["overlay"] is False
        assert len({c["weather"] for c in cams.values()}) == 1


def test_global_ids_and_world_positions_agree_across_cameras(multicam):
    objects = _rows(multicam, "objects")
    tracks = {(t["clip_id"], t["track_id"]): t for t in _rows(multicam, "tracks")}
    seen = defaultdict(set)
    where = {}
    for o in objects:
        key = (o["clip_id"], o["track_id"], o["frame"])
        pos = (o["world_x"], o["world_y"], o["world_z"], o["category"])
        assert where.setdefault(key, pos) == pos         # the same identity is at one place in every camera
        seen[(o["clip_id"], o["track_id"])].add(o["camera"])
        t = tracks[(o["clip_id"], o["track_id"])]
        assert t["category"] == o["category"] and t["first_frame"] <= o["frame"] <= t["last_frame"]
    assert any(len(c) >= 2 for c in seen.values())      # some people are seen by several cameras
    assert set(tracks) == set(seen)


def test_world_position_projects_into_each_cameras_amodal_box(multicam):
    clips = {(c["clip_id"], c["camera"]): c for c in _rows(multicam, "clips")}
    checked = 0
    for o in _rows(multicam, "objects"):
        if o["category"] != "person" or o["truncation"] > 0.0:
            continue
        c = clips[(o["clip_id"], o["camera"])]
        R, t = np.reshape(c["R"], (3, 3)), np.asarray(c["t"])
        for z in (0.3, 0.9):                             # points on the body's axis, above the ground point
            x = R @ np.array([o["world_x"], o["world_y"], o["world_z"] + z]) + t
            u, v = c["fx"] * x[0] / x[2] + c["cx"], c["fy"] * x[1] / x[2] + c["cy"]
            assert o["ax"] - 0.5 <= u <= o["ax"] + o["aw"] + 0.5 and o["ay"] - 0.5 <= v <= o["ay"] + o["ah"] + 0.5
        checked += 1
    assert checked >= 6


def test_events_and_objects_carry_their_camera(multicam):
    import synthdata
    ds = synthdata.open_dataset(multicam)
    cid = ds.clip_ids()[0]
    assert ds.cameras(cid) == ["east", "north", "west"] and len(ds.views()) == 6
    for cam in ds.cameras(cid):
        frames = ds.read_clip(cid, camera=cam)
        assert frames.shape == (4, 96, 128, 3)
        rows = ds.objects_for(cid, camera=cam).to_pylist()
        assert {r["camera"] for r in rows} <= {cam}
    with pytest.raises(synthdata.errors.DatasetError, match="has cameras east, north, west: name one"):
        ds.read_clip(cid)
    a, b = ds.read_clip(cid, camera="north"), ds.read_clip(cid, camera="west")
    assert np.abs(a.astype(int) - b.astype(int)).mean() > 5      # different views, not one video twice


def test_single_camera_dataset_keeps_its_layout(tmp_path):
    from synthdata.pipeline import finalize_dataset, generate_shard
    from synthdata.plan import plan
    from synthdata.recipe.schema import Recipe

    recipe = Recipe.model_validate({**RECIPE, "output": {**RECIPE["output"], "clips": 1, "frames_per_clip": 2},
                                    "scene": {"camera": {"height_m": 6}}})
    out = str(tmp_path / "one")
    finalize_dataset(out, recipe, {s.index: generate_shard(recipe, s, out, device="cpu") for s in plan(recipe)}, {})
    with tarfile.open(f"{out}/videos/shard-000000.tar") as tar:
        assert tar.getnames() == ["multicam-000000.mp4", "multicam-000000.json"]
    assert [c["camera"] for c in _rows(out, "clips")] == ["cam0"]
    assert {o["camera"] for o in _rows(out, "objects")} <= {"cam0"}
    import synthdata
    assert synthdata.open_dataset(out).read_clip("multicam-000000").shape == (2, 96, 128, 3)


def test_v1_dataset_reads_as_one_camera():
    import synthdata
    ds = synthdata.open_dataset("tests/data/v1_dataset")
    cid = ds.clip_ids()[0]
    assert ds.cameras(cid) == ["cam0"] and ds.views() == [(cid, "cam0")]
    assert ds.read_clip(cid, camera="cam0").shape == ds.read_clip(cid).shape
    assert ds.objects_for(cid, camera="cam0").num_rows == ds.objects_for(cid).num_rows


def test_frame_dataset_runs_over_every_camera(multicam):
    import synthdata
    from synthdata.datasets import ClipDataset, FrameDataset

    ds = synthdata.open_dataset(multicam)
    frames = FrameDataset(multicam)
    assert len(frames) == 6 * 4
    seen = set()
    for i in range(len(frames)):
        image, target = frames[i]
        cid, cam, f = frames.locate_view(i)
        assert (target["clip_id"], target["camera"], target["frame"]) == (cid, cam, f)
        assert np.array_equal(image.permute(1, 2, 0).numpy(), ds.read_frames(cid, f, f + 1, camera=cam)[0])
        rows = [r for r in ds.objects_for(cid, camera=cam).to_pylist() if r["frame"] == f and r["w"] is not None]
        assert sorted(target["track_ids"].tolist()) == sorted(r["track_id"] for r in rows)
        seen.add(cam)
    assert seen == {"north", "west", "east"}
    east = FrameDataset(multicam, cameras=["east"])
    assert len(east) == 2 * 4 and set(east.cameras) == {"east"}
    windows = ClipDataset(multicam, window=2, cameras=["north", "west"])
    assert len(windows) == 2 * 2 * 2 and {w[1] for w in windows.windows} == {"north", "west"}
    with pytest.raises(synthdata.errors.DatasetError, match="cameras \\['south'\\] are not in the dataset"):
        FrameDataset(multicam, cameras=["south"])


def test_shipped_multicam_recipe_overlaps_its_views():
    from synthdata.pipeline import render_clip

    clip = render_clip("recipes/plaza_multicam.yaml", 0, device="cpu",
                       overrides=["output.frames_per_clip=2", "output.resolution=[160,120]"])
    views = [clip] + clip.views
    assert [v.camera for v in views] == ["overview", "west", "east", "entrance"]
    seen = defaultdict(set)
    for v in views:
        assert v.frames.shape == (2, 120, 160, 3)
        people = {t for t, c, w in zip(v.objects["track_id"], v.objects["category"], v.objects["w"])
                  if c == "person" and w is not None}
        assert people, f"camera {v.camera} sees nobody"
        for t in people:
            seen[t].add(v.camera)
    assert max(len(c) for c in seen.values()) >= 3          # the views overlap on the plaza


def test_report_shows_samples_of_every_camera(multicam):
    from synthdata.report.build import build_report

    _, data = build_report(multicam, samples=6)
    assert {s["camera"] for s in data["samples"]} == {"north", "west", "east"}


def test_dense_maps_are_stored_per_camera(tmp_path):
    import synthdata
    from synthdata.io.verify import verify_dataset
    from synthdata.pipeline import finalize_dataset, generate_shard
    from synthdata.plan import plan
    from synthdata.recipe.schema import Recipe

    out_spec = {**RECIPE["output"], "clips": 1, "frames_per_clip": 2, "modalities": ["rgb", "depth", "instances"]}
    recipe = Recipe.model_validate({**RECIPE, "output": out_spec})
    out = str(tmp_path / "dense")
    finalize_dataset(out, recipe, {s.index: generate_shard(recipe, s, out, device="cpu") for s in plan(recipe)}, {})
    report, _ = verify_dataset(out)
    assert report.ok and report.checked["dense_maps"] == 6, report.lines()
    ds = synthdata.open_dataset(out)
    cid = ds.clip_ids()[0]
    depths = []
    for cam in ds.cameras(cid):
        assert ds.modalities(cid, cam) == ["rgb", "depth", "instances"]
        names = [n for n, _ in ds.dense_members(cid, "instances", camera=cam)]
        assert names == [f"{cid}.{cam}.instances.{f:06d}.png" for f in range(2)]
        inst = ds.read_dense(cid, "instances", camera=cam)
        rows = ds.objects_for(cid, camera=cam).to_pylist()
        for f in range(2):
            visible = {r["track_id"] for r in rows if r["frame"] == f and r["w"] is not None}
            assert set(np.unique(inst[f])) - {0} == visible            # the global ids, as this camera sees them
        depths.append(ds.read_dense(cid, "depth", camera=cam))
    assert not np.allclose(depths[0], depths[1])


def test_scene_events_reach_every_camera_and_tampering_only_the_first():
    import torch

    from synthdata.pipeline import clip_from_world
    from synthdata.recipe.schema import Recipe
    from synthdata.world.sample import sample_clip
    from synthdata.world.simulate import simulate
    from synthdata.world.types import Event

    recipe = Recipe.model_validate({**RECIPE, "output": {**RECIPE["output"], "frames_per_clip": 2}})
    world = simulate(sample_clip(recipe, 0, seed=3, clip_id="c"))
    world.events = [Event("loitering", 1, 1, track_id=world.actors[0].track_id, zone="plaza"),
                    Event("camera_tamper", 0, 1, attributes={"kind": "covered"})]
    clip = clip_from_world(world, "c", 0, 3, {}, recipe, torch.device("cpu"))
    events = {v.camera: [(e["camera"], e["type"], e["event_id"]) for e in v.events] for v in [clip] + clip.views}
    assert events == {"north": [("north", "camera_tamper", 0), ("north", "loitering", 1)],   # one id per event,
                      "west": [("west", "loitering", 1)], "east": [("east", "loitering", 1)]}   # in every camera
    assert clip.tracks and not any(v.tracks for v in clip.views)     # tracks are global: written once


def test_a_cameras_own_sensor_moves_only_that_camera():
    from synthdata.recipe.schema import Recipe
    from synthdata.world.sample import sample_clip
    from synthdata.world.simulate import simulate

    cams = [CAMERAS[0], {**CAMERAS[1], "sensor": {"ptz": {"enabled": True, "presets": 2}}}, CAMERAS[2]]
    recipe = Recipe.model_validate({**RECIPE, "scene": {**RECIPE["scene"], "cameras": cams},
                                    "output": {**RECIPE["output"], "frames_per_clip": 30}})
    world = simulate(sample_clip(recipe, 0, seed=9, clip_id="c"))
    moving = {name: not w.camera.is_static for name, w in world.camera_worlds()}
    assert moving == {"north": False, "west": True, "east": False}


def test_resolved_recipe_with_cameras_loads_again():
    from synthdata.recipe import recipe_to_yaml

    many = load_recipe("recipes/plaza_multicam.yaml")
    text = recipe_to_yaml(many)
    assert "cameras:" in text and "\n  camera:" not in text
    assert load_recipe(text) == many
    one = load_recipe(MINIMAL)
    assert "cameras" not in recipe_to_yaml(one) and "cameras" not in one.model_dump()["scene"]
