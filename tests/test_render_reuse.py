"""Work the renderer saves (a background per pose run, still bodies drawn once a chunk, label
extents reused, part indices skipped, planes kept and recycled) gives the same pixels as doing it all."""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
import torch

from synthdata.labels.extents import track_extents
from synthdata.render.renderer import Renderer
from tests.scenes import random_world

ROOT = Path(__file__).resolve().parents[1]


def test_render_is_deterministic():
    a = Renderer(random_world(3), "cpu").render(0, 4)
    b = Renderer(random_world(3), "cpu").render(0, 4)
    assert torch.equal(a.rgb, b.rgb) and torch.equal(a.instance, b.instance) and torch.equal(a.depth, b.depth)


def test_chunked_render_equals_whole_render():
    w = random_world(5, T=6)
    r = Renderer(w, "cpu")
    whole = r.render(0, 6)
    parts = [r.render(0, 2), r.render(2, 5), r.render(5, 6)]
    assert torch.equal(whole.rgb, torch.cat([p.rgb for p in parts]))
    assert torch.equal(whole.instance, torch.cat([p.instance for p in parts]))


def test_a_camera_holding_its_pose_renders_its_background_once_per_pose(monkeypatch):
    """A PTZ-like camera (dwell, slew, dwell): the background is rendered once per run of equal
    poses, and the frames equal those rendered with a fresh background every frame."""
    import dataclasses

    import synthdata.render.pose_ahead as pose_ahead
    from synthdata.world.geometry.camera import Camera, look_rotation

    w = random_world(5, T=6)
    c = w.camera
    R = np.repeat(c.R[:1], 6, 0)
    R[3:5] = look_rotation(6, 30) @ np.linalg.inv(look_rotation(0, 30)) @ c.R[0]
    R[5] = look_rotation(-5, 30) @ np.linalg.inv(look_rotation(0, 30)) @ c.R[0]
    cam = Camera(c.width, c.height, np.repeat(c.fx[:1], 6), np.repeat(c.fy[:1], 6), c.cx, c.cy, R,
                 np.repeat(c.C[:1], 6, 0), c.k1, c.k2, c.model)
    w = dataclasses.replace(w, camera=cam)
    calls = []
    real = pose_ahead.render_background
    monkeypatch.setattr(pose_ahead, "render_background", lambda *a, **k: calls.append(1) or real(*a, **k))
    held = Renderer(w, "cpu")
    frames = [held.render(0, 4), held.render(4, 6)]
    assert len(calls) == 3
    fresh = Renderer(w, "cpu")
    fresh._runs = np.arange(6)               # every frame its own pose run
    again = [fresh.render(0, 4), fresh.render(4, 6)]
    assert len(calls) == 9
    for a, b in zip(frames, again):
        assert torch.equal(a.rgb, b.rgb) and torch.equal(a.instance, b.instance)


def test_renderer_reusing_label_extents_draws_the_same_pixels():
    """The pipeline hands the renderer the primitive bounds labels/extents.py already projected."""
    w = random_world(4, T=5)
    plain = Renderer(w, "cpu").render(1, 5)
    reused = Renderer(w, "cpu", part_bounds=track_extents(w).parts).render(1, 5)
    assert torch.equal(plain.rgb, reused.rgb) and torch.equal(plain.instance, reused.instance)


def test_renderer_without_parts_draws_the_same_and_leaves_part_out():
    """Only dense ground truth reads FrameBatch.part; the pipeline asks for it only then."""
    w = random_world(6, T=4)
    with_parts, without = Renderer(w, "cpu").render(0, 4), Renderer(w, "cpu", parts=False).render(0, 4)
    assert with_parts.part is not None and (with_parts.part >= 0).any() and without.part is None
    for name in ("rgb", "instance", "depth", "amodal_pixels"):
        assert torch.equal(getattr(with_parts, name), getattr(without, name)), name


def test_recycling_renderer_draws_the_same_chunks():
    """With recycle the instance and depth planes are kept buffers (render/planes.py) that the next
    render call overwrites; each chunk, read before the next call, is what a fresh render gives."""
    w = random_world(7, T=6)
    fresh, kept = Renderer(w, "cpu"), Renderer(w, "cpu", recycle=True)
    first = kept.render(0, 3)
    inst0 = first.instance.clone()
    for a, b in ((0, 3), (3, 6), (1, 4)):
        want, got = fresh.render(a, b), kept.render(a, b)
        for name in ("rgb", "instance", "depth", "amodal_pixels", "part"):
            assert torch.equal(getattr(want, name), getattr(got, name)), (a, name)
    assert first.instance.data_ptr() == got.instance.data_ptr() and not torch.equal(first.instance, inst0)


