"""Domain randomisation (scene.randomize) and vehicle detail (rims, plate glyphs): parsing, one-line
errors, determinism, probabilities, distractors occluding people with exact labels, textures and
vehicle detail in the pixels."""
from __future__ import annotations

import collections
import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import synthdata
from synthdata.errors import RecipeError
from synthdata.labels.extents import track_extents
from synthdata.labels.rows import label_chunk
from synthdata.recipe.loader import load_recipe, recipe_to_yaml
from synthdata.render import patterns
from synthdata.render.renderer import Renderer
from synthdata.world import randomize as wr
from synthdata.world.actors import vehicles
from synthdata.world.geometry.camera import Camera
from synthdata.world.geometry.shapes import place
from synthdata.world.layouts.registry import build_layout
from synthdata.world.randomize_params import DistractorParams, RandomizeParams, TextureParams
from synthdata.world.simulate import make_camera
from synthdata.world.spec import ClipSpec, Track, VehicleParams
from synthdata.world.types import CAPSULE, CONE, MATERIAL, Actor, Ground, Lighting, Shapes, World
from tests.scenes import stick_person

HEAD = ("name: r\nseed: 5\noutput: {clips: 40, frames_per_clip: 2, fps: 5, resolution: [96, 64]}\n"
        "scene: {layout: {type: parking_lot, trees: 0, buildings: 0, light_poles: 0}}\n"
        "actors: [{type: person, count: 2}, {type: vehicle, count: 1, behavior: parked}]\n")


def recipe(block: str | None = None, **kw):
    over = [f"scene.randomize={block}"] if block else []
    return load_recipe(HEAD.encode(), over + [f"{k}={v}" for k, v in kw.items()])


def test_pattern_kinds_named_in_world_are_the_render_kinds():
    assert (vehicles.RIM, vehicles.PLATE) == (patterns.RIM, patterns.PLATE)
    assert wr.TEXTURE_KINDS == (patterns.SOLID_CHECKS, patterns.SOLID_STRIPES, patterns.BLOTCH, patterns.DOTS,
                                patterns.MARBLE)
    assert len(patterns.PATTERNS) == patterns.MARBLE + 1


def test_block_parses_shorthand_and_distributions_and_dumps_back():
    r = recipe("{textures: 0.5, distractors: {p: 1, count: {randint: [2, 4]}}, color_cast: {p: 0.3}}")
    rz = r.scene.randomize
    assert (rz.textures.p, rz.distractors.p, rz.color_cast.p, rz.lights.p) == (0.5, 1.0, 0.3, 0.0)
    assert rz.distractors.count.to_yaml() == {"randint": [2, 4]}
    again = load_recipe(recipe_to_yaml(r).encode())
    assert again.scene.randomize == rz
    # a recipe without the block dumps (and hashes) as before: no randomize key
    assert "randomize" not in recipe_to_yaml(recipe())


@pytest.mark.parametrize("block, words", [
    ("{textures: 1.5}", "scene.randomize.textures.p"),
    ("{textures: yes}", "scene.randomize.textures: expected a probability between 0 and 1 or a block"),
    ("{colour_cast: 0.2}", "scene.randomize.colour_cast: unknown key"),
    ("{distractors: {p: 1, count: many}}", "scene.randomize.distractors.count"),
    ("{distractors: {p: 1, near_m: 30, far_m: 10}}", "near_m must be less than far_m"),
    ("{textures: {p: 1, surfaces: [roof]}}", "scene.randomize.textures.surfaces"),
])
def test_bad_input_is_one_located_line(block, words):
    with pytest.raises(RecipeError) as e:
        recipe(block)
    assert words in str(e.value) and "\n" not in str(e.value)


