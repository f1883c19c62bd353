"""A tiny synthdata dataset with flow and instances, a "real" camera made from it (a fixed colour
cast and contrast change the refiner has to learn), and refiner checkpoints for the refine tests."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

TINY_RECIPE = """\
name: refine_tiny
seed: 5
output: {clips: 2, clips_per_shard: 2, frames_per_clip: 6, fps: 5, resolution: [96, 72],
         modalities: [rgb, flow, instances]}
scene: {layout: {type: parking_lot, size_m: [20, 20]}, camera: {height_m: 3, tilt_deg: 30, hfov_deg: 50, distance_m: 0}}
actors:
  - {type: person, count: 6}
  - {type: vehicle, count: 2, behavior: drive}
"""


def camera_look(frame: np.ndarray) -> np.ndarray:
    """The tiny "real camera": warmer, brighter, lower contrast than the renders."""
    return np.clip(frame * np.array([0.75, 0.9, 1.1]) + 25, 0, 255).astype(np.uint8)


def make_tiny(root: Path) -> tuple[Path, Path]:
    """(dataset, real frames folder) under root."""
    from PIL import Image

    from synthdata.io.reader import open_dataset
    from synthdata.pipeline import finalize_dataset, generate_shard
    from synthdata.plan import plan
    from synthdata.recipe.loader import load_recipe

    recipe = load_recipe(TINY_RECIPE, [], source="<refine_tiny>")
    synth, real = root / "synth", root / "real"
    markers = [generate_shard(recipe, s, str(synth), device="cpu") for s in plan(recipe)]
    finalize_dataset(str(synth), recipe, markers)
    ds = open_dataset(str(synth))
    real.mkdir()
    for c, cid in enumerate(ds.clip_ids()):
        for i, f in enumerate(ds.read_clip(cid)):
            Image.fromarray(camera_look(f)).save(real / f"{c}_{i:03d}.png")
    return synth, real


def strong_refiner(path: Path, seed: int = 3, max_delta: float = 0.25) -> Path:
    """A checkpoint whose generator changes pixels a lot (random weights in every layer): the
    worst case for label alignment and colour bounds."""
    from synthdata.refine.checkpoint import save_checkpoint
    from synthdata.refine.model import Generator, GeneratorConfig

    torch.manual_seed(seed)
    g = Generator(GeneratorConfig(max_delta=max_delta))
    torch.nn.init.normal_(g.out.weight, std=0.5)
    save_checkpoint(path, g, {"note": "random weights, for tests"})
    return path


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Torch on one thread for the module that imports this fixture (as the pipeline's workers run)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def strong(tmp_path_factory):
    """A strong random refiner's checkpoint (`strong_refiner`), one per test module."""
    return strong_refiner(tmp_path_factory.mktemp("ck") / "strong.pt")


def render(recipe_text: str, overrides=()):
    """Clip 0 of a recipe text, rendered in memory on the CPU."""
    from synthdata.pipeline import render_clip
    from synthdata.recipe.loader import load_recipe

    return render_clip(load_recipe(recipe_text, list(overrides), source="<t>"), 0, device="cpu")