def test_renderers_taking_turns_in_one_thread_draw_what_each_draws_alone():
    """Kept planes are shared by a thread's renderers (render/planes.py); what one renderer keeps
    from chunk to chunk (its shadow receivers) must not be such a shared plane."""
    wa, wb = random_world(8, T=6), random_world(9, T=6)
    alone = [Renderer(wa, "cpu").render(a, a + 2).rgb for a in (0, 2, 4)]
    ra, rb = Renderer(wa, "cpu"), Renderer(wb, "cpu")
    for i, a in enumerate((0, 2, 4)):
        assert torch.equal(ra.render(a, a + 2).rgb, alone[i]), a
        rb.render(a, a + 2)


def test_a_moving_cameras_raised_receiver_tables_are_each_backgrounds_own():
    from synthdata.render.background import Background, _raised_table, elevated_table, elevated_tables, raised_mask

    def background(seed: int) -> Background:
        g = torch.Generator().manual_seed(seed)
        point = torch.rand((5, 7, 3), generator=g) * 0.02          # heights either side of the raised line
        return Background(None, None, None, point, torch.rand((5, 7), generator=g) > 0.3)

    a, b = background(1), background(2)
    tables = elevated_tables([a, b, b, a])                 # a PTZ dwell: one background for two frames
    assert tables.shape == (4, 6, 8) and tables[:, -1, -1].min() > 0
    for table, bg in zip(tables, (a, b, b, a)):
        np.testing.assert_array_equal(table, elevated_table(bg))
    for bg in (a, b):       # summed-area tables of the raised receivers, and the GPU's route to them
        raised = bg.receiver.numpy() & (bg.point.numpy()[..., 2] > np.float32(0.005))
        expect = np.zeros((6, 8), np.int64)
        expect[1:, 1:] = raised.cumsum(0).cumsum(1)
        np.testing.assert_array_equal(elevated_table(bg), expect)
        mask = raised_mask(bg).numpy()              # what a GPU sends back instead of the points
        assert mask.dtype == np.uint8 and np.array_equal(mask, raised)
        table = np.empty_like(expect)
        _raised_table(mask, mask, 0, table)
        np.testing.assert_array_equal(table, expect)


def shard_digests(recipe, out: Path) -> dict[str, str]:
    """generate_shard of the recipe's first shard into `out`: sha1 of each Parquet table and tar."""
    import hashlib

    from synthdata.pipeline import generate_shard
    from synthdata.plan import plan

    generate_shard(recipe, plan(recipe)[0], str(out), device="cpu")
    return {p.relative_to(out).as_posix(): hashlib.sha1(p.read_bytes()).hexdigest()
            for p in sorted(out.rglob("*")) if p.suffix in (".parquet", ".tar")}


def test_a_shard_written_from_recycled_frame_buffers_has_the_bytes_of_fresh_ones(tmp_path, monkeypatch):
    """The shard writer gives each chunk's frames back once encoded and later chunks render into
    them: the videos and tables are the bytes of a run where no buffer is ever used twice."""
    from synthdata.recipe.loader import load_recipe
    from synthdata.render import renderer
    from synthdata.render.planes import FramePool

    class Counted(FramePool):
        hits = 0

        def take(self, *a):
            self.hits += bool(self._free)
            return super().take(*a)

    recipe = load_recipe(ROOT / "recipes" / "parking_lot_day.yaml",
                         ["output.clips=2", "output.clips_per_shard=2", "output.frames_per_clip=20",
                          "output.chunk_frames=4", "output.resolution=[160,120]"])

    def files(out, pool):
        monkeypatch.setattr(renderer, "frame_pool", lambda: pool)
        return shard_digests(recipe, out)

    never, kept = Counted(keep=0), Counted()
    assert files(tmp_path / "fresh", never) == files(tmp_path / "kept", kept)
    assert never.hits == 0 and kept.hits >= 5        # 10 chunks, at most 4 buffers in flight


def test_chunk_spans_ramp_up_and_taper_off_and_cover_the_clip():
    """A shard's first view starts in chunks doubling from EDGE_FRAMES and its last view ends in
    chunks halving down to it; every span list covers the clip once, in order, no chunk longer
    than chunk_frames."""
    from synthdata.pipeline import chunk_spans

    def sizes(*a):
        return [b - a for a, b in chunk_spans(*a)]

    assert sizes(64, 32) == [32, 32]
    assert sizes(64, 32, True) == [8, 8, 16, 32]
    assert sizes(64, 32, False, True) == [32, 16, 8, 8]
    assert sizes(48, 32, True, True) == [8, 8, 16, 8, 8]
    assert sizes(200, 10, True, True)[:3] == [5, 5, 10] and sizes(200, 10, True, True)[-3:] == [10, 5, 5]
    assert sizes(48, 21, True, True) == [5, 5, 11, 14, 7, 6]     # a short last chunk is cut with the one before
    assert sizes(38, 16, False, True) == [16, 11, 6, 5] and sizes(22, 16, True, True) == [8, 8, 6]
    for n, c in [(0, 32), (1, 32), (5, 32), (20, 32), (33, 32), (70, 32), (200, 10), (33, 4), (33, 9), (47, 13)]:
        for edges in [(False, False), (True, False), (False, True), (True, True)]:
            spans = chunk_spans(n, c, *edges)
            starts, stops = [a for a, _ in spans], [b for _, b in spans]
            assert starts == [0] + stops[:-1] if spans else n == 0
            assert stops[-1:] == [n][:len(spans)] and all(0 < b - a <= c for a, b in spans)