def test_cli_validate_exits_2_with_one_line(tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text(HEAD.replace("scene: {layout:", "scene: {randomize: {lights: {p: 2}}, layout:"))
    p = subprocess.run([sys.executable, "-m", "synthdata.cli", "validate", str(path)], capture_output=True, text=True)
    assert p.returncode == 2 and "scene.randomize.lights.p" in p.stderr and p.stderr.strip().count("\n") == 0


def test_same_seed_same_draws_and_the_block_never_moves_actors():
    r = recipe("{textures: 1, distractors: 1, color_cast: 1, lights: 1}")
    a, b = synthdata.sample_clip(r, 3), synthdata.sample_clip(r, 3)
    assert json.dumps(a.to_json()) == json.dumps(b.to_json())
    assert a.randomize.applied == ["textures", "distractors", "color_cast", "lights"]
    assert ClipSpec.from_json(json.loads(json.dumps(a.to_json()))).randomize == a.randomize
    plain = synthdata.sample_clip(recipe(), 3)
    assert "randomize" not in plain.to_json()
    assert json.dumps(dataclasses.replace(a, randomize=None).to_json()) == json.dumps(plain.to_json())


def test_probabilities_are_honoured_over_many_clips():
    base = synthdata.sample_clip(recipe(), 0)
    layout, camera = build_layout(base.layout), make_camera(base.camera, base.width, base.height)

    def count(block: str, n: int = 200) -> collections.Counter:
        spec = recipe(block).scene.randomize            # the clip's own draws, for n clip seeds
        return collections.Counter(x for s in range(n) for x in
                                   wr.sample_randomize(spec, dataclasses.replace(base, seed=s), camera, layout).applied)

    never_always = count("{textures: 0, distractors: 1, color_cast: 0.0001, lights: 1}", 60)
    assert never_always["textures"] == 0 and never_always["distractors"] == 60 and never_always["lights"] == 60
    assert never_always["color_cast"] <= 1
    half = count("{textures: 0.5, color_cast: 0.25}")
    assert 75 <= half["textures"] <= 125 and 28 <= half["color_cast"] <= 72
    assert count("{textures: 0.5, color_cast: 0.25}") == half          # deterministic
    assert synthdata.sample_clip(recipe("{textures: 1}"), 4).randomize.applied == ["textures"]   # through sample_clip


def test_distractors_stand_clear_of_paths_in_view_and_are_unlabelled_scenery():
    r = recipe("{distractors: {p: 1, count: 6}}")
    spec = synthdata.sample_clip(r, 1)
    ds = spec.randomize.distractors
    assert len(ds) >= 3
    world = synthdata.simulate(spec)
    cam = world.camera
    for d in ds:
        for p in spec.people:
            assert np.min(np.linalg.norm(wr._path_points(p.track) - d.xy, axis=1)) > wr.RADIUS[d.kind] * d.scale
        uv, z = cam.project(np.array([[d.xy[0], d.xy[1], 0.0]]), 0)
        assert z[0] > 0
    assert world.info["randomize"] == "distractors" and world.info["distractors"] == len(ds)
    plain = synthdata.simulate(dataclasses.replace(spec, randomize=None))
    assert world.static.num_shapes > plain.static.num_shapes
    assert [a.track_id for a in world.actors] == [a.track_id for a in plain.actors]   # no new tracks


def test_a_distractor_occludes_a_person_and_labels_stay_exact():
    T = 3
    cam = Camera.from_pose(160, 120, position=(0, -6, 1.5), pan_deg=0, tilt_deg=8, hfov_deg=60)
    sh, kp = stick_person(T, [-0.6, 2.0, 0], [0.3, 0, 0])
    person = Actor(1, "person", sh, np.zeros((T, 3)), np.zeros(T), np.ones(T, bool), kp, np.full(17, 0.1))
    base = World(T, 10.0, cam, Shapes.empty(), Ground(), Lighting(), [person])
    block = DistractorParams("block", [0.0, -2.0], 0.0, 1.0, [0.5, 0.2, 0.2])
    world = wr.apply_randomize(base, RandomizeParams(applied=["distractors"], distractors=[block]))
    batch = Renderer(world, "cpu").render(0, T)
    cols = label_chunk(world, batch, "c", track_extents(world))
    inst = batch.instance.numpy()
    alone = Renderer(base, "cpu").render(0, T).instance.numpy()
    for i in range(len(cols["frame"])):
        t, m = cols["frame"][i], inst[cols["frame"][i]] == 1
        assert m.sum() < (alone[t] == 1).sum()                      # the block hides part of the person
        ys, xs = np.nonzero(m)
        assert (cols["x"][i], cols["y"][i], cols["w"][i], cols["h"][i]) == (
            xs.min(), ys.min(), xs.max() - xs.min() + 1, ys.max() - ys.min() + 1)
        assert 0 < cols["visibility"][i] < 1
        assert cols["visible_pixels"][i] == m.sum()


def _textured(seed: int = 4) -> tuple[World, World]:
    base = World(1, 10.0, Camera.from_pose(96, 64, position=(0, -8, 4), pan_deg=0, tilt_deg=30, hfov_deg=60),
                 Shapes.empty(), Ground(), Lighting())
    t = TextureParams(patterns.SOLID_CHECKS, [0.9, 0.1, 0.1], [0.05, 0.05, 0.4], 0.7, 1.0, seed)
    return base, wr.apply_randomize(base, RandomizeParams(applied=["textures"], ground=t))


def test_ground_texture_changes_the_render_and_is_deterministic():
    base, textured = _textured()
    plain = Renderer(base, "cpu").render(0, 1).rgb.numpy().astype(int)
    a = Renderer(textured, "cpu").render(0, 1).rgb.numpy().astype(int)
    b = Renderer(_textured()[1], "cpu").render(0, 1).rgb.numpy().astype(int)
    assert np.array_equal(a, b)
    ground = np.isfinite(Renderer(base, "cpu").render(0, 1).depth.numpy()[0])
    assert np.abs(a - plain)[0][ground].mean() > 20
    red = (a[0, ..., 0] > a[0, ..., 2] + 30) & ground
    blue = (a[0, ..., 2] > a[0, ..., 0] + 30) & ground
    assert red.mean() > 0.15 and blue.mean() > 0.15                  # both colours of the checks show


def _car_view(position, pan_deg, patterned: bool = True):
    v = VehicleParams(track_id=1, kind="car", subtype="sedan", length_m=4.4, width_m=1.8, height_m=1.45,
                      color="#3050a0", behavior="parked", speed_mps=0.0, wheel_radius_m=0.32,
                      track=Track([0.0], [[0.0, 0.0]], [0.0]))
    local = vehicles.vehicle_local_shapes(v)
    if not patterned:
        local = dataclasses.replace(local, pattern=None, pattern_color=None, pattern_scale=None, pattern_seed=None)
    sh = place(local, np.zeros((1, 3)), np.zeros(1))
    cam = Camera.from_pose(320, 240, position=position, pan_deg=pan_deg, tilt_deg=5, hfov_deg=60)
    world = World(1, 10.0, cam, Shapes.empty(), Ground(), Lighting(),
                  [Actor(1, "car", sh, np.zeros((1, 3)), np.zeros(1), np.ones(1, bool))])
    batch = Renderer(world, "cpu").render(0, 1)
    return local, batch.rgb.numpy()[0].astype(int), batch.part.numpy()[0]


@pytest.mark.parametrize("kind, position, pan", [
    (patterns.RIM, (1.3, -2.6, 1.0), -20.0),          # side view of a front wheel
    (patterns.PLATE, (3.6, 0.0, 1.0), -90.0),         # the front plate, head on
    (patterns.PLATE, (-3.6, 0.0, 1.0), 90.0),         # the rear plate
])
def test_rims_and_plate_glyphs_show_in_a_close_render(kind, position, pan):
    local, rgb, part = _car_view(position, pan)
    _, flat, part_flat = _car_view(position, pan, patterned=False)
    prims = np.flatnonzero(local.pattern == kind)
    px = np.isin(part, prims)
    assert px.sum() > 100 and np.array_equal(part, part_flat)
    lum, lum_flat = rgb[px].mean(1), flat[px].mean(1)                   # the same pixels without the pattern
    if kind == patterns.RIM:
        assert (lum > lum_flat + 40).mean() > 0.3                        # alloy rim and spokes over the tyre
        assert (np.abs(lum - lum_flat) < 10).mean() > 0.05               # and the tyre ring around them
    else:
        assert 0.08 < (lum < lum_flat - 40).mean() < 0.6                 # dark glyphs and border on the plate


def test_colour_cast_lights_and_vehicle_textures_reach_the_world():
    r = recipe("{textures: {p: 1, surfaces: [vehicles]}, color_cast: {p: 1, strength: 0.3}, "
               "lights: {p: 1, count: 2, height_m: 3}}")
    spec = synthdata.sample_clip(r, 2)
    rz = spec.randomize
    assert rz.ground is None and rz.walls is None and len(rz.vehicles) == len(spec.vehicles) >= 1
    plain = synthdata.simulate(dataclasses.replace(spec, randomize=None))
    world = synthdata.simulate(spec)
    gains = np.asarray(rz.color_cast)
    assert np.ptp(gains) > 0.1 and abs(0.2126 * gains[0] + 0.7152 * gains[1] + 0.0722 * gains[2] - 1) < 1e-9
    assert np.allclose(world.lighting.sun_color, np.asarray(plain.lighting.sun_color) * gains)
    added = world.lighting.point_lights[len(plain.lighting.point_lights):]
    assert len(added) == 2 and all(p.position[2] == 3 for p in added)
    for a, b in zip(world.actors, plain.actors):
        if a.track_id in {v.track_id for v in rz.vehicles}:
            paint = a.shapes.material == MATERIAL["paint"]
            assert set(a.shapes.pattern[paint]) <= set(wr.TEXTURE_KINDS) and paint.any()
            assert np.array_equal(a.shapes.pattern[~paint], b.shapes.patterns()[0][~paint])   # rims, plates kept
        else:
            assert a.shapes is b.shapes or np.array_equal(a.shapes.color, b.shapes.color)
    frame = Renderer(world, "cpu").render(0, 1).rgb.numpy().astype(int)
    assert np.abs(frame - Renderer(plain, "cpu").render(0, 1).rgb.numpy().astype(int)).mean() > 2


@pytest.mark.parametrize("kind", wr.RADIUS)
def test_every_distractor_kind_stands_on_the_ground_within_its_footprint(kind):
    from synthdata.recipe.randomize import DISTRACTOR_KINDS

    assert set(DISTRACTOR_KINDS) == set(wr.RADIUS)
    sh = wr.distractor_shapes(DistractorParams(kind, [2.0, 3.0], 0.7, 1.3, [0.2, 0.4, 0.6]))
    assert sh.num_frames == 1 and sh.num_shapes >= 1
    c, e, size = sh.center[0], sh.end[0], sh.size[0]         # yawed only: local z stays vertical
    round_ = np.isin(sh.kind, [CAPSULE, CONE])
    low = np.where(round_, np.minimum(c[:, 2] - size[:, 0], e[:, 2] - np.where(sh.kind == CONE, size[:, 1], size[:, 0])),
                   c[:, 2] - size[:, 2])
    assert -1e-9 <= low.min() <= 0.05                          # stands on the ground, not in it
    centre, _ = sh.bounding_spheres()
    reach = np.linalg.norm(centre[0, :, :2] - [2.0, 3.0], axis=1)
    assert np.all(reach < wr.RADIUS[kind] * 1.3 + 0.05)          # the placement radius covers its centres


def test_shipped_randomized_recipe_renders_a_labelled_clip_with_everything_on():
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "recipes" / "people_randomized.yaml"
    r = load_recipe(path, ["output.frames_per_clip=2", "output.resolution=[160, 120]",
                           "scene.randomize.textures.p=1", "scene.randomize.distractors.p=1",
                           "scene.randomize.color_cast.p=1", "scene.randomize.lights.p=1"])
    assert r.scene.randomize.distractors.count.to_yaml() == {"randint": [3, 10]}
    clip = synthdata.render_clip(r, 0, device="cpu")
    assert clip.frames.shape == (2, 120, 160, 3)
    assert clip.clip_row["randomize"] == "textures,distractors,color_cast,lights"
    assert clip.clip_row["distractors"] >= 1
    assert len(clip.objects["track_id"]) > 0 and set(clip.objects["category"]) <= {"person", "car", "van", "bicycle",
                                                                                    "bag"}


def test_random_textures_are_real_colours_within_albedo_range():
    # a light first colour (0.55 or more) drew a second one below zero lightness, whose colour
    # then came out complex (a negative number to the power 2.2); people_randomized's clip 61
    # could not be written
    for seed in range(4000):
        t = wr._texture(np.random.default_rng(seed), 1.0, 0.5)
        for c in (t.color, t.color2):
            assert all(isinstance(v, float) and 0.0 <= v <= 1.0 for v in c), (seed, c)


def test_people_randomized_clips_write_their_params():
    from synthdata.plan import clip_id, clip_seed
    from synthdata.world.sample import sample_clip

    rec = load_recipe(str(Path(__file__).resolve().parents[1] / "recipes" / "people_randomized.yaml"), ["output.clips=80"])
    for i in (61,):
        json.dumps(sample_clip(rec, i, seed=clip_seed(rec.seed, i), clip_id=clip_id(rec, i)).to_json())
