"""The refiner's precision paths (synthdata/refine): the bfloat16 residual against float32, the
compiled steps around the network on that path, its upsampling through float32, and the fused
residual (refine/fused.py) against the module's."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from synthdata.refine.apply import load_refiner, refine_frames
from tests.refine_fixtures import TINY_RECIPE, one_thread, render, strong  # noqa: F401 (fixtures)


def test_bfloat16_residual_stays_within_one_level_of_float32(strong, monkeypatch):
    """precision auto on a CPU with bfloat16 in hardware runs the residual on a bfloat16 copy of the
    weights: values within two 8-bit levels of float32's, which is the generator's own output
    (the same bits as before the option); float32 never makes the copy. Forced on here, so it runs
    on machines without it too (there emulated: slower, the same numbers)."""
    from synthdata.refine import apply

    frames = torch.from_numpy(render(TINY_RECIPE).frames)
    full = load_refiner(strong, "cpu", "float32")
    assert full.low is None
    with torch.inference_mode():        # one frame at a time, as refine_frames does
        direct = torch.stack([(full.generator(f.permute(2, 0, 1)[None].float() / 255.0)[0] * 255.0).round()
                              .clamp(0, 255).to(torch.uint8).permute(1, 2, 0) for f in frames])
    exact = refine_frames(frames, full)
    assert torch.equal(exact, direct)
    apply._load.cache_clear()
    monkeypatch.setattr(apply, "native_bfloat16", lambda: True)
    low = load_refiner(strong, "cpu", "auto")
    assert low.low is not None and next(low.low.parameters()).dtype == torch.bfloat16
    mixed = refine_frames(frames, low)
    diff = (mixed.int() - exact.int()).abs()
    # it ran (some values differ), and it is close: this random, strong refiner moves about one value
    # in 8 by a level, a few in a million by two (the shipped one: 1-2 % by one level, none by two)
    assert 1 <= int(diff.max()) <= 2 and float((diff > 0).float().mean()) < 0.3
    assert float((diff > 1).float().mean()) < 1e-3
    assert torch.equal(refine_frames(frames, low), mixed)                          # deterministic
    monkeypatch.setattr(apply, "native_bfloat16", lambda: False)
    apply._load.cache_clear()
    assert load_refiner(strong, "cpu", "auto").low is None
    apply._load.cache_clear()


def test_bfloat16_path_compiled_steps_give_the_torch_expressions_bytes(strong, monkeypatch):
    """On the bfloat16 path the steps around the network are two compiled passes over tables that
    torch's own operations made: every bfloat16 residual with many 8-bit levels gives the bytes of
    the float path's expression, and whole refined frames are the bytes of the torch ops."""
    from synthdata.refine import apply

    levels, inputs, centred, deltas = apply._bfloat16_io(0.25)
    rng = np.random.default_rng(5)
    lv = np.concatenate([[0, 1, 2, 127, 128, 254, 255], rng.integers(0, 256, 9)]).astype(np.uint8)
    rgb = np.repeat(lv, 65536)
    res = np.tile(np.arange(-32768, 32768, dtype=np.int32).astype(np.int16), len(lv))
    mine = np.empty(rgb.shape, np.uint8)
    apply._to_frame(rgb, res, levels, deltas, mine)
    x = torch.from_numpy(rgb).float() / 255.0
    r = torch.from_numpy(res).view(torch.bfloat16).float()
    theirs = ((x + 0.25 * torch.tanh(r)).clamp(0.0, 1.0) * 255.0).round_().clamp_(0, 255).to(torch.uint8).numpy()
    real = ~torch.isnan(r).numpy()
    assert np.array_equal(mine[real], theirs[real]) and not mine[~real].any()      # NaN gives 0
    x16 = np.empty(256, np.int16)
    apply._to_input(np.arange(256, dtype=np.uint8), inputs, x16)
    x = (torch.arange(256, dtype=torch.uint8).float() / 255.0).to(torch.bfloat16)
    assert torch.equal(torch.from_numpy(x16).view(torch.bfloat16), x)
    apply._to_input(np.arange(256, dtype=np.uint8), centred, x16)
    assert torch.equal(torch.from_numpy(x16).view(torch.bfloat16), x * 2 - 1)     # the network's first step

    frames = torch.from_numpy(render(TINY_RECIPE).frames)
    apply._load.cache_clear()
    monkeypatch.setattr(apply, "native_bfloat16", lambda: True)
    low = load_refiner(strong, "cpu", "auto")
    with torch.inference_mode():
        expected = []
        for f in frames:
            x = f.permute(2, 0, 1)[None].float() / 255.0
            y = low.generator.bounded(x, low.residual(x))
            expected.append((y[0] * 255.0).round_().clamp_(0, 255).to(torch.uint8).permute(1, 2, 0))
    got = refine_frames(frames, low)
    assert torch.equal(got, torch.stack(expected)) and not torch.equal(got, frames)
    half = refine_frames(frames, low, 0.5)                  # other strengths keep the torch ops
    assert not torch.equal(half, got) and not torch.equal(half, frames)
    apply._load.cache_clear()


