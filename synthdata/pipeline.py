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

EDGE_FRAMES = 8     # a shard's first view starts, and its last view ends, in chunks of about this many frames


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


def generate_clip(recipe: Recipe, index: int, *, device: str | torch.device = "auto", ramp: bool = False,
                  taper: bool = False, defer: bool = False) -> ClipData:
    """Sample, simulate and prepare clip `index` of the recipe; frames render lazily per chunk
    (ramp: its first view's first chunk is rendered in pieces, taper: its last view's last chunk;
    `chunk_spans`). defer: the frames' last steps (the camera's passes, the refiner) run on a
    helper thread beside the render, and each chunk's `prepare` waits for them: for a consumer that
    calls it (the shard writer, on its encoder's thread)."""
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
    return clip_from_world(world, cid, index, seed, spec.to_json(), recipe, dev, timings, ramp=ramp, taper=taper,
                           defer=defer)


def clip_from_world(world: World, cid: str, index: int, seed: int, params: dict, recipe: Recipe,
                    device: torch.device, timings: dict[str, float] | None = None, *, ramp: bool = False,
                    taper: bool = False, defer: bool = False) -> ClipData:
    """Wrap an already simulated World as ClipData (used by generate_clip and by tests that
    script a World by hand). A World with several cameras gives ClipData for its first camera
    with one ClipRecord per further camera in `views`: the World is simulated once and each
    camera renders and labels its own frames; tracks (global identities) are those seen by any."""
    from dataclasses import replace

    from synthdata.labels.extents import track_extents
    from synthdata.labels.rows import clip_row, event_rows, track_rows

    timings = timings if timings is not None else {}
    params_json = json.dumps(params, sort_keys=True, separators=(",", ":"))
    views = world.camera_worlds()
    exts = [track_extents(w) for _, w in views]
    seen = replace(exts[0], in_view=np.any([e.in_view for e in exts], axis=0)) if len(exts) > 1 else exts[0]
    tracks = track_rows(world, cid, seen)
    records = []
    own, _ = recipe.for_clip(seed)      # a mix entry's own refiner, if it has one
    for k, ((name, w), ext) in enumerate(zip(views, exts)):
        t = timings if k == 0 else {}
        row = dict(clip_row(w, cid, seed, params_json), camera=name)
        events = [dict(e, camera=name) for e in event_rows(world, cid, view=w)]   # the scene's event ids
        refine = refiner_step(own, device, row, pair=defer)
        edges = (ramp and k == 0, taper and k == len(views) - 1)
        records.append(ClipData(cid, row, tracks if k == 0 else [], events,
                                _chunks(w, cid, ext, recipe, device, t, refine, edges, defer),
                                t, list(recipe.output.dense_modalities), camera=name, index=index, world=w))
    first = records[0]
    first.views = records[1:]
    return first


def chunk_spans(num_frames: int, chunk_frames: int, ramp: bool = False, taper: bool = False) -> list[tuple[int, int]]:
    """Frame spans [start, stop) a clip renders in: chunk_frames each; with ramp the first chunk
    is cut in pieces doubling from about EDGE_FRAMES (32 frames: 8, 8, 16), with taper the last
    one in pieces halving down to it (16, 8, 8; a last chunk shorter than the others is cut
    with the one before it: 16 and 6 frames -> 11, 6, 5). Rendering, labels and video do not
    depend on the spans (tests/test_render_reuse.py, tests/test_io_video.py). A shard's encoder
    works beside the renderer, so the shard's wall time holds what the encoder waits for before
    its first frames and what is left to encode after the last are rendered: one small piece
    each, not a whole chunk."""
    spans = [(a, min(a + chunk_frames, num_frames)) for a in range(0, num_frames, chunk_frames)]
    if taper and spans:                 # a short last chunk is cut with the whole one before it
        short = EDGE_FRAMES < chunk_frames and spans[-1][1] - spans[-1][0] < chunk_frames
        k = -2 if short and len(spans) > 1 + ramp else -1
        spans[k:] = _halves(spans[k][0], num_frames)
    if ramp and spans:                  # the taper's pieces, mirrored: small ones first
        a, b = spans[0]
        spans[:1] = [(a + b - y, a + b - x) for x, y in reversed(_halves(a, b))]
    return spans