def test_a_shard_starts_and_ends_in_small_chunks_and_writes_the_same_bytes(tmp_path, monkeypatch):
    """generate_shard renders its first clip's first chunk and its last clip's last chunk in
    pieces (so the encoder starts sooner and has less left at the end); the videos and tables
    are the bytes of whole chunks."""
    from synthdata import pipeline
    from synthdata.io.video import VideoEncoder
    from synthdata.recipe.loader import load_recipe

    recipe = load_recipe(ROOT / "recipes" / "parking_lot_day.yaml",
                         ["output.clips=2", "output.clips_per_shard=2", "output.frames_per_clip=24",
                          "output.chunk_frames=16", "output.resolution=[160,120]"])
    handed: list[int] = []
    add = VideoEncoder.add
    monkeypatch.setattr(VideoEncoder, "add", lambda self, frames, **kw: (handed.append(len(frames)),
                                                                         add(self, frames, **kw))[1])

    def files(out, edge):
        monkeypatch.setattr(pipeline, "EDGE_FRAMES", edge)
        handed.clear()
        return shard_digests(recipe, out), list(handed)

    whole, edged = files(tmp_path / "whole", 10**9), files(tmp_path / "edged", 4)
    assert whole[1] == [16, 8, 16, 8] and edged[1] == [4, 4, 8, 8, 12, 6, 3, 3]   # the last clip: 16 + 8 cut together
    assert whole[0] == edged[0]


@pytest.mark.parametrize("seed", [0, 5])
def test_still_bodies_drawn_once_a_chunk_give_the_same_frames(seed, monkeypatch):
    """Bodies that hold still through a chunk (parked vehicles, a person standing stock-still) are
    rastered, shadowed and shaded once for it and copied; moving people pass in front of and
    behind them. Every buffer equals drawing each frame whole."""
    import synthdata.render.renderer as renderer_module
    from synthdata.render.still import still_bodies

    w = random_world(seed, T=6, n_people=5, n_boxes=3)
    for a in w.actors[5:] + w.actors[:1]:          # the vehicles and one person hold still
        for name in ("center", "end", "axes", "size"):
            x = getattr(a.shapes, name)
            x[:] = x[:1]
    fast = Renderer(w, "cpu")
    still = still_bodies([a.shapes for a in w.actors], [np.ones(6, bool)] * len(w.actors), 0, 6, fast.static_camera)
    assert still.tolist() == [True, False, False, False, False, True, True, True]
    got = [fast.render(0, 3), fast.render(3, 6)]
    monkeypatch.setattr(renderer_module, "still_bodies", lambda shapes, *a: np.zeros(len(shapes), bool))
    slow = Renderer(w, "cpu")
    want = [slow.render(0, 3), slow.render(3, 6)]
    for g, x in zip(got, want):
        for name in ("rgb", "instance", "depth", "amodal_pixels", "part"):
            assert torch.equal(getattr(g, name), getattr(x, name)), name
    assert (got[0].instance[:, :, :] == w.actors[0].track_id).any()


def test_a_moving_body_keeps_its_ties_with_a_still_body_drawn_ahead(monkeypatch):
    """A still body is drawn before the moving ones; where a moving body that comes earlier in
    compositing order meets it at exactly the same depth, the earlier body still takes the pixel,
    as when every body is drawn in order (pixel.zbuffer_hit)."""
    import copy

    import synthdata.render.renderer as renderer_module

    w = random_world(1, T=4, n_people=2, n_boxes=1)
    car = w.actors[2]
    for name in ("center", "end", "axes", "size"):
        x = getattr(car.shapes, name)
        x[:] = x[:1]
    twin = copy.deepcopy(car.shapes)       # the same box as the parked car, for track 1 ...
    twin.center[0, :, 0] += 3.0            # ... which drives into its place after frame 0
    twin.color = np.full_like(twin.color, 0.9)
    w.actors[0].shapes = twin
    fast = Renderer(w, "cpu").render(0, 4)
    assert (fast.instance[1:] == w.actors[0].track_id).sum() > 100
    assert not (fast.instance[1:] == car.track_id).any()      # every tie went to the earlier body
    monkeypatch.setattr(renderer_module, "still_bodies", lambda shapes, *a: np.zeros(len(shapes), bool))
    slow = Renderer(w, "cpu").render(0, 4)
    for name in ("rgb", "instance", "depth", "amodal_pixels", "part"):
        assert torch.equal(getattr(fast, name), getattr(slow, name)), name


