"""The `plate` layout end to end: calibration round trip through a render, occluders in pixels
and labels, sketched zones and tripwires producing events, the shipped examples and the shared
reference clips, and the command line's bad-input lines."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from synthdata.labels.extents import track_extents
from synthdata.labels.rows import KEYPOINT_MARGIN_M, label_chunk
from synthdata.plate.footage import file_sha256
from synthdata.recipe.loader import load_recipe
from synthdata.render.renderer import Renderer
from synthdata.world.sample import sample_clip
from synthdata.world.simulate import simulate
from synthdata.world.types import Actor
from tests.plate_fixtures import OCCLUDER, H, W, make_plate, recipe_text
from tests.scenes import stick_person

ROOT = Path(__file__).resolve().parents[1]
SHARED = next((p for p in (ROOT.parent / "shared" / "data", ROOT.parents[1] / "shared" / "data") if p.is_dir()), None)
CLIPS = ("car-detection.mp4", "one-by-one-person-detection.mp4")


def cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "synthdata.cli", *args], capture_output=True, text=True, cwd=cwd)


def rows_of(cols: dict) -> list[dict]:
    return [dict(zip(cols, vals)) for vals in zip(*cols.values())]


def test_calibration_round_trip_through_a_rendered_scene(tmp_path):
    """Render a parking lot with a known camera, make a plate of the frame, calibrate it from the
    projected ground points of the bays: height, tilt and field of view come back."""
    from synthdata.plate.images import write_png
    from synthdata.world.layouts.registry import build_layout
    rec = load_recipe(f"""
name: rt
seed: 11
output: {{clips: 1, clips_per_shard: 1, frames_per_clip: 1, fps: 10, resolution: [{W}, {H}]}}
scene:
  layout: {{type: parking_lot, size_m: [30, 30], bay_rows: 2, trees: 0, light_poles: 0, buildings: 0}}
  camera: {{height_m: 7.5, tilt_deg: 32, hfov_deg: 64, roll_deg: 1.0}}