def _halves(a: int, stop: int) -> list[tuple[int, int]]:
    """[a, stop) cut in halves from the front down to EDGE_FRAMES: (0, 32) -> 0-16, 16-24, 24-32."""
    out = []
    while stop - a > EDGE_FRAMES:
        b = a + (stop - a + 1) // 2
        out.append((a, b))
        a = b
    return out + [(a, stop)]


def _chunks(world: World, cid: str, ext: Any, recipe: Recipe, device: torch.device,
            timings: dict[str, float], refine: Any = None, edges: tuple[bool, bool] = (False, False),
            defer: bool = False) -> Iterator[FrameChunk]:
    """Render, label (and with output.modalities, make dense maps of) `world` as its camera sees
    it, chunk by chunk (`chunk_spans`, edges: ramp and taper), then refine the frames (`refine`,
    from refiner_step); adds the seconds spent to `timings`. defer: the last steps (`_last_steps`:
    the refiner, or without one the camera's passes) start on a helper thread while the next chunk
    renders, and the chunk's `prepare` waits for them (the shard writer's encoder calls it)."""
    from synthdata.labels.dense import DenseLabeler
    from synthdata.labels.rows import label_chunk
    from synthdata.render.renderer import Renderer
    from synthdata.render.threads import side_thread

    chunk_frames = recipe.output.frames_per_chunk
    with_masks = recipe.output.masks
    modalities = recipe.output.dense_modalities
    renderer = Renderer(world, device, part_bounds=ext.parts, parts=bool(modalities), recycle=not modalities,
                        defer=defer and refine is None)   # a refiner is the larger part: the passes stay here
    if defer:       # FrameChunk.prepare adds to them on another thread: the keys exist before
        timings.update({k: timings.get(k, 0.0) for k in ("camera", "refine")})
    dense = DenseLabeler(world, modalities) if modalities else None
    for start, stop in chunk_spans(world.num_frames, chunk_frames, *edges):
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
        rgb, done = batch.rgb, batch.done
        prepare = _last_steps(rgb, done, batch.finish, refine, timings)
        del batch       # its depth, instance and part planes are not kept while the next chunk renders
        if prepare is not None and not defer:
            ready = prepare()
            rgb, done, prepare = ready, (done if ready is rgb else None), None
        elif prepare is not None:      # started now, beside the next chunk's render; the encoder waits for it
            prepare = side_thread("finish").submit(prepare).result
        yield FrameChunk(start, rgb, objects, maps, done, prepare)     # the writer gives the frames back once encoded


def _last_steps(rgb: torch.Tensor, done: Any, finish: Any, refine: Any, timings: dict[str, float]) -> Any:
    """A chunk's last steps as one function returning its frames to read (FrameChunk.prepare):
    the camera's passes the renderer left (`finish`, Renderer defer), then the refiner (after the
    labels, which come from the render buffers, never these pixels); None: nothing is left."""
    if finish is None and refine is None:
        return None
    threads = torch.get_num_threads()

    def prepare() -> torch.Tensor:
        # torch's thread count is per thread for oneDNN's convolutions: another thread takes every core
        torch.set_num_threads(threads)
        t0 = time.perf_counter()
        if finish is not None:
            finish()
            timings["camera"] = timings.get("camera", 0.0) + (time.perf_counter() - t0)
        if refine is None:
            return rgb
        t0 = time.perf_counter()
        refined = refine(rgb)
        timings["refine"] = timings.get("refine", 0.0) + (time.perf_counter() - t0)
        if refined is not rgb and done is not None:
            done()              # the rendered frames are read no more
        return refined
    return prepare


