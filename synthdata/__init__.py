"""synthdata: labelled surveillance-style video from YAML recipes.

The curated API for notebooks and trainers (imported lazily, so `import synthdata` stays light):

    recipe = synthdata.load_recipe("recipes/parking_lot_day.yaml", ["output.clips=4"])
    clip = synthdata.render_clip(recipe, 0)            # frames + label rows in memory
    spec = synthdata.sample_clip(recipe, 0)            # every random choice of clip 0
    world = synthdata.simulate(spec)                   # metres and seconds, no pixels
    ds = synthdata.open_dataset("out/parking_lot_day") # tables + read_clip(clip_id)
"""
from __future__ import annotations

import os
from importlib import import_module
from typing import Any

# Rendering allocates large planes (depth, instances, frames) for every chunk. Fresh pages cost a
# page fault each 4 KiB: a 640x480 x 32-frame float plane takes 22-28 ms to fault in and 7 ms on
# 2 MiB transparent huge pages, which torch's CPU allocator asks for with this variable. Read at
# torch's first allocation, so set before torch is used; an explicit value (0) wins.
os.environ.setdefault("THP_MEM_ALLOC_ENABLE", "1")

__version__ = "0.1.0"

_API = {
    "load_recipe": "synthdata.recipe.loader",
    "recipe_to_yaml": "synthdata.recipe.loader",
    "Recipe": "synthdata.recipe.schema",
    "plan": "synthdata.plan",
    "ShardSpec": "synthdata.plan",
    "simulate": "synthdata.world.simulate",
    "World": "synthdata.world.types",
    "Camera": "synthdata.world.geometry.camera",
    "Renderer": "synthdata.render.renderer",
    "generate_clip": "synthdata.pipeline",
    "generate_shard": "synthdata.pipeline",
    "render_clip": "synthdata.pipeline",
    "RenderedClip": "synthdata.pipeline",
    "open_dataset": "synthdata.io.reader",
    "FrameDataset": "synthdata.datasets",
    "ClipDataset": "synthdata.datasets",
    "SynthdataError": "synthdata.errors",
}

__all__ = ["__version__", "sample_clip", *_API]


def sample_clip(recipe: Any, index: int = 0) -> Any:
    """Every random choice of clip `index`, resolved (a JSON-serialisable ClipSpec)."""
    from synthdata.plan import clip_id, clip_seed
    from synthdata.world.sample import sample_clip as _sample

    return _sample(recipe, index, seed=clip_seed(recipe.seed, index), clip_id=clip_id(recipe, index))


def __getattr__(name: str) -> Any:
    if name in _API:
        return getattr(import_module(_API[name]), name)
    raise AttributeError(f"module 'synthdata' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
