"""Plate look matching on CPU frames (render/plate_look.py, driven by PlateBackdrop.match) gives
the frames the torch path gives (the path GPU frames take): the same pixels, except a value that
falls on a rounding half, where torch's conv2d summed the blur in another order (one level)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from synthdata.pipeline import clip_seed
from synthdata.recipe.loader import load_recipe
from synthdata.render import plate_look
from synthdata.render.blur import gaussian_blur
from synthdata.render.renderer import Renderer
from synthdata.world.sample import sample_clip
from synthdata.world.simulate import simulate

ROOT = Path(__file__).resolve().parents[1]


def test_dilation_is_the_max_pool_and_the_box_of_a_mask_is_its_true_pixels():
    rng = np.random.default_rng(1)
    mask = rng.random((37, 53)) > 0.97
    mask[0, 0] = mask[-1, 20] = True
    for r in (1, 2, 4, 9):
        out = np.zeros_like(mask)
        box = plate_look._dilate(mask, r, out, 0, 37, 0, 53)
        want = F.max_pool2d(torch.from_numpy(mask)[None, None].float(), 2 * r + 1, 1, r)[0, 0] > 0
        np.testing.assert_array_equal(out, want.numpy())
        ys, xs = np.nonzero(want.numpy())
        assert box == (ys.min(), ys.max() + 1, xs.min(), xs.max() + 1)
    sparse = np.zeros((30, 40), bool)
    sparse[12, 7] = sparse[19, 31] = True            # searched for within rows 10-20, columns 5-35 only
    out = np.zeros_like(sparse)
    assert plate_look._dilate(sparse, 3, out, 10, 20, 5, 35) == (9, 23, 4, 35)
    np.testing.assert_array_equal(out, F.max_pool2d(torch.from_numpy(sparse)[None, None].float(), 7, 1, 3)[0, 0] > 0)
    assert plate_look._bbox(np.zeros((5, 6), bool))[1] == 0


def test_hard_shadows_are_looked_for_in_the_shadows_box_only():
    """soften's boxes (where the renderer's shadow windows fall) give the frame it gives without
    them when they hold the shadow; a shadow-coloured pixel outside them is left alone."""
    rng = np.random.default_rng(5)
    H, W = 40, 60
    lit = (rng.random((H, W, 3)) * 200 + 40).astype(np.uint8)
    shade = (lit * 0.5).astype(np.uint8)
    rgb = lit.copy()
    rgb[20:26, 10:30] = shade[20:26, 10:30]             # an actor's hard shadow
    rgb[3, 50] = shade[3, 50]                          # a pixel that only looks like one
    inst, receiver = np.zeros((1, H, W), np.int32), np.ones((H, W), bool)
    anywhere, boxed, outside = rgb[None].copy(), rgb[None].copy(), rgb[None].copy()
    plate_look.soften(anywhere, inst, lit, shade, receiver, 1.5)
    plate_look.soften(boxed, inst, lit, shade, receiver, 1.5, np.array([[18, 30, 5, 35]]))
    plate_look.soften(outside, inst, lit, shade, receiver, 1.5, np.array([[0, 0, 0, 0]]))
    assert not np.array_equal(anywhere, rgb[None])
    np.testing.assert_array_equal(boxed[0, 12:], anywhere[0, 12:])         # the shadow: the same
    assert np.array_equal(boxed[0, :10, 40:], rgb[:10, 40:]) and not np.array_equal(anywhere[0, :10, 40:], rgb[:10, 40:])
    np.testing.assert_array_equal(outside[0], rgb)


@pytest.mark.parametrize("sigma", [0.8, 1.7])
def test_blurred_needed_pixels_are_the_whole_frame_gaussian(sigma):
    rng = np.random.default_rng(2)
    x = (rng.random((40, 60, 3)) * 255).astype(np.float32)
    need = rng.random((40, 60)) > 0.7
    need[:, 0] = need[0, :] = need[-1, :] = True               # borders: replicated
    out = np.full_like(x, -1.0)
    plate_look._blur_tiles(x, need, plate_look.gaussian_taps(sigma), out, *plate_look._bbox(need))
    want = gaussian_blur(torch.from_numpy(x).permute(2, 0, 1)[None], sigma)[0].permute(1, 2, 0).numpy()
    np.testing.assert_allclose(out[need], want[need], rtol=0, atol=2e-4)


def test_blur_box_is_the_gaussian_over_the_box_alone():
    """`_blur_box` writes its box and nothing else; any scratch contents are overwritten."""
    rng = np.random.default_rng(4)
    x = (rng.random((30, 50, 3)) * 255).astype(np.float32)
    taps = plate_look.gaussian_taps(1.2)
    r = (len(taps) - 1) // 2
    out = np.full_like(x, -1.0)
    pad, horiz, acc = (np.full(n, np.nan, np.float32) for n in ((40 + 2 * r) * 3, ((12 + 2 * r), 40 * 3), 40 * 3))
    plate_look._blur_box(x, taps, out, 3, 15, 0, 40, pad, horiz, acc)
    want = gaussian_blur(torch.from_numpy(x).permute(2, 0, 1)[None], 1.2)[0].permute(1, 2, 0).numpy()
    np.testing.assert_allclose(out[3:15, :40], want[3:15, :40], rtol=0, atol=2e-4)
    inside = np.zeros(out.shape[:2], bool)
    inside[3:15, :40] = True
    assert (out[~inside] == -1.0).all()


def test_blur_tile_by_tile_is_the_same_bits_as_over_the_whole_box():
    """`_blur_tiles` (the needed pixels' own tiles) gives exactly `_blur_box` over the box around
    all of them at every needed pixel: clusters far apart, one on a tile's edge, one at the frame's
    corner."""
    rng = np.random.default_rng(3)
    x = (rng.random((150, 170, 3)) * 255).astype(np.float32)
    need = np.zeros((150, 170), bool)
    need[5:20, 3:30] = need[60:66, 30:35] = need[120:150, 140:170] = True
    need |= rng.random((150, 170)) > 0.995
    taps = plate_look.gaussian_taps(1.7)
    r = (len(taps) - 1) // 2
    y0, y1, x0, x1 = plate_look._bbox(need)
    whole, tiled = np.zeros_like(x), np.zeros_like(x)
    scratch = (np.empty((x1 - x0 + 2 * r) * 3, np.float32), np.empty((y1 - y0 + 2 * r, (x1 - x0) * 3), np.float32),
               np.empty((x1 - x0) * 3, np.float32))
    plate_look._blur_box(x, taps, whole, y0, y1, x0, x1, *scratch)
    plate_look._blur_tiles(x, need, taps, tiled, y0, y1, x0, x1)
    assert np.array_equal(whole[need], tiled[need]) and tiled[need].any()


@pytest.mark.parametrize("name", ["plate_car_park", "plate_lobby"])
def test_compiled_plate_look_matches_the_torch_path(name, monkeypatch):
    rec = load_recipe(ROOT / "recipes" / f"{name}.yaml",
                      ["output.frames_per_clip=3", "output.resolution=[320, 180]", "actors[0].count=6"])
    world = simulate(sample_clip(rec, 0, seed=clip_seed(rec.seed, 0), clip_id="c"))
    r = Renderer(world, "cpu")
    seen = []
    monkeypatch.setattr(r.backdrop, "match",
                        lambda rgb, inst, start, seed, falls: seen.append((rgb.clone(), inst.clone(), falls)))
    r.render(0, world.num_frames)
    monkeypatch.undo()
    (rgb, inst, falls), = seen
    assert bool((inst > 0).any()) and (falls[:, 1] > falls[:, 0]).all()     # shadows fall in every frame
    host, ref = rgb.clone(), rgb.clone()
    r.backdrop._match_host(host, inst, 0, int(world.noise_seed), falls)
    r.backdrop._match_torch(ref, inst, 0, int(world.noise_seed), falls)
    assert not torch.equal(host, rgb)                            # it did change the frames
    diff = (host.int() - ref.int()).abs()
    assert int(diff.max()) <= 1 and int((diff > 0).sum()) <= diff.numel() // 10000


def test_plate_gains_take_exposure_from_the_ground_and_colour_from_the_light():
    from synthdata.render.backdrop import CAST_LIMIT, LUMA, plate_gains

    luma = torch.tensor(LUMA)
    ref = torch.tensor([0.23, 0.23, 0.23])
    # a white wall over a warm wooden floor, under neutral light: the floor's colour stays the floor's
    wall = torch.full((400, 3), 0.9)
    floor = torch.tensor([0.26, 0.076, 0.019]).expand(600, 3)
    g = plate_gains(torch.cat([wall, floor]), floor, ref)
    assert float(g.max() / g.min()) < 1.02                       # no tint (it was 5x before)
    assert float(g @ luma) == pytest.approx(float(floor[0] @ luma / (ref @ luma)) * float(luma.sum()), rel=1e-4)
    # light that really is bluish (the wall and floor both bluish): the actors follow, within CAST_LIMIT
    blue = torch.tensor([0.8, 0.9, 1.1])
    gb = plate_gains(torch.cat([wall, floor]) * blue, floor * blue, ref)
    assert float(gb[2] / gb[0]) > 1.3 and float(gb.max() / gb.min()) <= CAST_LIMIT ** 2 + 1e-6
    # an extreme cast is limited
    red = torch.tensor([4.0, 1.0, 0.25])
    gr = plate_gains(torch.cat([wall, floor]) * red, floor * red, ref)
    assert float(gr[0] / gr[2]) == pytest.approx(CAST_LIMIT ** 2, rel=1e-4)


def test_kept_scratch_is_left_clean_and_frames_do_not_depend_on_earlier_ones():
    """`soften` and `ring_blur` keep their whole-frame scratch per thread (render/planes.py
    `kept`): after each call it is back to False / zeros, and a frame comes out the same whether
    other frames went through before it or not."""
    from concurrent.futures import ThreadPoolExecutor

    from synthdata.render import planes

    rng = np.random.default_rng(4)
    H, W = 48, 64
    lit = (rng.random((H, W, 3)) * 200 + 40).astype(np.uint8)
    shade = (lit * 0.5).astype(np.uint8)
    receiver = np.ones((H, W), bool)

    def frame(seed: int) -> tuple[np.ndarray, np.ndarray]:
        g = np.random.default_rng(seed)
        rgb, inst = lit.copy(), np.zeros((H, W), np.int32)
        y, x = g.integers(5, H - 15), g.integers(5, W - 15)
        inst[y:y + 10, x:x + 6] = 1 + seed
        rgb[y:y + 10, x:x + 6] = 255
        rgb[y + 10:y + 14, x - 3:x + 9] = shade[y + 10:y + 14, x - 3:x + 9]      # its hard shadow
        return rgb[None], inst[None]

    def run(seeds) -> list[np.ndarray]:
        out = []
        for s in seeds:
            rgb, inst = frame(s)
            plate_look.soften(rgb, inst, lit, shade, receiver, 1.5)
            plate_look.ring_blur(rgb, inst, 1.1)
            out.append(rgb)
        kept = planes._local.__dict__["kept"]
        hmask, near, hard, _ = kept["plate_look.soften"][1]
        _, _, ring = kept["plate_look.ring_blur"][1]
        assert not hmask.any() and not near.any() and not hard.any() and not ring.any()
        return out

    with ThreadPoolExecutor(1) as a, ThreadPoolExecutor(1) as b:
        alone = a.submit(run, [3]).result()[0]
        after = b.submit(run, [1, 2, 3]).result()
    assert np.array_equal(after[2], alone) and not np.array_equal(after[0], frame(1)[0])