def test_bfloat16_upsampling_in_float32_is_pytorchs_bfloat16_result():
    """The generator upsamples a bfloat16 tensor in float32 and rounds back (twice as fast on the
    CPU): the same bits as PyTorch's own bfloat16 bilinear kernel, at the generator's 2x steps and
    at odd sizes, in both memory layouts; float32 tensors go straight through."""
    import torch.nn.functional as F

    from synthdata.refine.model import _upsample

    g = torch.Generator().manual_seed(3)
    for c, h, w in ((24, 12, 16), (6, 24, 32), (5, 7, 9)):
        x = (torch.randn(1, c, h, w, generator=g) * 4).to(torch.bfloat16)
        for t in (x, x.contiguous(memory_format=torch.channels_last)):
            like = torch.empty(1, c, 2 * h + (h % 2), 2 * w)
            mine = _upsample(t, like)
            theirs = F.interpolate(t, size=like.shape[-2:], mode="bilinear", align_corners=False)
            assert mine.dtype == torch.bfloat16 and mine.shape == theirs.shape
            assert torch.equal(mine, theirs)
    x32 = torch.randn(1, 4, 6, 8, generator=g)
    assert torch.equal(_upsample(x32, torch.empty(1, 4, 12, 16)),
                       F.interpolate(x32, size=(12, 16), mode="bilinear", align_corners=False))


def test_fused_residual_is_the_modules_in_float32_and_rounds_once_in_bfloat16(strong):
    """The CPU's fused residual: in float32 the module's bits at any size (padding and cropping as
    it does); in bfloat16 other bits than the module's bfloat16 residual (a fused step rounds once
    where the module rounds twice), no further from float32's on average or at worst."""
    import copy

    from synthdata.refine import fused

    if not fused.available():
        pytest.skip("this torch has no oneDNN fused convolutions")
    gen = load_refiner(strong, "cpu", "float32").generator
    low = copy.deepcopy(gen).to(torch.bfloat16)
    g = torch.Generator().manual_seed(4)
    with torch.inference_mode():
        for h, w in ((48, 64), (30, 45), (7, 5)):
            x = torch.rand(1, h, w, 3, generator=g).permute(0, 3, 1, 2)       # channels-last, as frames are
            exact = gen.residual(x)
            assert torch.equal(fused.FusedResidual(gen)(x), exact)
            if not fused.available(torch.bfloat16):         # oneDNN has no bfloat16 on this CPU
                continue
            mine, theirs = fused.FusedResidual(low)(x.to(torch.bfloat16)), low.residual(x.to(torch.bfloat16))
            assert mine.dtype == torch.bfloat16 and mine.shape == exact.shape
            if min(h, w) < fused.MIN_SIDE:                  # a few pixels: the module itself
                assert torch.equal(mine, theirs)
                continue
            assert not torch.equal(mine, theirs)                                # it ran fused
            err_mine, err_theirs = (mine.float() - exact).abs(), (theirs.float() - exact).abs()
            assert err_mine.mean() <= err_theirs.mean() * 1.1 and err_mine.max() <= err_theirs.max() * 1.5