def refiner_step(recipe: Recipe, device: torch.device, row: dict[str, Any], pair: bool = False) -> Any:
    """The recipe's postprocess.refiner as a function of a chunk's rgb (None without one); records
    the checkpoint's sha256 and the strength in the clip's `row`. pair: frames two at a time on the
    CPU (refine_frames), where the chunks' last steps have a core to spare (`defer`): the rendering
    thread renders the next chunk in about half the time the refiner takes, then waits."""
    post = recipe.postprocess
    if not post.refiner:
        return None
    from synthdata.refine.apply import load_refiner, refine_frames

    refiner = load_refiner(post.refiner, device, post.precision)
    row["refiner_sha256"], row["refiner_strength"] = refiner.sha256, float(post.strength)
    return lambda rgb: refine_frames(rgb, refiner, post.strength, pair=pair)


def generate_shard(recipe: Recipe, shard: ShardSpec, out: str, *, device: str = "auto",
                   package_version: str | None = None, helper: bool = False) -> dict[str, Any]:
    """Render every clip of `shard` and commit it atomically under `out`; returns the commit
    summary (sizes, sha256, row counts, timings). Idempotent: the same inputs give the same bytes.
    helper: a chunk's last steps (the camera's passes, a refiner) on a helper thread beside the next
    chunk's render (`generate_clip` defer), worth it only where this task has a spare core; the
    same bytes either way (runner/cluster.py `helper_thread` decides for a run)."""
    with shard_writer(out, shard, recipe) as writer:
        indices = list(shard.clip_indices)
        for index in indices:       # the encoder starts sooner and has less left at the end
            writer.add_clip(generate_clip(recipe, index, device=device, ramp=index == indices[0],
                                          taper=index == indices[-1], defer=helper))
        return writer.commit()


def video_settings(recipe: Recipe) -> VideoSettings:
    v = recipe.output.video
    return VideoSettings(crf=v.crf, preset=v.preset, gop=v.gop)


def shard_writer(out: str, shard: ShardSpec, recipe: Recipe) -> Any:
    """An io.shard.ShardWriter for `shard` of `recipe` under `out`."""
    from synthdata.io.shard import ShardWriter

    return ShardWriter(out, shard, video_settings(recipe))


def finalize_dataset(out: str, recipe: Recipe, markers: Mapping[int, dict] | Iterable[dict],
                     timings: Mapping[str, Any] | None = None, sha: str | None = None) -> dict[str, Any]:
    """Write recipe.yaml and dataset.json for `recipe` once every shard of its plan is committed
    (`markers`, as the shard writers returned them; `sha`: the hash they carry, default
    recipe_sha256); returns the manifest (io.manifest.finalize)."""
    from synthdata.io.manifest import finalize
    from synthdata.recipe.loader import recipe_to_yaml

    return finalize(out, markers, name=recipe.name, num_shards=recipe.num_shards,
                    recipe_sha256=sha or recipe_sha256(recipe), recipe_text=recipe_to_yaml(recipe), timings=timings)


@dataclass
class RenderedClip:
    """A whole clip in memory as one camera saw it: frames (T, H, W, 3) uint8 numpy, its table
    rows and its dense maps (modality -> (T, H, W[, 2]) numpy, for output.modalities; see
    labels/dense.py). A clip with several cameras is its first camera's, the others in `views`."""

    clip_id: str
    frames: Any
    objects: dict[str, list]
    tracks: list[dict[str, Any]]
    events: list[dict[str, Any]]
    clip_row: dict[str, Any]
    world: World | None = None
    dense: dict[str, Any] = field(default_factory=dict)
    camera: str = "cam0"
    views: list[RenderedClip] = field(default_factory=list)

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
    out = [_in_memory(c) for c in [clip] + clip.views]
    out[0].views = out[1:]
    return out[0]


def _in_memory(clip: ClipData) -> RenderedClip:
    frames, objects, dense = [], {}, {}
    for chunk in clip.chunks:
        frames.append(chunk.frames.cpu().numpy())
        for k, v in chunk.objects.items():
            objects.setdefault(k, []).extend(v)
        for k, v in chunk.dense.items():
            dense.setdefault(k, []).append(v)
    return RenderedClip(clip.clip_id, np.concatenate(frames), objects, clip.tracks, clip.events, clip.clip_row,
                        clip.world, {k: np.concatenate(v) for k, v in dense.items()}, clip.camera)