""")
    spec = sample_clip(rec, 0, seed=11, clip_id="rt")
    world = simulate(spec)
    frame = Renderer(world, "cpu").render(0, 1).rgb[0].numpy()
    write_png(tmp_path / "frame.png", frame)
    assert cli("plate", "init", str(tmp_path / "frame.png"), "--out", str(tmp_path / "p")).returncode == 0
    corners = np.concatenate([b.polygon() for b in build_layout(spec.layout).bays])
    uv, z = world.camera.project(np.c_[corners, np.zeros(len(corners))], 0)
    ok = (z > 0) & (uv[:, 0] > 0) & (uv[:, 0] < W) & (uv[:, 1] > 0) & (uv[:, 1] < H)
    assert ok.sum() >= 8
    pts = [{"image": [round(float(u), 2), round(float(v), 2)], "ground": [float(x), float(y)]}
           for (u, v), (x, y) in zip(uv[ok], corners[ok])]
    (tmp_path / "pts.yaml").write_text(yaml.safe_dump(pts))
    r = cli("plate", "calibrate", str(tmp_path / "p"), "--points", str(tmp_path / "pts.yaml"))
    assert r.returncode == 0, r.stderr
    assert "reprojection error" in r.stdout and (tmp_path / "p" / "grid.png").is_file()
    cal = yaml.safe_load((tmp_path / "p" / "plate.yaml").read_text())["calibration"]
    assert cal["position_m"][2] == pytest.approx(spec.camera.position[2], abs=0.1)
    assert cal["tilt_deg"] == pytest.approx(spec.camera.tilt_deg, abs=0.3)
    assert cal["hfov_deg"] == pytest.approx(spec.camera.hfov_deg, abs=0.5)
    assert cal["reprojection_px"] < 0.5


def _occluder_world(tmp_path: Path):
    plate = make_plate(tmp_path / "p", sketch={
        "walkable": [[[0, 60], [320, 60], [320, 180], [0, 180]]],
        "occluders": [{"name": "pillar", "region": OCCLUDER, "contact": [[140, 140], [180, 140]]}]})
    rec = load_recipe(recipe_text(plate, plate / "sketch.json", people=0, frames=4))
    world = simulate(sample_clip(rec, 0, seed=5, clip_id="occ"))
    cam = world.camera
    T = world.num_frames
    contact = cam.ground_point(np.array([[160.0, 140.0]]))[0]
    actors = []
    for tid, dy, dx in ((1, 2.0, 0.4), (2, -1.5, 0.3)):               # one behind the pillar, one in front
        sh, kp = stick_person(T, contact + [-1.0, dy, 0], [dx, 0, 0])
        ref, _ = sh.bounding_spheres()
        actors.append(Actor(tid, "person", sh, ref.mean(1) * [1, 1, 0], np.zeros(T), np.ones(T, bool), kp,
                            np.full(17, 0.1)))
    world.actors = actors
    return world


def test_occluders_hide_actors_behind_them_and_labels_follow(tmp_path):
    world = _occluder_world(tmp_path)
    renderer = Renderer(world, "cpu")
    batch = renderer.render(0, world.num_frames)
    ext = track_extents(world)
    cols = label_chunk(world, batch, "occ", ext)
    inst, depth = batch.instance.numpy(), batch.depth.numpy()
    region = np.zeros((H, W), bool)
    region[40:140, 140:180] = True
    bg_depth = renderer.backdrop.background(world.camera.frame(0), renderer._rays).depth.numpy()
    assert np.all(np.isfinite(bg_depth[region]))
    behind_hidden = front_over = 0
    for r in rows_of(cols):
        m = inst[r["frame"]] == r["track_id"]
        ys, xs = np.nonzero(m)
        if len(xs):                              # the visible box is exactly the instance pixels
            assert (r["x"], r["y"], r["w"], r["h"]) == (xs.min(), ys.min(), xs.max() - xs.min() + 1, ys.max() - ys.min() + 1)
        if r["track_id"] == 1:
            assert not (m & region).any()        # behind the pillar: none of its pixels there
            behind_hidden += r["visibility"] < 0.95
        else:
            front_over += (m & region).sum()
        kp = np.asarray(r["keypoints"]).reshape(17, 3)
        _, z = world.camera.project(world.actor(r["track_id"]).keypoints[r["frame"]], r["frame"])
        for j in range(17):
            x, y, v = kp[j]
            if v == 0:
                continue
            d = depth[r["frame"], int(y), int(x)]
            assert v == (2 if d >= z[j] - 0.1 - KEYPOINT_MARGIN_M else 1)
            if r["track_id"] == 1 and region[int(y), int(x)]:
                assert v == 1                    # a joint behind the pillar is flagged occluded
    assert behind_hidden > 0 and front_over > 0


def test_sketched_tripwire_and_zone_produce_their_events(tmp_path):
    plate = make_plate(tmp_path / "p", sketch={
        "walkable": [[[0, 60], [320, 60], [320, 180], [0, 180]]],
        "zones": [{"name": "vault", "role": "restricted", "points": [[200, 110], [280, 110], [280, 170], [200, 170]]}],
        "tripwires": [{"name": "gate", "points": [[100, 175], [100, 70]], "crossing": "b_to_a"}]})
    rec = load_recipe(recipe_text(plate, plate / "sketch.json", people=0, frames=80))
    world = simulate(sample_clip(rec, 0, seed=5, clip_id="ev"))
    cam, T = world.camera, world.num_frames
    start = cam.ground_point(np.array([[40.0, 140.0]]))[0]
    end = cam.ground_point(np.array([[240.0, 140.0]]))[0]
    sh, kp = stick_person(T, start, (end - start) / (T - 1))      # walks left to right on screen
    ref, _ = sh.bounding_spheres()
    world.actors = [Actor(1, "person", sh, ref.mean(1) * [1, 1, 0], np.zeros(T), np.ones(T, bool), kp,
                          np.full(17, 0.1))]
    from synthdata.world.security.events import EventConfig, detect_events
    events = detect_events(world, EventConfig())
    crossing = [e for e in events if e.type == "line_crossing"]
    assert [(e.zone, e.attributes["direction"]) for e in crossing] == [("gate", "b_to_a")]   # b: left on screen
    assert [e.zone for e in events if e.type == "intrusion"] == ["vault"]
    # the same sketch drives a recipe's scenario: the named tripwire and zone are known to it
    rec2 = load_recipe(recipe_text(plate, plate / "sketch.json", people=0, frames=80, extra="""
scenario:
  line_crossing: {probability: 1.0, tripwire: gate, direction: b_to_a, start_s: 0.2}
  intrusion: {probability: 1.0, zone: vault, through: true, start_s: 0.2}
