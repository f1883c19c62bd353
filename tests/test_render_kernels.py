"""Compiled kernels: the counter-hash noise, the first-run compile message."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
from numba import njit

from synthdata.render import backend, kernels
from synthdata.render.background_pass import paint_pass, painted
from synthdata.render.counter_noise import (element_hashes, hash32, noise_field, noise_of_hash, noise_sample, noise_sample32,
                                            sensor_value)
from synthdata.render.effects import encode_table
from synthdata.render.pixel import encode32


def test_hash_noise_is_unit_gaussian_like_and_the_same_bits_as_plain_python():
    H, W = 64, 80
    x = np.full((1, H, W, 3), 0.25, np.float32)
    out = np.zeros((1, H, W, 3), np.uint8)
    enc = encode_table("cpu").numpy()
    kernels.sensor_encode(x, np.array([12345], np.int64), 0.0, 1e-4, False, np.zeros((0, 0), np.float32), enc, out)
    draws = np.array([noise_sample(12345, e) for e in range(0, H * W * 3, 7)])
    assert abs(draws.mean()) < 0.05 and 0.9 < draws.std() < 1.1 and np.abs(draws).max() <= 2 * 3 ** 0.5
    # the compiled kernel draws exactly what the scalar function gives in plain Python
    for p in (0, 1, 999, H * W - 1):
        y, xx = divmod(p, W)
        for c in range(3):
            v = 0.25 + 0.01 * noise_sample(12345, p * 3 + c)
            want = enc[int(np.sqrt(min(max(v, 0.0), 16.0)) * (len(enc) - 1) / 4.0 + 0.5)]
            assert abs(int(out[0, y, xx, c]) - int(want)) <= 1
    again = np.zeros_like(out)
    kernels.sensor_encode(x, np.array([12345], np.int64), 0.0, 1e-4, False, np.zeros((0, 0), np.float32), enc, again)
    assert np.array_equal(out, again) and len(np.unique(out)) > 3


@njit(cache=False)
def _draws32(seed, elements):
    out = np.empty(len(elements), np.float32)
    s = np.uint32(seed & 0xFFFFFFFF)
    for i in range(len(elements)):
        out[i] = noise_sample32(s, elements[i] - 7, 7)
    return out


@njit(cache=False)
def _draws(seed, elements):
    out = np.empty(len(elements), np.float32)
    for i in range(len(elements)):
        out[i] = noise_sample(seed, elements[i])
    return out


def test_the_cpu_kernels_32_bit_hash_draws_the_same_bits_as_the_definition():
    rng = np.random.default_rng(3)
    elements = np.concatenate([np.arange(5000), rng.integers(0, 1280 * 720 * 3, 20000)]).astype(np.int64)
    for seed in (0, 1, 12345, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF):
        want = _draws(seed, elements)
        got = _draws32(seed, elements)
        assert np.array_equal(want.view(np.uint32), got.view(np.uint32)), seed
        # and the definition compiled is plain Python's
        assert all(np.float32(noise_sample(seed, int(e))) == want[i] for i, e in enumerate(elements[:50]))
        # and numpy's vectorised draw (the plate noise's torch path) is the kernels'
        field = noise_field(seed, 1280 * 720 * 3)
        assert np.array_equal(field[elements].view(np.uint32), got.view(np.uint32)), seed



@njit(cache=False)
def _draws_of_table(seed, hashes):
    out = np.empty(len(hashes), np.float32)
    s = np.uint32(seed & 0xFFFFFFFF)
    for i in range(len(hashes)):
        out[i] = noise_of_hash(s, hashes[i])
    return out


def test_a_frames_table_of_first_hash_rounds_draws_the_definitions_bits_at_every_size():
    # the sensor pass and the plates' noise draw from a table per frame size (the thread's, made
    # again when the size changes); every entry is the element's first round, whatever came before
    for count in (13 * 9 * 3, 64 * 48 * 3, 13 * 9 * 3):
        table = element_hashes(count)
        assert table.shape == (count,) and table.dtype == np.uint32
        assert all(int(table[e]) == hash32(e) for e in (0, 1, 2, count // 2, count - 1))
        for seed in (0, 7, 0xFFFFFFF0):
            want = noise_field(seed, count)
            assert np.array_equal(_draws_of_table(seed, table).view(np.uint32), want.view(np.uint32)), (count, seed)
    assert element_hashes(64 * 48 * 3) is element_hashes(64 * 48 * 3)     # made once a size


def test_sensor_pass_with_vignette_and_one_draw_a_pixel_matches_the_scalar_maths():
    H, W = 9, 13
    rng = np.random.default_rng(4)
    x = (rng.random((2, H, W, 3)) * 3 - 0.2).astype(np.float32)
    vig = rng.random((H, W)).astype(np.float32)
    enc = encode_table("cpu").numpy()
    seeds = np.array([7, 0xFFFFFFF0], np.int64)
    for mono in (False, True):
        out = np.zeros(x.shape, np.uint8)
        kernels.sensor_encode(x, seeds, 0.02, 1e-3, mono, vig, enc, out)
        want = np.zeros_like(out)
        for t in range(2):
            for y in range(H):
                for xx in range(W):
                    for c in range(3):
                        e = (y * W + xx) * 3 + (0 if mono else c)
                        v = np.float32(x[t, y, xx, c] * vig[y, xx])
                        want[t, y, xx, c] = encode32(sensor_value(v, noise_sample(int(seeds[t]), e), 0.02, 1e-3), enc)
        assert np.abs(out.astype(int) - want).max() <= 1 and (out == want).mean() > 0.99, mono


def test_first_run_says_that_kernels_are_being_compiled(monkeypatch, capsys):
    empty = SimpleNamespace(_cache=SimpleNamespace(_cache_file=SimpleNamespace(_load_index=dict)))
    fresh = SimpleNamespace(**{k: empty for k in backend.KERNELS})     # nothing in numba's cache
    monkeypatch.setattr(backend, "_announced", False)
    backend.announce_compile(fresh)
    assert "compiling render kernels" in capsys.readouterr().err
    monkeypatch.setattr(backend, "_announced", False)
    monkeypatch.setattr(backend, "cached", lambda d: True)
    backend.announce_compile(fresh)
    assert capsys.readouterr().err == ""
    # a kernel only some scenes call, never compiled yet, does not make every process announce
    monkeypatch.setattr(backend, "_announced", False)
    monkeypatch.setattr(backend, "cached", lambda d: d is not empty)
    only_on_demand = SimpleNamespace(**{k: (empty if k in backend.ON_DEMAND else object()) for k in backend.KERNELS})
    backend.announce_compile(only_on_demand)
    assert capsys.readouterr().err == ""


def test_every_kernel_the_message_counts_is_one_a_plain_daytime_clip_calls():
    """The first-run message counts the kernels every scene needs; one that a plain clip never
    calls would stay out of numba's cache and make every later process announce a compile. A
    built-in layout and a plate (no static shapes) alike."""
    import subprocess
    import sys

    code = """