@pytest.mark.parametrize("recipe, overrides", [
    ("plate_lobby.yaml", []),                                       # the plate's look on people
    ("parking_lot_day.yaml", ["scene.sensor.ptz.enabled=true", "scene.sensor.shutter=0.02",
                              "output.resolution=[160,120]"]),       # a moving camera, motion blur
])
def test_camera_passes_beside_the_render_give_the_frames_made_in_line(recipe, overrides):
    """For the shard writer the renderer leaves the camera's passes to a helper thread while later
    chunks render (the planes they read are pooled until then), and FrameChunk.prepare, called on
    the encoder's thread, waits for them: the frames are those of one render with the passes in
    line, and so are the labels."""
    from concurrent.futures import ThreadPoolExecutor

    from synthdata.labels.rows import label_chunk
    from synthdata.pipeline import generate_clip
    from synthdata.recipe.loader import load_recipe

    r = load_recipe(str(ROOT / "recipes" / recipe), overrides + ["output.frames_per_clip=14", "output.chunk_frames=3"])
    clip = generate_clip(r, 0, device="cpu", defer=True)
    frames, objects, queued = [], {}, []
    with ThreadPoolExecutor(1) as encoder:
        for chunk in clip.chunks:
            assert chunk.prepare is not None
            for k, v in chunk.objects.items():
                objects.setdefault(k, []).extend(v)
            queued.append(chunk)
            if len(queued) == 3:        # two chunks late, as the encoder's queue allows
                frames.append(encoder.submit(queued.pop(0).prepare).result())
        frames += [encoder.submit(c.prepare).result() for c in queued]
    whole = Renderer(clip.world, "cpu", recycle=True, defer=False)
    assert Renderer(clip.world, "cpu", defer=True).deferred and not whole.deferred
    batch = whole.render(0, 14)
    assert batch.finish is None
    np.testing.assert_array_equal(torch.cat(frames).numpy(), batch.rgb.numpy())
    assert label_chunk(clip.world, batch, clip.clip_id, track_extents(clip.world)) == objects


def test_a_cover_over_the_lens_keeps_the_camera_passes_in_line():
    """An opaque cover sliding over the lens changes labels: never deferred (a sprayed lens only
    blurs pixels; the overlay's occluders are written ahead, `mark_overlay`)."""
    import dataclasses

    from synthdata.world.appearance import OverlayLook, TamperEntry

    w = random_world(3)
    assert Renderer(w, "cpu", defer=True).deferred and not Renderer(w, "cpu").deferred

    def look(**kw):
        return dataclasses.replace(w, appearance=dataclasses.replace(w.appearance, **kw))

    assert Renderer(look(overlay=OverlayLook(enabled=True)), "cpu", defer=True).deferred
    assert not Renderer(look(tampering=[TamperEntry("covered", 1, 2)]), "cpu", defer=True).deferred
    assert Renderer(look(tampering=[TamperEntry("blur", 1, 2)]), "cpu", defer=True).deferred


def test_a_shards_marker_counts_the_camera_passes_the_helper_ran_after_the_clip_rendered(tmp_path, monkeypatch):
    """The helper thread runs a chunk's camera passes while the next chunk renders, the last ones
    after the clip's chunks were all handed on; the marker's `camera` seconds hold every chunk's."""
    from synthdata import pipeline
    from synthdata.plan import plan
    from synthdata.recipe.loader import load_recipe

    last_steps, spent = pipeline._last_steps, []

    def slow(rgb, done, finish, refine, timings):
        def passes():
            t0 = time.perf_counter()
            time.sleep(0.05)
            finish()
            spent.append(time.perf_counter() - t0)
        return last_steps(rgb, done, passes, refine, timings)

    monkeypatch.setattr(pipeline, "_last_steps", slow)
    recipe = load_recipe(ROOT / "recipes" / "plate_lobby.yaml", ["output.frames_per_clip=12", "output.chunk_frames=4",
                                                                 "output.clips=1", "output.resolution=[64,36]"])
    marker = pipeline.generate_shard(recipe, plan(recipe)[0], str(tmp_path), device="cpu", helper=True)
    assert len(spent) == 3 and marker["timings"]["camera"] == pytest.approx(sum(spent), abs=0.01)