"""))
    w2 = simulate(sample_clip(rec2, 0, seed=8, clip_id="ev2"))
    kinds = {(e.type, e.zone) for e in w2.events}
    assert ("line_crossing", "gate") in kinds and ("intrusion", "vault") in kinds


def test_plate_is_the_background_and_actors_get_its_noise(tmp_path):
    plate = make_plate(tmp_path / "p", sketch={"walkable": [[[0, 60], [320, 60], [320, 180], [0, 180]]]})
    rec = load_recipe(recipe_text(plate, plate / "sketch.json", people=3, frames=2))
    spec = sample_clip(rec, 0, seed=3, clip_id="bg")
    world = simulate(spec)
    batch = Renderer(world, "cpu").render(0, 2)
    again = Renderer(simulate(spec), "cpu").render(0, 2)
    assert np.array_equal(batch.rgb.numpy(), again.rgb.numpy())       # deterministic for a seed
    from tests.plate_fixtures import plate_image
    img, inst = batch.rgb.numpy().astype(float), batch.instance.numpy()
    bg = (inst == 0)
    diff = np.abs(img - plate_image()[None])[bg].mean()
    assert diff < 6                                   # background pixels are the plate (+ noise, shadows)
    assert (inst > 0).any()


@pytest.mark.parametrize("name", ["plate_car_park", "plate_lobby"])
def test_shipped_plate_recipes_render(name):
    rec = load_recipe(ROOT / "recipes" / f"{name}.yaml", ["output.frames_per_clip=2", "output.resolution=[192,108]"])
    spec = sample_clip(rec, 0, seed=2, clip_id="ship")
    world = simulate(spec)
    batch = Renderer(world, "cpu").render(0, 2)
    assert batch.rgb.shape == (2, 108, 192, 3)
    plate = yaml.safe_load((Path(spec.layout.plate["dir"]) / "plate.yaml").read_text())
    assert "CC BY 4.0" in plate["credit"]


@pytest.mark.skipif(SHARED is None, reason="../shared/data is not here")
def test_reference_clips_make_clean_plates_and_the_shipped_ones_come_from_them(tmp_path):
    for clip, shipped in zip(CLIPS, ("car_park", "lobby")):
        src = SHARED / "reference" / clip
        r = cli("plate", "init", str(src), "--out", str(tmp_path / shipped), "--frames", "8")
        assert r.returncode == 0, r.stderr
        got = yaml.safe_load((tmp_path / shipped / "plate.yaml").read_text())
        assert got["size"] == [768, 432] and got["source"]["sha256"] == file_sha256(src)
        assert got["scores"][got["method"]]["score"] <= min(s["score"] for s in got["scores"].values())
        assert got["scores"]["median"]["score"] < got["scores"]["mog2"]["score"]     # median cleaner than MOG2
        ship = yaml.safe_load((ROOT / "examples" / "plates" / shipped / "plate.yaml").read_text())
        assert ship["source"]["sha256"] == got["source"]["sha256"]


def test_command_line_bad_input_is_one_line_and_exit_2(tmp_path):
    (tmp_path / "fake.mp4").write_text("not a video")
    (tmp_path / "empty").mkdir()
    plate = make_plate(tmp_path / "p")
    (tmp_path / "line.yaml").write_text(yaml.safe_dump(
        [{"image": [10.0 * k, 100.0], "ground": [float(k), 5.0]} for k in range(5)]))
    (tmp_path / "few.json").write_text(json.dumps([{"head": [10, 10], "foot": [10, 50]}]))
    cases = [
        (("plate", "init", str(tmp_path / "fake.mp4"), "--out", str(tmp_path / "o")), "fake.mp4"),
        (("plate", "init", str(tmp_path / "empty"), "--out", str(tmp_path / "o")), "no image files"),
        (("plate", "init", str(tmp_path / "nothing.mp4"), "--out", str(tmp_path / "o")), "no such file"),
        (("plate", "calibrate", str(plate), "--points", str(tmp_path / "line.yaml")), "one line"),
        (("plate", "calibrate", str(plate), "--people", str(tmp_path / "few.json")), "at least 3"),
        (("plate", "calibrate", str(tmp_path / "empty")), "not a plate folder"),
    ]
    for args, says in cases:
        r = cli(*args)
        assert r.returncode == 2, (args, r.stderr)
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and says in lines[0], (args, r.stderr)


def test_clips_of_a_plate_share_its_image_and_geometry_and_render_as_if_alone(tmp_path):
    """A worker keeps a plate's image and its pose's geometry for the clips that follow
    (render/backdrop.py `shared`); a clip under another light renders the same with them kept
    as with nothing kept, and a shaking camera (a pose of its own each frame) renders too."""
    from synthdata.render import backdrop

    plate = make_plate(tmp_path / "p", sketch={"walkable": [[[0, 60], [320, 60], [320, 180], [0, 180]]]})
    rec = load_recipe(recipe_text(plate, plate / "sketch.json", people=3, frames=2))
    first, second = (simulate(sample_clip(rec, i, seed=10 + i, clip_id=f"c{i}")) for i in range(2))
    backdrop._SHARED.clear()
    Renderer(first, "cpu").render(0, 2)
    assert {k[0] for k in backdrop._SHARED} == {"plate", "occluders", "pose"}
    kept = Renderer(second, "cpu").render(0, 2).rgb.numpy().copy()
    backdrop._SHARED.clear()
    alone = Renderer(second, "cpu").render(0, 2).rgb.numpy()
    assert np.array_equal(kept, alone)
    shaking = load_recipe(recipe_text(plate, plate / "sketch.json", people=3, frames=2), ["scene.sensor.shake_deg=0.4"])
    moved = Renderer(simulate(sample_clip(shaking, 0, seed=10, clip_id="s")), "cpu").render(0, 2).rgb.numpy()
    assert moved.shape == kept.shape and not np.array_equal(moved[1], moved[0])