def test_fused_residual_of_a_batch_is_each_frames(strong):
    """Frames (N, 3, H, W) through the fused residual give each frame's own residual, in float32
    (the module's batch) and in bfloat16 (whose compiled upsampling takes one frame: the batch goes
    a frame at a time, not just its first frame)."""
    import copy

    from synthdata.refine import fused

    if not fused.available():
        pytest.skip("this torch has no oneDNN fused convolutions")
    gen = load_refiner(strong, "cpu", "float32").generator
    x = torch.rand(3, 40, 52, 3, generator=torch.Generator().manual_seed(5)).permute(0, 3, 1, 2)
    with torch.inference_mode():
        batch = fused.FusedResidual(gen)(x)
        assert torch.equal(batch, gen.residual(x))
        if not fused.available(torch.bfloat16):         # oneDNN has no bfloat16 on this CPU
            return
        quick, xb = fused.FusedResidual(copy.deepcopy(gen).to(torch.bfloat16)), x.to(torch.bfloat16)
        batch = quick(xb)
        assert batch.shape == (3, 3, 40, 52)
        assert torch.equal(batch, torch.cat([quick(xb[i:i + 1]) for i in range(3)]))
        with pytest.raises(ValueError, match="takes"):
            fused.up_add_leaky(torch.zeros(2, 4, 3, 5, dtype=torch.bfloat16), torch.zeros(2, 4, 6, 10, dtype=torch.bfloat16))


def test_upsample_add_leaky_pass_is_torchs_bfloat16_operations():
    """The bfloat16 path's compiled "upsample 2x, add, leaky ReLU": the bits of torch's bilinear
    upsampling in float32 rounded to bfloat16, then its bfloat16 sum and leaky ReLU, at the
    generator's sizes, odd ones and one row or column."""
    import torch.nn.functional as F

    from synthdata.refine.fused import SLOPE, up_add_leaky

    g = torch.Generator().manual_seed(8)
    for c, h, w in ((24, 12, 16), (6, 24, 32), (5, 7, 9), (3, 1, 4), (2, 3, 1)):
        a = (torch.randn(1, c, h, w, generator=g) * 3).to(torch.bfloat16).contiguous(memory_format=torch.channels_last)
        b = (torch.randn(1, c, 2 * h, 2 * w, generator=g) * 3).to(torch.bfloat16)
        b = b.contiguous(memory_format=torch.channels_last)
        up = F.interpolate(a.float(), size=b.shape[-2:], mode="bilinear", align_corners=False).to(torch.bfloat16)
        theirs = F.leaky_relu(up + b, SLOPE)
        mine = up_add_leaky(a, b)
        assert mine.shape == theirs.shape and torch.equal(mine, theirs)


def test_frames_two_at_a_time_give_the_same_bytes(strong, monkeypatch):
    """pair: every other frame refined on the calling thread's side thread "refine", the same bytes
    as one thread, on the bfloat16 path and the float path (strength below 1) alike."""
    import threading

    from synthdata.refine import apply

    frames = torch.from_numpy(render(TINY_RECIPE).frames)
    assert frames.shape[0] >= 3
    apply._load.cache_clear()
    monkeypatch.setattr(apply, "native_bfloat16", lambda: True)
    low = load_refiner(strong, "cpu", "auto")
    seen = []
    real = apply._refine_into

    def spy(rgb, refiner, strength, out, frames_):
        seen.append((threading.current_thread().name, list(frames_)))
        real(rgb, refiner, strength, out, frames_)

    monkeypatch.setattr(apply, "_refine_into", spy)
    for strength in (1.0, 0.6):
        seen.clear()
        one = refine_frames(frames, low, strength)
        two = refine_frames(frames, low, strength, pair=True)
        assert torch.equal(one, two) and not torch.equal(one, frames)
        T = frames.shape[0]
        me = threading.current_thread().name
        assert seen[0] == (me, list(range(T)))                      # one thread: every frame here
        (side, odd), = [s for s in seen[1:] if s[0] != me]
        assert side.startswith("synthdata-refine") and odd == list(range(1, T, 2))
        assert [s for s in seen[1:] if s[0] == me] == [(me, list(range(0, T, 2)))]
    assert torch.equal(refine_frames(frames[:1], low, pair=True), refine_frames(frames[:1], low))   # one frame
    apply._load.cache_clear()
