"""The refiner keeps labelled objects apart from the background: the objects' L1 in training (from
the dataset's instance masks) and the actor-contrast measure of benchmarks/bench_refiner.py."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from synthdata.refine.data import SyntheticPairs, load_real, load_synthetic, sample_batch
from synthdata.refine.losses import on_objects
from synthdata.refine.metrics import actor_contrast
from synthdata.refine.train import Trainer, TrainOptions
from tests.refine_fixtures import make_tiny


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return make_tiny(tmp_path_factory.mktemp("refine_objects"))


def test_objects_l1_is_the_mean_over_objects_and_their_ring():
    rendered = torch.zeros(2, 3, 4, 4)
    refined = rendered.clone()
    objects = torch.zeros(2, 1, 4, 4)
    assert float(on_objects(refined + 0.5, rendered, objects)) == 0.0      # no object: nothing to keep
    objects[0, 0, 1, 1] = objects[1, 0, 2, 3] = 1.0
    refined[0, :, 1, 1] = 0.3           # on an object
    refined[1, :, 0, 0] = 0.9           # on the background: not counted here
    assert float(on_objects(refined, rendered, objects, ring=0)) == pytest.approx(0.3 / 2)
    # with a ring: each object and its 3x3 neighbourhood (9 + 6 pixels, the second at a corner)
    refined[1, :, 1, 2] = 0.6           # next to the second object: a halo, counted with the ring
    assert float(on_objects(refined, rendered, objects, ring=1)) == pytest.approx((0.3 + 0.6) / 15)


def test_batches_carry_the_objects_of_both_frames_at_the_crop():
    """Masks made from the frames themselves (red above half) must come back where the crops are."""
    rng = np.random.default_rng(0)
    first = [rng.integers(0, 256, (40, 50, 3), dtype=np.uint8) for _ in range(3)]
    second = [rng.integers(0, 256, (40, 50, 3), dtype=np.uint8) for _ in range(3)]
    masks = [np.stack([a[..., 0] >= 128, b[..., 0] >= 128]) for a, b in zip(first, second)]
    pairs = SyntheticPairs(first, second, None, {}, masks)
    b = sample_batch(np.random.default_rng(1), _real(first), pairs, 5, 16, torch.device("cpu"))
    assert b.objects.shape == (10, 1, 16, 16)
    frames = torch.cat([b.first, b.second])
    assert torch.equal(b.objects[:, 0] > 0.5, frames[:, 0] >= 127.5 / 255.0)
    # the same draws as without masks: adding instances to a dataset does not move the crops
    plain = sample_batch(np.random.default_rng(1), _real(first), SyntheticPairs(first, second, None), 5, 16,
                         torch.device("cpu"))
    assert plain.objects is None and torch.equal(plain.first, b.first) and torch.equal(plain.real, b.real)


def _real(frames):
    from synthdata.refine.data import RealFrames
    return RealFrames(frames, [])


def test_training_keeps_objects_from_the_dataset_instances(tiny):
    synth, real = tiny
    s = load_synthetic(synth)
    assert s.objects is not None and s.source["instances"] is True
    assert len(s.objects) == len(s.first) and s.objects[0].shape == (2,) + s.first[0].shape[:2]
    assert 0 < np.mean([m.mean() for m in s.objects]) < 0.5          # people and cars, not the scene
    r = load_real([real])
    on = Trainer(r, s, TrainOptions(seed=2, crop=32, batch=4, history=8), torch.device("cpu"))
    off = Trainer(r, s, TrainOptions(seed=2, crop=32, batch=4, history=8, objects=0.0), torch.device("cpu"))
    for _ in range(3):
        m_on, m_off = on.train_step(), off.train_step()
    assert m_on["objects"] > 0.0 and m_off["objects"] == 0.0
    # a state written before the option existed trained without it: it resumes with objects 0 only
    off.save(synth.parent / "old.pt", {})
    state = torch.load(synth.parent / "old.pt.train", weights_only=False)
    del state["options"]["objects"]
    torch.save(state, synth.parent / "old.pt.train")
    Trainer(r, s, TrainOptions(seed=2, crop=32, batch=4, history=8, objects=0.0), torch.device("cpu")).load(
        synth.parent / "old.pt.train")
    from synthdata.errors import BadInput
    with pytest.raises(BadInput, match=r"objects 0\.0 -> 2\.0"):
        on.load(synth.parent / "old.pt.train")


def test_actor_contrast_falls_when_objects_fade_into_the_background():
    rng = np.random.default_rng(3)
    frames = np.full((2, 40, 40, 3), 120, np.uint8)
    inst = np.zeros((2, 40, 40), np.int32)
    inst[:, 10:25, 5:12], inst[:, 20:30, 25:33] = 7, 9
    frames[inst == 7], frames[inst == 9] = (30, 40, 50), (200, 180, 60)
    frames = np.clip(frames + rng.integers(-3, 4, frames.shape), 0, 255).astype(np.uint8)
    full = actor_contrast(frames, inst)
    assert full == pytest.approx(2 * (np.linalg.norm([90, 80, 70]) + np.linalg.norm([80, 60, 60])), rel=0.05)
    faded = (0.5 * frames + 0.5 * 120).astype(np.uint8)           # halfway into the background
    assert actor_contrast(faded, inst) == pytest.approx(full / 2, rel=0.05)
    assert actor_contrast(frames, inst, min_pixels=200) == 0.0     # both objects are smaller
