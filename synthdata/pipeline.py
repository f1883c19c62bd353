"""The per-clip pipeline: sample -> simulate -> render -> label, streamed in frame chunks.

`generate_clip` is what a notebook, a test or a Dask task calls; it touches no files.
`generate_shard` chains it over a shard's clips into a `ShardWriter` (io/), and
`finalize_dataset` writes dataset.json from a recipe; io/ itself knows nothing of recipes.
"""
from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Iterator

import numpy as np
import torch

from synthdata.io.records import ClipRecord, FrameChunk, VideoSettings
from synthdata.plan import ShardSpec, clip_id as make_clip_id, clip_seed, recipe_sha256
from synthdata.recipe.schema import Recipe
from synthdata.world.types import World


@dataclass
class ClipData(ClipRecord):
    """A ClipRecord (what io/ writes) that also keeps the clip's index in the recipe and its
    World. Frames arrive on the render device; tracks and events are known from geometry
    before any pixel is rendered."""

    index: int = 0
    world: World | None = None


def resolve_device(device: str = "auto") -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        from synthdata.errors import BadInput
        raise BadInput("--device cuda: no CUDA device is available here (use --device cpu or auto)")
    return torch.device(device)


def generate_clip(recipe: Recipe, index: int, *, device: str | torch.device = "auto") -> ClipData:
    """Sample, simulate and prepare clip `index` of the recipe; frames render lazily per chunk."""
    from synthdata.world.sample import sample_clip
    from synthdata.world.simulate import simulate

    dev = device if isinstance(device, torch.device) else resolve_device(device)
    seed = clip_seed(recipe.seed, index)
    cid = make_clip_id(recipe, index)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    spec = sample_clip(recipe, index, seed=seed, clip_id=cid)
    world = simulate(spec)
    timings["simulate"] = time.perf_counter() - t0
    return clip_from_world(world, cid, index, seed, spec.to_json(), recipe, dev, timings)


def clip_from_world(world: World, cid: str, index: int, seed: int, params: dict, recipe: Recipe,
                    device: torch.device, timings: dict[str, float] | None = None) -> ClipData:
    """Wrap an already simulated World as ClipData (used by generate_clip and by tests that
    script a World by hand)."""
    from synthdata.labels.dense import DenseLabeler
    from synthdata.labels.extents import track_extents
    from synthdata.labels.rows import clip_row, event_rows, label_chunk, track_rows
    from synthdata.render.renderer import Renderer

    timings = timings if timings is not None else {}
    row = clip_row(world, cid, seed, json.dumps(params, sort_keys=True, separators=(",", ":")))
    ext = track_extents(world)
    tracks = track_rows(world, cid, ext)
    events = event_rows(world, cid)
    chunk_frames = recipe.output.frames_per_chunk
    with_masks = recipe.output.masks
    modalities = recipe.output.dense_modalities

    def chunks() -> Iterator[FrameChunk]:
        renderer = Renderer(world, device, part_bounds=ext.parts)
        dense = DenseLabeler(world, modalities) if modalities else None
        for start in range(0, world.num_frames, chunk_frames):
            stop = min(start + chunk_frames, world.num_frames)
            t0 = time.perf_counter()
            batch = renderer.render(start, stop)
            t1 = time.perf_counter()
            objects = label_chunk(world, batch, cid, ext, masks=with_masks)
            t2 = time.perf_counter()
            timings["render"] = timings.get("render", 0.0) + (t1 - t0)
            timings["label"] = timings.get("label", 0.0) + (t2 - t1)
            maps = {}
            if dense is not None:
                maps = dense.add(batch)
                if stop == world.num_frames:
                    for k, v in dense.finish().items():
                        maps[k] = np.concatenate([maps[k], v])
                timings["dense"] = timings.get("dense", 0.0) + (time.perf_counter() - t2)
            yield FrameChunk(start, batch.rgb, objects, maps)

    return ClipData(cid, row, tracks, events, chunks(), timings, list(modalities), index=index, world=world)


def generate_shard(recipe: Recipe, shard: ShardSpec, out: str, *, device: str = "auto",
                   package_version: str | None = None) -> dict[str, Any]:
    """Render every clip of `shard` and commit it atomically under `out`; returns the commit
    summary (sizes, sha256, row counts, timings). Idempotent: the same inputs give the same bytes."""
    with shard_writer(out, shard, recipe) as writer:
        for index in shard.clip_indices:
            writer.add_clip(generate_clip(recipe, index, device=device))
        return writer.commit()


def video_settings(recipe: Recipe) -> VideoSettings:
    v = recipe.output.video
    return VideoSettings(crf=v.crf, preset=v.preset, gop=v.gop)


def shard_writer(out: str, shard: ShardSpec, recipe: Recipe) -> Any:
    """An io.shard.ShardWriter for `shard` of `recipe` under `out`."""
    from synthdata.io.shard import ShardWriter

    return ShardWriter(out, shard, video_settings(recipe))


def finalize_dataset(out: str, recipe: Recipe, markers: Mapping[int, dict] | Iterable[dict],
                     timings: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Write recipe.yaml and dataset.json for `recipe` once every shard of its plan is committed
    (`markers`, as the shard writers returned them); returns the manifest (io.manifest.finalize)."""
    from synthdata.io.manifest import finalize
    from synthdata.recipe.loader import recipe_to_yaml

    return finalize(out, markers, name=recipe.name, num_shards=recipe.num_shards,
                    recipe_sha256=recipe_sha256(recipe), recipe_text=recipe_to_yaml(recipe), timings=timings)


@dataclass
class RenderedClip:
    """A whole clip in memory: frames (T, H, W, 3) uint8 numpy, its table rows and its dense maps
    (modality -> (T, H, W[, 2]) numpy, for output.modalities; see labels/dense.py)."""

    clip_id: str
    frames: Any
    objects: dict[str, list]
    tracks: list[dict[str, Any]]
    events: list[dict[str, Any]]
    clip_row: dict[str, Any]
    world: World | None = None
    dense: dict[str, Any] = field(default_factory=dict)

    def objects_in_frame(self, frame: int) -> list[dict[str, Any]]:
        keys = list(self.objects)
        return [dict(zip(keys, vals)) for vals in zip(*self.objects.values()) if vals[keys.index("frame")] == frame]


def render_clip(recipe: Recipe | str, index: int = 0, *, device: str = "auto",
                overrides: list[str] | None = None) -> RenderedClip:
    """Render clip `index` of a recipe (object or path) fully in memory: no Dask, no files."""
    if not isinstance(recipe, Recipe):
        from synthdata.recipe.loader import load_recipe
        recipe = load_recipe(recipe, list(overrides or []))
    clip = generate_clip(recipe, index, device=device)
    frames, objects, dense = [], {}, {}
    for chunk in clip.chunks:
        frames.append(chunk.frames.cpu().numpy())
        for k, v in chunk.objects.items():
            objects.setdefault(k, []).extend(v)
        for k, v in chunk.dense.items():
            dense.setdefault(k, []).append(v)
    return RenderedClip(clip.clip_id, np.concatenate(frames), objects, clip.tracks, clip.events, clip.clip_row,
                        clip.world, {k: np.concatenate(v) for k, v in dense.items()})