import sys
from synthdata.pipeline import generate_clip
from synthdata.recipe.loader import load_recipe
from synthdata.render import backend, kernels
from synthdata.render.background_pass import paint_pass, painted
r = load_recipe(sys.argv[1], ['output.frames_per_clip=4', 'output.resolution=[160,90]'] + sys.argv[2:])
for _ in generate_clip(r, 0, device='cpu').chunks:
    pass
print(sorted(k for k in backend.KERNELS if k not in backend.ON_DEMAND
             and not backend.compiled(getattr(kernels, k)).signatures))
"""
    # each in a fresh process; the lobby's people start in view (in 4 frames an entering one may not be yet)
    for path, *extra in (("recipes/parking_lot_day.yaml",), ("recipes/plate_lobby.yaml", "actors.0.enters=false")):
        out = subprocess.run([sys.executable, "-c", code, path, *extra], capture_output=True, text=True, check=True,
                             cwd=__import__("pathlib").Path(__file__).resolve().parents[1])
        assert out.stdout.strip().splitlines()[-1] == "[]", path


def test_importing_synthdata_asks_torch_for_huge_pages_unless_told_otherwise():
    import os
    import subprocess
    import sys
    code = "import os, synthdata; print(os.environ.get('THP_MEM_ALLOC_ENABLE'))"
    env = {k: v for k, v in os.environ.items() if k != "THP_MEM_ALLOC_ENABLE"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "1"
    out = subprocess.run([sys.executable, "-c", code], env=dict(env, THP_MEM_ALLOC_ENABLE="0"), capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == "0"


def test_pixel_loop_kernels_compile_without_reference_counting():
    """The kernels whose pixel loops call inlined helpers taking arrays compile without numba's
    reference counting (kernels.NO_REFS): with it, every array handed to a helper costs an atomic
    increment and decrement per pixel (shade_hits 1.8x slower). Their scratch comes from wrappers."""
    from synthdata.render import background_pass, kernels, light_pass, motion_pass
    from synthdata.world.geometry import camera_rows

    loops = [kernels.raster, kernels._shade_hits, kernels.shade_surfaces, kernels.surfaces, kernels._sun_shadows,
             light_pass._light_pools, light_pass.lamp_row, motion_pass._motion_blur, motion_pass._spread,
             motion_pass._row_motion, motion_pass._project_points, background_pass._shade_tone, camera_rows._bounds,
             background_pass._paint]
    assert [f.py_func.__name__ for f in loops if f.targetoptions.get("_nrt", True)] == []


def test_motion_spread_by_rows_and_columns_is_the_square_scatter():
    """Motion blur's `_spread` (squares written as a row run, then a column run from each run pixel)
    gives every pixel what writing each moving pixel's whole square in row-major order gives: the
    fastest motion reaching it, on a tie the first pixel in row-major order."""
    from synthdata.render import motion_pass
    from synthdata.render.motion_blur import reach

    rng = np.random.default_rng(7)
    H, W = 40, 56
    for trial in range(6):
        n = int(rng.integers(1, 300))
        flat = np.sort(rng.choice(H * W, n, replace=False)).astype(np.int32)
        speeds = np.array([2.5, 3.0, 3.0, 5.5, 8.0, 12.0, 33.9], np.float32)     # ties, reaches 2 to 17
        m = speeds[rng.integers(0, len(speeds), n)]
        want_m, want_src = np.zeros((H, W), np.float32), np.full((H, W, 2), -1, np.int32)
        for p, mm in zip(flat, m):                      # the plain scatter, in row-major order
            y, x = divmod(int(p), W)
            r = reach(float(mm))
            for qy in range(max(y - r, 0), min(y + r + 1, H)):
                for qx in range(max(x - r, 0), min(x + r + 1, W)):
                    if mm > want_m[qy, qx]:
                        want_m[qy, qx], want_src[qy, qx] = mm, (y, x)
        R = reach(np.sqrt(2.0) * 24.0)
        at, ms = np.zeros((2, H * W), np.int32), np.zeros((2, H * W), np.float32)
        start = np.zeros(R + 2, np.int64)
        at[0, :n], ms[0, :n] = flat, m
        np.add.at(start, [reach(float(v)) + 1 for v in m], 1)
        best, src = np.zeros((H, W), np.float32), np.full((H, W, 2), -1, np.int32)
        row_m, row_x = np.zeros((H, W), np.float32), np.zeros((H, W), np.int32)
        motion_pass._spread(at, ms, n, start, row_m, row_x, best, src)
        assert np.array_equal(best, want_m) and np.array_equal(src, want_src), trial
        assert not start.any() and not row_m.any()      # scratch left as it came


def test_a_rows_motion_in_steps_is_pixel_motion_pixel_by_pixel():
    """Motion blur's `_row_motion` (pixel_motion's steps over a row, for cameras without fisheye)
    gives each pixel what pixel_motion gives it: a turning camera with Brown distortion and skew,
    tracks that move and one that does not, the sky (infinite depth), points behind a camera."""
    from synthdata.render import motion_pass
    from synthdata.render.motion_blur import pixel_motion
    from synthdata.world.geometry.camera import Camera, look_rotation
    from synthdata.world.geometry.camera_rows import pack_camera

    rng = np.random.default_rng(11)
    W, K = 97, 4
    R = np.stack([look_rotation(p, 30.0 + 0.3 * i, 0.5 * i) for i, p in enumerate((10.0, 12.5, 16.0))])
    cam = Camera(W, 60, np.array([300.0, 320.0, 345.0]), np.array([300.0, 321.0, 344.0]), 48.0, 30.0, R,
                 np.tile([1.0, -2.0, 6.0], (3, 1)), k1=-0.21, k2=0.04, skew=np.array([0.0, 0.4, 0.9]))
    prev, cur, nxt = (pack_camera(cam, t) for t in range(3))
    rays = rng.normal(size=(W, 3))
    rays[:, 2] -= 0.2                                   # some rays far off the axis, some behind the next view
    rays /= np.linalg.norm(rays, axis=1, keepdims=True)
    depth = (rng.random(W) * 40 + 0.5).astype(np.float32)
    depth[::9] = np.inf
    inst = rng.integers(0, K, W).astype(np.int32)
    disp = rng.normal(scale=0.3, size=(K, 3))
    disp[0] = 0.0
    cols = np.sort(rng.choice(W, 61, replace=False)).astype(np.int64)
    lanes = np.full((motion_pass.LANES, W), np.nan)
    motion_pass._row_motion(prev, cur, nxt, rays.astype(np.float32), depth, inst, disp, 1.0, 2.0, 0.5, 24.0, cols,
                            len(cols), lanes)
    want = np.array([pixel_motion(prev, cur, nxt, *np.float32(rays[x]).astype(float), float(depth[x]), *disp[inst[x]],
                                  1.0, 2.0, 0.5, 24.0) for x in cols])
    assert (want == 0).all(axis=1).any() and (np.abs(want) < 24).all(axis=1).any()     # both kinds of pixel
    assert (want != 0).all(axis=1).sum() > len(cols) // 4       # many pixels do move
    np.testing.assert_allclose(lanes[:2, :len(cols)].T, want, rtol=1e-9, atol=1e-9)


def test_the_way_into_linear_light_matches_its_per_value_maths_with_and_without_fog():
    rng = np.random.default_rng(5)
    rgb = rng.integers(0, 256, (3, 7, 11, 3)).astype(np.uint8)
    lut = (rng.random(256) * 4).astype(np.float32)
    gain = np.array([1.0, 0.37, 2.9])                      # a frame's auto-exposure gain each
    depth = (rng.random((3, 7, 11)) * 80).astype(np.float32)
    air = np.array([0.2, 0.3, 0.4], np.float32)
    for fog in (0.0, 35.0):
        got = np.empty(rgb.shape, np.float32)
        kernels.decode_linear(rgb, lut, gain, depth, fog, air, got)
        want = lut[rgb].astype(np.float64) * gain[:, None, None, None]
        if fog > 0:
            f = 1.0 - np.exp(-3.912 * depth.astype(np.float64) / fog)[..., None]
            want = want * (1.0 - f) + air * f
        assert np.array_equal(got, want.astype(np.float32)), fog


def test_compiled_floor_and_ceil_are_maths_as_floats():
    """render/rounding.py's floor and ceil, compiled (np.floor / np.ceil on the CPU), give
    math.floor and math.ceil's values for float64 and float32 inputs: negatives, whole numbers,
    halves and values a hair either side of them."""
    import math

    from numba import njit

    from synthdata.render.rounding import ceil, floor

    @njit
    def both(xs, lo, hi):
        for i in range(xs.shape[0]):
            lo[i], hi[i] = floor(xs[i]), ceil(xs[i])

    base = np.array([-3.0, -2.5, -1.0, -0.5, -1e-9, 0.0, 1e-9, 0.5, 1.0, 2.5, 7.0, 1e6 + 0.5])
    xs64 = np.concatenate([base, np.nextafter(base, np.inf), np.nextafter(base, -np.inf),
                           np.random.default_rng(1).uniform(-1e4, 1e4, 500)])
    for xs in (xs64, xs64.astype(np.float32)):
        lo, hi = np.empty(len(xs)), np.empty(len(xs))
        both(xs, lo, hi)
        assert lo.tolist() == [float(math.floor(x)) for x in xs]
        assert hi.tolist() == [float(math.ceil(x)) for x in xs]


@njit(cache=False)
def _paint_every_pixel(albedo, material, gpt, valid, win, lo, hi, kind, first, pts, half, colour, mat):
    for i in range(win.shape[0]):
        for y in range(win[i, 1], win[i, 3]):
            for x in range(win[i, 0], win[i, 2]):
                if valid[y, x] and painted(i, gpt[y, x, 0], gpt[y, x, 1], lo, hi, kind, first, pts, half):
                    albedo[y, x, 0], albedo[y, x, 1], albedo[y, x, 2] = colour[i, 0], colour[i, 1], colour[i, 2]
                    material[y, x] = mat[i]


def test_ground_paint_by_tiles_is_every_pixel_of_every_window_tested():
    """`paint_pass` skips the tiles whose ground points miss an item's box; the pixels it tests
    still take the same items in the same order as testing every pixel of every window: crossing
    lines and polygons painted over each other, windows cut by the frame's edges and by tiles, a
    whole-frame window, an empty one, and invalid pixels (sky) that no item may paint."""
    H, W = 75, 101                                  # not whole tiles (PAINT_TILE 16)
    v, u = np.mgrid[0:H, 0:W].astype(np.float32)
    depth = 2.0 + 40.0 / (v + 8.0)                  # a ground seen in perspective (y 5-8.4 m, x up to 10 m)
    gpt = np.stack([(u - W / 2) * depth * 0.05, depth * 2.0, np.zeros_like(u)], -1).astype(np.float32)
    valid = v > 9                                   # the top rows are sky
    lines = [np.array([[-3.0, 5.2], [4.0, 8.2]]), np.array([[-6.0, 6.0], [6.0, 6.2], [6.5, 8.0]]),
             np.array([[0.0, 5.0], [0.2, 9.0]])]
    polys = [np.array([[-2.0, 6.5], [3.0, 6.5], [3.0, 7.5], [-2.0, 7.5]]), np.array([[1.0, 5.5], [5.0, 8.0], [-1.0, 8.0]])]
    pts = lines + polys
    kind = np.array([0] * len(lines) + [1] * len(polys), np.int64)
    half = np.array([0.15, 0.3, 0.1, 0.0, 0.0])
    lo = np.stack([p.min(0) - 0.3 for p in pts])
    hi = np.stack([p.max(0) + 0.3 for p in pts])
    first = np.cumsum([0] + [len(p) for p in pts]).astype(np.int64)
    win = np.array([[0, 0, W, H], [5, 20, 97, 70], [50, 3, 52, 75], [0, 0, 0, 0], [17, 33, 64, 49]], np.int64)
    colour = np.arange(15, dtype=np.float32).reshape(5, 3) / 15
    mat = np.arange(1, 6, dtype=np.int64)
    args = (gpt, valid, win, lo, hi, kind, first, np.concatenate(pts), half, colour, mat)
    want_a, want_m = np.zeros((H, W, 3), np.float32), np.zeros((H, W), np.int64)
    _paint_every_pixel(want_a, want_m, *args)
    got_a, got_m = np.zeros_like(want_a), np.zeros_like(want_m)
    paint_pass(got_a, got_m, *args)
    assert np.array_equal(got_m, want_m) and np.array_equal(got_a, want_a)
    assert set(np.unique(want_m)) == {0, 1, 2, 3, 5}  # every item but the empty window's shows
    assert not want_m[~valid].any()
