"""`synthdata preview` renders only the frames it shows, and they are the frames a run makes."""
from __future__ import annotations

import gc

import numpy as np
from click.testing import CliRunner

from synthdata.pipeline import render_clip
from synthdata.recipe.loader import load_recipe
from synthdata.render.preview import preview_command, render_some_frames

SMALL = ["output.resolution=[96, 64]", "output.frames_per_clip=7", "output.clips=2"]


def test_preview_frames_and_rows_equal_those_of_the_full_clip(monkeypatch):
    from synthdata.render import renderer as renderer_module

    recipe = load_recipe("recipes/parking_lot_day.yaml", SMALL)
    full = render_clip(recipe, 1, device="cpu")
    rendered = []
    real = renderer_module.Renderer.render
    monkeypatch.setattr(renderer_module.Renderer, "render",
                        lambda self, a, b: rendered.append(b - a) or real(self, a, b))
    frames, rows, cid = render_some_frames(recipe, 1, "cpu")
    assert sorted(frames) == [0, 3, 6] and sum(rendered) == 3 and cid == full.clip_id
    for t, img in frames.items():
        assert np.array_equal(img, full.frames[t])
        # every column (amodal boxes, truncation, keypoints from extents of the shown frames only) but the mask
        want = sorted(({k: v for k, v in r.items() if k != "mask"} for r in full.objects_in_frame(t)),
                      key=lambda r: r["track_id"])
        got = sorted(({k: v for k, v in r.items() if k != "mask"} for r in rows.get(t, [])), key=lambda r: r["track_id"])
        assert want and got == want


def test_bounds_of_some_frames_are_those_frames_of_all():
    from synthdata.world.geometry.projection import screen_bounds
    from synthdata.world.sample import sample_clip
    from synthdata.world.simulate import simulate

    for over in ([], ["scene.sensor.shake_deg=0.3"]):        # a still and a moving camera
        recipe = load_recipe("recipes/parking_lot_day.yaml", SMALL + over)
        world = simulate(sample_clip(recipe, 0, seed=5, clip_id="c"))
        assert world.camera.is_static == (not over)
        frames = np.array([6, 0, 3])
        for shapes in [a.shapes for a in world.actors[:3]] + [world.static]:    # moving and static shapes
            b, ok = screen_bounds(shapes, world.camera, frames)
            one = [screen_bounds(shapes.at(t), world.camera if world.camera.is_static else world.camera.frames(t, t + 1))
                   for t in frames]                                 # each frame alone
            ref_b, ref_ok = np.concatenate([o[0] for o in one]), np.concatenate([o[1] for o in one])
            assert b.shape == (3, shapes.num_shapes, 4) and np.array_equal(ok, ref_ok)
            assert np.array_equal(b, ref_b, equal_nan=True)


def test_preview_command_writes_a_contact_sheet(tmp_path):
    out = tmp_path / "sheet.png"
    res = CliRunner().invoke(preview_command, ["recipes/street_plaza.yaml", *SMALL, "--out", str(out), "--clips", "2",
                                               "--device", "cpu"])
    assert res.exit_code == 0, res.output
    from PIL import Image
    assert Image.open(out).size == (3 * 96 + 2 * 4, 2 * 64 + 4)
    assert gc.isenabled()                       # the command's pause of the collector is over


def test_rendering_makes_no_cyclic_garbage():
    """What lets preview pause the cyclic collector: refcounting alone frees a rendered clip."""
    recipe = load_recipe("recipes/security_plaza_crowd.yaml", SMALL)
    render_some_frames(recipe, 1, "cpu")        # imports and every kernel below compiled or loaded first:
    render_clip(recipe, 0, device="cpu")        # numba's compiler leaves cycles, the render must not
    gc.collect()
    gc.disable()
    try:
        render_some_frames(recipe, 1, "cpu")
        render_clip(recipe, 0, device="cpu")
        assert gc.collect() < 100
    finally:
        gc.enable()


def test_preview_to_a_name_no_image_type_has_exits_2_before_rendering(tmp_path):
    import subprocess
    import sys

    out = tmp_path / "sheet"
    proc = subprocess.run([sys.executable, "-m", "synthdata.cli", "preview", "recipes/street_plaza.yaml", *SMALL,
                           "--out", str(out), "--device", "cpu"], capture_output=True, text=True)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert [ln for ln in proc.stderr.splitlines() if ln.strip()] == [
        f"error: --out {out}: expected an image file name for the contact sheet, such as preview.png "
        "(or .jpg, .webp), or an .mp4 with --video"]
    assert not out.exists() and list(tmp_path.iterdir()) == []
